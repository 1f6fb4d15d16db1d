import CPythonShim
import Dispatch
import Synchronization

/// Runs a Swift callback for the Python thread that called it, with that thread's GIL released
/// (ARCHITECTURE.md, "Re-entrancy").
///
/// On a context's own thread the waiting job serves the context's own queue and its pool's
/// (``InterpreterThread/serveNested(until:)``): a callback that calls back into the same context
/// runs its call there, as a job of its own, to any depth, and no Python code is ever re-run to
/// deliver a result. If the waiting job's caller stops waiting (a timeout, a cancellation), the
/// callback's task is cancelled — and with it whatever Python it awaits, at every depth — and
/// the Python that called it gets `KeyboardInterrupt`, as any interrupted call does.
enum CallbackRun {
  enum Outcome {
    case value(PythonValue)
    case failure(any Error)
    /// The waiting job's caller stopped waiting.
    case stopped
  }

  /// Runs `callback`; called with the GIL held, returns with it held.
  static func run(_ callback: SwiftCallback, args: [PythonValue], kwargs: [String: PythonValue]) -> Outcome {
    switch callback.body {
    case .sync(let body):
      let saved = PyEval_SaveThread()
      defer { PyEval_RestoreThread(saved) }
      // It may block until a task it started is done — one that prefers this very thread.
      let call = { () -> Outcome in
        do {
          return .value(try body(args, kwargs))
        } catch {
          return .failure(error)
        }
      }
      guard let thread = InterpreterThread.current else { return call() }
      return thread.waitingForSwift(call)
    case .async(let body):
      if let thread = InterpreterThread.current {
        return serving(thread, body, args, kwargs)
      }
      return blocking(body, args, kwargs)
    }
  }

  /// On a context's own thread: serves its queues until the task ends or the job is stopped.
  private static func serving(
    _ thread: InterpreterThread,
    _ body: @escaping @Sendable ([PythonValue], [String: PythonValue]) async throws -> PythonValue,
    _ args: [PythonValue], _ kwargs: [String: PythonValue]
  ) -> Outcome {
    let completion = Completion()
    let job = thread.runningJobID
    let task = Task {
      // Calls this task makes are the waiting job's children: only they run nested in it.
      let result = await Job.$waitingParent.withValue(job) { await Result { try await body(args, kwargs) } }
      completion.finish(result)
      thread.wake()
    }
    thread.onInterrupt(of: job) {
      completion.stop()
      task.cancel()
      thread.wake()
    }
    defer { thread.onInterrupt(of: job, nil) }
    let finished = thread.serveNested { completion.isOver }
    guard finished, !completion.isStopped, let result = completion.result else {
      task.cancel()
      return .stopped
    }
    switch result {
    case .success(let value): return .value(value)
    case .failure(let error): return .failure(error)
    }
  }

  /// On any other thread of the interpreter (a Python thread, a guest thread): nothing to serve,
  /// so it waits without the GIL.
  private static func blocking(
    _ body: @escaping @Sendable ([PythonValue], [String: PythonValue]) async throws -> PythonValue,
    _ args: [PythonValue], _ kwargs: [String: PythonValue]
  ) -> Outcome {
    let completion = Completion()
    let semaphore = DispatchSemaphore(value: 0)
    Task {
      completion.finish(await Result { try await body(args, kwargs) })
      semaphore.signal()
    }
    let saved = PyEval_SaveThread()
    semaphore.wait()
    PyEval_RestoreThread(saved)
    switch completion.result {
    case .success(let value)?: return .value(value)
    case .failure(let error)?: return .failure(error)
    case nil: return .stopped
    }
  }

  /// A callback task's result, and whether its waiter was stopped.
  private final class Completion: Sendable {
    private struct State {
      var result: Result<PythonValue, any Error>?
      var stopped = false
    }
    private let state = Mutex(State())

    func finish(_ result: Result<PythonValue, any Error>) { state.withLock { $0.result = result } }
    func stop() { state.withLock { $0.stopped = true } }
    var isOver: Bool { state.withLock { $0.result != nil || $0.stopped } }
    var isStopped: Bool { state.withLock { $0.stopped } }
    var result: Result<PythonValue, any Error>? { state.withLock { $0.result } }
  }
}
