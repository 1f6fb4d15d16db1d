import Foundation
import SwiftPy

/// Mixed 1 ms and 200 ms calls from 8 callers on a pool of 2, two ways in one run: each call
/// pinned to its caller thread's context (how one-shot calls were routed before the pool queue:
/// a short call could wait behind a long one while the other context was idle), and through the
/// pool's queue (affinity when free, else work stealing). Reports the short calls' p50/p99 and
/// the total time.
enum MixedLoadBenchmark {
  static func run(_ py: PythonRuntime, clock: ContinuousClock) async throws {
    try await py.startPool("mixed", size: 2)
    py.route(module: "time", to: "mixed")
    defer { Task { try? await py.stopPool("mixed") } }
    let pinned = try await measure(py, clock: clock) { seconds in
      let context = try await py.context(pool: "mixed")
      _ = try await context.call("time", "sleep", args: [.float(seconds)])
    }
    let queued = try await measure(py, clock: clock) { seconds in
      _ = try await py.call("time", "sleep", args: [.float(seconds)])
    }
    print("  mixed 1 ms / 200 ms calls, 8 callers, pool of 2 (short-call p50 / p99, total):")
    print("    pinned to the caller's context: \(pinned)")
    print("    pool queue (work stealing):      \(queued)")
  }

  private struct Result: CustomStringConvertible {
    let p50: Duration
    let p99: Duration
    let total: Duration
    var description: String {
      String(
        format: "%.1f ms / %.1f ms, %.2f s", p50.milliseconds, p99.milliseconds, total.milliseconds / 1000)
    }
  }

  /// 8 callers × 40 calls; every 10th call is long.
  private static func measure(
    _ py: PythonRuntime, clock: ContinuousClock, _ call: @escaping @Sendable (Double) async throws -> Void
  ) async throws -> Result {
    let began = clock.now
    let shorts = try await withThrowingTaskGroup(of: [Duration].self) { group in
      for caller in 0..<8 {
        group.addTask {
          var samples: [Duration] = []
          for n in 0..<40 {
            let long = (n + caller) % 10 == 0
            let start = clock.now
            try await call(long ? 0.2 : 0.001)
            if !long { samples.append(clock.now - start) }
          }
          return samples
        }
      }
      var all: [Duration] = []
      for try await samples in group { all += samples }
      return all.sorted()
    }
    return Result(
      p50: shorts[shorts.count / 2], p99: shorts[shorts.count * 99 / 100], total: clock.now - began)
  }
}

extension Duration {
  var milliseconds: Double {
    let (seconds, attoseconds) = components
    return Double(seconds) * 1000 + Double(attoseconds) / 1e15
  }
}
