import Foundation
import SwiftPy

/// Start time and memory per context, per mode: `newContext(mode:)` timed (median), and the
/// process's resident memory before and after eight contexts of the mode are up, divided by
/// eight. Pools of `workers` contexts are timed in the throughput section (`startPool`).
enum StartupBenchmark {
  static let residentContexts = 8

  static func run(
    _ py: PythonRuntime, modes: [PythonContext.Mode], samples: Int, report: BenchReport,
    progress: BenchProgress
  ) async throws {
    for mode in modes {
      progress.say("start and RSS: \(mode)")
      // One first, not counted: one-off work of the mode's first context (imports, arenas).
      try await py.newContext(mode: mode).close()
      var times: [Duration] = []
      for _ in 0..<samples {
        let began = ContinuousClock.now
        let context = try await py.newContext(mode: mode)
        times.append(ContinuousClock.now - began)
        await context.close()
      }
      report.add(
        "start.context.\(mode)_ms", BenchSamples(micros: times).median / 1000, unit: "ms",
        "newContext(mode: .\(mode)), median of \(samples)")
      let before = MemCheckCommand.residentBytes()
      var contexts: [PythonContext] = []
      for _ in 0..<residentContexts { contexts.append(try await py.newContext(mode: mode)) }
      // Every context has run something: a context is measured in use, not just created.
      for context in contexts { _ = try await context.eval("sum(range(100))") }
      let after = MemCheckCommand.residentBytes()
      for context in contexts { await context.close() }
      report.add(
        "rss.context.\(mode)_mib", Double(after - before) / Double(residentContexts) / 1_048_576, unit: "MiB",
        "resident memory per \(mode) context (\(residentContexts) up at once)")
    }
  }

  static func table(
    _ report: BenchReport, modes: [PythonContext.Mode], executors: [String], workers: Int
  ) -> BenchTable {
    var table = BenchTable(
      "Start and memory",
      ["runner", "one context", "pool of \(workers) ready", "memory per context / worker"])
    for mode in modes {
      let key = ThroughputBenchmark.runnerKey(mode)
      table.add([
        "SwiftPy \(mode)", String(format: "%.2f ms", report["start.context.\(mode)_ms"] ?? .nan),
        String(format: "%.1f ms", report["start.pool_ready.\(key)_ms"] ?? .nan),
        String(format: "%.2f MiB RSS", report["rss.context.\(mode)_mib"] ?? .nan),
      ])
    }
    for kind in executors {
      var memory = "—"
      if let rss = report["rss.\(kind).worker_mib"], let pss = report["pss.\(kind).worker_mib"] {
        memory = String(format: "%.1f MiB RSS, %.1f MiB PSS", rss, pss)
      } else if kind != "process_pool" {
        memory = "(inside the python process)"
      }
      table.add([
        ThroughputBenchmark.runnerName(kind), "—",
        String(format: "%.1f ms", report["start.pool_ready.\(kind)_ms"] ?? .nan), memory,
      ])
    }
    if let first = report["start.first_runtime_ms"] {
      table.notes.append(
        String(format: "first runtime start (discovery, CPython init, pool of 1): %.1f ms", first))
    }
    table.notes.append(
      "executor pools: a new executor until its first \(workers) tasks (each holding its worker 10 ms, "
        + "not counted) are done, in a python process; SwiftPy: startPool(size: \(workers))")
    return table
  }
}

/// From `interrupt()` to the interrupted call returning, a pure-Python loop running, per mode.
enum InterruptBenchmark {
  static func run(
    _ py: PythonRuntime, modes: [PythonContext.Mode], samples count: Int, report: BenchReport,
    progress: BenchProgress
  ) async throws {
    for mode in modes {
      progress.say("interrupt latency: \(mode)")
      let context = try await py.newContext(mode: mode)
      try await context.exec(
        "import os\ndef spin(flag):\n    open(flag, 'w').close()\n    while True:\n        pass")
      var samples: [Duration] = []
      for _ in 0..<count {
        let flag = FileManager.default.temporaryDirectory.appendingPathComponent("swiftpy-bench-\(UUID())")
          .path
        let call = Task { try? await context.call("__main__", "spin", args: [.string(flag)]) }
        while !FileManager.default.fileExists(atPath: flag) { try await Task.sleep(for: .microseconds(200)) }
        try FileManager.default.removeItem(atPath: flag)
        let began = ContinuousClock.now
        context.interrupt()
        _ = await call.value
        samples.append(ContinuousClock.now - began)
      }
      report.add(
        "interrupt.\(mode).median_us", BenchSamples(micros: samples).median, unit: "µs",
        "interrupt latency, pure-Python loop, \(mode), median of \(count)")
      await context.close()
    }
  }

  static func table(_ report: BenchReport, modes: [PythonContext.Mode]) -> BenchTable {
    var table = BenchTable(
      "Interrupt latency (interrupt() to the call answered, pure-Python loop)", ["mode", "median"])
    for mode in modes {
      table.add(["SwiftPy \(mode)", BenchFormat.micros(report["interrupt.\(mode).median_us"] ?? .nan)])
    }
    return table
  }
}
