import CPythonShim
import DequeModule
import Foundation
import Synchronization

/// One pinned OS thread that creates one interpreter (or attaches to the main one), runs every
/// job for it, and ends it — all on that thread, because CPython crashes or hangs when a thread
/// state moves between threads (DESIGN decision 4).
///
/// Jobs are closures run in order with the interpreter's thread state attached. Between jobs,
/// when the queue is empty, the thread releases the GIL so that Python threads started inside
/// the interpreter, and other interpreters sharing the GIL, can run (decision 6).
///
/// Callers wait for jobs through continuations rather than actor hops, so that a caller can be
/// resumed (timeout, cancellation) while the thread is still busy in Python.
final class InterpreterThread: @unchecked Sendable {
  /// A unit of work. `reject` is called instead of `run` when the thread can no longer run it.
  struct Job {
    let id: UInt64
    let run: () -> Void
    let reject: (PythonRuntimeError) -> Void
    /// False for housekeeping (dropping a namespace, a path update): not a caller's request.
    let isRequest: Bool
  }

  private enum State { case starting, running, closing, closed }

  let kind: InterpreterKind
  let name: String
  /// Set on the thread before ``start(kind:name:setup:)`` returns, constant afterwards.
  private(set) var interpreterID: Int64 = -1
  private(set) var interpreterState: OpaquePointer?

  /// Guarded by `condition`.
  private let condition = NSCondition()
  private var queue = Deque<Job>()
  private var state = State.starting
  private var nextJobID: UInt64 = 0
  private var runningJob: UInt64?
  private var guests = 0
  private var closeWaiters: [CheckedContinuation<Void, Never>] = []
  private var sleeping = false
  /// Jobs queued, readable without the lock: the thread polls it briefly before sleeping.
  private let pending = Atomic<Int>(0)
  /// Queued jobs that are callers' requests (statistics).
  private let pendingRequests = Atomic<Int>(0)

  /// Only touched on the thread.
  private var threadState: OpaquePointer?

  private static let stackSize = 16 << 20  // deep Python recursion needs C stack
  private static let polls = 200

  private init(kind: InterpreterKind, name: String) {
    self.kind = kind
    self.name = name
  }

  /// Starts the thread, creates its interpreter there and runs `setup` on it (attached).
  /// If either fails, the interpreter is ended on its thread and the error is thrown here.
  static func start(
    kind: InterpreterKind, name: String,
    setup: @escaping @Sendable () throws -> Void = {}
  ) async throws -> InterpreterThread {
    let thread = InterpreterThread(kind: kind, name: name)
    try await withCheckedThrowingContinuation { (ready: CheckedContinuation<Void, Error>) in
      let os = Thread { thread.main(setup: setup, ready: ready) }
      os.name = name
      os.stackSize = stackSize
      os.start()
    }
    return thread
  }

  /// The interpreter thread the caller is running on, if any.
  static var current: InterpreterThread? {
    spy_current_thread().map { Unmanaged<InterpreterThread>.fromOpaque($0).takeUnretainedValue() }
  }

  var isCurrent: Bool { spy_current_thread() == Unmanaged.passUnretained(self).toOpaque() }

  /// True while a job is running (Python code may be executing).
  var isBusy: Bool { condition.withLock { runningJob != nil } }

  /// False once the thread has started closing; jobs submitted then are rejected.
  var isOpen: Bool { condition.withLock { state == .running || state == .starting } }

  // MARK: Submitting work

  /// Queues `run`; returns the job id, or nil when the thread is closed (then `reject` has
  /// already been called).
  @discardableResult
  func submit(
    _ run: @escaping @Sendable () -> Void,
    reject: @escaping @Sendable (PythonRuntimeError) -> Void,
    isRequest: Bool = true
  ) -> UInt64? {
    condition.lock()
    guard state == .running else {
      condition.unlock()
      reject(closedError)
      return nil
    }
    nextJobID &+= 1
    let id = nextJobID
    queue.append(Job(id: id, run: run, reject: reject, isRequest: isRequest))
    pending.add(1, ordering: .releasing)
    if isRequest { pendingRequests.add(1, ordering: .relaxed) }
    if sleeping { condition.signal() }
    condition.unlock()
    return id
  }

  /// Removes a job that has not started; returns it, or nil when it already ran or runs now.
  func removeQueued(_ id: UInt64) -> Job? {
    condition.withLock {
      guard let index = queue.firstIndex(where: { $0.id == id }) else { return nil }
      pending.subtract(1, ordering: .relaxed)
      if queue[index].isRequest { pendingRequests.subtract(1, ordering: .relaxed) }
      return queue.remove(at: index)
    }
  }

  /// Callers' requests queued and not yet started.
  var queuedRequests: Int { pendingRequests.load(ordering: .relaxed) }

  /// The id of the job running now, if any.
  var runningJobID: UInt64? { condition.withLock { runningJob } }

