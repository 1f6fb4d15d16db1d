import CPythonShim
import Synchronization

/// Stops the Python a job is running, in that job's own interpreter, and escalates when it
/// will not stop (ARCHITECTURE.md, "Interrupts"):
///
/// 1. a pending call in the interpreter raises `KeyboardInterrupt` — if that job still runs
///    when the eval loop gets to it, never in a later job (~0.1 ms);
/// 2. for worker contexts (the main interpreter runs pending calls on the process's main thread
///    only) an asynchronous exception from a guest thread, repeated;
/// 3. after `grace`, a job still running is stuck in C: its context is abandoned (taken out of
///    service and replaced), and the interrupts go on, once a second, so that a thread that
///    swallows them is still stopped the moment it checks.
final class Interrupter: Sendable {
  /// Unowned: the thread owns its interrupter, and every escalation timer holds the thread
  /// (strongly) while it is pending, so the thread outlives every use of this reference. Not
  /// weak: a weak reference gives the thread a side table, and then every retain of it — each
  /// PythonObject holds one — takes the runtime's slow path.
  private unowned(unsafe) let thread: InterpreterThread
  /// The job an interrupt has been asked for: a job reads it (``InterpreterThread/stopRequested``)
  /// to stop long work of its own, such as converting a huge value.
  let target = Atomic<UInt64>(0)

  init(thread: InterpreterThread) { self.thread = thread }

  /// Interrupts `job` if it is running; escalates as described above. False when it is not.
  func interrupt(job: UInt64, because reason: String, grace: Duration) -> Bool {
    guard thread.isRunning(jobID: job) else { return false }
    target.store(job, ordering: .releasing)
    thread.wake()  // a job waiting in Swift (serveNested) gives up
    thread.interrupted(job: job)  // and the Swift it waits for is cancelled
    send(to: job, reason: reason)
    escalate(job, reason: reason, until: ContinuousClock.now + grace, grace: grace)
    return true
  }

  private func escalate(
    _ job: UInt64, reason: String, until deadline: ContinuousClock.Instant, grace: Duration
  ) {
    _ = DeadlineScheduler.shared.schedule(after: .milliseconds(50)) { [self, thread] in
      guard thread.isRunning(jobID: job) else { return }
      if ContinuousClock.now < deadline {
        send(to: job, reason: reason)
        escalate(job, reason: reason, until: deadline, grace: grace)
        return
      }
      let stuck = SwiftPyError(
        .closed,
        "'\(thread.name)' was taken out of service: a call did not return within \(grace) of being "
          + "interrupted (\(reason)); a blocking C call cannot be interrupted")
      thread.abandon(stuck)
      keepInterrupting(job, reason: reason)
    }
  }

  /// An abandoned thread's stuck job gets an interrupt every second for as long as it runs.
  private func keepInterrupting(_ job: UInt64, reason: String) {
    _ = DeadlineScheduler.shared.schedule(after: .seconds(1)) { [self, thread] in
      guard thread.isRunning(jobID: job) else { return }
      send(to: job, reason: reason)
      keepInterrupting(job, reason: reason)
    }
  }

  private func send(to job: UInt64, reason: String) {
    thread.addPendingCall(InterruptTicket(thread: thread, job: job, reason: reason))
    if thread.kind == .worker || thread.kind == .main { thread.sendAsyncInterrupt(to: job) }
  }
}

/// What a pending interrupt carries into the eval loop.
final class InterruptTicket {
  let thread: InterpreterThread
  let job: UInt64
  let reason: String

  init(thread: InterpreterThread, job: UInt64, reason: String) {
    self.thread = thread
    self.job = job
    self.reason = reason
  }
}

/// Runs in the interpreter's eval loop (GIL held) when a pending interrupt comes due.
let interruptCallback: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { raw in
  guard let raw else { return 0 }
  let ticket = Unmanaged<InterruptTicket>.fromOpaque(raw).takeRetainedValue()
  guard ticket.thread.isRunningHere(job: ticket.job) else { return 0 }  // that job has ended
  // Inside importlib an interrupt could leave an import lock held: the next repeat lands it.
  if spy_runs_importlib(PyThreadState_Get()) != 0 { return 0 }
  PyErr_SetString(spy_objects().pointee.KeyboardInterrupt, "interrupted by SwiftPy: \(ticket.reason)")
  return -1
}
