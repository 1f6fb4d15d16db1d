import ArgumentParser
import Foundation
import SwiftPy

/// `swiftpy bench`: the figures BENCHMARKS.md reports, measured side by side in one run and
/// printed as tables with ratios against Python's own executors and the published anchors;
/// `--json` writes every figure, `--svg` draws the chart. Run it in release mode:
/// `swift run -c release swiftpy bench`.
struct BenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Measure SwiftPy's performance figures beside Python's executors (use -c release).",
    discussion: """
      Sections: the same tasks (tiny, 1 ms, 100 ms) through SwiftPy in each mode and through \
      ProcessPoolExecutor, ThreadPoolExecutor and (3.14+) InterpreterPoolExecutor, and their \
      scaling by workers; call round trips with 1 and 64 callers; a C-API operation inside \
      withPython against the direct call; conversions each way; start time and memory per context; \
      interrupt latency; mixed load; callbacks; hot reload. Tables on standard output, progress on \
      standard error. Times vary with the machine's load: compare ratios within one run.
      """)

  @Flag(help: "Fewer iterations and repetitions, the same figures (under a minute).") var quick = false
  @Option(help: ArgumentHelp("Write every figure as JSON to this file.", valueName: "path")) var json: String?
  @Option(
    help: ArgumentHelp(
      "Draw the chart (throughput, scaling, latency) as SVG to this file.", valueName: "path"))
  var svg: String?
  @Option(help: "Round trips measured per mode and caller count (default 50000, 5000 with --quick).")
  var calls: Int?
  @Flag(help: "Measure hot reload only: rename() to new code in pools of 4 and 1, beside hotload's loop.")
  var reload = false
  @Flag(help: "Measure only the callback and stream figures.") var callbacksOnly = false
  @OptionGroup var options: PythonOptions

  /// The modes in the order the tables show them.
  static let modeOrder: [PythonContext.Mode] = [.ownGIL, .subinterp, .worker]

  func validate() throws {
    if let calls, calls < 100 { throw ValidationError("--calls must be at least 100") }
  }

  func run() async throws {
    let progress = BenchProgress()
    let clock = ContinuousClock()
    let report = BenchReport()
    let loadBefore = loadAverages()
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let calls = self.calls ?? (quick ? 5_000 : 50_000)
    let directory = try ReloadBenchmark.makeDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try ThroughputBenchmark.writeFiles(to: directory)

    if reload {
      let installation = try PythonDiscovery.discover(options.choice).installation
      print(
        "SwiftPy bench --reload — Python \(installation.version), \(cores) cores, \(loadText(loadBefore))")
      print("")
      try await ReloadBenchmark.run(
        python: .executable(installation.executable), saves: quick ? 10 : 50, clock: clock, report: report,
        progress: progress)
      try write(
        report, installation: installation, modes: [], executors: [], loadBefore: loadBefore, progress)
      return
    }

    progress.say("starting the runtime")
    let startBegan = clock.now
    let py = try await PythonRuntime.start(
      .init(python: options.choice, defaultPool: .init(size: 1, mode: options.mode), paths: [directory]))
    report.add(
      "start.first_runtime_ms", (clock.now - startBegan).seconds * 1000, unit: "ms",
      "first runtime start: discovery, CPython init, a pool of 1")
    let modes = Self.modeOrder.filter { mode in
      py.supportedModes.contains(mode) && (options.mode == nil || options.mode == mode)
    }
    guard !modes.isEmpty else {
      throw ValidationError(
        "Python \(py.installation.version) cannot run \(options.mode.map { "\($0)" } ?? "any") mode")
    }
    let executors = callbacksOnly ? [] : ThroughputBenchmark.executors(for: py.installation.version)
    print(
      "SwiftPy bench\(quick ? " --quick" : "") — Python \(py.installation.version) (\(py.installation.executable)), "
        + "\(cores) cores, \(loadText(loadBefore))")
    print("")
    do {
      if callbacksOnly {
        try await CallbackBenchmark.run(
          py, modes: modes, calls: calls, clock: clock, report: report, progress: progress)
      } else {
        try await measureAll(
          py, modes: modes, executors: executors, cores: cores, calls: calls, directory: directory,
          report: report, progress: progress)
      }
    } catch {
      await py.shutdown()
      throw error
    }
    await py.shutdown()
    if !callbacksOnly {
      try await ReloadBenchmark.run(
        python: .executable(py.installation.executable), saves: quick ? 10 : 50, clock: clock, report: report,
        progress: progress)
    }
    try write(
      report, installation: py.installation, modes: modes, executors: executors, loadBefore: loadBefore,
      progress,
      sizes: sizes)
  }

  private var sizes: [ThroughputBenchmark.TaskSize] {
    [
      .init(key: "tiny", label: "tiny", seconds: 10e-6, tasks: quick ? 2_000 : 20_000),
      .init(key: "ms1", label: "1 ms", seconds: 1e-3, tasks: quick ? 100 : 1_000),
      .init(key: "ms100", label: "100 ms", seconds: 0.1, tasks: quick ? 4 : 20),
    ]
  }

  private func measureAll(
    _ py: PythonRuntime, modes: [PythonContext.Mode], executors: [String], cores: Int, calls: Int,
    directory: String, report: BenchReport, progress: BenchProgress
  ) async throws {
    let clock = ContinuousClock()
    let workers = cores
    let mainMode = modes[0]

    progress.say("calibrating the tasks")
    let calibration = try await py.newContext(mode: mainMode)
    let sizes = try await ThroughputBenchmark.calibrate(calibration, sizes: self.sizes, report: report)
    await calibration.close()
    var scaling = sizes[1]
    scaling = .init(
      key: scaling.key, label: scaling.label, seconds: scaling.seconds, tasks: quick ? 40 : 400,
      iterations: scaling.iterations)
    let scalingWorkers = Array(Set([1, cores, 2 * cores] + [2, 4].filter { $0 < cores })).sorted()
    try await ThroughputBenchmark.run(
      py, modes: modes, executors: executors, python: py.installation.executable, directory: directory,
      workers: workers, sizes: sizes, scaling: scaling, scalingWorkers: scalingWorkers,
      repeats: quick ? 1 : 3,
      callers: 64, report: report, progress: progress)
    for table in ThroughputBenchmark.tables(
      report, modes: modes, executors: executors, workers: workers, sizes: sizes,
      scalingWorkers: scalingWorkers,
      scaling: scaling)
    {
      print(table.text)
    }

    try await RoundTripBenchmark.run(
      py, modes: modes, workers: workers, calls: calls, report: report, progress: progress)
    print(RoundTripBenchmark.table(report, modes: modes, workers: workers).text)

    try await CAPIBenchmark.run(
      py, modes: modes, iterations: quick ? 20_000 : 200_000, batches: quick ? 3 : 7, report: report,
      progress: progress)
    print(CAPIBenchmark.table(report, modes: modes).text)

    try await ConversionBenchmark.run(py, mode: mainMode, quick: quick, report: report, progress: progress)
    print(ConversionBenchmark.table(report, quick: quick).text)

    try await StartupBenchmark.run(
      py, modes: modes, samples: quick ? 5 : 15, report: report, progress: progress)
    print(StartupBenchmark.table(report, modes: modes, executors: executors, workers: workers).text)

    try await InterruptBenchmark.run(
      py, modes: modes, samples: quick ? 5 : 15, report: report, progress: progress)
    print(InterruptBenchmark.table(report, modes: modes).text)

    try await MixedLoadBenchmark.run(
      py, callsPerCaller: quick ? 10 : 40, clock: clock, report: report, progress: progress)
    print("")
    print("Callbacks and streams")
    try await CallbackBenchmark.run(
      py, modes: modes, calls: quick ? 2_000 : 20_000, clock: clock, report: report, progress: progress)
    print("")
    print("Hot reload")
  }

  /// The JSON report and the chart, where asked for; the load average after the run.
  private func write(
    _ report: BenchReport, installation: PythonInstallation, modes: [PythonContext.Mode], executors: [String],
    loadBefore: [Double], _ progress: BenchProgress, sizes: [ThroughputBenchmark.TaskSize] = []
  ) throws {
    let loadAfter = loadAverages()
    print("")
    print("load average before → after: \(loadText(loadBefore)) → \(loadText(loadAfter))")
    let header = BenchReport.Header(
      command: ["swiftpy"] + CommandLine.arguments.dropFirst(),
      date: ISO8601DateFormatter().string(from: Date()),
      quick: quick, pythonVersion: "\(installation.version)", pythonExecutable: installation.executable,
      pythonLibrary: installation.libraryPath, cores: ProcessInfo.processInfo.activeProcessorCount,
      loadAverageBefore: loadBefore, loadAverageAfter: loadAfter, modes: modes.map(\.rawValue),
      executors: executors, seconds: (ContinuousClock.now - progress.began).seconds)
    if let json {
      try report.json(header).write(to: URL(fileURLWithPath: json))
      progress.say("wrote \(json)")
    }
    if let svg {
      let date = String(header.date.prefix(10))
      let chart = BenchChart(
        report: report,
        title: "swiftpy bench\(quick ? " --quick" : "") — Python \(installation.version), "
          + "\(header.cores) cores, \(date), \(loadText(loadBefore))",
        runners: modes.map(ThroughputBenchmark.runnerKey) + executors, sizes: sizes,
        modes: modes.map(\.rawValue))
      try chart.svg.write(toFile: svg, atomically: true, encoding: .utf8)
      progress.say("wrote \(svg)")
    }
  }

  private func loadText(_ loads: [Double]) -> String {
    loads.isEmpty ? "load unknown" : "load " + loads.map { String(format: "%.2f", $0) }.joined(separator: " ")
  }
}
