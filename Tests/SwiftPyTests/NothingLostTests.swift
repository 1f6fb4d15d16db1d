import Foundation
import Synchronization
import Testing

@testable import SwiftPy

/// Calls survive a lost context, leases wait their turn, and closing anything returns by its
/// deadline.
@Suite("Nothing lost: lost contexts, waiting leases, close deadlines")
struct NothingLostTests {
  /// A pool of one whose only context gets stuck in a blocking call: later calls wait for the
  /// replacement instead of failing.
  @Test func aCallDoesNotFailBecauseAnotherCallGotItsContextStuck() async throws {
    let configuration = PythonRuntime.Configuration(
      defaultPool: .init(size: 1), interruptGrace: .milliseconds(300))
    try await withRuntime(configuration) { (py) async throws in
      await #expect(throws: SwiftPyError.self) {
        try await py.exec("import time\ntime.sleep(4)", timeout: .milliseconds(200))
      }
      // Queued behind the stuck call: must be moved to the replacement, not refused.
      async let queued = py.eval("40 + 2")
      async let second = py.eval("'still' + ' here'")
      #expect(try await queued == 42)
      #expect(try await second == "still here")
    }
  }

  /// With two contexts, a stuck call on one never fails calls that happen to be behind it.
  @Test func callsQueuedBehindAStuckCallMoveToAHealthyContext() async throws {
    let configuration = PythonRuntime.Configuration(
      defaultPool: .init(size: 2), interruptGrace: .milliseconds(300))
    try await withRuntime(configuration) { (py) async throws in
      let stuck = Task { try await py.exec("import time\ntime.sleep(4)", timeout: .milliseconds(200)) }
      let results = try await withThrowingTaskGroup(of: PythonValue.self) { group in
        for n in 0..<40 { group.addTask { try await py.eval("n * 2", locals: ["n": .int(n)]) } }
        var all: [PythonValue] = []
        for try await value in group { all.append(value) }
        return all
      }
      #expect(Set(results) == Set((0..<40).map { PythonValue.int($0 * 2) }))
      _ = await stuck.result
    }
  }

  /// An abandoned context is not counted as available while its replacement starts.
  @Test func statsDoNotCountAnAbandonedContext() async throws {
    let configuration = PythonRuntime.Configuration(
      defaultPool: .init(size: 2), interruptGrace: .milliseconds(200))
    try await withRuntime(configuration) { (py) async throws in
      // Replacements now take a second to start: long enough to look at the stats meanwhile.
      try py.preload.setCode("import time\ntime.sleep(1)")
      await #expect(throws: SwiftPyError.self) {
        try await py.withContext { lease in
          try await lease.exec("import time\ntime.sleep(3)", timeout: .milliseconds(100))
        }
      }
      try await Task.sleep(for: .milliseconds(400))  // past the grace: abandoned, replacing
      let stats = try py.stats()
      #expect(stats.available <= 1, "\(stats)")
    }
  }

  /// A long call on one context does not hold up short calls while another context is free.
  /// The long call lasts until the test ends it, so a short call queued behind it would time
  /// out (no race with a fixed duration, however slowly a loaded machine runs).
  @Test func shortCallsDoNotWaitBehindALongOne() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 2))) { (py) async throws in
      let flag = FileManager.default.temporaryDirectory.appendingPathComponent("swiftpy-long-\(UUID())").path
      let long = Task {
        try await py.exec(
          "import os, time\nwhile not os.path.exists(\(PythonValue.string(flag))): time.sleep(0.01)")
      }
      try await Task.sleep(for: .milliseconds(200))  // the long call is running
      do {
        try await withThrowingTaskGroup(of: Void.self) { group in
          for n in 0..<20 {
            group.addTask {
              let value = try await py.eval("n + 1", locals: ["n": .int(n)], timeout: .seconds(30))
              #expect(value == .int(n + 1))
            }
          }
          try await group.waitForAll()
        }
      } catch {
        Issue.record("a short call waited behind the long one: \(error)")
      }
      _ = FileManager.default.createFile(atPath: flag, contents: nil)
      try await long.value
    }
  }

  /// Two hundred tasks leasing a pool of two all get their turn.
  @Test func leasesWaitTheirTurn() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 2))) { (py) async throws in
      try await withThrowingTaskGroup(of: PythonValue.self) { group in
        for n in 0..<200 {
          group.addTask {
            try await py.withContext { lease in
              try await lease.exec("x = \(n)")
              return try await lease.eval("x + 1")
            }
          }
        }
        var values = Set<PythonValue>()
        for try await value in group { values.insert(value) }
        #expect(values == Set((0..<200).map { PythonValue.int($0 + 1) }))
      }
      #expect(try py.stats().checkedOut == 0)
    }
  }

  /// `bind()` still fails at once; with `waitingUpTo` it waits, then fails; waiting requests
  /// are served first come first served.
  @Test func bindFailsAtOnceOrWaitsInOrder() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1))) { (py) async throws in
      let held = try await py.bind()
      await #expect(throws: SwiftPyError.noContextsAvailable(pool: "default")) { _ = try await py.bind() }
      do {
        _ = try await py.bind(waitingUpTo: .milliseconds(100))
        Issue.record("a wait for a held context succeeded")
      } catch let error as SwiftPyError {
        #expect(error.code == .noContextsAvailable)
      }
      let order = OrderLog()
      var waiters: [Task<Void, Error>] = []
      for n in 0..<5 {
        waiters.append(
          Task {
            let lease = try await py.bind(waitingUpTo: .seconds(30))
            order.append(n)
            await lease.unbind()
          })
        try await Task.sleep(for: .milliseconds(50))  // queue them in order
      }
      await held.unbind()
      for waiter in waiters { try await waiter.value }
      #expect(order.all == [0, 1, 2, 3, 4])
    }
  }

  /// A waiting lease request ends when its task is cancelled, and at shutdown.
  @Test func waitingLeasesAreCancellableAndAnsweredAtShutdown() async throws {
    let py = try await PythonRuntime.start(.init(defaultPool: .init(size: 1)))
    let held = try await py.bind()
    let cancelled = Task { try await py.withContext { lease in try await lease.eval("1") } }
    try await Task.sleep(for: .milliseconds(100))
    cancelled.cancel()
    await #expect(throws: CancellationError.self) { _ = try await cancelled.value }
    let waiting = Task { try await py.withContext { lease in try await lease.eval("1") } }
    try await Task.sleep(for: .milliseconds(100))
    await py.shutdown(deadline: .seconds(2))
    do {
      _ = try await waiting.value
      Issue.record("a lease request was served after shutdown")
    } catch let error as SwiftPyError {
      #expect(error.code == .shuttingDown)
    }
    _ = held
  }

  /// A lease whose context is lost gets one clear error naming the loss, every time.
  @Test func aLostLeaseSaysItsNamespaceIsGone() async throws {
    let configuration = PythonRuntime.Configuration(
      defaultPool: .init(size: 1), interruptGrace: .milliseconds(200))
    try await withRuntime(configuration) { (py) async throws in
      let lease = try await py.bind()
      try await lease.exec("state = 1")
      await #expect(throws: SwiftPyError.self) {
        try await lease.exec("import time\ntime.sleep(3)", timeout: .milliseconds(100))
      }
      try await Task.sleep(for: .milliseconds(400))
      for _ in 0..<2 {
        do {
          _ = try await lease.eval("state")
          Issue.record("a lost lease still ran code")
        } catch let error as SwiftPyError {
          #expect(error.code == .contextLost)
          #expect(error.message.contains("namespace"))
        }
      }
      await lease.unbind()
      #expect(try await py.eval("1 + 1") == 2)
    }
  }

  // MARK: Close deadlines

  @Test func stopPoolReturnsByItsDeadlineAndAnswersTheCaller() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1))) { (py) async throws in
      try await py.startPool("busy", size: 1, mode: .worker)
      py.route(module: "busy_loop", to: "busy")
      let running = Task {
        try await py.withContext(pool: "busy") { lease in try await lease.exec("while True: pass") }
      }
      try await Task.sleep(for: .milliseconds(200))
      try await py.stopPool("busy", deadline: .milliseconds(300))
      let result = await running.result
      #expect(throws: (any Error).self) { try result.get() }
    }
  }

  @Test func closeReturnsWhenADelLoopsAtClose() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1))) { (py) async throws in
      let context = try await py.newContext(mode: .subinterp)
      try await context.exec(
        """
        import time
        class Stubborn:
            def __del__(self):
                # Loops far past the close deadline, then ends, so that the abandoned thread
                # does not take a core from the rest of the suite for ever.
                end = time.monotonic() + 15
                while time.monotonic() < end:
                    pass
        stubborn = Stubborn()
        """)
      await context.close(deadline: .milliseconds(300))
      #expect(!context.isOpen)
    }
  }

  @Test func interpreterCloseReturnsByItsDeadline() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1))) { (py) async throws in
      let interpreter = try await py.interpreters.create(isolated: false)
      let running = Task { try await interpreter.exec("while True: pass") }
      try await Task.sleep(for: .milliseconds(200))
      try await interpreter.close(deadline: .milliseconds(300))
      #expect(!interpreter.isAlive)
      let result = await running.result
      #expect(throws: (any Error).self) { try result.get() }
    }
  }

  /// A lease's namespace is freed when its context closes first (worker contexts share the
  /// main interpreter, so a leaked namespace would live as long as the process).
  @Test func aLeaseNamespaceIsFreedWhenItsContextClosesFirst() async throws {
    let flag = FileManager.default.temporaryDirectory.appendingPathComponent("swiftpy-freed-\(UUID())").path
    try await withRuntime(.init(defaultPool: .init(size: 1))) { (py) async throws in
      try await py.startPool("leased", size: 1, mode: .worker)
      let lease = try await py.bind(pool: "leased")
      try await lease.exec(
        """
        import pathlib, weakref
        class Witness:
            pass
        witness = Witness()
        weakref.finalize(witness, pathlib.Path(\(PythonValue.string(flag).pythonLiteral)).write_text, 'freed')
        """)
      try await py.stopPool("leased")
      #expect(FileManager.default.fileExists(atPath: flag))
      await lease.unbind()
    }
    try? FileManager.default.removeItem(atPath: flag)
  }

  /// A finished call's timer is gone at once, not kept until its deadline.
  @Test func finishedCallsKeepNoTimers() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1))) { (py) async throws in
      // Other tests' calls run meanwhile (the scheduler is the process's): their timers come and
      // go, but 500 kept timers of ours would stand out.
      let before = DeadlineScheduler.shared.pendingCount
      for n in 0..<500 { _ = try await py.eval("\(n)", timeout: .seconds(600)) }
      #expect(DeadlineScheduler.shared.pendingCount < before + 400)
    }
  }
}

extension PythonValue {
  /// A Python string literal for a Swift string (tests splice paths into code).
  fileprivate var pythonLiteral: String {
    guard case .string(let text) = self else { return "None" }
    return "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
      + "'"
  }
}

/// Numbers appended by several tasks, in the order they came.
private final class OrderLog: Sendable {
  private let numbers = Mutex<[Int]>([])
  func append(_ n: Int) { numbers.withLock { $0.append(n) } }
  var all: [Int] { numbers.withLock { $0 } }
}
