import Foundation
import Logging
import Synchronization
import Testing

@testable import SwiftPy

/// The modes every test here runs in: ownGIL (when this Python has it) and worker.
let callbackModes: [PythonContext.Mode] = ownGILAvailable ? [.ownGIL, .worker] : [.worker]

/// A runtime whose default pool has `size` contexts of `mode`.
func callbackRuntime(_ mode: PythonContext.Mode, size: Int = 2) -> PythonRuntime.Configuration {
  PythonRuntime.Configuration(defaultPool: .init(size: size, mode: mode))
}

/// A thrown Swift error with a recognisable description.
private struct Refusal: Error, CustomStringConvertible {
  let why: String
  var description: String { "refused: \(why)" }
}

@Suite("Calling Swift from Python")
struct CallbackTests {
  @Test("Sync and async Swift functions are called from Python in every way", arguments: callbackModes)
  func syncAndAsync(mode: PythonContext.Mode) async throws {
    try await withRuntime(callbackRuntime(mode)) { py in
      try await py.register("add") { args, _ in
        .int(args.compactMap(\.intValue).reduce(0, +))
      }
      try await py.register("greet") { args, kwargs in
        try await Task.sleep(for: .milliseconds(1))
        return .string("\(kwargs["greeting"]?.stringValue ?? "hello"), \(args.first?.stringValue ?? "?")")
      }
      let ctx = try await py.newContext(mode: mode)
      #expect(try await ctx.eval("__import__('swift').call('add', 1, 2, 3)") == 6)
      try await ctx.exec("import swift\nfrom swift import greet")
      #expect(try await ctx.eval("swift.add(40, 2)") == 42)
      #expect(try await ctx.eval("greet('Ada', greeting='hi')") == "hi, Ada")
      #expect(try await py.eval("__import__('swift').greet('pool')") == "hello, pool")
      #expect(try await ctx.eval("swift.registered()") == ["add", "greet"])
      // Registered after the context started: found all the same; unregistered: gone.
      try await py.register("late") { _, _ in "late" }
      #expect(try await ctx.eval("swift.late()") == "late")
      #expect(await py.unregister("late"))
      #expect(try await ctx.eval("hasattr(swift, 'late')") == false)
    }
  }

