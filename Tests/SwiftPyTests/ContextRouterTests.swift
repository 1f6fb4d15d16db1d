import Foundation
import Synchronization
import Testing

@testable import SwiftPy

/// Every example of erlang_python's context-router page, in Swift: pools, routes, lookups.
@Suite("Context router: pools, module and function routes, lookups")
struct ContextRouterTests {
  @Test func usage() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 3))) { (py) async throws in
      #expect(py.numContexts() == 3)
      #expect(py.poolStarted("default"))
      // Get the context for the current thread (automatic routing) and call through it.
      let ctx = try await py.context()
      #expect(try await ctx.call("math", "sqrt", args: [16]) == 4.0)
      // A specific context by index.
      let ctx2 = try await py.context(index: 1)
      #expect(ctx2 === py.contexts()[1])
      // Bind it; context() then returns the bound one; unbinding returns to affinity.
      try await py.withContext(index: 1) { () async throws in
        #expect(try await py.context() === ctx2)
      }
      #expect(!py.isBound)
    }
  }

  @Test func affinitySameThreadSameContext() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 2))) { (py) async throws in
      // A thread keeps its affinity slot; another thread gets another one.
      let slots = onThread { (PythonRuntime.callerThreadSlot, PythonRuntime.callerThreadSlot) }
      let other = onThread { PythonRuntime.callerThreadSlot }
      #expect(slots.0 == slots.1)
      #expect(other != slots.0)
      // The same slot always routes to the same context; neighbouring slots spread out.
      let first = try await py.defaultPool.context(affinity: slots.0)
      for _ in 0..<5 { #expect(try await py.defaultPool.context(affinity: slots.0) === first) }
      let neighbour = try await py.defaultPool.context(affinity: slots.0 + 1)
      #expect(neighbour !== first)
      // One-shot calls from this task's thread go to that thread's context.
      let mine = try await py.defaultPool.context(affinity: PythonRuntime.callerThreadSlot)
      #expect(py.contexts().contains { $0 === mine })
    }
  }

  /// Runs `body` on a new OS thread and returns its result.
  private func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
    let box = Mutex<T?>(nil)
    let done = DispatchSemaphore(value: 0)
    Thread {
      let value = body()
      box.withLock { $0 = value }
      done.signal()
    }.start()
    done.wait()
    return box.withLock { $0! }
  }

  @Test func poolsAndModes() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1))) { (py) async throws in
      try await py.startPool("io", size: 2, mode: .worker)
      #expect(py.poolStarted("io"))
      #expect(py.numContexts("io") == 2)
      #expect(py.contexts("io").allSatisfy { $0.mode == .worker })
      await #expect(throws: SwiftPyError.poolExists("io")) { try await py.startPool("io", size: 1) }
      try await py.stopPool("io")
      #expect(!py.poolStarted("io"))
      #expect(py.numContexts("io") == 0)
      await #expect(throws: SwiftPyError.cannotStopDefaultPool) { try await py.stopPool("default") }
    }
  }

  @Test func routingPrecedence() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1))) { (py) async throws in
      try await py.startPool("io", size: 1, mode: .worker)
      try await py.startPool("special", size: 1, mode: .subinterp)
      #expect(py.lookupPool(module: "requests", function: "get") == "default")
      py.route(module: "requests", to: "io")
      #expect(py.lookupPool(module: "requests", function: "get") == "io")
      #expect(py.lookupPool(module: "requests", function: "post") == "io")
      py.route(module: "requests", function: "get", to: "special")
      #expect(py.lookupPool(module: "requests", function: "get") == "special")  // function beats module
      #expect(py.lookupPool(module: "requests", function: "post") == "io")
      #expect(
        py.routes() == [
          PythonRoute(module: "requests", function: nil, pool: "io"),
          PythonRoute(module: "requests", function: "get", pool: "special"),
        ])
      py.unroute(module: "requests", function: "get")
      #expect(py.lookupPool(module: "requests", function: "get") == "io")
      py.unroute(module: "requests")
      #expect(py.lookupPool(module: "requests", function: "get") == "default")
      #expect(py.routes().isEmpty)

      // Calls really go where the route says: the recursion limit is per interpreter, and the
      // special pool's subinterp context gets one of its own; io's worker contexts share main's.
      try await py.withContext(pool: "special") { lease in
        try await lease.exec("import sys\nsys.setrecursionlimit(1234)")
      }
      py.route(module: "sys", to: "io")
      py.route(module: "sys", function: "getrecursionlimit", to: "special")
      #expect(try await py.call("sys", "getrecursionlimit") == 1234)
      py.unroute(module: "sys", function: "getrecursionlimit")
      #expect(try await py.call("sys", "getrecursionlimit") != 1234)
      try await py.stopPool("special")
      py.route(module: "sys", to: "special")
      await #expect(throws: SwiftPyError.poolNotFound("special")) {
        _ = try await py.call("sys", "getrecursionlimit")
      }
    }
  }

  @Test func parallelRunsAcrossThePoolInOrder() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 2))) { (py) async throws in
      let calls = (0..<10).map { PythonCall("math", "pow", args: [.int($0), 2]) }
      let results = try await py.parallel(calls)
      #expect(results == (0..<10).map { .float(Double($0 * $0)) })
      let failing = [PythonCall("math", "sqrt", args: [4]), PythonCall("math", "sqrt", args: [-1])]
      let error = await expectPythonError { _ = try await py.parallel(failing) }
      #expect(error?.type == "ValueError")
    }
  }
}
