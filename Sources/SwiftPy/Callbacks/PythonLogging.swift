import Logging

/// Where the records of Python's `logging` go, for every interpreter of a runtime: set it in
/// ``PythonRuntime/Configuration/logging``.
///
/// Every interpreter's root logger gets one handler, SwiftPy's, and the same `level`, so a
/// record logs the same way whichever context ran the code (a configuration made once must not
/// make lines appear or vanish depending on the context). Each record reaches `logger` with its
/// level, its message (and formatted exception), `source` set to the Python logger's name, and
/// the metadata `python.logger` and `python.context` (the context's name).
public struct PythonLogging: Sendable {
  /// Where records go. By default a logger labelled `python` (configure swift-log's
  /// `LoggingSystem` to see them).
  public var logger: Logger
  /// The level of the root logger in every interpreter: Python does not even make records
  /// below it. The logger's own `logLevel` filters too.
  public var level: Logger.Level

  public init(logger: Logger = Logger(label: "python"), level: Logger.Level = .info) {
    self.logger = logger
    self.level = level
  }

  /// For records of threads that belong to no runtime.
  static let fallback = Logger(label: "python")

  /// Python's level number for a swift-log level (`TRACE` is 5, below `DEBUG`).
  static func pythonLevel(_ level: Logger.Level) -> Int {
    switch level {
    case .trace: 5
    case .debug: 10
    case .info: 20
    case .notice: 25
    case .warning: 30
    case .error: 40
    case .critical: 50
    }
  }

  /// The swift-log level of a Python level number.
  static func swiftLevel(_ number: Int) -> Logger.Level {
    switch number {
    case ..<10: .trace
    case ..<20: .debug
    case ..<25: .info
    case ..<30: .notice
    case ..<40: .warning
    case ..<50: .error
    default: .critical
    }
  }
}