  @Test(
    "A Swift error is a catchable swift.SwiftError; a nested Python exception keeps its type",
    arguments: callbackModes)
  func errors(mode: PythonContext.Mode) async throws {
    try await withRuntime(callbackRuntime(mode)) { py in
      let ctx = try await py.newContext(mode: mode)
      try await py.register("refuse") { args, _ in throw Refusal(why: args.first?.stringValue ?? "") }
      try await py.register("parse") { args, _ in
        try await ctx.eval("int(text)", locals: ["text": args[0]])
      }
      try await ctx.exec(
        """
        import swift
        def caught(call):
            try:
                call()
            except LookupError as error:
                return [type(error).__name__, str(error)]
            except swift.SwiftError as error:
                return ['SwiftError', str(error)]
            except ValueError as error:
                return ['ValueError', str(error)]
            except ImportError as error:
                return ['ImportError', '']
            return ['no error', '']
        """)
      #expect(
        try await ctx.eval("caught(lambda: swift.refuse('no way'))") == ["SwiftError", "refused: no way"])
      #expect(try await ctx.eval("swift.parse('12')") == 12)
      let nested = try await ctx.eval("caught(lambda: swift.parse('twelve'))")
      #expect(nested.arrayValue?.first == "ValueError")
      #expect(nested.arrayValue?.last?.stringValue?.contains("twelve") == true)
      let unknown = try await ctx.eval("caught(lambda: swift.call('nothing'))")
      #expect(unknown.arrayValue?.first == "NotRegisteredError")
      #expect(
        try await ctx.eval("caught(lambda: exec('from swift import nothing'))").arrayValue?.first
          == "ImportError")
      // Uncaught, a nested Python exception reaches the Swift caller with its type.
      let error = await expectPythonError { _ = try await ctx.eval("swift.parse('x')") }
      #expect(error?.type == "ValueError")
      // The context is fine afterwards.
      #expect(try await ctx.eval("swift.parse('7')") == 7)
    }
  }

  @Test(
    "Python → Swift → Python → Swift to depth 10 on one context, each callback once", arguments: callbackModes
  )
  func depthTen(mode: PythonContext.Mode) async throws {
    try await withRuntime(callbackRuntime(mode, size: 1)) { py in
      let ctx = try await py.newContext(mode: mode)
      let runs = Atomic<Int>(0)
      try await py.register("down") { args, _ in
        runs.add(1, ordering: .relaxed)
        let depth = args[0].intValue ?? 0
        if depth == 9 { return .list([]) }
        return try await ctx.call("__main__", "down", args: [.int(depth + 1)])
      }
      try await ctx.exec(
        """
        import swift, threading
        entered = []
        def down(depth):
            entered.append(depth)
            return [(depth, threading.get_ident())] + swift.down(depth)
        """)
      let result = try await ctx.call("__main__", "down", args: [0], timeout: .seconds(60))
      let levels = try #require(result.arrayValue)
      #expect(levels.count == 10)
      #expect(levels.compactMap { $0.arrayValue?.first?.intValue } == Array(0..<10))
      #expect(Set(levels.compactMap { $0.arrayValue?.last }).count == 1)  // one thread, nested
      #expect(runs.load(ordering: .relaxed) == 10)  // each callback ran exactly once
      #expect(try await ctx.eval("entered") == .list((0..<10).map { .int($0) }))
      // The pool's one-shot calls from a callback run too (the waiting context serves its pool).
      try await py.register("viaPool") { args, _ in try await py.eval("21 * 2") }
      #expect(try await py.eval("__import__('swift').viaPool()") == 42)
    }
  }

  @Test("1,000 concurrent callbacks from several contexts", arguments: callbackModes)
  func thousandConcurrent(mode: PythonContext.Mode) async throws {
    try await withRuntime(callbackRuntime(mode, size: 4)) { py in
      let runs = Atomic<Int>(0)
      try await py.register("next") { args, _ in
        runs.add(1, ordering: .relaxed)
        await Task.yield()
        return .int((args[0].intValue ?? 0) + 1)
      }
      let results = try await withThrowingTaskGroup(of: (Int, PythonValue).self) { group in
        for index in 0..<1000 {
          group.addTask {
            let value = try await py.eval(
              "(__import__('swift').next(i), __import__('threading').get_ident())",
              locals: ["i": .int(index)])
            return (index, value)
          }
        }
        return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
      }
      #expect(runs.load(ordering: .relaxed) == 1000)
      #expect(results.count == 1000)
      #expect(results.allSatisfy { $0.value.arrayValue?.first?.intValue == $0.key + 1 })
      let threads = Set(results.values.compactMap { $0.arrayValue?.last })
      #expect(threads.count > 1)  // several contexts called Swift
    }
  }

  @Test("A timeout at depth stops every level, and the context stays in service", arguments: callbackModes)
  func timeoutAtDepth(mode: PythonContext.Mode) async throws {
    try await withRuntime(callbackRuntime(mode, size: 1)) { py in
      let ctx = try await py.newContext(mode: mode)
      let cancelled = Atomic<Int>(0)
      try await py.register("deeper") { args, _ in
        let depth = args[0].intValue ?? 0
        do {
          if depth == 3 {
            try await ctx.exec("while True:\n    pass")  // loops in Python until interrupted
            return .none
          }
          return try await ctx.call("__main__", "level", args: [.int(depth + 1)])
        } catch {
          if Task.isCancelled { cancelled.add(1, ordering: .relaxed) }
          throw error
        }
      }
      try await ctx.exec("import swift\ndef level(depth):\n    return swift.deeper(depth)")
      // Long enough for all four levels to start under a loaded CI machine (with 500 ms, the
      // deepest level had once not started yet on 3.15); the loop at depth 3 needs the timeout.
      await #expect(throws: SwiftPyError.self) {
        _ = try await ctx.call("__main__", "level", args: [0], timeout: .seconds(2))
      }
      #expect(await eventually { cancelled.load(ordering: .relaxed) == 4 })  // every level's task was cancelled
      #expect(ctx.isOpen)
      #expect(try await ctx.eval("1 + 1") == 2)
    }
  }

  @Test("Cancelling the caller cancels the Swift function Python waits for", arguments: callbackModes)
  func cancellation(mode: PythonContext.Mode) async throws {
    try await withRuntime(callbackRuntime(mode, size: 1)) { py in
      let ctx = try await py.newContext(mode: mode)
      let (started, running) = AsyncStream<Void>.makeStream()
      let sawCancellation = Atomic<Bool>(false)
      try await py.register("wait") { _, _ in
        running.yield()
        do {
          try await Task.sleep(for: .seconds(600))
        } catch {
          sawCancellation.store(true, ordering: .relaxed)
          throw error
        }
        return .none
      }
      let call = Task { try await ctx.eval("__import__('swift').wait()") }
      var iterator = started.makeAsyncIterator()
      await iterator.next()
      call.cancel()
      await #expect(throws: (any Error).self) { try await call.value }
      #expect(await eventually { sawCancellation.load(ordering: .relaxed) })
      #expect(try await ctx.eval("2 + 2") == 4)
    }
  }
}

/// Polls `condition` until it holds (true) or a generous bound passes (false); for effects that
/// follow an answer asynchronously. Never a claim about time.
func eventually(_ condition: () async throws -> Bool) async rethrows -> Bool {
  for _ in 0..<3000 {
    if try await condition() { return true }
    try? await Task.sleep(for: .milliseconds(10))
  }
  return try await condition()
}
