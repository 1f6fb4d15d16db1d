import Logging
import Synchronization
import Testing

@testable import SwiftPy

@Suite("Python logging to swift-log")
struct PythonLoggingTests {
  @Test("Records arrive with their logger, level, message and context", arguments: callbackModes)
  func records(mode: PythonContext.Mode) async throws {
    let records = LogRecords()
    let logger = Logger(label: "python") { _ in RecordingHandler(records: records) }
    let configuration = PythonRuntime.Configuration(
      defaultPool: .init(size: 2, mode: mode), logging: PythonLogging(logger: logger, level: .debug))
    try await withRuntime(configuration) { py in
      let ctx = try await py.newContext(mode: mode)
      try await ctx.exec(
        """
        import logging
        log = logging.getLogger('app.db')
        log.debug('connecting to %s', 'db1')
        log.warning('slow query: %d ms', 1200)
        logging.getLogger().log(5, 'below the level')      # TRACE: under .debug, not made
        try:
            1 / 0
        except ZeroDivisionError:
            log.exception('failed')
        """)
      let mine = records.all.filter { $0.context == ctx.name }
      #expect(mine.map(\.level) == [.debug, .warning, .error])
      #expect(mine.map(\.message).prefix(2) == ["connecting to db1", "slow query: 1200 ms"])
      #expect(mine.last?.message.contains("ZeroDivisionError") == true)
      #expect(mine.allSatisfy { $0.logger == "app.db" && $0.source == "app.db" })
      // One-shot calls on the pool: each record names the pool context that ran it.
      for _ in 0..<4 { try await py.exec("import logging\nlogging.getLogger('pool').info('hello')") }
      let pooled = records.all.filter { $0.logger == "pool" }
      #expect(pooled.count == 4)  // every context logs the same way: nothing appears or vanishes
      #expect(pooled.allSatisfy { $0.level == .info && $0.context?.hasPrefix("rt") == true })
      #expect(pooled.allSatisfy { $0.context != ctx.name })
    }
  }

  @Test("The runtime's level is every interpreter's: lines below it never arrive")
  func sameLevelEverywhere() async throws {
    let records = LogRecords()
    let logger = Logger(label: "python") { _ in RecordingHandler(records: records) }
    let configuration = PythonRuntime.Configuration(
      defaultPool: .init(size: 3, mode: .worker), logging: PythonLogging(logger: logger, level: .warning))
    try await withRuntime(configuration) { py in
      let contexts = [
        try await py.newContext(mode: .worker),
        try await py.newContext(mode: ownGILAvailable ? .ownGIL : .subinterp),
      ]
      for ctx in contexts {
        try await ctx.exec(
          "import logging\nlogging.getLogger('x').info('quiet')\nlogging.getLogger('x').error('loud')")
      }
      #expect(records.all.map(\.message) == ["loud", "loud"])
      #expect(records.all.map(\.context) == contexts.map(\.name))
    }
  }
}

struct LogRecord: Equatable {
  let level: Logger.Level
  let message: String
  let logger: String?
  let context: String?
  let source: String
}

final class LogRecords: Sendable {
  private let records = Mutex<[LogRecord]>([])
  func append(_ record: LogRecord) { records.withLock { $0.append(record) } }
  var all: [LogRecord] { records.withLock { $0 } }
}

/// A swift-log backend that keeps what it is given.
struct RecordingHandler: LogHandler {
  let records: LogRecords
  var metadata: Logger.Metadata = [:]
  var logLevel: Logger.Level = .trace

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    records.append(
      LogRecord(
        level: event.level, message: "\(event.message)",
        logger: event.metadata?["python.logger"].map { "\($0)" },
        context: event.metadata?["python.context"].map { "\($0)" }, source: event.source))
  }
}
