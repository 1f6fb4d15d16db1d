import Foundation
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

  /// The main thread's blocked signals, from /proc, as the hex text /proc shows.
  static func mainThreadBlocked() throws -> String {
    let status = try String(contentsOfFile: "/proc/self/task/\(getpid())/status", encoding: .utf8)
    return status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") }
      .map { $0.dropFirst(7).trimmingCharacters(in: .whitespaces) } ?? "?"
  }

  /// Processes Python starts get the host's signal mask, not that of Swift's thread pool
  /// (which blocks SIGTERM, SIGCHLD and most others): `terminate()` ends them.
  @Test(
    .enabled(if: FileManager.default.fileExists(atPath: "/proc/self/status"), "reads /proc"),
    arguments: [PythonContext.Mode.worker, .subinterp])
  func processesStartedFromPythonGetTheHostsMask(mode: PythonContext.Mode) async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: mode))) { (py) async throws in
      let result = try await py.eval(
        """
        (lambda subprocess: (
            subprocess.run(['grep', 'SigBlk', '/proc/self/status'], capture_output=True, text=True)
                .stdout.split()[1],
            (lambda p: (p.terminate(), p.wait(timeout=30))[1])(subprocess.Popen(['sleep', '30'])),
        ))(__import__('subprocess'))
        """, timeout: .seconds(60))
      #expect(result == .tuple([.string(try Self.mainThreadBlocked()), .int(-Int(SIGTERM))]), "\(result)")
    }
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

  /// A write to a pipe whose reader is gone fails with `BrokenPipeError`; with SIGPIPE at its
  /// default it would end the host (a `ProcessPoolExecutor` whose worker died did exactly that).
  @Test(arguments: ProcessStartTests.modes)
  func aBrokenPipeIsAnErrorNotTheEndOfTheHost(mode: PythonContext.Mode) async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: mode))) { (py) async throws in
      try await py.withContext { lease in
        try await lease.exec(
          """
          import os
          reader, writer = os.pipe()
          os.close(reader)
          try:
              os.write(writer, b'nobody reads this')
              outcome = 'written'
          except BrokenPipeError:
              outcome = 'BrokenPipeError'
          finally:
              os.close(writer)
          """)
        #expect(try await lease.eval("outcome") == "BrokenPipeError")
      }
    }
    #expect(Self.disposition(SIGPIPE) == unsafeBitCast(SIG_IGN, to: Int.self))
  }
}
