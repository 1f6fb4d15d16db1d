/// One line of Python output, as a ``PythonOutputPolicy/handler(_:)`` receives it.
public struct PythonOutputLine: Sendable, Equatable, CustomStringConvertible {
  /// The name of the context whose Python wrote it (``PythonContext/name``).
  public let context: String
  public let stream: PythonOutputStream
  /// The line without its line break (`\n`). A partial line — flushed before it ended, or still
  /// unfinished at close — is delivered as it is.
  public let text: String

  public init(context: String, stream: PythonOutputStream, text: String) {
    self.context = context
    self.stream = stream
    self.text = text
  }

  public var description: String { "[\(context) \(stream)] \(text)" }
}

/// Which of Python's standard streams a line was written to.
public enum PythonOutputStream: String, Sendable, CaseIterable, CustomStringConvertible {
  /// `sys.stdout`: `print` and friends.
  case stdout
  /// `sys.stderr`: tracebacks, warnings, `print(..., file=sys.stderr)`.
  case stderr

  public var description: String { rawValue }

  /// The process's file descriptor for the stream.
  var fileDescriptor: Int32 { self == .stdout ? 1 : 2 }
}
