import ArgumentParser
import Foundation
import SwiftPy
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `swiftpy bench --reload`: the time from `rename(2)` of a new version of a module to the new
/// code observed in every context of a 4-context pool, then of a 1-context pool (as many
/// interpreters as hotload's), over 50 saves each (10 with `--quick`), beside hotload's own polling loop (a Python
/// process doing what hotload does: stat every watched file 144 times a second and
/// `importlib.reload` the module when one changed) measured the same way in the same run.
enum ReloadBenchmark {
  static func run(
    python: PythonChoice, saves: Int, clock: ContinuousClock, report: BenchReport, progress: BenchProgress
  ) async throws {
    let directory = try makeDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    // A module of some size: 40 functions and a class, as a module being developed might be.
    let body = (0..<40).map { "def f\($0)(x):\n    return x * \($0) + 1\n" }.joined(separator: "\n")
    let source = { (version: Int) in
      "VERSION = \(version)\n\n\(body)\nclass K:\n    def m(self):\n        return VERSION\n"
    }
    let libFile = directory + "/bench_lib.py"

    // SwiftPy: a pool of 4, then a pool of 1 (as many interpreters as hotload's loop), every
    // context running the module.
    for size in [4, 1] {
      try source(0).write(toFile: libFile, atomically: false, encoding: .utf8)
      progress.say("hot reload: pool of \(size), \(saves) saves")
      try await measureSwiftPy(
        python: python, poolSize: size, saves: saves, directory: directory, libFile: libFile, source: source,
        clock: clock, report: report)
    }

    // hotload's loop, in a Python process of its own, one interpreter.
    try source(0).write(toFile: libFile, atomically: false, encoding: .utf8)
    progress.say("hot reload: hotload's loop, \(saves) saves")
    let executable = try PythonDiscovery.discover(python).installation.executable
    let hotload = try HotloadLoop(python: executable, directory: directory)
    defer { hotload.stop() }
    var polled: [Duration] = []
    for version in 1...saves {
      let began = save(source(version), to: libFile, clock: clock)
      guard hotload.waitFor("version \(version)") else {
        print("  hotload's loop did not report version \(version)")
        throw ExitCode.failure
      }
      polled.append(clock.now - began)
      try await pause()
    }
    report.add(
      "reload.hotload.p50_ms", percentile(polled, 50).milliseconds, unit: "ms",
      "hotload's polling loop (144 Hz), rename() → new code in its 1 interpreter: p50")
    report.add(
      "reload.hotload.p95_ms", percentile(polled, 95).milliseconds, unit: "ms",
      "hotload's polling loop (144 Hz), rename() → new code in its 1 interpreter: p95")
    print(
      "  hotload's polling loop (144 Hz), rename() → new code in its 1 interpreter (\(saves) saves): "
        + "p50 \(millis(percentile(polled, 50))), p95 \(millis(percentile(polled, 95))), "
        + "max \(millis(polled.max()!))")
  }

  /// `py.hotReload(watch:)` on a pool of `poolSize` ownGIL contexts that have all imported the
  /// module: the time from `rename(2)` to the `ReloadEvent`, then a check (not timed) that every
  /// context runs the new version.
  static func measureSwiftPy(
    python: PythonChoice, poolSize: Int, saves: Int, directory: String, libFile: String,
    source: (Int) -> String, clock: ContinuousClock, report: BenchReport
  ) async throws {
    let py = try await PythonRuntime.start(
      .init(python: python, defaultPool: .init(size: poolSize), paths: [directory]))
    let contexts = py.contexts()
    for context in contexts { _ = try await context.eval("__import__('bench_lib').VERSION") }
    let reloader = try await py.hotReload(watch: [directory])
    var events = reloader.events.makeAsyncIterator()
    var observed: [Duration] = []
    var reported: [Duration] = []
    for version in 1...saves {
      let began = save(source(version), to: libFile, clock: clock)
      guard let event = await events.next() else { throw ExitCode.failure }
      observed.append(clock.now - began)
      reported.append(event.latency)
      guard event.succeeded, event.contexts.count == contexts.count else {
        print("  reload \(version) failed: \(event)")
        throw ExitCode.failure
      }
      // Checked, not timed: every context runs the new version.
      for context in contexts {
        guard try await context.eval("__import__('bench_lib').K().m()") == .int(version) else {
          print("  reload \(version): a context does not see the new version")
          throw ExitCode.failure
        }
      }
      try await pause()
    }
    await reloader.stop()
    await py.shutdown()
    let all = contexts.count == 1 ? "its 1" : "all \(contexts.count)"
    let label = "hot reload, rename() → new code in \(all) \(contexts[0].mode) context(s)"
    report.add(
      "reload.pool\(poolSize).p50_ms", percentile(observed, 50).milliseconds, unit: "ms", label + ": p50")
    report.add(
      "reload.pool\(poolSize).p95_ms", percentile(observed, 95).milliseconds, unit: "ms", label + ": p95")
    print(
      "  hot reload, rename() → new code in \(all) \(contexts[0].mode) context\(contexts.count == 1 ? "" : "s") "
        + "(\(saves) saves): "
        + "p50 \(millis(percentile(observed, 50))), p95 \(millis(percentile(observed, 95))), "
        + "max \(millis(observed.max()!))")
    print(
      "    of which kernel event → last context done (ReloadEvent.latency): "
        + "p50 \(millis(percentile(reported, 50))), p95 \(millis(percentile(reported, 95)))")
  }

