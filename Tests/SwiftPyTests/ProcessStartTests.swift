import Foundation
import Testing

@testable import SwiftPy

/// Processes started from Python, in every mode: `os.fork` refuses clearly (a forked copy of
/// the host would crash), `subprocess` works, and `multiprocessing` / `ProcessPoolExecutor`
/// work out of the box (they spawn a fresh interpreter instead of forking).
@Suite("Processes started from Python", .serialized, .timeLimit(.minutes(3)))
struct ProcessStartTests {
  static let modes = PythonContext.Mode.allCases.filter { mode in
    mode != .ownGIL || ownGILAvailable
  }

  @Test(arguments: modes)
  func forkRefusesAndSaysWhatToUse(mode: PythonContext.Mode) async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: mode))) { (py) async throws in
      for call in ["os.fork()", "os.forkpty()", "__import__('posix').fork()", "__import__('pty').fork()"] {
        do {
          _ = try await py.eval("(lambda os: \(call))(__import__('os'))", timeout: .seconds(30))
          Issue.record("\(call) returned in \(mode)")
        } catch let error as PythonError {
          #expect(error.type == "RuntimeError", "\(call): \(error)")
          #expect(error.message.contains("ProcessPoolExecutor"), "\(call): \(error.message)")
        }
      }
      // subprocess never forks Python: it works.
      #expect(
        try await py.eval(
          "__import__('subprocess').run(['echo', 'hi'], capture_output=True, text=True).stdout",
          timeout: .seconds(30)) == "hi\n")
    }
  }

  @Test(arguments: modes)
  func processPoolExecutorMapWorks(mode: PythonContext.Mode) async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: mode))) { (py) async throws in
      try await py.withContext { lease in
        try await lease.exec(
          """
          import math, multiprocessing
          from concurrent.futures import ProcessPoolExecutor
          with ProcessPoolExecutor(max_workers=1) as pool:
              results = list(pool.map(math.factorial, range(8)))
          with multiprocessing.Pool(1) as pool:
              squares = pool.map(abs, [-1, -2, -3])
          method = multiprocessing.get_start_method()
          """, timeout: .seconds(120))
        #expect(try await lease.eval("results") == [1, 1, 2, 6, 24, 120, 720, 5040])
        #expect(try await lease.eval("squares") == [1, 2, 3])
        #expect(try await lease.eval("method") != "fork")
      }
    }
  }
}
