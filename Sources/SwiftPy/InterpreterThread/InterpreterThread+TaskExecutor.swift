import CPythonShim
import Synchronization

/// An interpreter thread is also a Swift task executor (SE-0417): a task that prefers it
/// (``PythonContext/withExecutor(_:)``) runs its code on this thread, between Python jobs, and a
/// call it makes to this thread's context runs right there — no queue, no thread hop, no
/// wake-up, no continuation: the fast path (ARCHITECTURE.md, "Calls on the context's own
/// thread").
///
/// What stays as it is: other callers' jobs and task jobs take turns (an inline call also yields
/// to queued jobs), timeouts, cancellations, closes and shutdowns interrupt an inline call and
/// answer it as they answer any call, and a thread that is not serving — or waits for Swift
/// inside a job, perhaps for the very task — hands task jobs to Swift's global executor, so no
/// task is lost with a thread or waits for itself. What differs: a caller whose inline call
/// is stuck in C is stuck with it — the call runs on the caller's own thread — until the call
/// returns; the thread is still abandoned after the grace, and the caller gets the timeout then.
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
  /// Python job is under way; nil when it cannot (then the call takes the usual way). With
  /// `movable` (a pool's one-shot call), a thread no longer in service also answers nil: the
  /// call goes to another context, as it would from anywhere.
  func performInline<T: Sendable>(
    timeout: Duration?, grace: Duration, movable: Bool = false, describing what: @autoclosure () -> String,
    _ body: () throws -> T
  ) async throws -> T? {
    guard runsTaskJob, runningID.load(ordering: .relaxed) == 0 else { return nil }
    if let timeout, timeout <= .zero {
      throw SwiftPyError(.invalidArgument, "a timeout must be positive, not \(timeout)")
    }
    let deadline = timeout.map { ContinuousClock.now + $0 }
    // Other callers' Python jobs first: the task goes to the back of the line, behind them.
    if pending.load(ordering: .relaxed) > 0 || (shared?.count ?? 0) > 0 {
      await Task.yield()
      guard isCurrent, runsTaskJob, runningID.load(ordering: .relaxed) == 0 else { return nil }
    }
    if !isOpen, let refusal {
      if movable { return nil }
      throw refusal
    }
    try Task.checkCancellation()
    // The timeout counts from the call, the wait behind other callers included.
    let left = deadline.map { $0 - ContinuousClock.now }
    if let left, let timeout, left <= .zero {
      throw SwiftPyError(.timeout, "\(what()) on '\(name)' did not start within \(timeout)")
    }
    inlineCalls.add(1, ordering: .relaxed)
    let id = Job.nextID()
    // Why the caller stops waiting, if it does: kept on the thread (one inline call at a time),
    // so that a call without a timeout allocates nothing for it.
    inlineStop.withLock { $0 = (id, nil) }
    let timer = left.map { left in
      let description = "\(what()) on '\(name)'"
      return DeadlineScheduler.shared.schedule(after: left) { [self] in
        stopInline(
          id, SwiftPyError(.timeout, "\(description) did not finish within \(timeout!) and was interrupted"),
          because: "the call timed out", grace: grace)
      }
    }
    defer { timer?.cancel() }
    let result = await withTaskCancellationHandler {
      JobCall.outcome(of: { try runAttached(id, body) }, stopReason: { inlineStopReason(id) })
    } onCancel: {
      stopInline(id, CancellationError(), because: "the calling task was cancelled", grace: grace)
    }
    // Abandoned meanwhile (stuck past the grace, or cut short by a close): as on the usual path,
    // the caller hears why, even if the call went on to complete.
    if isAbandoned, let reason = inlineStopReason(id) ?? (result.isFailure ? refusal : nil) { throw reason }
    return try result.get()
  }

  /// Records why the caller of inline call `id` stops waiting, and interrupts the call.
  private func stopInline(_ id: UInt64, _ reason: any Error, because why: String, grace: Duration) {
    if answerInline(id, reason) { _ = interrupter.interrupt(job: id, because: why, grace: grace) }
  }

  /// Records `reason` as the answer of inline call `id` if it is the one running and has none
  /// yet (an interrupt that answers its caller: a close, a shutdown, an abandonment). False when
  /// `id` is not the inline call running now.
  @discardableResult
  func answerInline(_ id: UInt64, _ reason: any Error) -> Bool {
    inlineStop.withLock { stop in
      guard stop.id == id, id != 0 else { return false }
      stop.reason = stop.reason ?? reason
      return true
    }
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

extension Result {
  fileprivate var isFailure: Bool {
    if case .failure = self { return true }
    return false
  }
}
