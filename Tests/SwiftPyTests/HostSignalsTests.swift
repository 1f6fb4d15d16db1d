import Testing

@testable import SwiftPy

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The host's signal dispositions stay the host's: Python code cannot install handlers (Python's
/// SIGINT handler would take Ctrl-C from the host) or ignore signals in its place.
@Suite("Host signals stay the host's", .serialized)
struct HostSignalsTests {
  static func disposition(_ signal: Int32) -> Int {
    var current = sigaction()
    sigaction(signal, nil, &current)
    #if canImport(Glibc)
      return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self)
    #else
      return unsafeBitCast(current.__sigaction_u.__sa_handler, to: Int.self)
    #endif
  }

  @Test func importingSignalOrAsyncioDoesNotTakeSIGINT() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: .worker))) { (py) async throws in
      let before = (Self.disposition(SIGINT), Self.disposition(SIGTERM))
      try await py.exec("import signal, asyncio, subprocess")
      try await py.interpreters.main.exec("import signal, asyncio")
      #expect(Self.disposition(SIGINT) == before.0)
      #expect(Self.disposition(SIGTERM) == before.1)
    }
  }

  @Test func pythonCannotChangeTheHostsSignalDispositions() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: .worker))) { (py) async throws in
      let before = Self.disposition(SIGTERM)
      do {
        try await py.interpreters.main.exec("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)")
        Issue.record("Python changed the host's SIGTERM disposition")
      } catch let error as SwiftPyError {
        #expect(error.excinfo?.type == "PermissionError", "\(error)")
      }
      #expect(Self.disposition(SIGTERM) == before)
    }
  }
}
