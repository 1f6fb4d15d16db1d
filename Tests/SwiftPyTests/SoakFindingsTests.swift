import Foundation
import Testing

@testable import SwiftPy

/// What `swiftpy soak` with hostile scenarios found SwiftPy doing wrong, each reduced to the
/// smallest program that shows it; each failed before its fix (SharedJobQueue: leased contexts
/// take no one-shot calls; SharedGILReferee on 3.12).
@Suite("Soak findings")
struct SoakFindingsTests {
  /// A lease is exclusive, and no call fails because another call got a context stuck. A leased
  /// context used to take the pool's one-shot calls when every context was leased, and when such
  /// a call got stuck the leased context was abandoned: the lease then failed with
  /// `contextLost` (its namespace gone) although its own calls never got stuck.
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

  /// A lease requested while the pool's only context runs another caller's call takes that
  /// context and makes its namespace there, behind the call. When the call got stuck and the
  /// context was abandoned, the lease request used to fail with `contextLost` — it had lost
  /// nothing of its own: now it is served by the replacement.
  @Test func aLeaseTakenBesideAStuckCallIsServedByTheReplacement() async throws {
    let configuration = PythonRuntime.Configuration(
      defaultPool: .init(size: 1), interruptGrace: .milliseconds(200))
    try await withRuntime(configuration) { (py) async throws in
      let context = try await py.context(index: 0)
      let started = InterruptTests.flagPath()
      let stuck = Task {
        try await py.exec(
          "import time\nopen(\(PythonValue.string(started)), 'w').close()\ntime.sleep(1.5)",
          timeout: .milliseconds(300))
      }
      try await waitUntil { FileManager.default.fileExists(atPath: started) }
      do {
        let lease = try await py.bind()
        if context.thread.isAbandoned {
          #expect(lease.context !== context, "the lease runs on the replacement")
        }
        try await lease.exec("state = 1")
        #expect(try await lease.eval("state") == 1)
        await lease.unbind()
      } catch {
        Issue.record("a lease lost a context to another caller's stuck call: \(error)")
      }
      await #expect(throws: SwiftPyError.self) { try await stuck.value }
      // The stuck thread ends with its sleep; on 3.12 its leftover interrupts would take the
      // shared GIL from the next test's contexts.
      try await waitUntil { context.thread.hasEnded }
    }
  }

  /// The bound on abandoned threads — one per call that holds its thread — failed on Python 3.12
  /// before SwiftPy refereed the shared GIL (ARCHITECTURE.md, "One thread per interpreter"):
  /// while a `subinterp` context ran a busy loop, a `worker` context could not take the GIL, so
  /// a call of its own that timed out was not stopped within the grace and its context was
  /// abandoned although it ran nothing stuck.
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
