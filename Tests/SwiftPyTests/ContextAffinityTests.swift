import Foundation
import Testing

@testable import SwiftPy

/// Every example of erlang_python's context-affinity page, in Swift, with the same observable results.
@Suite("Context affinity: leases keep state, bind and unbind, lost contexts")
struct ContextAffinityTests {
  static let config = PythonRuntime.Configuration(defaultPool: .init(size: 2))

  @Test func processImplicitBinding() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      // py:bind() ... py:unbind(), as a scoped binding of the task.
      try await py.withContext { () async throws in
        try await py.exec("counter = 0")
        try await py.exec("counter += 1")
        #expect(try await py.eval("counter") == 1)
        try await py.exec("counter += 1")
        #expect(try await py.eval("counter") == 2)
      }
      // And with an explicit lease.
      let lease = try await py.bind()
      try await lease.exec("counter = 0")
      try await lease.exec("counter += 1")
      #expect(try await lease.eval("counter") == 1)
      await lease.unbind()
    }
  }

  @Test func checkingBindingStatus() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      #expect(!py.isBound)
      try await py.withContext { () async throws in #expect(py.isBound) }
      #expect(!py.isBound)
      let lease = try await py.bind()
      #expect(lease.isBound)
      await lease.unbind()
      #expect(!lease.isBound)
    }
  }

  @Test func explicitContextsAreIndependentNamespaces() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      let ctx1 = try await py.bind()
      let ctx2 = try await py.bind()
      try await ctx1.exec("x = 'context one'")
      try await ctx2.exec("x = 'context two'")
      #expect(try await ctx1.eval("x") == "context one")
      #expect(try await ctx2.eval("x") == "context two")
      await ctx1.unbind()
      await ctx2.unbind()
    }
  }

  @Test func contextAwareFunctions() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      let ctx = try await py.bind()
      #expect(try await ctx.call("math", "sqrt", args: [16]) == 4.0)
      #expect(try await ctx.call("builtins", "round", args: [2.567], kwargs: ["ndigits": 1]) == 2.6)
      #expect(try await ctx.eval("a + b", locals: ["a": 1, "b": 2]) == 3)
      try await ctx.exec("y = 7")
      #expect(try await ctx.eval("y") == 7)
      await ctx.unbind()
    }
  }

  @Test func scopedHelperImplicitAndExplicit() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      let total = try await py.withContext { () async throws -> PythonValue in
        try await py.exec("total = 0")
        try await py.exec("for i in range(10): total += i")
        return try await py.eval("total")
      }
      #expect(total == 45)
      #expect(!py.isBound)  // automatically unbound
      let json = try await py.withContext { ctx in
        try await ctx.exec("import json")
        try await ctx.exec("data = {'key': 'value'}")
        return try await ctx.eval("json.dumps(data)")
      }
      #expect(json == #"{"key": "value"}"#)
      #expect(try py.stats().checkedOut == 0)
    }
  }

  @Test func leaseReturnedOnThrowAndOnDrop() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      struct Boom: Error {}
      await #expect(throws: Boom.self) { try await py.withContext { _ in throw Boom() } }
      #expect(try py.stats().checkedOut == 0)
      // A task that binds and ends without unbind (erlang's process death).
      try await Task {
        let lease = try await py.bind()
        try await lease.exec("work = 1")
      }.value
      #expect(try py.stats().checkedOut == 0)
      #expect(try py.stats().available == 2)
    }
  }

  @Test func workerCrashCleansUpAndNextBindIsFresh() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1))) { (py) async throws in
      let lease = try await py.bind()
      try await lease.exec("state = 'old'")
      await lease.context.close()  // the leased context dies
      do {
        _ = try await lease.eval("state")
        Issue.record("a lease on a dead context still ran code")
      } catch let error as SwiftPyError {
        guard error.code == .contextLost else { throw error }
      }
      await lease.unbind()
      let fresh = try await py.bind()
      #expect(fresh.context !== lease.context)
      let error = await expectPythonError { _ = try await fresh.eval("state") }
      #expect(error?.type == "NameError")
      #expect(try await fresh.eval("1 + 1") == 2)
      await fresh.unbind()
    }
  }

  @Test func useCases() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      // Stateful computation: load once, use many times.
      let predictions = try await py.withContext { () async throws -> [PythonValue] in
        try await py.exec(
          """
          class Model:
              def predict(self, rows):
                  return [sum(row) for row in rows]
          model = Model()
          """)
        return [
          try await py.eval("model.predict([[1, 2, 3]])"), try await py.eval("model.predict([[4, 5, 6]])"),
        ]
      }
      #expect(predictions == [[6], [15]])

      // Database connections.
      let lease = try await py.bind()
      try await lease.exec(
        """
        import sqlite3
        conn = sqlite3.connect(':memory:')
        cursor = conn.cursor()
        cursor.execute('CREATE TABLE users (id INTEGER, name TEXT)')
        """)
      try await lease.exec(#"cursor.execute('INSERT INTO users VALUES (1, "Alice")')"#)
      try await lease.exec(#"cursor.execute('INSERT INTO users VALUES (2, "Bob")')"#)
      let users = try await lease.eval("cursor.execute('SELECT * FROM users').fetchall()")
      #expect(users == [.tuple([1, "Alice"]), .tuple([2, "Bob"])])
      try await lease.exec("conn.close()")
      await lease.unbind()

      // Incremental processing.
      let ctx = try await py.bind()
      try await ctx.exec("results = []\ndef process_item(item):\n    return item * 10")
      for item in [1, 2, 3] {
        _ = try await ctx.eval("results.append(process_item(item))", locals: ["item": .int(item)])
      }
      #expect(try await ctx.eval("results") == [10, 20, 30])
      await ctx.unbind()
    }
  }

  @Test func poolStatistics() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      try await py.startPool("stats", size: 8, mode: .subinterp)
      let a = try await py.bind(pool: "stats")
      let b = try await py.bind(pool: "stats")
      #expect(
        try py.stats("stats") == PoolStats(contexts: 8, available: 6, checkedOut: 2, pendingRequests: 0))
      await a.unbind()
      await b.unbind()
      #expect(
        try py.stats("stats") == PoolStats(contexts: 8, available: 8, checkedOut: 0, pendingRequests: 0))
    }
  }

  @Test func errorHandling() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      // No contexts available when every one is bound.
      let a = try await py.bind()
      let b = try await py.bind()
      await #expect(throws: SwiftPyError.noContextsAvailable(pool: "default")) { _ = try await py.bind() }
      await a.unbind()
      await b.unbind()
      // Using a lease after unbind.
      let ctx = try await py.bind()
      await ctx.unbind()
      await #expect(throws: SwiftPyError.contextNotBound) { _ = try await ctx.eval("1 + 1") }
    }
  }
}
