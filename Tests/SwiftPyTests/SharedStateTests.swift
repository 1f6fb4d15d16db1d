import Synchronization
import Testing

@testable import SwiftPy

@Suite("Shared state")
struct SharedStateTests {
  @Test("py.state and swift.state are one store of copies", arguments: callbackModes)
  func operations(mode: PythonContext.Mode) async throws {
    try await withRuntime(callbackRuntime(mode)) { py in
      let ctx = try await py.newContext(mode: mode)
      py.state.set("config", ["depth": 3, "name": "x"])
      try await ctx.exec(
        """
        import swift
        config = swift.state.get('config')
        config['depth'] = 99          # a copy: the shared value is unchanged
        swift.state.set('from_python', [1, 'two', None])
        missing = swift.state.get('missing', 'default')
        created = swift.state.compare_and_set('lock', None, 'held')   # None matches a missing key
        again = swift.state.compare_and_set('lock', None, 'stolen')
        swapped = swift.state.compare_and_set('lock', 'held', 'passed')
        removed = swift.state.remove('gone')
        """)
      #expect(py.state.get("config") == ["depth": 3, "name": "x"])
      #expect(py.state.get("from_python") == [1, "two", .none])
      #expect(
        try await ctx.eval("[missing, created, again, swapped, removed]") == [
          "default", true, false, true, .none,
        ])
      #expect(py.state.get("lock") == "passed")
      #expect(py.state.keys == ["config", "from_python", "lock"])
      #expect(try await ctx.eval("swift.state.keys()") == ["config", "from_python", "lock"])
      #expect(py.state.remove("lock") == "passed")
      #expect(try await ctx.eval("'lock' in swift.state") == false)
      #expect(try await ctx.eval("swift.state.incr('n', by=5)") == 5)
      #expect(try py.state.increment("n", by: -2) == 3)
      #expect(!py.state.compareAndSet("n", expected: 4, new: 0))
      // Incrementing what is not an int is a TypeError in Python, an error in Swift.
      py.state.set("text", "abc")
      let error = await expectPythonError { _ = try await ctx.eval("swift.state.incr('text')") }
      #expect(error?.type == "TypeError")
      #expect(throws: SwiftPyError.self) { try py.state.increment("text") }
    }
  }

  @Test("Increments from many interpreters at once add up exactly", arguments: callbackModes)
  func incrementsAddUp(mode: PythonContext.Mode) async throws {
    try await withRuntime(callbackRuntime(mode, size: 4)) { py in
      let standalone = [try await py.newContext(mode: mode), try await py.newContext(mode: mode)]
      let perCall = 2_000
      try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<8 {  // the pool's four contexts, in parallel
          group.addTask {
            try await py.exec("import swift\nfor _ in range(\(perCall)):\n    swift.state.incr('hits')")
          }
        }
        for ctx in standalone {
          group.addTask {
            try await ctx.exec(
              "import swift\nfor _ in range(\(perCall)):\n    swift.state.incr('hits', by=2)")
          }
        }
        group.addTask {
          for _ in 0..<perCall { try py.state.increment("hits") }
        }
        try await group.waitForAll()
      }
      #expect(py.state.get("hits") == .int(8 * perCall + 2 * 2 * perCall + perCall))
    }
  }
}
