/// Errors of the interpreters API, mirroring CPython's `concurrent.interpreters` exceptions.
public enum InterpreterError: Error, Sendable, Equatable, CustomStringConvertible {
  /// `InterpreterNotFoundError`: the interpreter no longer exists (it was closed).
  case notFound(id: Int64)
  /// `ExecutionFailed`: the code raised an uncaught exception; `excinfo` is its snapshot.
  case executionFailed(excinfo: ExceptionSnapshot)
  /// `NotShareableError`: a value cannot be sent between interpreters.
  case notShareable(String)
  /// The call did not finish within its timeout and was interrupted (SwiftPy's addition).
  case timeout(String)
  /// The calling task was cancelled; the running code was interrupted (SwiftPy's addition).
  case cancelled
  /// `InterpreterError`: anything else (creating an interpreter failed, closing the main one…).
  case failed(String)

  public var description: String {
    switch self {
    case .notFound(let id): "interpreter \(id) not found (it has been closed)"
    case .executionFailed(let excinfo): "execution failed: \(excinfo.type): \(excinfo.msg)"
    case .notShareable(let message): "not shareable: \(message)"
    case .timeout(let message): message
    case .cancelled: "the call was cancelled"
    case .failed(let message): message
    }
  }
}

/// A basic snapshot of an exception raised in another interpreter (CPython's `excinfo`).
public struct ExceptionSnapshot: Sendable, Equatable {
  /// The exception's qualified type name.
  public let type: String
  /// `str(exception)`.
  public let msg: String
  /// The formatted traceback.
  public let formatted: String
  /// The full error, with its cause chain and syntax-error location.
  public let error: PythonError

  init(_ error: PythonError) {
    self.type = error.type
    self.msg = error.message
    self.formatted = error.traceback
    self.error = error
  }
}
