import CPythonShim
import Foundation

/// Worker contexts share the main interpreter and its `sys.modules`: a module is reloaded once
/// for all of them, while every one of them is between two jobs (ARCHITECTURE.md, "Hot
/// reload"). Each worker context runs a job that arrives here; the last to arrive runs the
/// reload while the others wait without the GIL, then all go on.
///
/// A context that can no longer run its job (closed) counts as arrived. If the others have not
/// all arrived within `limit` (a call that runs very long on one of them), the reload is not
/// run in that interpreter and every participant reports ``SwiftPyError/Code/reloadNotReached``.
final class ReloadBarrier: @unchecked Sendable {  // every var is guarded by `condition`
  typealias Outcome = Result<ReloadScript.Outcome, any Error>

  private let expected: Int
  private let limit: Duration
  private let condition = NSCondition()
  private var arrived = 0
  private var leaderChosen = false
  private var result: Outcome?

  init(expected: Int, limit: Duration) {
    self.expected = expected
    self.limit = limit
  }

  /// Called by each participant's job, on its thread with the interpreter attached; returns
  /// the reload's outcome, which `reload` computes in one of them.
  func arrive(_ reload: () -> Outcome) -> Outcome {
    condition.lock()
    if let result {
      condition.unlock()
      return result
    }
    arrived += 1
    if arrived >= expected {
      leaderChosen = true
      condition.unlock()
      return finish(reload())
    }
    let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) * 1e-18
    let deadline = Date(timeIntervalSinceNow: seconds)
    // Wait without the GIL: the leader needs it (the lock is never held while taking the GIL).
    let threadState = PyEval_SaveThread()
    var lead = false
    while result == nil {
      if arrived >= expected && !leaderChosen {  // completed by a refusal: someone must lead
        leaderChosen = true
        lead = true
        break
      }
      if leaderChosen {
        condition.wait()
      } else if !condition.wait(until: deadline) && result == nil && !leaderChosen && arrived < expected {
        result = .failure(notReached)
        condition.broadcast()
      }
    }
    let outcome = result
    condition.unlock()
    PyEval_RestoreThread(threadState)
    if lead { return finish(reload()) }
    return outcome!
  }

  /// A participant's job was refused (its context closed before running it).
  func refused() {
    condition.lock()
    if result == nil {
      arrived += 1
      condition.broadcast()
    }
    condition.unlock()
  }

  private func finish(_ outcome: Outcome) -> Outcome {
    condition.lock()
    result = outcome
    condition.broadcast()
    condition.unlock()
    return outcome
  }

  private var notReached: SwiftPyError {
    SwiftPyError(
      .reloadNotReached,
      "the worker contexts were not all between two jobs within \(limit): the reload was not run in "
        + "the main interpreter")
  }
}
