// The errors of the interpreters API, mirroring CPython's `concurrent.interpreters` exceptions
// as codes of ``SwiftPyError``.

extension SwiftPyError.Code {
  /// `InterpreterNotFoundError`: the interpreter no longer exists (it was closed).
  public static let interpreterNotFound = Self("interpreterNotFound")
  /// `ExecutionFailed`: the code raised an uncaught exception; see ``SwiftPyError/excinfo``.
  public static let executionFailed = Self("executionFailed")
  /// `NotShareableError`: a value cannot be sent between interpreters.
  public static let notShareable = Self("notShareable")
  /// `InterpreterError`: anything else (creating an interpreter failed, closing the main one).
  public static let interpreterFailed = Self("interpreterFailed")
}

extension SwiftPyError {
  /// For ``Code/executionFailed``: the exception's snapshot (CPython's `ExecutionFailed.excinfo`).
  public var excinfo: ExceptionSnapshot? {
    (underlying as? PythonError).map(ExceptionSnapshot.init)
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
