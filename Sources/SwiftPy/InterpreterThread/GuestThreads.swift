import CPythonShim
import Foundation

/// Threads other than an interpreter's own that attach to its interpreter for a while: calls
/// started with `callInThread`, and the short-lived threads that deliver asynchronous
/// interrupts. The interpreter must not end while one is attached, so the owner closes
/// admission and waits for them before ending it (ARCHITECTURE.md, "Guest threads").
final class GuestThreads: @unchecked Sendable {
  // @unchecked: `count` and `closed` are only touched with `condition` held.
  private let condition = NSCondition()
  private var count = 0
  private var closed = false
  private let name: String

  init(name: String) { self.name = name }

  /// Runs `body` on a new OS thread with a new thread state of `interpreter` attached, as
  /// confinement owner `owner`. Returns false, running nothing, once admission has closed.
  func start(
    role: String, interpreter: PyInterpreterPointer, owner: InterpreterThread,
    _ body: @escaping @Sendable () -> Void
  ) -> Bool {
    let admitted = condition.withLock {
      guard !closed else { return false }
      count += 1
      return true
    }
    guard admitted else { return false }
    let pointer = UncheckedSendable(interpreter)
    let thread = Thread { [self] in
      HostSignals.adoptHostMask()
      defer { leave() }
      // Out of memory for a thread state: the guest does nothing (its caller is answered by
      // its own timeout, or by the refusal below).
      guard let state = PyThreadState_New(pointer.value) else { return }
      PyEval_RestoreThread(state)
      spy_set_confinement_owner(Unmanaged.passUnretained(owner).toOpaque())
      body()
      spy_set_confinement_owner(nil)
      PyThreadState_Clear(state)
      PyThreadState_DeleteCurrent()
    }
    thread.name = "\(name)-\(role)"
    thread.stackSize = InterpreterThread.stackSize
    thread.start()
    return true
  }

  /// Stops admitting guests and waits until those attached have left. Call without the GIL:
  /// guests need it to finish.
  func closeAndWait() {
    condition.withLock {
      closed = true
      while count > 0 { condition.wait() }
    }
  }

  private func leave() {
    condition.withLock {
      count -= 1
      condition.broadcast()
    }
  }
}
