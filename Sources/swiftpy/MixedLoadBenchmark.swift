import Foundation
import SwiftPy

/// Mixed 1 ms and 200 ms calls from 8 callers on a pool of 2, two ways in one run: each call
/// pinned to its caller thread's context (how one-shot calls were routed before the pool queue:
/// a short call could wait behind a long one while the other context was idle), and through the
/// pool's queue (affinity when free, else work stealing). Reports the short calls' p50/p99 and
/// the total time.
enum MixedLoadBenchmark {
  static func run(
    _ py: PythonRuntime, callsPerCaller: Int, clock: ContinuousClock, report: BenchReport,
    progress: BenchProgress
  ) async throws {
    progress.say("mixed 1 ms / 200 ms load")
    try await py.startPool("mixed", size: 2)
    py.route(module: "time", to: "mixed")
    let pinned = try await measure(py, calls: callsPerCaller, clock: clock) { seconds in
      let context = try await py.context(pool: "mixed")
      _ = try await context.call("time", "sleep", args: [.float(seconds)])
    }
    let queued = try await measure(py, calls: callsPerCaller, clock: clock) { seconds in
      _ = try await py.call("time", "sleep", args: [.float(seconds)])
    }
    py.unroute(module: "time")
    try await py.stopPool("mixed")
    for (key, result) in [("pinned", pinned), ("pool_queue", queued)] {
      let label = "mixed 1 ms / 200 ms calls, 8 callers × \(callsPerCaller), pool of 2, \(key)"
      report.add("mixed.\(key).short_p50_ms", result.p50.milliseconds, unit: "ms", label + ": short-call p50")
      report.add("mixed.\(key).short_p99_ms", result.p99.milliseconds, unit: "ms", label + ": short-call p99")
      report.add("mixed.\(key).total_s", result.total.milliseconds / 1000, unit: "s", label + ": total")
    }
    print(
      "Mixed load: 1 ms / 200 ms calls, 8 callers × \(callsPerCaller), pool of 2 (short-call p50 / p99, total)"
    )
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

  /// 8 callers × `calls` calls; every 10th call is long.
  private static func measure(
    _ py: PythonRuntime, calls: Int, clock: ContinuousClock,
    _ call: @escaping @Sendable (Double) async throws -> Void
  ) async throws -> Result {
    let began = clock.now
    let shorts = try await withThrowingTaskGroup(of: [Duration].self) { group in
      for caller in 0..<8 {
        group.addTask {
          var samples: [Duration] = []
          for n in 0..<calls {
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
      p50: percentile(shorts, 50), p99: percentile(shorts, 99), total: clock.now - began)
  }

  private static func percentile(_ sorted: [Duration], _ p: Double) -> Duration {
    .microseconds(BenchSamples(micros: sorted).percentile(p))
  }
}

extension Duration {
  var milliseconds: Double {
    let (seconds, attoseconds) = components
    return Double(seconds) * 1000 + Double(attoseconds) / 1e15
  }
}
