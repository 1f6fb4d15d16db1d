import Foundation
import Testing

@testable import SwiftPy

/// Code nobody should run, run anyway: each is a clear Swift error and the host lives on.
@Suite("Hostile input and shutdown", .timeLimit(.minutes(2)))
struct HostileInputTests {
  static let config = PythonRuntime.Configuration(
    defaultPool: .init(size: 2), interruptGrace: .milliseconds(500))

  @Test func infiniteRecursion() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      for mode in try await availableModes() {
        let ctx = try await py.newContext(mode: mode)
        try await ctx.exec("def f(n):\n    return f(n + 1)")
        let error = await expectPythonError { _ = try await ctx.call("__main__", "f", args: [0]) }
        #expect(error?.type == "RecursionError", "mode \(mode)")
        #expect(try await ctx.eval("'alive'") == "alive")
        await ctx.close()
      }
    }
  }

  @Test func hugeResultIsRefused() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      do {
        _ = try await py.eval("b'x' * 200_000_000")
        Issue.record("a 200 MB result crossed")
      } catch let error as SwiftPyError {
        #expect(error.code == .tooLarge)
        #expect(error.message.contains("maximumResultSize"))
      }
      do {
        _ = try await py.eval("['y' * 1000] * 100_000")  // 100 MB of strings, in many pieces
        Issue.record("a 100 MB list crossed")
      } catch let error as SwiftPyError {
        #expect(error.code == .tooLarge)
      }
      do {
        _ = try await py.eval("1 << (8 * 100_000_000)")  // a 100 MB int
        Issue.record("a 100 MB int crossed")
      } catch let error as SwiftPyError {
        #expect(error.code == .tooLarge)
        #expect(error.message.contains("maximumResultSize"), "\(error)")
      }
      #expect(try await py.eval("len(b'x' * 200_000_000)") == 200_000_000)
    }
  }

  @Test func infiniteGeneratorIsNotIterated() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      do {
        _ = try await py.eval("__import__('itertools').count()")
        Issue.record("converted an infinite iterator")
      } catch let error as SwiftPyError {
        #expect(error.pythonType == "itertools.count")
      }
      do {
        _ = try await py.eval("(lambda: (yield from iter(int, 1)))()")
        Issue.record("converted an infinite generator")
      } catch let error as SwiftPyError {
        #expect(error.pythonType == "generator")
      }
    }
  }

  @Test(
    .enabled(if: ownGILAvailable, "this Python has no isolated (ownGIL) mode to test (3.12.0–3.12.3)"))
  func forkInAnIsolatedInterpreterIsRefused() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      let ctx = try await py.newContext(mode: .ownGIL)
      let error = await expectPythonError { try await ctx.exec("import os\nos.fork()") }
      #expect(error?.type == "RuntimeError")
      #expect(error?.message.contains("fork") == true)
      #expect(try await ctx.eval("'no child'") == "no child")
      await ctx.close()
    }
  }

  @Test func pythonThreadsAtClose() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      let mode: PythonContext.Mode = py.supportedModes.contains(.ownGIL) ? .ownGIL : .subinterp
      // A non-daemon thread that finishes soon is joined at close.
      let joined = try await py.newContext(mode: mode)
      try await joined.exec(
        "import threading, time\ndone = []\nt = threading.Thread(target=lambda: (time.sleep(0.2), done.append(1)))\nt.start()"
      )
      await joined.close()
      #expect(!joined.isOpen)
      // One that never finishes is reported and its interpreter left running: close returns.
      let stubborn = try await py.newContext(mode: mode)
      try await stubborn.exec(
        "import threading, time\nthreading.Thread(target=lambda: [time.sleep(0.05) for _ in iter(int, 1)], name='forever').start()"
      )
      await stubborn.close()
      #expect(!stubborn.isOpen)
      #expect(try await py.eval("'host alive'") == "host alive")
    }
  }

  @Test func shutdownAnswersEveryCallInFlight() async throws {
    let py = try await PythonRuntime.start(Self.config)
    let ctx = try await py.newContext()
    let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
      for index in 0..<24 {
        group.addTask {
          do {
            switch index % 3 {
            case 0: try await ctx.exec("while True: pass")  // never ends by itself
            case 1: _ = try await py.eval("sum(range(1000))")
            default: _ = try await py.call("time", "sleep", args: [0.05])
            }
            return "result"
          } catch let error as SwiftPyError where error.code == .shuttingDown {
            return "shuttingDown"
          } catch let error as SwiftPyError where error.code == .closed {
            return "shuttingDown"  // a call that arrived after its context had closed
          }
        }
      }
      try await Task.sleep(for: .milliseconds(100))
      await py.shutdown(deadline: .milliseconds(300))
      return try await group.reduce(into: [String]()) { $0.append($1) }
    }
    #expect(outcomes.count == 24)  // every caller was answered
    #expect(outcomes.contains("shuttingDown"))
    #expect(Set(outcomes).isSubset(of: ["result", "shuttingDown"]))
    await #expect(throws: SwiftPyError.self) { _ = try await py.eval("1") }
  }
}
