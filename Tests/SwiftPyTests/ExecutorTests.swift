import Foundation
import Synchronization
import Testing

@testable import SwiftPy

/// `withExecutor`: a task that runs on a context's own thread, whose calls to that context run
/// inline (ARCHITECTURE.md, "Calls on the context's own thread"). Each test can fail: calls that
/// took the queue, a caller starved, a task lost with its thread, a deadlock.
@Suite("Calls on the context's own thread", .timeLimit(.minutes(2)))
struct ExecutorTests {
  static let config = PythonRuntime.Configuration(
    defaultPool: .init(size: 2), interruptGrace: .seconds(3))

  @Test("calls inside withExecutor run inline on the context's thread, in every mode")
  func callsRunInline() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      for mode in try await availableModes() {
        let ctx = try await py.newContext(mode: mode)
        try await ctx.exec("import math\nseen = []")
        let before = ctx.thread.inlineCalls.load(ordering: .relaxed)
        let total = try await ctx.withExecutor {
          #expect(InterpreterThread.current === ctx.thread, "the body runs on the context's thread")
          var total = 0
          for n in 0..<500 {
            total += try await ctx.call("math", "isqrt", args: [n * n], as: Int.self)
          }
          try await ctx.exec("seen.append(1)")
          return total
        }
        #expect(total == (0..<500).reduce(0, +), "mode \(mode)")
        #expect(
          ctx.thread.inlineCalls.load(ordering: .relaxed) - before == 501,
          "mode \(mode): calls took the queue")
        #expect(try await ctx.eval("seen") == [1])
        await ctx.close()
      }
    }
  }

  /// Called from the main actor, the closure still runs on the context's thread (it is not
  /// isolated to the caller), and its calls run inline.
  @Test @MainActor func fromTheMainActor() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      let ctx = try await py.newContext()
      let before = ctx.thread.inlineCalls.load(ordering: .relaxed)
      let onThread = try await ctx.withExecutor { () async throws -> Bool in
        _ = try await ctx.eval("1")
        return InterpreterThread.current === ctx.thread
      }
      #expect(onThread)
      #expect(ctx.thread.inlineCalls.load(ordering: .relaxed) - before == 1)
    }
  }

  @Test("one-shot calls of a pool run inline on the pool context's thread")
  func poolCallsRunInline() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      let context = try await py.context(index: 1)
      let before = context.thread.inlineCalls.load(ordering: .relaxed)
      let values = try await context.withExecutor {
        var values: [Int] = []
        for n in 0..<100 { values.append(try await py.eval("n * 2", locals: ["n": n], as: Int.self)) }
        return values
      }
      #expect(values == (0..<100).map { $0 * 2 })
      #expect(context.thread.inlineCalls.load(ordering: .relaxed) - before == 100)
      // A lease's calls run inline on the leased context too.
      let leased = try await py.withContext { lease in
        try await lease.exec("state = 41")
        return try await lease.withExecutor {
          try await lease.exec("state += 1")
          return try await lease.eval("state", as: Int.self)
        }
      }
      #expect(leased == 42)
    }
  }

  @Test("timeouts and cancellation interrupt an inline call; the context goes on", arguments: [true, false])
  func interruptsReachInlineCalls(cancel: Bool) async throws {
    try await withRuntime(Self.config) { (py) async throws in
      for mode in try await availableModes() {
        let ctx = try await py.newContext(mode: mode)
        let flag = InterruptTests.flagPath()
        let code = "open(\(PythonValue.string(flag)), 'w').close()\nwhile True: pass"
        let loop = Task(executorPreference: ctx.taskExecutor) {
          try await ctx.exec(code, timeout: cancel ? nil : .milliseconds(200))
        }
        if cancel {
          try await waitUntil { FileManager.default.fileExists(atPath: flag) }
          loop.cancel()
          await #expect(throws: CancellationError.self, "mode \(mode)") { try await loop.value }
        } else {
          await #expect(throws: SwiftPyError.self, "mode \(mode)") { try await loop.value }
          do {
            try await loop.value
          } catch let error as SwiftPyError {
            #expect(error.code == .timeout, "mode \(mode): \(error)")
          }
        }
        #expect(FileManager.default.fileExists(atPath: flag), "the loop ran inline")
        #expect(try await ctx.withExecutor { try await ctx.eval("6 * 7") } == 42)
        #expect(ctx.isOpen)
        await ctx.close()
      }
    }
  }

  /// A task that calls its context without end must not keep other callers out: an inline call
  /// gives way to queued jobs (without that, the other caller below would wait for ever).
  @Test func otherCallersAreServedBesideATaskThatNeverStops() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      let ctx = try await py.newContext()
      let stop = Atomic<Bool>(false)
      let calls = Atomic<Int>(0)
      let busy = Task(executorPreference: ctx.taskExecutor) {
        while !stop.load(ordering: .relaxed) {
          _ = try await ctx.eval("1")
          calls.add(1, ordering: .relaxed)
        }
      }
      try await waitUntil { calls.load(ordering: .relaxed) > 0 }  // the task is calling
      for n in 0..<20 { #expect(try await ctx.eval("\(n) + 1") == .int(n + 1)) }
      stop.store(true, ordering: .relaxed)
      try await busy.value
    }
  }

  /// A Swift callback that calls back into the context, from an inline call, or that asks for
  /// the context's executor: no deadlock.
  @Test func aCallbackFromAnInlineCallMayCallTheContextAgain() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      let ctx = try await py.newContext()
      try await py.register("twice") { args, _ in
        try await ctx.eval("n * 2", locals: ["n": args[0]])
      }
      let result = try await ctx.withExecutor { try await ctx.eval("__import__('swift').twice(21)") }
      #expect(result == 42)
      // A callback that asks for the context's executor while the context waits for it: its task
      // cannot run on that thread now, so it runs elsewhere (else: deadlock).
      try await py.register("thrice") { args, _ in
        try await ctx.withExecutor { try await ctx.eval("n * 3", locals: ["n": args[0]]) }
      }
      #expect(try await ctx.eval("__import__('swift').thrice(14)") == 42)
    }
  }

  /// The thread closes under a task that prefers it: the task goes on elsewhere, and its calls
  /// to the closed context fail as they would anywhere.
  @Test func aTaskOutlivesItsContext() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      let ctx = try await py.newContext()
      let outcome = try await ctx.withExecutor { () async throws -> (Bool, SwiftPyError?) in
        await Task.detached { await ctx.close() }.value
        let stillThere = InterpreterThread.current === ctx.thread
        do {
          _ = try await ctx.eval("1")
          return (stillThere, nil)
        } catch let error as SwiftPyError {
          return (stillThere, error)
        }
      }
      #expect(!outcome.0, "the task was not handed on when its thread ended")
      #expect(outcome.1?.code == .closed)
    }
  }

  // MARK: What a hostile review found (each failed before its fix)

  /// A pool's one-shot call from a task whose context was abandoned under it goes to another
  /// context, as from anywhere; it used to fail with the dead context's `closed`.
  @Test func aPoolCallLeavesAnAbandonedContextForAnother() async throws {
    let config = PythonRuntime.Configuration(defaultPool: .init(size: 2), interruptGrace: .milliseconds(300))
    try await withRuntime(config) { (py) async throws in
      let context = try await py.context(index: 0)
      let value = try await context.withExecutor { () async throws -> PythonValue in
        await #expect(throws: SwiftPyError.self) {
          try await py.exec("import time\ntime.sleep(1.5)", timeout: .milliseconds(100))
        }
        return try await py.eval("6 * 7")
      }
      #expect(value == 42)
      #expect(context.thread.isAbandoned, "the stuck call did not get its context abandoned")
    }
  }

  /// A task on a leased context's thread runs no one-shot call there: a stuck one would cost
  /// the lease its context (the rule of SharedJobQueue).
  @Test func aLeasedContextRunsNoOneShotCallInline() async throws {
    let config = PythonRuntime.Configuration(defaultPool: .init(size: 2), interruptGrace: .milliseconds(300))
    try await withRuntime(config) { (py) async throws in
      let lease = try await py.bind(index: 0)
      try await lease.exec("x = 'mine'")
      let leased = try await py.context(index: 0)
      let before = leased.thread.inlineCalls.load(ordering: .relaxed)
      await Task(executorPreference: leased.taskExecutor) {
        _ = try? await py.exec("import time\ntime.sleep(1)", timeout: .milliseconds(100))
      }.value
      #expect(leased.thread.inlineCalls.load(ordering: .relaxed) == before, "ran on the leased context")
      #expect(try await lease.eval("x") == "mine")
      await lease.unbind()
    }
  }

  /// An inline call whose context was abandoned answers the timeout even when the code went on
  /// to return — as the usual path answers at the abandonment.
  @Test func anAbandonedInlineCallAnswersItsTimeout() async throws {
    let config = PythonRuntime.Configuration(defaultPool: .init(size: 1), interruptGrace: .milliseconds(300))
    try await withRuntime(config) { (py) async throws in
      let ctx = try await py.newContext()
      try await ctx.exec(
        """
        import time
        def swallow():
            n, end = 0, time.monotonic() + 1.5
            while time.monotonic() < end:
                try:
                    time.sleep(0.01)
                except KeyboardInterrupt:
                    n += 1
            return n
        """)
      do {
        let value = try await ctx.withExecutor {
          try await ctx.call("__main__", "swallow", timeout: .milliseconds(200))
        }
        Issue.record("an abandoned call answered \(value)")
      } catch let error as SwiftPyError {
        #expect(error.code == .timeout, "\(error)")
      }
      #expect(!ctx.isOpen)
    }
  }

  /// A PythonObject kept past its closure and used, or released, by a task on its own thread
  /// (between jobs, without the GIL) throws or is released through a job; it used to crash.
  @Test func aKeptObjectThrowsInsideWithExecutor() async throws {
    final class Kept: @unchecked Sendable { var object: PythonObject? }
    try await withRuntime { (py) async throws in
      for mode in try await availableModes() {
        let ctx = try await py.newContext(mode: mode)
        let kept = Kept()
        try await ctx.withPython { python in kept.object = try python.eval("[1, 2, 3]") }
        let error = try await ctx.withExecutor { () async throws -> SwiftPyError? in
          _ = try await ctx.eval("1")  // an inline call first: ownGIL then still holds its GIL
          do {
            _ = try kept.object!.append(4)
            return nil
          } catch let error as SwiftPyError {
            return error
          }
        }
        #expect(error?.code == .invalidArgument, "mode \(mode)")
        try await ctx.withExecutor { kept.object = nil }  // released through a job, no crash
        #expect(try await ctx.eval("2 + 2") == 4)
        await ctx.close()
      }
    }
  }

  /// A task that prefers a context whose pool queue never empties gets its turn (Python jobs and
  /// task jobs alternate); it used to wait until the other callers stopped.
  @Test func aTaskPreferringABusyPoolContextGetsItsTurn() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1))) { (py) async throws in
      let context = try await py.context(index: 0)
      final class Stop: Sendable { let flag = Atomic<Bool>(false) }
      let stop = Stop()
      try await withThrowingTaskGroup(of: Void.self) { group in
        // Enough callers, with calls long enough, that one always waits when a call ends.
        for _ in 0..<8 {
          group.addTask {
            while !stop.flag.load(ordering: .relaxed) { _ = try? await py.eval("sum(range(50000))") }
          }
        }
        try await Task.sleep(for: .milliseconds(100))
        let value = try await Task(executorPreference: context.taskExecutor) { try await py.eval("7") }.value
        stop.flag.store(true, ordering: .relaxed)
        try await group.waitForAll()
        #expect(value == 7)
      }
    }
  }

  /// An inline call cut short by a close or a shutdown gets the error the usual path gets.
  @Test(arguments: [false, true])
  func closeAndShutdownGiveInlineCallsTheUsualErrors(shutdown: Bool) async throws {
    let py = try await PythonRuntime.start(.init(interruptGrace: .milliseconds(400)))
    let ctx = try await py.newContext()
    let flag = InterruptTests.flagPath()
    let inline = Task(executorPreference: ctx.taskExecutor) {
      try await ctx.exec("open(\(PythonValue.string(flag)), 'w').close()\nwhile True: pass")
    }
    try await waitUntil { FileManager.default.fileExists(atPath: flag) }
    if shutdown {
      await py.shutdown(deadline: .milliseconds(200))
    } else {
      await ctx.close(deadline: .milliseconds(200))
    }
    do {
      try await inline.value
      Issue.record("an endless loop finished")
    } catch let error as SwiftPyError {
      #expect(error.code == (shutdown ? .shuttingDown : .closed), "\(error)")
    } catch {
      Issue.record("expected a SwiftPyError, got \(error)")
    }
    await py.shutdown()
  }

  /// A synchronous callback that blocks until a task it started on its own context's executor
  /// is done: the task runs elsewhere (the thread is inside a job); it used to deadlock.
  @Test func aSyncCallbackWaitingForATaskOnItsOwnContext() async throws {
    try await withRuntime { (py) async throws in
      let ctx = try await py.newContext()
      try await py.register("viaTask") { _, _ in
        let done = DispatchSemaphore(value: 0)
        let box = Mutex<Int>(0)
        Task(executorPreference: ctx.taskExecutor) {
          box.withLock { $0 = 42 }
          done.signal()
        }
        guard done.wait(timeout: .now() + 30) == .success else { return .string("deadlock") }
        return .int(box.withLock { $0 })
      }
      #expect(try await ctx.eval("__import__('swift').viaTask()") == 42)
    }
  }
}
