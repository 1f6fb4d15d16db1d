/// An error raised by SwiftPy itself (not by Python code): no usable Python, a mode the
/// installation cannot run, a closed context, a runtime that is shutting down.
///
/// Errors raised by Python code are ``PythonError``; values that cannot cross the boundary
/// are ``PythonConversionError``.
public struct PythonRuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What went wrong, as a value a program can switch over.
  public enum Code: String, Sendable, Equatable {
    /// No Python ≥ 3.12 with a shared libpython was found; the message lists every place tried.
    case pythonNotFound
    /// A Python was chosen (explicitly or through `SWIFTPY_PYTHON`) but cannot be used.
    case unusablePython
    /// libpython could not be loaded or lacks a symbol SwiftPy needs.
    case libraryLoadFailed
    /// This process already runs another Python; one libpython per process.
    case differentPythonAlreadyLoaded
    /// The requested interpreter mode is not available with this Python.
    case modeUnavailable
    /// CPython refused to create an interpreter.
    case interpreterCreationFailed
    /// The context or interpreter was closed (or its thread ended) before the call.
    case closed
    /// The runtime is shutting down or was shut down; the call did not run, or was interrupted.
    case shuttingDown
    /// The call did not finish within its timeout; the Python it was running was interrupted.
    case timeout
    /// An argument given to SwiftPy was invalid (for example a NUL byte in a module name).
    case invalidArgument
  }

  public let code: Code
  public let message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { "\(code.rawValue): \(message)" }
}
