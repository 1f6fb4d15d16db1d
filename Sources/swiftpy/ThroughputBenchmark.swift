import Foundation
import SwiftPy
import Synchronization

/// The same CPU-bound Python tasks — tiny (~10 µs), 1 ms and 100 ms of pure-Python work — run
/// by a SwiftPy pool of each mode and by Python's own executors (ProcessPoolExecutor,
/// ThreadPoolExecutor and, on 3.14+, InterpreterPoolExecutor), all on the same Python, with
/// as many workers as cores; then the 1 ms tasks again with 1, 2, … workers (scaling).
///
/// How it is kept fair:
/// - One task function for everyone, `spin(n)` in a module of its own (`swiftpy_bench_tasks`)
///   that every context and every executor worker imports; `n` is calibrated once so that a
///   task takes ~10 µs, 1 ms and 100 ms on this machine.
/// - Python's executors run in a plain `python` process of the same installation (the python
///   executable SwiftPy discovered or `--python` chose): where Python users run them, with the
///   default start method, `map` with its default chunk size of 1, timed inside Python with
///   `time.perf_counter()` around `list(pool.map(spin, [n] * count))`.
/// - SwiftPy: `py.call("swiftpy_bench_tasks", "spin", args: [n])` routed to a pool of the mode,
///   from 64 concurrent callers (enough to keep every context busy, as `map` keeps every worker
///   busy), timed in Swift from the first call to the last result.
/// - Both sides are warmed first (workers started, the module imported) and pool start-up is
///   timed separately; the runners take turns, repetition by repetition, so that the machine's
///   load drifts over all of them alike; each figure is the median of the repetitions.
enum ThroughputBenchmark {
  struct TaskSize: Sendable {
    let key: String
    let label: String
    let seconds: Double
    let tasks: Int
    var iterations = 0
    /// How many tasks are run one after another to time one task alone (0.2 s of them).
    var aloneCount: Int { max(2, Int(0.2 / seconds)) }
  }

  static let module = "swiftpy_bench_tasks"

  /// The demo's `spin` (``DemoCommand/code``), so both measure the same work.
  static let moduleSource =
    """
    # SwiftPy's benchmark tasks, imported alike by SwiftPy contexts and executor workers.
    import os, threading, time

    """ + DemoCommand.code + "\n\n" + """
      def noop():
          return None

      def warm(seconds):
          time.sleep(seconds)
          return spin(1000)

      def whoami(hold=0.0):
          # A worker: its process and thread (an InterpreterPoolExecutor worker is a thread),
          # after `hold` seconds, so that each of N such tasks submitted at once has a worker.
          time.sleep(hold)
          return (os.getpid(), threading.get_ident())

      def calibrate(n, repeats):
          best = None
          for _ in range(repeats):
              began = time.perf_counter()
              spin(n)
              elapsed = time.perf_counter() - began
              best = elapsed if best is None else min(best, elapsed)
          return best / n

      def time_task(n, count):
          began = time.perf_counter()
          for _ in range(count):
              spin(n)
          return (time.perf_counter() - began) / count
      """

