import Foundation
import Testing

@testable import SwiftPy

/// Every wait is bounded: a context that cannot start, SwiftPy's own work that loops, and a
/// thread that will not stop are each reported, and the pool keeps serving.
@Suite("Bounded waits: starts, SwiftPy's own work, abandoned threads", .timeLimit(.minutes(2)))
struct BoundedWaitsTests {
  /// A context whose preload loops (interruptible) or sleeps (not) is given up at the limit:
  /// here the default pool's, so the runtime's start fails with a timeout instead of hanging.
  @Test(arguments: ["while True: pass", "import time\ntime.sleep(8)"])
  func aContextThatCannotStartIsGivenUp(preload: String) async throws {
    let configuration = PythonRuntime.Configuration(
      defaultPool: .init(size: 1), preload: preload, interruptGrace: .milliseconds(200),
      contextStartTimeout: .milliseconds(500))
    do {
      let py = try await PythonRuntime.start(configuration)
      await py.shutdown()
      Issue.record("a runtime whose preload never finishes started")
    } catch let error as SwiftPyError {
      #expect(error.code == .timeout, "\(error)")
    }
  }

  /// A pool whose only context is lost and whose replacement cannot start answers the calls
  /// waiting for it instead of leaving them waiting for ever.
  @Test func callsWaitingForAReplacementThatFailsAreAnswered() async throws {
    let configuration = PythonRuntime.Configuration(
      defaultPool: .init(size: 1), interruptGrace: .milliseconds(200))
    try await withRuntime(configuration) { (py) async throws in
      try py.preload.setCode("raise RuntimeError('this preload now fails')")
      let stuck = Task { try await py.exec("import time\ntime.sleep(3)", timeout: .milliseconds(100)) }
      try await Task.sleep(for: .milliseconds(50))
      let waiting = Task { try await py.eval("1") }  // no timeout: only the failed replacement answers it
      let stuckOutcome = await stuck.result
      #expect(throws: (any Error).self) { try stuckOutcome.get() }
      do {
        _ = try await waiting.value
        Issue.record("a call ran on a pool with no context")
      } catch let error as SwiftPyError {
        #expect(error.message.contains("this preload now fails"), "\(error)")
      } catch let error as PythonError {
        #expect(error.message.contains("this preload now fails"))
      }
    }
  }

  /// SwiftPy's own work (a `sys.path` update) reaching Python that loops does not wedge the
  /// context: it is interrupted, and the context replaced if it will not stop.
  @Test func housekeepingThatLoopsIsStopped() async throws {
    let configuration = PythonRuntime.Configuration(
      defaultPool: .init(size: 1, mode: .subinterp), interruptGrace: .milliseconds(100))
    try await withRuntime(configuration) { (py) async throws in
      try await py.exec(
        """
        import sys
        class Stubborn(list):
            def __contains__(self, item):
                while True:
                    pass
        sys.path = Stubborn(sys.path)
        """)
      try py.paths.add("/nonexistent/swiftpy-test")
      // Later calls still get answers: the housekeeping job was stopped (or the context lost
      // and replaced).
      #expect(try await py.eval("6 * 7", timeout: .seconds(20)) == 42)
    }
  }

  /// Abandoned threads are counted until their stuck call returns: here a blocking read that
  /// only the test ends, however slowly the replacement starts on a loaded machine.
  @Test func abandonedThreadsAreCounted() async throws {
    var fds: [Int32] = [0, 0]
    #expect(pipe(&fds) == 0)
    defer { close(fds[0]) }
    let configuration = PythonRuntime.Configuration(
      defaultPool: .init(size: 1), interruptGrace: .milliseconds(100))
    try await withRuntime(configuration) { (py) async throws in
      await #expect(throws: SwiftPyError.self) {
        try await py.exec("import os\nos.read(\(fds[0]), 1)", timeout: .milliseconds(50))
      }
      #expect(try await py.eval("1") == 1)  // served by the replacement
      #expect(try py.stats().abandonedThreads == 1)
      var byte: UInt8 = 1
      #expect(write(fds[1], &byte, 1) == 1)
      close(fds[1])
      try await waitFor { (try? py.stats().abandonedThreads) == 0 }  // the read returned
    }
  }

  private func waitFor(_ condition: () -> Bool) async throws {
    for _ in 0..<400 where !condition() { try await Task.sleep(for: .milliseconds(50)) }
    #expect(condition())
  }
}
