/// Every error SwiftPy itself raises: no usable Python, a closed context, a timeout, a value that
/// cannot cross, a pool with no free context, an interpreter that is gone.
///
/// One type with an extensible ``Code`` (each layer declares its own codes beside its code), so
/// that a program catches `SwiftPyError` and switches over `code` wherever the error came from.
/// Exceptions raised by Python code are ``PythonError``s; where SwiftPy reports one on behalf of
/// an API (``Code/executionFailed`` of the interpreters API), it is the ``underlying`` error.
///
/// ```swift
/// do {
///   try await py.eval("while True: pass", timeout: .seconds(1))
/// } catch let error as SwiftPyError where error.code == .timeout {
///   print(error.message)
/// }
/// ```
public struct SwiftPyError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What went wrong, as a value a program can compare (`error.code == .timeout`).
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    /// The code's stable name (`"timeout"`).
    public let name: String

    public init(_ name: String) { self.name = name }

    public var description: String { name }
  }

  public let code: Code
  /// A sentence for a person: what happened and, where there is one, what to do.
  public let message: String
  /// For errors about a value: the Python type involved (`generator`, `module`, `str`).
  public let pythonType: String?
  /// The error behind this one, when there is one (a ``PythonError`` for
  /// ``Code/executionFailed``).
  public let underlying: (any Error & Sendable)?

  public init(
    _ code: Code, _ message: String, pythonType: String? = nil, underlying: (any Error & Sendable)? = nil
  ) {
    self.code = code
    self.message = message
    self.pythonType = pythonType
    self.underlying = underlying
  }

  public var description: String { "\(code): \(message)" }

  /// Errors are equal when their code and message are.
  public static func == (a: SwiftPyError, b: SwiftPyError) -> Bool {
    a.code == b.code && a.message == b.message && a.pythonType == b.pythonType
  }
}

extension SwiftPyError.Code {
  /// An argument given to SwiftPy was invalid (a NUL byte in a name, a pool of size 0).
  public static let invalidArgument = Self("invalidArgument")
  /// The context, interpreter or lease was closed (or its thread ended) before the call ran.
  public static let closed = Self("closed")
  /// The runtime is shutting down or was shut down; the call did not run, or was interrupted.
  public static let shuttingDown = Self("shuttingDown")
  /// The call did not finish within its timeout; the Python it was running was interrupted.
  public static let timeout = Self("timeout")
  /// The calling task was cancelled; running Python was interrupted.
  public static let cancelled = Self("cancelled")
}