  /// Runs in a python process: one executor kind, the task sizes, then the scaling points.
  /// Prints one JSON object on standard output; progress on standard error.
  static let executorScript = """
    import json, os, signal, sys, time
    import concurrent.futures as cf
    import swiftpy_bench_tasks as tasks

    # Started from a Swift thread, this process inherited its mask, which blocks almost every
    # signal; a python started from a shell blocks none, and 3.14's forkserver waits for
    # SIGCHLD. Run as Python users run it.
    signal.pthread_sigmask(signal.SIG_SETMASK, set())

    params = json.loads(sys.argv[1]) if __name__ == "__main__" else {}
    kind, workers = params.get("kind"), params.get("workers")

    def make(count):
        if kind == "process_pool":
            return cf.ProcessPoolExecutor(count)
        if kind == "thread_pool":
            return cf.ThreadPoolExecutor(count)
        if kind == "interpreter_pool":
            return cf.InterpreterPoolExecutor(count)
        raise ValueError(kind)

    HOLD = 0.01

    def started(count):
        # A new executor until its first `count` tasks are done, less the HOLD each one waits:
        # executors start a worker for a task that finds none idle (a process pool with fork
        # starts them all at once), so holding each task keeps one worker per task.
        began = time.perf_counter()
        pool = make(count)
        seen = set(pool.map(tasks.whoami, [HOLD] * count))
        ready = time.perf_counter() - began - HOLD
        list(pool.map(tasks.warm, [0.02] * (2 * count)))  # every worker busy once: imports done
        return pool, ready, len(seen)

    def batch(pool, n, count):
        began = time.perf_counter()
        results = list(pool.map(tasks.spin, [n] * count))
        elapsed = time.perf_counter() - began
        assert len(results) == count and results[0] == tasks.spin(n)
        return elapsed

    def memory(pool):
        # Per worker process: resident (VmRSS) and proportional (Pss, shared pages divided
        # among the processes sharing them) memory, in bytes.
        rss, pss, count = 0, 0, 0
        for pid in list(getattr(pool, "_processes", {}) or {}):
            try:
                with open(f"/proc/{pid}/status") as f:
                    rss += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) * 1024
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    pss += next(int(l.split()[1]) for l in f if l.startswith("Pss:")) * 1024
                count += 1
            except (OSError, StopIteration):
                pass
        return (rss / count, pss / count) if count else (None, None)

    def main():
        out = {"kind": kind, "sizes": {}, "scaling": {}}
        if kind == "process_pool":
            import multiprocessing
            out["startMethod"] = multiprocessing.get_start_method()
        if kind == "process_pool":
            # The same tasks alone in this process, as calibrate() times them in a context: the
            # python executable may run Python faster than the libpython SwiftPy loads (Debian's
            # python3.N is linked statically; pyenv's uses the same shared library).
            out["taskSeconds"] = {
                size["key"]: tasks.time_task(size["iterations"], size["aloneCount"])
                for size in params["sizes"]
            }
        pool, out["ready"], out["workersSeen"] = started(workers)
        for size in params["sizes"]:
            print(f"  python {kind}({workers}): {size['key']} tasks", file=sys.stderr, flush=True)
            out["sizes"][size["key"]] = batch(pool, size["iterations"], size["tasks"])
        out["rssBytes"], out["pssBytes"] = memory(pool)
        pool.shutdown(wait=True)
        scaling = params["scaling"]
        for count in params["scalingWorkers"]:
            print(f"  python {kind}({count}): scaling", file=sys.stderr, flush=True)
            pool, _, _ = started(count)
            out["scaling"][str(count)] = batch(pool, scaling["iterations"], scaling["tasks"])
            pool.shutdown(wait=True)
        print(json.dumps(out))

    # Guarded: spawn and forkserver workers import this file as their __main__ again.
    if __name__ == "__main__":
        main()
    """

  struct ExecutorRun: Decodable {
    var kind: String
    var ready: Double
    var workersSeen: Int
    var sizes: [String: Double]
    var scaling: [String: Double]
    var rssBytes: Double?
    var pssBytes: Double?
    var startMethod: String?
    var taskSeconds: [String: Double]?
  }

  /// What one repetition of one runner measured, in seconds.
  struct RunnerRun {
    var ready: Double
    var sizes: [String: Double]
    var scaling: [Int: Double]
  }

  static let executorNames: [String: String] = [
    "process_pool": "ProcessPoolExecutor", "thread_pool": "ThreadPoolExecutor",
    "interpreter_pool": "InterpreterPoolExecutor",
  ]

  static func executors(for version: PythonVersion) -> [String] {
    let interpreterPool = version.major > 3 || (version.major == 3 && version.minor >= 14)
    return ["process_pool", "thread_pool"] + (interpreterPool ? ["interpreter_pool"] : [])
  }

  static func runnerKey(_ mode: PythonContext.Mode) -> String { "swiftpy_\(mode.rawValue)" }

  static func runnerName(_ key: String, workers: Int? = nil) -> String {
    if key.hasPrefix("swiftpy_") { return "SwiftPy " + key.dropFirst("swiftpy_".count) }
    let name = executorNames[key] ?? key
    return workers.map { "\(name)(\($0))" } ?? name
  }

  /// Calibrates `spin(n)` in `context`: the iterations for each size, and the time a task of
  /// each size really takes there (recorded as figures).
  static func calibrate(
    _ context: PythonContext, sizes: [TaskSize], report: BenchReport
  ) async throws -> [TaskSize] {
    let perIteration = try await context.call(module, "calibrate", args: [.int(200_000), .int(5)])
    guard let perIteration = perIteration.doubleValue, perIteration > 0 else {
      throw BenchError("calibration returned \(perIteration)")
    }
    report.parameters["spin.seconds_per_iteration"] = perIteration
    var calibrated: [TaskSize] = []
    for var size in sizes {
      size.iterations = max(1, Int((size.seconds / perIteration).rounded()))
      let each = try await context.call(
        module, "time_task", args: [.int(size.iterations), .int(size.aloneCount)])
      report.add(
        "task.\(size.key).us", (each.doubleValue ?? 0) * 1e6, unit: "µs",
        "one \(size.label) task (spin(\(size.iterations))), run alone in Python")
      report.parameters["task.\(size.key).iterations"] = Double(size.iterations)
      report.parameters["task.\(size.key).tasks"] = Double(size.tasks)
      calibrated.append(size)
    }
    return calibrated
  }

