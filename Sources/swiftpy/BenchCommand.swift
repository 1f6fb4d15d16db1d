import ArgumentParser
import Foundation
import SwiftPy

/// `swiftpy bench`: the figures BENCHMARKS.md reports, measured side by side in one run.
/// Run it in release mode: `swift run -c release swiftpy bench`.
struct BenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench", abstract: "Measure SwiftPy's performance figures (use -c release).")

  @Option(help: "Round trips measured for the latency figure.") var calls = 20_000
  @Option(help: "Loop iterations per CPU-bound task.") var work = 2_000_000
  @Flag(help: "Measure hot reload only: rename() to new code in pools of 4 and 1, beside hotload's loop.")
  var reload = false
  @Flag(help: "Measure only the callback and stream figures.") var callbacksOnly = false

  func run() async throws {
    let clock = ContinuousClock()
    let cores = ProcessInfo.processInfo.activeProcessorCount
    if reload {
      let installation = try PythonDiscovery.discover().installation
      print("SwiftPy bench --reload — Python \(installation.version), \(cores) cores")
      print("")
      try await ReloadBenchmark.run(installation: installation, clock: clock)
      return
    }

    let startBegan = clock.now
    let py = try await PythonRuntime.start(.init(defaultPool: .init(size: 2)))
    let startTime = clock.now - startBegan
    print(
      "SwiftPy bench — Python \(py.installation.version), \(cores) cores, default pool \(py.defaultPool.mode)"
    )
    print("")
    if callbacksOnly {
      try await CallbackBenchmark.run(py, calls: calls, clock: clock)
      await py.shutdown()
      return
    }
    report("first runtime start (discovery, CPython init, pool of 2)", startTime)
    // A second runtime in the same process: CPython is up, so this is the pool alone.
    let poolBegan = clock.now
    let second = try await PythonRuntime.start(.init(defaultPool: .init(size: 2)))
    report("pool of 2 \(second.defaultPool.mode) contexts ready (second runtime)", clock.now - poolBegan)
    await second.shutdown()

    let mode: PythonContext.Mode = py.supportedModes.contains(.ownGIL) ? .ownGIL : .worker
    try await interpreterCreation(py, mode: mode, clock: clock)
    try await roundTrips(py, mode: mode, clock: clock)
    try await manyCallers(py, mode: mode, clock: clock)
    try await objectOverhead(py, clock: clock)
    try await parallelSpeedup(py, mode: mode, cores: cores, clock: clock)
    try await interruptLatency(py, clock: clock)
    try await MixedLoadBenchmark.run(py, clock: clock)
    try await CallbackBenchmark.run(py, calls: calls, clock: clock)
    await py.shutdown()
    try await ReloadBenchmark.run(installation: py.installation, clock: clock)
  }

  private func interpreterCreation(_ py: PythonRuntime, mode: PythonContext.Mode, clock: ContinuousClock)
    async throws
  {
    var samples: [Duration] = []
    for _ in 0..<15 {
      let began = clock.now
      let context = try await py.newContext(mode: mode)
      samples.append(clock.now - began)
      await context.close()
    }
    report("create one \(mode) context (median of 15)", median(samples))
    // Memory: eight contexts at once, RSS before and after.
    let before = MemCheckCommand.residentBytes()
    var contexts: [PythonContext] = []
    for _ in 0..<8 { contexts.append(try await py.newContext(mode: mode)) }
    let perContext = Double(MemCheckCommand.residentBytes() - before) / 8 / 1_048_576
    print(String(format: "  RSS per \(mode) context (8 created): %.1f MiB", perContext))
    for context in contexts { await context.close() }
  }

  private func roundTrips(_ py: PythonRuntime, mode: PythonContext.Mode, clock: ContinuousClock) async throws
  {
    for mode in Set([mode, .worker]).sorted(by: { $0.rawValue < $1.rawValue }) {
      let context = try await py.newContext(mode: mode)
      try await context.exec("def noop():\n    return None")
      for _ in 0..<1_000 { _ = try await context.call("__main__", "noop") }  // warm up
      var samples: [Duration] = []
      samples.reserveCapacity(calls)
      for _ in 0..<calls {
        let began = clock.now
        _ = try await context.call("__main__", "noop")
        samples.append(clock.now - began)
      }
      samples.sort()
      print(
        "  trivial call round trip, one caller, \(mode): p50 \(micros(samples[samples.count / 2])), "
          + "p99 \(micros(samples[samples.count * 99 / 100]))")
      await context.close()
    }
  }

  private func manyCallers(_ py: PythonRuntime, mode: PythonContext.Mode, clock: ContinuousClock) async throws
  {
    let context = try await py.newContext(mode: mode)
    try await context.exec("def noop():\n    return None")
    let callers = 64
    let each = max(calls / callers, 100)
    let began = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
      for _ in 0..<callers {
        group.addTask { for _ in 0..<each { _ = try await context.call("__main__", "noop") } }
      }
      try await group.waitForAll()
    }
    let elapsed = clock.now - began
    let perSecond = Double(callers * each) / seconds(elapsed)
    print("  trivial calls/s on one \(mode) context, \(callers) callers: \(Int(perSecond))/s")
    await context.close()
  }

  private func objectOverhead(_ py: PythonRuntime, clock: ContinuousClock) async throws {
    let context = try await py.newContext(mode: .worker)
    let iterations = 200_000
    let nanos = try await context.withPython { python -> Double in
      let number = try python.eval("12345")
      let began = ContinuousClock.now
      for _ in 0..<iterations { _ = try number.attribute("real") }
      return seconds(ContinuousClock.now - began) * 1e9 / Double(iterations)
    }
    print(String(format: "  C-API call through PythonObject.attribute inside withPython: %.0f ns", nanos))
    await context.close()
  }

  private func parallelSpeedup(
    _ py: PythonRuntime, mode: PythonContext.Mode, cores: Int, clock: ContinuousClock
  ) async throws {
    var contexts: [PythonContext] = []
    for _ in 0..<cores {
      let context = try await py.newContext(mode: mode)
      try await context.exec(DemoCommand.code)
      contexts.append(context)
    }
    let work = self.work
    let serialBegan = clock.now
    for _ in 0..<cores { _ = try await contexts[0].call("__main__", "spin", args: [.int(work)]) }
    let serial = clock.now - serialBegan
    let parallelBegan = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
      for context in contexts {
        group.addTask { _ = try await context.call("__main__", "spin", args: [.int(work)]) }
      }
      try await group.waitForAll()
    }
    let parallel = clock.now - parallelBegan
    print(
      String(
        format: "  CPU-bound: %d %@ contexts vs 1: %.2fx (%@ vs %@)", cores, mode.rawValue, serial / parallel,
        millis(parallel), millis(serial)))
    // The same tasks through Python's own ProcessPoolExecutor, for comparison.
    let script =
      DemoCommand.code + """

        import time
        from concurrent.futures import ProcessPoolExecutor
        if __name__ == '__main__':
            with ProcessPoolExecutor(\(cores)) as pool:
                list(pool.map(spin, [1]*\(cores)))  # start the workers
                began = time.perf_counter()
                list(pool.map(spin, [\(work)]*\(cores)))
                print(time.perf_counter() - began)
        """
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("swiftpy-bench-\(UUID()).py")
    try script.write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: py.installation.executable)
    process.arguments = [file.path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    if let pool = Double(output.trimmingCharacters(in: .whitespacesAndNewlines)) {
      print(
        String(
          format: "  same tasks in ProcessPoolExecutor(%d): %.0f ms — SwiftPy is %.2fx its speed", cores,
          pool * 1000,
          pool / seconds(parallel)))
    }
    for context in contexts { await context.close() }
  }

  /// From `interrupt()` to the interrupted call returning, with a pure-Python loop running.
  private func interruptLatency(_ py: PythonRuntime, clock: ContinuousClock) async throws {
    for mode in py.supportedModes {
      let context = try await py.newContext(mode: mode)
      try await context.exec(
        "import os\ndef spin(flag):\n    open(flag, 'w').close()\n    while True:\n        pass")
      var samples: [Duration] = []
      for _ in 0..<15 {
        let flag = FileManager.default.temporaryDirectory.appendingPathComponent("swiftpy-bench-\(UUID())")
          .path
        let call = Task { try? await context.call("__main__", "spin", args: [.string(flag)]) }
        while !FileManager.default.fileExists(atPath: flag) { try await Task.sleep(for: .microseconds(200)) }
        try FileManager.default.removeItem(atPath: flag)
        let began = clock.now
        context.interrupt()
        _ = await call.value
        samples.append(clock.now - began)
      }
      print("  interrupt latency, pure-Python loop, \(mode) (median of 15): \(micros(median(samples)))")
      await context.close()
    }
  }

  private func report(_ label: String, _ duration: Duration) { print("  \(label): \(millis(duration))") }
}

private func seconds(_ duration: Duration) -> Double {
  Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
private func millis(_ duration: Duration) -> String { String(format: "%.1f ms", seconds(duration) * 1000) }
private func micros(_ duration: Duration) -> String { String(format: "%.1f µs", seconds(duration) * 1e6) }
private func median(_ samples: [Duration]) -> Duration { samples.sorted()[samples.count / 2] }
