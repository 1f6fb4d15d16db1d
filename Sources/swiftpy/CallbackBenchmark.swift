import Foundation
import SwiftPy

/// The figures of "Calling Swift from Python": a callback's round trip (Python → Swift →
/// Python) per mode, sync and async, and how many stream items per second reach Swift.
enum CallbackBenchmark {
  static func run(
    _ py: PythonRuntime, modes: [PythonContext.Mode], calls: Int, clock: ContinuousClock, report: BenchReport,
    progress: BenchProgress
  ) async throws {
    try await py.register("bench_sync") { args, _ in args.first ?? .none }
    // Spelled out: a closure without `await` would pick the synchronous overload.
    try await py.register("bench_async") {
      (args: [PythonValue], _: [String: PythonValue]) async throws -> PythonValue in args.first ?? .none
    }
    for mode in [PythonContext.Mode.ownGIL, .worker] where modes.contains(mode) {
      progress.say("callbacks: \(mode)")
      let ctx = try await py.newContext(mode: mode)
      // Timed inside Python, around each call: the whole round trip, nothing else.
      try await ctx.exec(
        """
        import swift, time
        def round_trips(name, n):
            call, clock, samples = swift.call, time.perf_counter_ns, []
            for _ in range(n // 10):
                call(name, 1)  # warm up
            for _ in range(n):
                began = clock()
                call(name, 1)
                samples.append(clock() - began)
            samples.sort()
            return [samples[n // 2], samples[n * 99 // 100]]
        def items(n):
            yield from range(n)
        """)
      for kind in ["sync", "async"] {
        let result = try await ctx.call(
          "__main__", "round_trips", args: [.string("bench_\(kind)"), .int(calls)])
        let nanos = result.arrayValue?.compactMap(\.intValue) ?? []
        guard nanos.count == 2 else { throw BenchError("round_trips returned \(result)") }
        let label = "callback round trip (Python → Swift → Python), \(kind) closure, \(mode)"
        report.add("callbacks.\(mode).\(kind).p50_us", Double(nanos[0]) / 1000, unit: "µs", label + ": p50")
        report.add("callbacks.\(mode).\(kind).p99_us", Double(nanos[1]) / 1000, unit: "µs", label + ": p99")
        print(
          String(
            format:
              "  callback round trip (Python → Swift → Python), %@ closure, %@: p50 %.1f µs, p99 %.1f µs",
            kind, "\(mode)", Double(nanos[0]) / 1000, Double(nanos[1]) / 1000))
      }
      let count = calls
      let began = clock.now
      var received = 0
      for try await _ in try await ctx.stream("__main__", "items", args: [.int(count)]) { received += 1 }
      let elapsed = clock.now - began
      let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
      report.add(
        "stream.\(mode).items_per_s", Double(received) / seconds, unit: "items/s",
        "stream items/s, generator on one \(mode) context pulled by Swift")
      print(
        String(
          format: "  stream items/s, generator on one %@ context pulled by Swift: %.0f/s (%d items)",
          "\(mode)", Double(received) / seconds, received))
      await ctx.close()
    }
  }
}