  /// One repetition of one SwiftPy mode: a pool of `workers` contexts (its start timed), the
  /// task sizes, then pools of each scaling size.
  static func runSwiftPy(
    _ py: PythonRuntime, mode: PythonContext.Mode, workers: Int, sizes: [TaskSize], scaling: TaskSize,
    scalingWorkers: [Int], callers: Int, progress: BenchProgress
  ) async throws -> RunnerRun {
    let clock = ContinuousClock()
    var run = RunnerRun(ready: 0, sizes: [:], scaling: [:])
    try await withPool(py, mode: mode, size: workers) { ready in
      run.ready = ready.seconds
      for size in sizes {
        progress.say("  SwiftPy \(mode) (\(workers)): \(size.key) tasks")
        run.sizes[size.key] = try await batch(
          py, iterations: size.iterations, tasks: size.tasks, callers: callers, clock: clock)
      }
    }
    for count in scalingWorkers {
      progress.say("  SwiftPy \(mode) (\(count)): scaling")
      try await withPool(py, mode: mode, size: count) { _ in
        run.scaling[count] = try await batch(
          py, iterations: scaling.iterations, tasks: scaling.tasks, callers: callers, clock: clock)
      }
    }
    return run
  }

  /// A pool of `size` contexts with the tasks module routed to it and every context warmed.
  private static func withPool(
    _ py: PythonRuntime, mode: PythonContext.Mode, size: Int, _ body: (Duration) async throws -> Void
  ) async throws {
    let name = "bench-\(mode)-\(size)"
    let began = ContinuousClock.now
    _ = try await py.startPool(name, size: size, mode: mode)
    let ready = ContinuousClock.now - began
    py.route(module: module, to: name)
    do {
      // Every context busy once (a 20 ms sleep each, so none takes two): the module imported.
      try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<(2 * size) { group.addTask { _ = try await py.call(module, "warm", args: [0.02]) } }
        try await group.waitForAll()
      }
      try await body(ready)
    } catch {
      py.unroute(module: module)
      try? await py.stopPool(name)
      throw error
    }
    py.unroute(module: module)
    try await py.stopPool(name)
  }

  private final class Counter: Sendable {
    let next = Atomic<Int>(0)
  }

  /// `tasks` calls of `spin(iterations)` from `callers` concurrent callers; seconds taken.
  private static func batch(
    _ py: PythonRuntime, iterations: Int, tasks: Int, callers: Int, clock: ContinuousClock
  ) async throws -> Double {
    let expected = try await py.call(module, "spin", args: [.int(iterations)])
    let counter = Counter()
    let began = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
      for _ in 0..<min(callers, tasks) {
        group.addTask {
          while counter.next.add(1, ordering: .relaxed).oldValue < tasks {
            let result = try await py.call(module, "spin", args: [.int(iterations)])
            guard result == expected else { throw BenchError("spin(\(iterations)) returned \(result)") }
          }
        }
      }
      try await group.waitForAll()
    }
    return (clock.now - began).seconds
  }

  /// One repetition of one executor kind, in a python process of its own.
  static func runExecutor(
    kind: String, python: String, directory: String, workers: Int, sizes: [TaskSize], scaling: TaskSize,
    scalingWorkers: [Int], progress: BenchProgress
  ) throws -> ExecutorRun {
    progress.say("  \(runnerName(kind, workers: workers)) in a python process")
    let params: [String: Any] = [
      "kind": kind, "workers": workers,
      "sizes": sizes.map {
        ["key": $0.key, "iterations": $0.iterations, "tasks": $0.tasks, "aloneCount": $0.aloneCount]
      },
      "scaling": ["iterations": scaling.iterations, "tasks": scaling.tasks],
      "scalingWorkers": scalingWorkers,
    ]
    let json = String(decoding: try JSONSerialization.data(withJSONObject: params), as: UTF8.self)
    let output = try runPython(
      python, [directory + "/swiftpy_bench_executors.py", json], directory: directory)
    do {
      return try JSONDecoder().decode(ExecutorRun.self, from: output)
    } catch {
      throw BenchError(
        "\(runnerName(kind)) run gave no result: \(String(decoding: output, as: UTF8.self))")
    }
  }

  /// Writes the tasks module and the executor script into `directory`.
  static func writeFiles(to directory: String) throws {
    try moduleSource.write(toFile: directory + "/\(module).py", atomically: true, encoding: .utf8)
    try executorScript.write(
      toFile: directory + "/swiftpy_bench_executors.py", atomically: true, encoding: .utf8)
  }
}

