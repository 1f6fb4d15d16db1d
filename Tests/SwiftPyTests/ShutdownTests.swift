import Synchronization
import Testing

@testable import SwiftPy

/// Shutdown is one event: every caller of `shutdown()` returns when it is done, and nothing the
/// runtime handed out starts work afterwards.
@Suite("Shutdown: concurrent callers, nothing after it")
struct ShutdownTests {
  @Test func aSecondShutdownReturnsOnlyWhenTheFirstIsDone() async throws {
    let py = try await PythonRuntime.start(.init(defaultPool: .init(size: 1)))
    let answered = ShutdownFlag()
    let running = Task {
      defer { answered.set() }
      try await py.exec("while True: pass")
    }
    try await Task.sleep(for: .milliseconds(100))
    let first = Task { await py.shutdown(deadline: .milliseconds(300)) }
    try await Task.sleep(for: .milliseconds(20))
    await py.shutdown(deadline: .seconds(30))  // must not return before the first is done
    // The first shutdown interrupted the loop at its deadline and answered its caller: done.
    #expect(answered.isSet)
    let outcome = await running.result
    #expect(throws: (any Error).self) { try outcome.get() }
    await first.value
  }

  @Test func nothingStartsAfterShutdown() async throws {
    let py = try await PythonRuntime.start(.init(defaultPool: .init(size: 1)))
    await py.shutdown()
    func expectShuttingDown(_ what: String, _ body: () async throws -> Void) async {
      do {
        try await body()
        Issue.record("\(what) ran after shutdown")
      } catch let error as SwiftPyError {
        #expect(error.code == .shuttingDown, "\(what): \(error)")
      } catch {
        Issue.record("\(what): \(error)")
      }
    }
    await expectShuttingDown("eval") { _ = try await py.eval("1") }
    await expectShuttingDown("interpreters.main.exec") { try await py.interpreters.main.exec("x = 1") }
    await expectShuttingDown("interpreters.create") { _ = try await py.interpreters.create() }
    await expectShuttingDown("preload") { try py.preload.setCode("x = 1") }
    await expectShuttingDown("paths") { try py.paths.add("/tmp") }
    await expectShuttingDown("imports") { try await py.imports.add("json") }
    await expectShuttingDown("newContext") { _ = try await py.newContext() }
    await expectShuttingDown("bind") { _ = try await py.bind() }
    await expectShuttingDown("startPool") { try await py.startPool("late", size: 1) }
  }
}

private final class ShutdownFlag: Sendable {
  private let value = Synchronization.Atomic<Bool>(false)
  func set() { value.store(true, ordering: .releasing) }
  var isSet: Bool { value.load(ordering: .acquiring) }
}
