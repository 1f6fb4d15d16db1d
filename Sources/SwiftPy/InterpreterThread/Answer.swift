import Synchronization

/// The one answer a caller of an interpreter job gets: the job's result or — whichever comes
/// first — a timeout, a cancellation or a refusal. A continuation must be resumed exactly once;
/// this type makes every path race safely for it, and cancels the call's timer once answered.
final class Answer<T: Sendable>: Sendable {
  private struct State: Sendable {
    var continuation: CheckedContinuation<T, Error>?
    var answered = false
    var cancelled = false
    var job: Job?
    var timer: DeadlineScheduler.Timer?
    /// Why the caller stopped waiting while the job ran: the answer once the job has stopped.
    var stopping: (any Error)?
  }

  private let state = Mutex(State())

  /// Stores the continuation; false (and answered with CancellationError) if the task was
  /// cancelled before the job could be queued.
  func install(_ continuation: CheckedContinuation<T, Error>) -> Bool {
    let cancelled = state.withLock { state in
      if state.cancelled {
        state.answered = true
        return true
      }
      state.continuation = continuation
      return false
    }
    if cancelled { continuation.resume(throwing: CancellationError()) }
    return !cancelled
  }

  /// Records the job; true when the call was cancelled meanwhile (then stop the job).
  func submitted(_ job: Job) -> Bool {
    state.withLock { state in
      state.job = job
      return state.cancelled
    }
  }

  /// Marks the call cancelled; returns its job to stop, or nil when there is nothing to stop
  /// (already answered, or not submitted yet — then it is answered here, and ``submitted(_:)``
  /// reports the cancellation so the job is stopped there).
  func cancel() -> Job? {
    let (job, answerNow) = state.withLock { state -> (Job?, Bool) in
      state.cancelled = true
      if state.answered { return (nil, false) }
      return (state.job, state.job == nil && state.continuation != nil)
    }
    if answerNow { resume(with: .failure(CancellationError())) }
    return job
  }

  /// True once the caller has its answer.
  var isAnswered: Bool { state.withLock { $0.answered } }

  /// Records why the caller stops waiting for a running job; the job's end answers it.
  func stopping(because error: any Error) {
    state.withLock { $0.stopping = $0.stopping ?? error }
  }

  /// Why the caller stopped waiting, if it did.
  var stopReason: (any Error)? { state.withLock { $0.stopping } }

  /// Answers the caller unless it has been answered already; false if it had been.
  @discardableResult
  func resume(with result: Result<T, Error>) -> Bool {
    let (continuation, timer) = state.withLock {
      state -> (CheckedContinuation<T, Error>?, DeadlineScheduler.Timer?) in
      guard !state.answered else { return (nil, nil) }
      state.answered = true
      defer {
        state.continuation = nil
        state.timer = nil
        state.job = nil
      }
      return (state.continuation, state.timer)
    }
    timer?.cancel()
    guard let continuation else { return false }
    continuation.resume(with: result)
    return true
  }

  /// Runs `action` after `delay` unless the call has been answered by then.
  func startTimer(after delay: Duration, _ action: @escaping @Sendable () -> Void) {
    let timer = DeadlineScheduler.shared.schedule(after: delay, action)
    let answered = state.withLock { state in
      if !state.answered { state.timer = timer }
      return state.answered
    }
    if answered { timer.cancel() }
  }
}

/// Submits a job and waits for its answer, answering early on timeout or cancellation: a waiting
/// job is taken out of its queue, a running one is interrupted (and its context abandoned if it
/// does not stop within `grace`).
enum JobCall {
  static func perform<T: Sendable>(
    _ kind: Job.Kind, betweenJobs: Bool = false, timeout: Duration?, grace: Duration,
    describing what: @autoclosure () -> String, submit: (Job) -> Void,
    _ body: @escaping @Sendable () throws -> T
  ) async throws -> T {
    if let timeout, timeout <= .zero {
      throw SwiftPyError(.invalidArgument, "a timeout must be positive, not \(timeout)")
    }
    let answer = Answer<T>()
    let description = timeout == nil ? "" : what()
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { continuation in
        guard answer.install(continuation) else { return }  // cancelled before it was submitted
        let job = Job(
          kind: kind, betweenJobs: betweenJobs,
          { answer.resume(with: JobCall.outcome(of: body, stopReason: { answer.stopReason })) },
          refuse: { answer.resume(with: .failure(answer.stopReason ?? $0)) })
        submit(job)
        if answer.submitted(job) {  // cancelled between submitting and now
          stop(job, answer: answer, grace: grace, error: nil)
          return
        }
        if let timeout {
          answer.startTimer(after: timeout) {
            stop(
              job, answer: answer, grace: grace,
              error: SwiftPyError(
                .timeout, "\(description) did not finish within \(timeout) and was interrupted"))
          }
        }
      }
    } onCancel: {
      guard let job = answer.cancel() else { return }
      stop(job, answer: answer, grace: grace, error: nil)
    }
  }

  /// The job's result — except that an interrupt SwiftPy sent because the caller stopped waiting
  /// becomes the caller's reason (the timeout, the cancellation): the call did not complete.
  /// A job that completes before the interrupt lands answers with its result, late: a
  /// ``SwiftPyError/Code/timeout`` always means the call did not complete.
  static func outcome<T>(of body: () throws -> T, stopReason: () -> (any Error)?) -> Result<T, Error> {
    do {
      return .success(try body())
    } catch let error as PythonError where error.type == "KeyboardInterrupt" {
      return .failure(stopReason() ?? error)
    } catch let error as SwiftPyError where error.code == .timeout || error.code == .cancelled {
      return .failure(stopReason() ?? error)  // long work of SwiftPy's own gave up
    } catch {
      return .failure(error)
    }
  }

  /// A job still waiting is taken out of its queue and its caller answered at once. A running
  /// one is interrupted, and its caller answered when it stops — with `error` if the interrupt
  /// stopped it, with its result if it completed first — or, if it does not stop within the
  /// grace, when its context is abandoned.
  private static func stop<T>(_ job: Job, answer: Answer<T>, grace: Duration, error: SwiftPyError?) {
    let reason: any Error = error ?? CancellationError()
    answer.stopping(because: reason)
    switch job.whereabouts {
    case .waiting(let queue):
      if queue.remove(job) {
        answer.resume(with: .failure(reason))
      } else {
        stopRunning(job, grace: grace, error: error)
      }
    case .running:
      stopRunning(job, grace: grace, error: error)
    case .finished:
      answer.resume(with: .failure(reason))  // refused, or not yet submitted
    }
  }

  private static func stopRunning(_ job: Job, grace: Duration, error: SwiftPyError?) {
    guard case .running(let thread) = job.whereabouts else { return }
    let reason = error?.code == .timeout ? "the call timed out" : "the calling task was cancelled"
    thread.interrupt(job: job.id, because: reason, grace: grace)
  }
}
