import Foundation
import Testing

@testable import SwiftPy

/// What `swiftpy soak` with hostile scenarios found SwiftPy doing wrong, each reduced to the
/// smallest program that shows it. These fail until the library is fixed.
@Suite("Soak findings")
struct SoakFindingsTests {
  /// A lease is exclusive, and no call fails because another call got a context stuck — but when
  /// every context of a pool is leased, a leased context takes the pool's one-shot calls between
  /// the lease's own, and when such a call gets stuck the leased context is abandoned: the lease
  /// then fails with `contextLost` (its namespace gone) although its own calls never got stuck.
  @Test func aLeaseIsNotLostToAnotherCallersStuckCall() async throws {
    let configuration = PythonRuntime.Configuration(
      defaultPool: .init(size: 1), interruptGrace: .milliseconds(200))
    try await withRuntime(configuration) { (py) async throws in
      let lease = try await py.bind()
      try await lease.exec("state = 1")
      // Another caller's one-shot call, stuck in C past its timeout and the grace.
      await #expect(throws: SwiftPyError.self) {
        try await py.exec("import time\ntime.sleep(2)", timeout: .milliseconds(100))
      }
      try await Task.sleep(for: .milliseconds(400))
      // The lease's own calls never got stuck: its state must still be there.
      do {
        #expect(try await lease.eval("state") == 1)
      } catch let error as SwiftPyError {
        Issue.record("the lease lost its context to another caller's stuck call: \(error)")
      }
      await lease.unbind()
    }
  }

  /// The bound on abandoned threads — one per call that holds its thread — fails on Python 3.12
  /// (ARCHITECTURE.md, "One thread per interpreter": CPython 3.12 keeps the request to drop a
  /// shared GIL per interpreter): while a `subinterp` context runs a busy loop, a `worker`
  /// context cannot take the GIL, so a call of its own that times out is not stopped within the
  /// grace and its context is abandoned although it ran nothing stuck. Passes on 3.13 and later.
  @Test func aBusySharedGILContextGetsNoOtherContextAbandoned() async throws {
    let configuration = PythonRuntime.Configuration(
      defaultPool: .init(size: 1, mode: .worker), interruptGrace: .milliseconds(500))
    try await withRuntime(configuration) { (py) async throws in
      let busy = try await py.newContext(mode: .subinterp)
      let hog = Task {
        try await busy.exec("import time\nend = time.monotonic() + 3\nwhile time.monotonic() < end: pass")
      }
      try await Task.sleep(for: .milliseconds(300))
      // An ordinary timeout on the worker context: interrupted in a few milliseconds on 3.13.
      await #expect(throws: SwiftPyError.self) {
        try await py.exec("while True: pass", timeout: .milliseconds(100))
      }
      #expect(try py.stats().abandonedThreads == 0, "a context was abandoned because another one was busy")
      try await hog.value
    }
  }
}
