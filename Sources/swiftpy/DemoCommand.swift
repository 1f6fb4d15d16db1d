import ArgumentParser
import Foundation
import SwiftPy

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `swiftpy demo`: what SwiftPy is for, in half a minute — CPU-bound Python in parallel on one
/// own-GIL interpreter per core (warmed up, the median of three rounds), a pool with a route, a
/// lease that keeps state, preload code, a timeout stopping runaway Python, a Python error with
/// its traceback, and a hot reload of a saved file in every context.
struct DemoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Show what SwiftPy does: parallel Python, pools, leases, preload, timeouts, errors, hot reload."
  )

  @Option(help: "Work per task in the speedup (loop iterations).") var work = 4_000_000
  @Option(help: "Contexts to run in parallel (default: one per core).") var contexts: Int?
  @Option(help: "Rounds of the speedup measurement; the median is shown.") var rounds = 3
  @OptionGroup var options: PythonOptions

  /// The CPU-bound function the speedup runs (`swiftpy bench` runs it too).
  static let code = """
    def spin(n):
        # Pure-Python CPU work: a loop no C code shortcuts.
        total = 0
        for i in range(n):
            total = (total + i * i) % 1_000_003
        return total
    """

  /// The demo's Python, written to a fresh folder on the runtime's path.
  static let files = [
    "demo_work.py": code,
    "prices.py": """
    def parse(text):
        return float(text)


    def total(items):
        return sum(parse(item) for item in items)
    """,
    "greeting.py": greeting(version: 1),
  ]

  /// The module the hot reload changes: it counts its reloads in state that survives them.
  static func greeting(version: Int) -> String {
    """
    try:
        reloads += 1  # kept across reloads: hotload's NameError idiom
    except NameError:
        reloads = 0


    def hello(name):
        return \(version == 1 ? "f\"Hello, {name}!\"" : "f\"Bonjour, {name}! (reloaded {reloads} time)\"")

    """
  }

  static let preload = """
    TAX = 0.2

    def with_tax(amount):
        return round(amount * (1 + TAX), 2)
    """

  func run() async throws {
    guard work > 0, rounds > 0, (contexts ?? 1) > 0 else {
      throw ValidationError("--work, --rounds and --contexts must be positive")
    }
    let began = ContinuousClock.now
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftpy-demo-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    for (name, source) in Self.files { try Self.save(name, source, in: folder) }

    let cores = contexts ?? ProcessInfo.processInfo.activeProcessorCount
    var configuration = options.configuration(contexts: cores, paths: [folder.path])
    configuration.preload = Self.preload
    let py = try await PythonRuntime.start(configuration)  // ownGIL where the Python has it, else worker
    let mode = py.defaultPool.mode
    Self.say(
      "SwiftPy demo: Python \(py.installation.version) (\(py.installation.libraryPath)), \(cores) "
        + "\(mode) contexts in the default pool")

    try await speedup(py, cores: cores, mode: mode)
    try await poolAndRoute(py)
    try await lease(py)
    try await preloaded(py)
    try await timeout(py)
    try await error(py)
    try await hotReload(py, folder: folder, cores: cores)

    await py.shutdown()
    Self.say("")
    Self.say(String(format: "demo done in %.1f s", (ContinuousClock.now - began).inSeconds))
  }

  // MARK: The sections

  /// The same CPU-bound calls one after another on one context, then one per context at once.
  private func speedup(_ py: PythonRuntime, cores: Int, mode: PythonContext.Mode) async throws {
    Self.section(1, "Parallel speedup: CPU-bound Python on 1 context, then on \(cores) at once")
    if mode != .ownGIL {
      Self.say(
        "   \(mode) contexts share one GIL"
          + (options.mode == nil ? " (ownGIL needs Python 3.12.4 or newer)" : "") + ": expect no speedup")
    }
    let first = try await py.context(index: 0)
    let calls = Array(repeating: PythonCall("demo_work", "spin", args: [.int(work)]), count: cores)
    Self.say("   warming up (imports, caches, CPU frequency)…")
    _ = try await py.parallel(
      Array(repeating: PythonCall("demo_work", "spin", args: [.int(work / 4)]), count: cores))
    _ = try await first.call("demo_work", "spin", args: [.int(work / 4)])
    var speedups: [Double] = []
    var expected: PythonValue?
    for round in 1...rounds {
      let serialStart = ContinuousClock.now
      var serialResults: [PythonValue] = []
      for call in calls {
        serialResults.append(try await first.call(call.module, call.function, args: call.args))
      }
      let serial = ContinuousClock.now - serialStart
      let parallelStart = ContinuousClock.now
      let parallelResults = try await py.parallel(calls)
      let parallel = ContinuousClock.now - parallelStart
      guard parallelResults == serialResults, Set(serialResults).count == 1 else {
        throw ValidationError(
          "the results differ: \(serialResults) one after another, \(parallelResults) at once")
      }
      expected = serialResults[0]
      speedups.append(serial / parallel)
      Self.say(
        String(
          format: "   round %d/%d: 1 context %.2f s, %d at once %.2f s: %.2fx", round, rounds,
          serial.inSeconds,
          cores, parallel.inSeconds, serial / parallel))
    }
    let median = speedups.sorted()[speedups.count / 2]
    Self.say(
      String(
        format:
          "   speedup: %.2fx (median of %d) on %d cores, ideal %d.00x; every result agrees: spin(%d) = %@",
        median, rounds, cores, cores, work, "\(expected ?? .none)"))
  }

  /// A pool of worker contexts, and a route that sends a module's calls to it.
  private func poolAndRoute(_ py: PythonRuntime) async throws {
    Self.section(2, "A pool with a route")
    try await py.startPool("io", size: 2, mode: .worker)
    py.route(module: "json", to: "io")
    let text = try await py.call("json", "dumps", args: [.list([.string("route"), .int(2)])])
    let io = try py.stats("io")
    Self.say("   py.startPool(\"io\", size: 2, mode: .worker); py.route(module: \"json\", to: \"io\")")
    Self.say(
      "   json.dumps(['route', 2]) = \(text), run by pool '\(py.lookupPool(module: "json", function: "dumps"))' "
        + "(\(io.contexts) worker contexts, \(io.available) free); unrouted math.sqrt runs on "
        + "'\(py.lookupPool(module: "math", function: "sqrt"))'")
    Self.say("   (a worker pool is where numpy and other one-interpreter-per-process modules go)")
  }

  /// A lease: one context, exclusive, whose namespace lives as long as the lease.
  private func lease(_ py: PythonRuntime) async throws {
    Self.section(3, "A lease keeps state")
    let (basket, context) = try await py.withContext { lease in
      try await lease.exec("basket = []")
      for item in ["apple", "pear", "fig"] {
        _ = try await lease.eval("basket.append(item)", locals: ["item": .string(item)])
      }
      return (try await lease.eval("basket"), lease.context.name)
    }
    let fresh = try await py.eval("'basket' in globals()")
    Self.say("   withContext { lease in … }: 4 calls on '\(context)' built basket = \(basket)")
    Self.say("   a one-shot call starts from a fresh namespace: 'basket' in globals() = \(fresh)")
  }

  /// Preload code, run in every interpreter of every pool.
  private func preloaded(_ py: PythonRuntime) async throws {
    Self.section(4, "Preload")
    let onDefault = try await py.eval("with_tax(10)")
    let onIO = try await py.withContext(pool: "io") { lease in try await lease.eval("with_tax(10)") }
    Self.say("   preload: TAX = 0.2 and def with_tax(amount), run once in every interpreter")
    Self.say("   with_tax(10) = \(onDefault) on pool 'default', \(onIO) on pool 'io'")
  }

  /// A loop that never ends, stopped by a timeout; the context carries on.
  private func timeout(_ py: PythonRuntime) async throws {
    Self.section(5, "A timeout interrupts runaway Python")
    try await py.withContext { lease in
      try await lease.exec("count = 0")
      let started = ContinuousClock.now
      do {
        try await lease.exec("while True:\n    count += 1", timeout: .milliseconds(500))
        throw ValidationError("an endless loop finished")
      } catch let error as SwiftPyError where error.code == .timeout {
        Self.say(
          String(
            format: "   while True: count += 1 (timeout 0.5 s) → .timeout after %.2f s",
            (ContinuousClock.now - started).inSeconds))
      }
      let count = try await lease.eval("count")
      Self.say("   the interrupted context carries on, its state kept: count = \(count)")
    }
  }

  /// A Python exception arrives as a PythonError, with its type, message and traceback.
  private func error(_ py: PythonRuntime) async throws {
    Self.section(6, "An error with its traceback")
    do {
      _ = try await py.call("prices", "total", args: [.list([.string("1.50"), .string("2,25")])])
      throw ValidationError("prices.total(['1.50', '2,25']) did not raise")
    } catch let error as PythonError {
      Self.say("   prices.total(['1.50', '2,25']) threw PythonError \(error.type): \(error.message)")
      for line in error.traceback.split(separator: "\n", omittingEmptySubsequences: false)
      where !line.isEmpty {
        Self.say("   | \(line)")
      }
    }
  }

  /// A saved file reloads in every context; module state survives; a broken save changes nothing.
  private func hotReload(_ py: PythonRuntime, folder: URL, cores: Int) async throws {
    Self.section(7, "Hot reload")
    let hello = Array(repeating: PythonCall("greeting", "hello", args: [.string("Ada")]), count: cores)
    Self.say("   before: \(try await py.parallel(hello).map(\.description).joined(separator: ", "))")
    let reloader = try await py.hotReload(watch: [folder.path])
    var events = reloader.events.makeAsyncIterator()
    try Self.save("greeting.py", Self.greeting(version: 2), in: folder)
    let event = try await Self.next(&events)
    if let error = event.error { throw error }
    Self.say(
      String(
        format: "   saved greeting.py: reloaded %@ in %d contexts, %.1f ms after the save",
        event.modules.joined(separator: ", "), event.contexts.count, event.latency.inSeconds * 1000))
    Self.say("   after:  \(try await py.parallel(hello).map(\.description).joined(separator: ", "))")
    try Self.save("greeting.py", "def hello(name)\n    return 'broken'\n", in: folder)
    let broken = try await Self.next(&events)
    let type = broken.pythonError?.type ?? "no error"
    Self.say(
      "   saved a syntax error: \(type) reported, the old code stays live: "
        + "\(try await py.call("greeting", "hello", args: [.string("Ada")]))")
    await reloader.stop()
  }

  // MARK: Helpers

  /// The next reload event, within 10 seconds.
  private static func next(_ events: inout AsyncStream<ReloadEvent>.Iterator) async throws -> ReloadEvent {
    let timer = Task {
      try await Task.sleep(for: .seconds(10))
      say("   no reload within 10 s: is the temporary folder on a file system that reports changes?")
      Foundation.exit(ExitStatus.swiftPyError)
    }
    defer { timer.cancel() }
    guard let event = await events.next() else { throw ValidationError("the reloader stopped") }
    return event
  }

  /// Saves a file as an editor does: a temporary file renamed over it.
  private static func save(_ name: String, _ source: String, in folder: URL) throws {
    let path = folder.appendingPathComponent(name).path
    try source.write(toFile: path + ".tmp", atomically: false, encoding: .utf8)
    guard rename(path + ".tmp", path) == 0 else { throw CocoaError(.fileWriteUnknown) }
  }

  private static func section(_ number: Int, _ title: String) {
    say("")
    say("\(number). \(title)")
  }

  /// A line on standard output, written at once (in order with Python's, through a pipe too).
  private static func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
}