  /// The time between two saves: 20 ms and a random part of hotload's polling period (1/144 s),
  /// so that a save lands anywhere in that period, as a person's saves do. A fixed pause keeps
  /// the polling loop in step with the saves and flatters it (measured: p50 1.9 ms with a fixed
  /// pause, 4.0-4.3 ms with a random one); SwiftPy, woken by the kernel, is not affected.
  static func pause() async throws {
    try await Task.sleep(for: .microseconds(20_000 + Int.random(in: 0..<6_944)))
  }

  /// Writes `content` to a temporary file and renames it over `path`; returns the instant just
  /// before the rename.
  static func save(_ content: String, to path: String, clock: ContinuousClock) -> ContinuousClock.Instant {
    let temporary = path + ".new.tmp"
    try? content.write(toFile: temporary, atomically: false, encoding: .utf8)
    let began = clock.now
    rename(temporary, path)
    return began
  }

  static func makeDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("swiftpy-reload-\(UUID())").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return URL(fileURLWithPath: path).resolvingSymlinksInPath().path
  }

  static func percentile(_ samples: [Duration], _ p: Int) -> Duration {
    let sorted = samples.sorted()
    return sorted[min(sorted.count - 1, (sorted.count * p + 99) / 100 - 1)]
  }

  static func millis(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    return String(format: "%.2f ms", Double(seconds) * 1000 + Double(attoseconds) / 1e15)
  }
}

/// hotload's loop as its README describes it: list the watched files once, stat them all 144
/// times a second, and on a change `importlib.reload` the module; prints each version seen.
final class HotloadLoop: @unchecked Sendable {  // `lines` is guarded by `condition`
  static let script = """
    import importlib, os, sys, time
    directory = sys.argv[1]
    # No .pyc, read or written: saves 1-9 have the size of save 0 and land within a second of
    # it, so a cached .pyc (the SwiftPy runs write one) would pass its size-and-mtime check and
    # reload the old code. SwiftPy compiles the source too.
    sys.pycache_prefix = os.path.join(directory, 'no-pycache')
    sys.dont_write_bytecode = True
    sys.path.insert(0, directory)
    import bench_lib
    files = [os.path.join(directory, name) for name in os.listdir(directory) if name.endswith('.py')]

    def stamps():
        found = {}
        for path in files:
            try:
                found[path] = os.stat(path).st_mtime_ns
            except OSError:
                pass
        return found

    last = stamps()
    print('ready', flush=True)
    while True:
        time.sleep(1 / 144)
        now = stamps()
        if now != last:
            last = now
            try:
                importlib.reload(bench_lib)
            except Exception as error:
                print('error', error, flush=True)
                continue
            print('version', bench_lib.K().m(), flush=True)
    """

  private let process = Process()
  private let condition = NSCondition()
  private var lines: [String] = []
  private var partial = ""

  init(python: String, directory: String) throws {
    let scriptFile = directory + "/../hotload-\(UUID()).py"
    try HotloadLoop.script.write(toFile: scriptFile, atomically: false, encoding: .utf8)
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [scriptFile, directory]
    let pipe = Pipe()
    process.standardOutput = pipe
    pipe.fileHandleForReading.readabilityHandler = { [self] handle in
      let text = String(decoding: handle.availableData, as: UTF8.self)
      condition.lock()
      partial += text
      while let newline = partial.firstIndex(of: "\n") {
        lines.append(String(partial[..<newline]))
        partial = String(partial[partial.index(after: newline)...])
      }
      condition.broadcast()
      condition.unlock()
    }
    try process.run()
    guard waitFor("ready") else { throw ExitCode.failure }
    try? FileManager.default.removeItem(atPath: scriptFile)
  }

  /// Waits (up to 10 s) for a line; consumes the lines up to it.
  func waitFor(_ line: String) -> Bool {
    let deadline = Date(timeIntervalSinceNow: 10)
    condition.lock()
    defer { condition.unlock() }
    while true {
      if let index = lines.firstIndex(of: line) {
        lines.removeSubrange(...index)
        return true
      }
      guard condition.wait(until: deadline) else { return false }
    }
  }

  func stop() {
    (process.standardOutput as? Pipe)?.fileHandleForReading.readabilityHandler = nil
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
  }
}