/// Runs `python arguments…` with `directory` on `PYTHONPATH` (so that spawned workers and
/// sub-interpreters import the tasks module too), standard error passed through (progress);
/// returns standard output, or throws when it fails or runs longer than `timeout` seconds.
func runPython(_ python: String, _ arguments: [String], directory: String, timeout: Double = 600) throws
  -> Data
{
  let process = Process()
  process.executableURL = URL(fileURLWithPath: python)
  process.arguments = arguments
  var environment = ProcessInfo.processInfo.environment
  environment["PYTHONPATH"] = [directory, environment["PYTHONPATH"]].compactMap { $0 }.joined(separator: ":")
  process.environment = environment
  let pipe = Pipe()
  process.standardOutput = pipe
  try process.run()
  // A run that hangs (an executor waiting for a worker that will never answer) is killed, and
  // the benchmark fails instead of waiting for ever.
  let pid = process.processIdentifier
  let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
  DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
  let output = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  watchdog.cancel()
  guard process.terminationStatus == 0 else {
    throw BenchError(
      "\(python) \(arguments.first ?? "") exited with status \(process.terminationStatus)"
        + (process.terminationReason == .uncaughtSignal ? " (killed after \(Int(timeout)) s)" : ""))
  }
  return output
}

struct BenchError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

extension ThroughputBenchmark {
  /// Every runner, `repeats` times in turn; records the medians.
  static func run(
    _ py: PythonRuntime, modes: [PythonContext.Mode], executors: [String], python: String, directory: String,
    workers: Int, sizes: [TaskSize], scaling: TaskSize, scalingWorkers: [Int], repeats: Int, callers: Int,
    report: BenchReport, progress: BenchProgress
  ) async throws {
    var runs: [String: [RunnerRun]] = [:]
    var memory: [String: [(Double, Double)]] = [:]
    var alone: [String: [Double]] = [:]
    for repetition in 1...repeats {
      progress.say("same tasks: repetition \(repetition) of \(repeats)")
      for mode in modes {
        runs[runnerKey(mode), default: []].append(
          try await runSwiftPy(
            py, mode: mode, workers: workers, sizes: sizes, scaling: scaling, scalingWorkers: scalingWorkers,
            callers: callers, progress: progress))
      }
      for kind in executors {
        let run = try runExecutor(
          kind: kind, python: python, directory: directory, workers: workers, sizes: sizes, scaling: scaling,
          scalingWorkers: scalingWorkers, progress: progress)
        if run.workersSeen != workers {
          report.notes["executor.\(kind).workers_seen"] =
            "\(run.workersSeen) of \(workers) workers answered the first \(workers) tasks"
        }
        if let method = run.startMethod { report.notes["executor.\(kind).start_method"] = method }
        if let rss = run.rssBytes, let pss = run.pssBytes { memory[kind, default: []].append((rss, pss)) }
        for (key, seconds) in run.taskSeconds ?? [:] { alone[key, default: []].append(seconds) }
        runs[kind, default: []].append(
          RunnerRun(
            ready: run.ready, sizes: run.sizes,
            scaling: Dictionary(
              uniqueKeysWithValues: run.scaling.compactMap { key, value in Int(key).map { ($0, value) } })))
      }
    }
    for (runner, repetitions) in runs {
      report.add(
        "start.pool_ready.\(runner)_ms", BenchSamples(repetitions.map(\.ready)).median * 1000, unit: "ms",
        "\(runnerName(runner, workers: workers)): pool of \(workers) ready")
      for size in sizes {
        let seconds = BenchSamples(repetitions.compactMap { $0.sizes[size.key] }).median
        report.add(
          "throughput.\(size.key).\(runner)", Double(size.tasks) / seconds, unit: "tasks/s",
          "\(size.label) tasks, \(runnerName(runner, workers: workers)), \(size.tasks) tasks")
      }
      for count in scalingWorkers {
        let seconds = BenchSamples(repetitions.compactMap { $0.scaling[count] }).median
        let rate = Double(scaling.tasks) / seconds
        report.add(
          "scaling.\(runner).\(count)", rate, unit: "tasks/s",
          "\(scaling.label) tasks, \(runnerName(runner, workers: count)) with \(count) workers")
        report.addPoint("scaling.\(runner)", x: Double(count), y: rate)
      }
    }
    for (key, samples) in alone {
      let label = sizes.first { $0.key == key }?.label ?? key
      report.add(
        "task.\(key).python_process_us", BenchSamples(samples).median * 1e6, unit: "µs",
        "one \(label) task, run alone in the python process that runs the executors")
    }
    for size in sizes {
      guard let base = report["throughput.\(size.key).process_pool"] else { continue }
      for runner in runs.keys where runner != "process_pool" {
        report.add(
          "throughput.\(size.key).\(runner).vs_process_pool",
          (report["throughput.\(size.key).\(runner)"] ?? .nan) / base,
          unit: "x", "\(size.label) tasks: \(runnerName(runner)) / ProcessPoolExecutor")
      }
    }
    for (kind, samples) in memory {
      report.add(
        "rss.\(kind).worker_mib", BenchSamples(samples.map(\.0)).median / 1_048_576, unit: "MiB",
        "\(runnerName(kind)): resident memory per worker process")
      report.add(
        "pss.\(kind).worker_mib", BenchSamples(samples.map(\.1)).median / 1_048_576, unit: "MiB",
        "\(runnerName(kind)): proportional memory per worker process")
    }
    report.parameters["workers"] = Double(workers)
    report.parameters["callers"] = Double(callers)
    report.parameters["repeats"] = Double(repeats)
    report.parameters["scaling.tasks"] = Double(scaling.tasks)
  }

