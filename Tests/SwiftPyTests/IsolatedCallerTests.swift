import Testing

@testable import SwiftPy

/// `withContext` and `withPython` called from the main actor and from an actor's method, the way
/// apps call them: the closures use the caller's state and the results land in it. That this file
/// compiles under Swift 6's checking is half the test; the values are the other half.
@Suite("Callers on the main actor and in actors", .timeLimit(.minutes(2)))
struct IsolatedCallerTests {
  /// Main-actor state, as a view model has.
  @MainActor final class Model {
    var label = ""
    var total = 0
  }

  /// Not Sendable: only a closure running in the caller's isolation may return it.
  final class Summary {
    let text: String
    init(text: String) { self.text = text }
  }

  /// An actor that keeps what Python computes for it.
  actor Ledger {
    private(set) var entries: [Int] = []

    func record(from py: PythonRuntime) async throws -> Int {
      let sum = try await py.withContext { lease in
        // Reads and writes the actor's state inside the closure.
        let sum = try await lease.call("builtins", "sum", args: [entries + [10]], as: Int.self)
        entries.append(sum)
        return sum
      }
      let doubled = try await py.withPython { python in try Int(python.eval("21 * 2")) }
      entries.append(doubled)
      let bound = try await py.withContext {
        try await py.exec("xs = [1, 2, 3]")
        return try await py.eval("len(xs)", as: Int.self)
      }
      entries.append(bound)
      return sum
    }
  }

  @MainActor @Test func mainActorCallersUseTheirState() async throws {
    let py = try await PythonRuntime.start(.init(defaultPool: .init(size: 1, mode: .worker)))
    do {
      let model = Model()
      model.label = "ada"
      let summary = try await py.withContext { lease in
        try await lease.exec("greeting = 'hello'")
        let text = try await lease.eval(
          "greeting + ' ' + name", locals: ["name": model.label], as: String.self)
        model.total += 1
        return Summary(text: text)
      }
      #expect(summary.text == "hello ada")
      #expect(model.total == 1)

      let context = try await py.context(pool: "default")
      let upper = try await context.withPython { python in try String(python.eval("'abc'.upper()")) }
      model.label = upper
      #expect(model.label == "ABC")

      model.total = try await py.withContext {
        try await py.exec("x = 6")
        return try await py.eval("x * 7", as: Int.self)
      }
      #expect(model.total == 42)
      await py.shutdown()
    } catch {
      await py.shutdown()
      throw error
    }
  }

  @Test func actorMethodsKeepTheirResults() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: .worker))) { py in
      let ledger = Ledger()
      let first = try await ledger.record(from: py)
      let second = try await ledger.record(from: py)
      #expect(first == 10)
      #expect(second == 65)  // 10 + 42 + 3 + 10
      #expect(await ledger.entries == [10, 42, 3, 65, 42, 3])
    }
  }
}
