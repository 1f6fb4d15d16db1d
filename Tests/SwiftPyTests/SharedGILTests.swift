import Foundation
import Testing

@testable import SwiftPy

/// Interpreters that share the main interpreter's GIL (worker and subinterp contexts) take
/// turns: a busy one does not starve the others. CPython 3.12 never asks a busy interpreter to
/// drop that GIL for another interpreter's thread (3.13 does); SwiftPy asks for it
/// (ARCHITECTURE.md, "One thread per interpreter").
@Suite("Contexts sharing one GIL take turns", .timeLimit(.minutes(2)))
struct SharedGILTests {
  @Test func aBusySubinterpreterDoesNotStarveTheOthers() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: .worker))) { (py) async throws in
      let busy = try await py.newContext(mode: .subinterp)
      let other = try await py.newContext(mode: .subinterp)
      let worker = try await py.newContext(mode: .worker)
      let loop = Task {
        try await busy.exec(
          "import time\nend = time.monotonic() + 4\nwhile time.monotonic() < end:\n    pass",
          timeout: .seconds(8))
      }
      try await Task.sleep(for: .milliseconds(300))
      // Each answers within its own 2 s timeout while the loop still runs.
      for round in 0..<3 {
        #expect(try await other.eval("21 * 2", timeout: .seconds(2)) == 42, "subinterp, round \(round)")
        #expect(try await worker.eval("21 * 2", timeout: .seconds(2)) == 42, "worker, round \(round)")
      }
      try await loop.value
      for context in [busy, other, worker] { await context.close() }
    }
  }
}
