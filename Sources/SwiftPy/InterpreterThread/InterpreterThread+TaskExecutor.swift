import CPythonShim
import Synchronization

/// An interpreter thread is also a Swift task executor (SE-0417): a task that prefers it
/// (``PythonContext/withExecutor(_:)``) runs its code on this thread, between Python jobs, and a
/// call it makes to this thread's context runs right there — no queue, no thread hop, no
/// wake-up, no continuation: the fast path (ARCHITECTURE.md, "Calls on the context's own
/// thread").
///
/// What stays as it is: Python jobs of other callers come first (an inline call yields to them),
/// timeouts and cancellation interrupt an inline call as they interrupt any call, and a thread
/// that closes or is abandoned hands the task jobs it holds to Swift's global executor, so no
/// task is ever lost with a thread. What differs: a caller whose inline call is stuck in C is
/// stuck with it — the call runs on the caller's own thread — until the call returns; the thread
/// is still abandoned after the grace, and the caller gets the timeout then.
extension InterpreterThread: TaskExecutor {
  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    if !queueTaskJob(job) { globalConcurrentExecutor.enqueue(ExecutorJob(job)) }
  }

  /// Runs a task job: Swift code, without the GIL (it may run long, and the interpreter's
  /// Python threads — and on a shared GIL every other context — would wait for it).
  func run(_ job: UnownedJob) {
    detach()
    runsTaskJob = true
    job.runSynchronously(on: asUnownedTaskExecutor())
    runsTaskJob = false
  }

  /// Hands every task job this thread holds to Swift's global executor.
  func forwardTaskJobs() {
    for job in takeTaskJobs() { globalConcurrentExecutor.enqueue(ExecutorJob(job)) }
  }

  /// Runs `body` right here when the caller's task is this thread's running task job and no
  /// Python job is under way; nil when it cannot (then the call takes the usual way).
  func performInline<T: Sendable>(
    timeout: Duration?, grace: Duration, describing what: @autoclosure () -> String,
    _ body: () throws -> T
  ) async throws -> T? {
    guard runsTaskJob, runningID.load(ordering: .relaxed) == 0 else { return nil }
    if let timeout, timeout <= .zero {
      throw SwiftPyError(.invalidArgument, "a timeout must be positive, not \(timeout)")
    }
    // Other callers' Python jobs first: the task goes to the back of the line, behind them.
    if pending.load(ordering: .relaxed) > 0 || (shared?.count ?? 0) > 0 {
      await Task.yield()
      guard isCurrent, runsTaskJob, runningID.load(ordering: .relaxed) == 0 else { return nil }
    }
    if !isOpen, let refusal { throw refusal }
    try Task.checkCancellation()
    inlineCalls.add(1, ordering: .relaxed)
    let id = Job.nextID()
    // Why the caller stops waiting, if it does: kept on the thread (one inline call at a time),
    // so that a call without a timeout allocates nothing for it.
    inlineStop.withLock { $0 = (id, nil) }
    let timer = timeout.map { timeout in
      let description = "\(what()) on '\(name)'"
      return DeadlineScheduler.shared.schedule(after: timeout) { [self] in
        stopInline(
          id, SwiftPyError(.timeout, "\(description) did not finish within \(timeout) and was interrupted"),
          because: "the call timed out", grace: grace)
      }
    }
    defer { timer?.cancel() }
    let result = await withTaskCancellationHandler {
      JobCall.outcome(of: { try runAttached(id, body) }, stopReason: { inlineStopReason(id) })
    } onCancel: {
      stopInline(id, CancellationError(), because: "the calling task was cancelled", grace: grace)
    }
    // Abandoned meanwhile (the call was stuck past the grace): the caller hears why.
    if case .failure = result, isAbandoned, let refusal {
      throw inlineStopReason(id) ?? refusal
    }
    return try result.get()
  }

  /// Records why the caller of inline call `id` stops waiting, and interrupts the call.
  private func stopInline(_ id: UInt64, _ reason: any Error, because why: String, grace: Duration) {
    let current = inlineStop.withLock { stop in
      guard stop.id == id else { return false }
      stop.reason = stop.reason ?? reason
      return true
    }
    if current { _ = interrupter.interrupt(job: id, because: why, grace: grace) }
  }

  private func inlineStopReason(_ id: UInt64) -> (any Error)? {
    inlineStop.withLock { $0.id == id ? $0.reason : nil }
  }

  /// Runs `body` as job `id`, attached, with the interrupt gate open, as ``run(_:)`` runs a job.
  private func runAttached<T>(_ id: UInt64, _ body: () throws -> T) throws -> T {
    attachForWork()
    runningID.store(id, ordering: .releasing)
    _ = spy_gate_exchange(gate, 1)
    defer {
      _ = spy_gate_exchange(gate, 0)
      if interrupter.target.load(ordering: .acquiring) == id { ImportLocks.releaseHeldByThisThread() }
      runningID.store(0, ordering: .releasing)
      // On a shared GIL, other contexts wait while the caller's Swift runs between calls.
      if kind != .ownGIL { detach() }
    }
    return try body()
  }
}
