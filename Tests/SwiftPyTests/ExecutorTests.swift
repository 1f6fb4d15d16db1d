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
}