  static func tables(
    _ report: BenchReport, modes: [PythonContext.Mode], executors: [String], workers: Int, sizes: [TaskSize],
    scalingWorkers: [Int], scaling: TaskSize
  ) -> [BenchTable] {
    let runners = modes.map(runnerKey) + executors
    var throughput = BenchTable(
      "Same tasks, \(workers) workers: tasks/s (ratio to ProcessPoolExecutor)",
      ["runner"]
        + sizes.map { size in
          let each = report["task.\(size.key).us"].map { " ≈ " + BenchFormat.micros($0) } ?? ""
          return "\(size.label)\(each) × \(size.tasks)"
        })
    for runner in runners {
      throughput.add(
        [runnerName(runner, workers: workers)]
          + sizes.map { size in
            let key = "throughput.\(size.key).\(runner)"
            guard let rate = report[key] else { return "—" }
            let ratio = runner == "process_pool" ? 1 : report[key + ".vs_process_pool"] ?? .nan
            return "\(BenchFormat.number(rate))/s  \(BenchFormat.ratio(ratio))"
          })
    }
    if !executors.contains("interpreter_pool") {
      throughput.add(["InterpreterPoolExecutor"] + sizes.map { _ in "(Python 3.14+)" })
    }
    let speeds = sizes.compactMap { size -> String? in
      guard let context = report["task.\(size.key).us"],
        let process = report["task.\(size.key).python_process_us"]
      else { return nil }
      return "\(size.label) \(BenchFormat.micros(context)) vs \(BenchFormat.micros(process))"
    }
    throughput.notes = [
      "one task alone, in a SwiftPy context vs in the python process: " + speeds.joined(separator: "; "),
      "anchor (not measured by this run): 20,000 trivial tasks on 3.14 here, ProcessPool 1.34 s (14,925/s), "
        + "InterpreterPool 0.67 s (29,851/s)",
    ]
    var scalingTable = BenchTable(
      "Scaling: \(scaling.label) tasks/s by workers (ratio to 1 worker)",
      ["runner"] + scalingWorkers.map { "\($0) worker\($0 == 1 ? "" : "s")" })
    for runner in runners {
      let one = report["scaling.\(runner).1"] ?? .nan
      scalingTable.add(
        [runnerName(runner)]
          + scalingWorkers.map { count in
            guard let rate = report["scaling.\(runner).\(count)"] else { return "—" }
            return "\(BenchFormat.number(rate))/s  \(BenchFormat.ratio(rate / one))"
          })
    }
    return [throughput, scalingTable]
  }
}
