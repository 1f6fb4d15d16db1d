import ArgumentParser
import Foundation
import SwiftPy

/// `swiftpy demo`: SwiftPy's main job in one screen — a CPU-bound Python function on one
/// ownGIL context, then on one context per core at once, and the speedup.
struct DemoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Run CPU-bound Python on one interpreter, then on one per core, in parallel.")

  @Option(help: "Work per task (loop iterations).") var work = 3_000_000
  @Option(help: "Contexts to run in parallel (default: one per core).") var contexts: Int?
  @OptionGroup var options: PythonOptions

  static let code = """
    def spin(n):
        # Pure-Python CPU work: a loop no C code shortcuts.
        total = 0
        for i in range(n):
            total = (total + i * i) % 1_000_003
        return total
    """

  func run() async throws {
    let cores = contexts ?? ProcessInfo.processInfo.activeProcessorCount
    let py = try await PythonRuntime.start(options.configuration())
    print("Python \(py.installation.version) from \(py.installation.libraryPath)")
    let mode: PythonContext.Mode = options.mode ?? (py.supportedModes.contains(.ownGIL) ? .ownGIL : .worker)
    if options.mode == nil && mode != .ownGIL {
      print("ownGIL is unavailable with this Python, using worker mode (no speedup expected)")
    }

    let started = ContinuousClock.now
    var pool: [PythonContext] = []
    for _ in 0..<cores {
      let context = try await py.newContext(mode: mode)
      try await context.exec(DemoCommand.code)
      pool.append(context)
    }
    let ready = ContinuousClock.now - started
    print("\(cores) \(mode) contexts ready in \(ready.formatted(.units(allowed: [.milliseconds])))")

    // One context runs every task in turn...
    let serialStart = ContinuousClock.now
    var expected: [PythonValue] = []
    for _ in 0..<cores { expected.append(try await pool[0].call("__main__", "spin", args: [.int(work)])) }
    let serial = ContinuousClock.now - serialStart
    print(
      "1 context,  \(cores) tasks one after another: \(serial.formatted(.units(allowed: [.milliseconds])))")

    // ...then one task per context, all at once.
    let parallelStart = ContinuousClock.now
    let results = try await withThrowingTaskGroup(of: PythonValue.self) { group in
      for context in pool {
        group.addTask { [work] in try await context.call("__main__", "spin", args: [.int(work)]) }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    let parallel = ContinuousClock.now - parallelStart
    print(
      "\(cores) contexts, \(cores) tasks at once:        \(parallel.formatted(.units(allowed: [.milliseconds])))"
    )
    guard results == expected else {
      throw ValidationError("parallel results differ: \(results) vs \(expected)")
    }
    let speedup = serial / parallel
    print(
      String(
        format: "speedup: %.2fx on %d cores (ideal %d.00x); results agree: %@", speedup, cores, cores,
        "\(results[0])"))
    await py.shutdown()
  }
}
