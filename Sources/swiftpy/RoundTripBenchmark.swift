import Foundation
import SwiftPy

/// A trivial call's round trip through the runtime — `py.call("swiftpy_bench_tasks", "noop")`
/// routed to a pool of `workers` contexts of each mode — from 1 caller and from 64 concurrent
/// callers: every call timed from the caller's side (p50, p99, the distribution) and the calls
/// per second of the whole batch.
enum RoundTripBenchmark {
  static let callerCounts = [1, 64]

  static func run(
    _ py: PythonRuntime, modes: [PythonContext.Mode], workers: Int, calls: Int, report: BenchReport,
    progress: BenchProgress
  ) async throws {
    let module = ThroughputBenchmark.module
    for mode in modes {
      let pool = "roundtrip-\(mode)"
      _ = try await py.startPool(pool, size: workers, mode: mode)
      py.route(module: module, to: pool)
      for _ in 0..<1_000 { _ = try await py.call(module, "noop") }  // warm up
      for callers in callerCounts {
        progress.say("round trips: \(mode), \(callers) caller\(callers == 1 ? "" : "s")")
        let key = "roundtrip.\(mode).callers\(callers)"
        let who =
          "py.call round trip, pool of \(workers) \(mode), \(callers) caller\(callers == 1 ? "" : "s")"
        try await measure(callers: callers, calls: calls, key: key, label: who, report: report) {
          _ = try await py.call(module, "noop")
        }
      }
      // The same 64 callers, each running on one of the pool's threads (`withExecutor`): their
      // calls run inline, with no hop.
      var contexts: [PythonContext] = []
      for index in 0..<workers { contexts.append(try await py.context(index: index, pool: pool)) }
      progress.say("round trips: \(mode), \(callerCounts.last!) callers on the contexts' executors")
      try await measure(
        callers: callerCounts.last!, calls: calls, key: "roundtrip.\(mode).executor64",
        label: "py.call round trip, pool of \(workers) \(mode), 64 callers on the contexts' executors",
        report: report, executors: contexts.map(\.taskExecutor)
      ) { _ = try await py.call(module, "noop") }
      py.unroute(module: module)
      try await py.stopPool(pool)
      // One context, called directly (no pool queue): the figure of the earlier sections.
      let context = try await py.newContext(mode: mode)
      for _ in 0..<1_000 { _ = try await context.call(module, "noop") }
      let callNoop: @Sendable () async throws -> Void = { _ = try await context.call(module, "noop") }
      let evalSum: @Sendable () async throws -> Void = { _ = try await context.eval("1 + 1") }
      // Through the queue, then with the caller on the context's executor (inline calls).
      for (kind, what, onExecutor, call) in [
        ("context", "context.call", false, callNoop),
        ("contextExecutor", "context.call, caller on its executor (withExecutor)", true, callNoop),
        ("evalExecutor", "context.eval(\"1 + 1\"), caller on its executor", true, evalSum),
      ] {
        progress.say("round trips: \(mode), one context, \(what)")
        try await measure(
          callers: 1, calls: calls, key: "roundtrip.\(mode).\(kind)",
          label: "\(what) round trip, one \(mode) context", report: report,
          executors: onExecutor ? [context.taskExecutor] : [], call)
      }
      await context.close()
    }
  }

  /// `callers` tasks calling `call` `calls / callers` times each: every call timed (p50, p99,
  /// the distribution), and the calls per second of the whole.
  /// With `executors`, caller `i` runs on `executors[i % count]` (its calls then run inline).
  private static func measure(
    callers: Int, calls: Int, key: String, label: String, report: BenchReport,
    executors: [any TaskExecutor] = [], _ call: @escaping @Sendable () async throws -> Void
  ) async throws {
    let each = max(calls / callers, 50)
    let clock = ContinuousClock()
    let began = clock.now
    let samples = try await withThrowingTaskGroup(of: [Duration].self) { group in
      for caller in 0..<callers {
        group.addTask(executorPreference: executors.isEmpty ? nil : executors[caller % executors.count]) {
          var samples: [Duration] = []
          samples.reserveCapacity(each)
          for _ in 0..<each {
            let start = clock.now
            try await call()
            samples.append(clock.now - start)
          }
          return samples
        }
      }
      var all: [Duration] = []
      for try await samples in group { all += samples }
      return all
    }
    let elapsed = (clock.now - began).seconds
    let sorted = BenchSamples(micros: samples)
    report.add(key + ".p50_us", sorted.percentile(50), unit: "µs", label + ": p50")
    report.add(key + ".p99_us", sorted.percentile(99), unit: "µs", label + ": p99")
    report.add(key + ".calls_per_s", Double(samples.count) / elapsed, unit: "calls/s", label + ": calls/s")
    report.addDistribution(key, sorted, unit: "µs")
  }

  static func table(_ report: BenchReport, modes: [PythonContext.Mode], workers: Int) -> BenchTable {
    var table = BenchTable(
      "Call round trip: py.call of a no-op function, pool of \(workers) (ratio: SwiftPy's best calls/s / erlang_python's here)",
      ["mode", "1 caller p50", "p99", "calls/s", "64 callers p50", "p99", "calls/s", "vs erlang_python here"])
    let anchors = BenchReport.anchors
    let hereLow = anchors["erlang_python.calls_per_s.here_low"]!.value
    let hereHigh = anchors["erlang_python.calls_per_s.here_high"]!.value
    for mode in modes {
      var row = ["SwiftPy \(mode)"]
      for callers in callerCounts {
        let key = "roundtrip.\(mode).callers\(callers)"
        row += [
          BenchFormat.micros(report[key + ".p50_us"] ?? .nan),
          BenchFormat.micros(report[key + ".p99_us"] ?? .nan),
          BenchFormat.number(report[key + ".calls_per_s"] ?? .nan),
        ]
      }
      let best =
        callerCounts.compactMap { report["roundtrip.\(mode).callers\($0).calls_per_s"] }.max() ?? .nan
      row.append("\(BenchFormat.ratio(best / hereHigh))–\(BenchFormat.ratio(best / hereLow)) calls/s")
      table.add(row)
    }
    for mode in modes {
      let key = "roundtrip.\(mode).executor64"
      table.add([
        "SwiftPy \(mode), callers on the executors", "", "", "",
        BenchFormat.micros(report[key + ".p50_us"] ?? .nan),
        BenchFormat.micros(report[key + ".p99_us"] ?? .nan),
        BenchFormat.number(report[key + ".calls_per_s"] ?? .nan),
        "\(BenchFormat.ratio((report[key + ".calls_per_s"] ?? .nan) / hereHigh))–"
          + "\(BenchFormat.ratio((report[key + ".calls_per_s"] ?? .nan) / hereLow)) calls/s",
      ])
    }
    for mode in modes {
      for (kind, how) in [
        ("context", "context.call"), ("contextExecutor", "context.call on its executor"),
        ("evalExecutor", "context.eval(\"1 + 1\") on its executor"),
      ] {
        let key = "roundtrip.\(mode).\(kind)"
        table.add([
          "one \(mode) context, \(how)", BenchFormat.micros(report[key + ".p50_us"] ?? .nan),
          BenchFormat.micros(report[key + ".p99_us"] ?? .nan),
          BenchFormat.number(report[key + ".calls_per_s"] ?? .nan),
        ])
      }
    }
    table.add([
      "erlang_python py:call, here", "17–24 µs", "", "", "", "", "42–58K", "(not measured by this run)",
    ])
    table.add([
      "erlang_python, published", "3 µs", "", "", "", "", "394K", "(3.14, faster hardware)",
    ])
    return table
  }
}