  /// Runs `body` on the thread with the interpreter attached and returns its result.
  func perform<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    if isCurrent {
      // The thread is busy running the caller: waiting for it would deadlock.
      throw PythonRuntimeError(
        .invalidArgument,
        "re-entrant call: code running on interpreter thread '\(name)' waited for that same thread")
    }
    return try await withCheckedThrowingContinuation { continuation in
      submit(
        { continuation.resume(with: Result { try body() }) },
        reject: { continuation.resume(throwing: $0) })
    }
  }

  /// Runs `body` on a new OS thread with a new thread state of this interpreter, leaving the
  /// interpreter's own thread free (CPython's `call_in_thread`). The interpreter is not ended
  /// while such a guest runs.
  func performOnNewThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try condition.withLock {
      guard state == .running else { throw closedError }
      guests += 1
    }
    return try await withCheckedThrowingContinuation { continuation in
      let os = Thread { [self] in
        let state = PyThreadState_New(interpreterState)!
        PyEval_RestoreThread(state)
        let result = Result { try body() }
        PyThreadState_Clear(state)
        PyThreadState_DeleteCurrent()
        condition.withLock {
          guests -= 1
          condition.broadcast()
        }
        continuation.resume(with: result)
      }
      os.name = "\(name)-guest"
      os.stackSize = InterpreterThread.stackSize
      os.start()
    }
  }

  /// Lets queued jobs finish, then ends the interpreter on its thread and stops the thread.
  /// Jobs submitted after this call are rejected. Returns when the interpreter has ended.
  func close() async {
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
      condition.lock()
      switch state {
      case .closed:
        condition.unlock()
        done.resume()
      case .starting, .running, .closing:
        if kind == .main {
          // The main interpreter lives as long as the process (DESIGN decision 11).
          condition.unlock()
          done.resume()
          return
        }
        state = .closing
        closeWaiters.append(done)
        condition.broadcast()
        condition.unlock()
      }
    }
  }

  private var closedError: PythonRuntimeError {
    PythonRuntimeError(.closed, "the interpreter of '\(name)' has been closed")
  }

  // MARK: The thread

  private func main(setup: @Sendable () throws -> Void, ready: CheckedContinuation<Void, Error>) {
    spy_set_current_thread(Unmanaged.passUnretained(self).toOpaque())
    let attached: OpaquePointer
    do {
      attached = try kind.create()
    } catch {
      finish()
      ready.resume(throwing: error)
      return
    }
    interpreterState = PyThreadState_GetInterpreter(attached)
    interpreterID = PyInterpreterState_GetID(interpreterState)
    do {
      try setup()
    } catch {
      kind.end(attached)
      interpreterState = nil
      finish()
      ready.resume(throwing: error)
      return
    }
    threadState = PyEval_SaveThread()
    condition.withLock { state = .running }
    ready.resume()
    serve()
  }

  /// Runs jobs until closed. The GIL stays attached while jobs keep coming and is released
  /// whenever the queue runs dry. Before sleeping, the thread polls briefly (yielding the CPU):
  /// a caller awaiting results one after another then finds it awake, which saves a futex wake
  /// per call; an idle thread sleeps after ~100 µs and uses no CPU.
  private func serve() {
    var attached = false
    while true {
      if pending.load(ordering: .acquiring) == 0 {
        if attached {
          threadState = PyEval_SaveThread()
          attached = false
        }
        var polls = 0
        while pending.load(ordering: .acquiring) == 0 && polls < InterpreterThread.polls {
          sched_yield()
          polls += 1
        }
      }
      condition.lock()
      while queue.isEmpty && state == .running {
        sleeping = true
        condition.wait()
        sleeping = false
      }
      guard let job = queue.popFirst() else {
        condition.unlock()
        break  // closing, and every queued job has run
      }
      pending.subtract(1, ordering: .relaxed)
      if job.isRequest { pendingRequests.subtract(1, ordering: .relaxed) }
      runningJob = job.id
      condition.unlock()
      if !attached {
        PyEval_RestoreThread(threadState)
        attached = true
      }
      job.run()
      condition.withLock { runningJob = nil }
    }
    if kind == .main { return }  // never reached: the main thread is never closed
    // Guest threads (performOnNewThread) must finish first; they need the GIL to do so.
    if attached { threadState = PyEval_SaveThread() }
    condition.withLock {
      while guests > 0 {
        sleeping = true
        condition.wait()
        sleeping = false
      }
    }
    PyEval_RestoreThread(threadState)
    kind.end(threadState!)
    threadState = nil
    interpreterState = nil
    finish()
  }

  /// Marks the thread closed, rejects anything still queued and wakes `close()` callers.
  private func finish() {
    condition.lock()
    state = .closed
    let leftovers = queue
    queue.removeAll()
    pending.store(0, ordering: .relaxed)
    pendingRequests.store(0, ordering: .relaxed)
    let waiters = closeWaiters
    closeWaiters.removeAll()
    condition.unlock()
    spy_set_current_thread(nil)
    for job in leftovers { job.reject(closedError) }
    for waiter in waiters { waiter.resume() }
  }
}

extension NSCondition {
  fileprivate func withLock<T>(_ body: () throws -> T) rethrows -> T {
    lock()
    defer { unlock() }
    return try body()
  }
}
