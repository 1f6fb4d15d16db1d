import Testing

@testable import SwiftPy

/// Live objects and the interpreter token stay in their interpreter: kept past their closure
/// (Swift 6 forbids it; Swift 5 mode and an unchecked box do not), used in another context, or
/// after their context closed, they throw instead of touching an interpreter they do not hold.
@Suite("Objects and tokens stay in their interpreter", .timeLimit(.minutes(2)))
struct ConfinementTests {
  /// What a Swift 5 caller could smuggle out of a `withPython` closure.
  final class Smuggled: @unchecked Sendable {
    var token: Python?
    var object: PythonObject?
  }

  @Test func keptTokensAndObjectsThrowInsteadOfCrashing() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: isolatedMode))) { (py) async throws in
      let first = try await py.newContext(mode: isolatedMode)
      let second = try await py.newContext(mode: isolatedMode)
      let kept = Smuggled()
      try await first.withPython { python in
        kept.token = python
        kept.object = try python.eval("[1, 2, 3]")
      }
      // The same context, a later closure: the token is over; the object is still its own.
      let length = try await first.withPython { python in
        #expect(throws: SwiftPyError.self) { _ = try kept.token!.eval("1") }
        return try python.builtins.len(kept.object!).decode(Int.self)
      }
      #expect(length == 3)
      // Another context: neither the token nor the object may be used there.
      try await second.withPython { python in
        #expect(throws: SwiftPyError.self) { _ = try kept.token!.eval("1") }
        #expect(throws: SwiftPyError.self) { try kept.token!.exec("x = 1") }
        #expect(throws: SwiftPyError.self) { _ = try kept.token!.globals }
        #expect(throws: SwiftPyError.self) { _ = try python.builtins.len(kept.object!) }
        #expect(throws: SwiftPyError.self) { _ = try kept.object!.append(4) }
      }
      // After its context closed, from a Swift thread.
      await first.close()
      #expect(throws: SwiftPyError.self) { _ = try kept.token!.import("sys") }
      #expect(throws: SwiftPyError.self) { _ = try kept.object!.count }
      kept.object = nil  // released off its thread, after its interpreter ended: nothing happens
      await second.close()
    }
  }
}
