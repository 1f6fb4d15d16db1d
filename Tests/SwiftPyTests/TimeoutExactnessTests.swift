import Testing

@testable import SwiftPy

/// `.timeout` means the call did not complete: a call that finishes before its interrupt lands
/// answers with its result, late.
@Suite("Timeouts are exact: a timed-out call did not complete")
struct TimeoutExactnessTests {
  @Test(arguments: [PythonContext.Mode.worker, .subinterp])
  func aTimedOutIncrementNeverHappened(mode: PythonContext.Mode) async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: mode))) { (py) async throws in
      try await py.withContext { lease in
        try await lease.exec("n = 0")
        var completed = 0
        var timedOut = 0
        for round in 0..<200 {
          let timeout = Duration.microseconds(1 + (round * 37) % 300)
          do {
            try await lease.exec("n += 1", timeout: timeout)
            completed += 1
          } catch let error as SwiftPyError where error.code == .timeout {
            timedOut += 1
          }
        }
        #expect(try await lease.eval("n") == .int(completed), "\(timedOut) timed out")
      }
    }
  }

  @Test func aZeroOrNegativeTimeoutIsRefused() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1))) { (py) async throws in
      for timeout in [Duration.zero, .milliseconds(-5)] {
        do {
          _ = try await py.eval("1", timeout: timeout)
          Issue.record("a timeout of \(timeout) was accepted")
        } catch let error as SwiftPyError {
          #expect(error.code == .invalidArgument)
        }
      }
    }
  }
}
