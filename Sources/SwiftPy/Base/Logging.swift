import Logging

/// Where SwiftPy reports what happens to its interpreters (a context replaced, a Python thread
/// still running at close, a thread abandoned in a blocking call). The library never prints:
/// configure swift-log's `LoggingSystem` to see these, under the label `swiftpy`.
enum SwiftPyLog {
  static let logger = Logger(label: "swiftpy")
}
