import Foundation
import Synchronization
import Testing

@testable import SwiftPy

@Suite("Pools under load and failure")
struct PoolResilienceTests {
  @Test func deadContextIsReplacedWithTheSameModeAndPreload() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 2), preload: "MARK = 'preloaded'")) {
      (py) async throws in
      let dead = try await py.context(index: 0)
      await dead.close()  // its thread and interpreter end: the context can no longer run
      // Routing skips it and the pool replaces it.
      for _ in 0..<6 { #expect(try await py.eval("MARK") == "preloaded") }
      let fresh = try await py.context(index: 0)
      #expect(fresh !== dead)
      #expect(fresh.isOpen)
      #expect(fresh.mode == dead.mode)
      #expect(try await fresh.eval("MARK") == "preloaded")
      #expect(py.numContexts() == 2)
      #expect(try py.stats() == PoolStats(contexts: 2, available: 2, checkedOut: 0, pendingRequests: 0))
    }
  }

  /// 200 tasks mix one-shot calls and leases across two pools; every result is checked.
  @Test func twoHundredConcurrentTasks() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 2))) { (py) async throws in
      try await py.startPool("io", size: 2, mode: .worker)
      py.route(module: "operator", to: "io")
      let counters = Counters()
      try await withThrowingTaskGroup(of: Void.self) { group in
        for task in 0..<200 {
          group.addTask {
            switch task % 4 {
            case 0:
              #expect(try await py.call("math", "pow", args: [.int(task), 2]) == .float(Double(task * task)))
            case 1:
              #expect(try await py.call("operator", "add", args: [.int(task), 1]) == .int(task + 1))
            case 2:
              #expect(try await py.eval("n * 3", locals: ["n": .int(task)]) == .int(task * 3))
            default:
              let pool = task % 8 == 3 ? "default" : "io"
              // withContext waits its turn: no retry loop, and no noContextsAvailable.
              let value = try await py.withContext(pool: pool) { lease in
                try await lease.exec("state = \(task)")
                try await lease.exec("state += 1")
                return try await lease.eval("state")
              }
              #expect(value == .int(task + 1))
            }
            let pending = try py.stats().pendingRequests + py.stats("io").pendingRequests
            _ = counters.maxPending.max(pending, ordering: .relaxed)
          }
        }
        try await group.waitForAll()
      }
      // Every lease came back.
      #expect(try py.stats() == PoolStats(contexts: 2, available: 2, checkedOut: 0, pendingRequests: 0))
      #expect(try py.stats("io") == PoolStats(contexts: 2, available: 2, checkedOut: 0, pendingRequests: 0))
      // Calls did queue up (the pools were really contended) and all were served.
      #expect(counters.maxPending.load(ordering: .relaxed) > 0)
    }
  }
}

private final class Counters: Sendable {
  let maxPending = Atomic<Int>(0)
}
