import Synchronization

/// The one answer a caller of ``InterpreterThread/perform(timeout:grace:describing:_:)`` gets:
/// the job's result, or — whichever comes first — a timeout, a cancellation or a refusal. A
/// continuation must be resumed exactly once; this type makes every path race safely for it.
final class Answer<T: Sendable>: Sendable {
  private struct State: Sendable {
    var continuation: CheckedContinuation<T, Error>?
    var answered = false
    var cancelled = false
    var job: UInt64?
    var timer: Task<Void, Never>?
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

  /// Records the queued job; true when the call was cancelled meanwhile (then stop the job).
  func queued(as job: UInt64) -> Bool {
    state.withLock { state in
      state.job = job
      return state.cancelled
    }
  }

  /// Marks the call cancelled; returns its job to stop, or nil when there is nothing to stop
  /// (already answered, or not queued yet — then it is answered here, and ``queued(as:)``
  /// reports the cancellation so the job is stopped there).
  func cancel() -> UInt64? {
    let (job, answerNow) = state.withLock { state -> (UInt64?, Bool) in
      state.cancelled = true
      if state.answered { return (nil, false) }
      return (state.job, state.job == nil && state.continuation != nil)
    }
    if answerNow { resume(with: .failure(CancellationError())) }
    return job
  }

  /// Answers the caller unless it has been answered already.
  func resume(with result: Result<T, Error>) {
    let continuation = state.withLock { state -> CheckedContinuation<T, Error>? in
      guard !state.answered else { return nil }
      state.answered = true
      state.timer?.cancel()
      state.timer = nil
      defer { state.continuation = nil }
      return state.continuation
    }
    continuation?.resume(with: result)
  }

  /// Runs `action` after `delay` unless the call has been answered by then.
  func startTimer(after delay: Duration, _ action: @escaping @Sendable () -> Void) {
    let timer = Task.detached {
      do {
        try await Task.sleep(for: delay)
      } catch {
        return  // answered in time: the timer was cancelled
      }
      action()
    }
    let answered = state.withLock { state in
      if !state.answered { state.timer = timer }
      return state.answered
    }
    if answered { timer.cancel() }
  }
}
