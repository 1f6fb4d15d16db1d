import ArgumentParser
import Foundation
import SwiftPy
import Synchronization

/// `swiftpy soak`: many concurrent tasks doing random calls, leases, timeouts and cancellations
/// across a worker pool and the default (ownGIL) pool for a set time, checking every result —
/// and, in a third pool where some calls get stuck in a blocking C call (and their context is
/// abandoned and replaced), that no other call ever fails because of them.
struct SoakCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "soak",
    abstract: "Stress SwiftPy with concurrent calls, leases, timeouts and cancellations; check every result.")

  @Option(help: "How long to run, in seconds.") var duration = 60.0
  @Option(help: "Concurrent tasks.") var tasks = 1_000
  @Option(help: "Seed for the random choices (a run can be repeated).") var seed: UInt64 = 1

  func run() async throws {
    let py = try await PythonRuntime.start(.init(interruptGrace: .seconds(1)))
    try await py.startPool("workers", size: 2, mode: .worker)
    py.route(module: "operator", to: "workers")
    try await py.startPool("mixed", size: 2)
    py.route(module: "time", to: "mixed")
    py.route(module: "math", to: "mixed")
    let modes =
      "\(py.defaultPool.mode) ×\(py.numContexts()) + worker ×\(py.numContexts("workers")) "
      + "+ \(py.defaultPool.mode) ×\(py.numContexts("mixed")) with stuck calls"
    print(
      "soak: \(tasks) tasks for \(duration) s on Python \(py.installation.version) (\(modes)), seed \(seed)")
    let tally = Tally()
    let clock = ContinuousClock()
    let end = clock.now + .milliseconds(Int(duration * 1000))
    let reporter = Task {
      while !Task.isCancelled {
        try? await Task.sleep(for: .seconds(10))
        if !Task.isCancelled {
          print(
            "  \(tally.summary) \(try! py.stats()) workers: \(try! py.stats("workers")) "
              + "mixed: \(try! py.stats("mixed"))")
        }
      }
    }
    await withTaskGroup(of: Void.self) { group in
      for index in 0..<tasks {
        group.addTask {
          var random = Generator(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
          while clock.now < end { await Self.step(py, &random, tally) }
        }
      }
    }
    reporter.cancel()
    print("  \(tally.summary)")
    await py.shutdown()
    if tally.failures > 0 { throw ExitCode.failure }
    print("soak passed: every result checked")
  }

  /// One random operation, its outcome checked.
  static func step(_ py: PythonRuntime, _ random: inout Generator, _ tally: Tally) async {
    let a = Int.random(in: -1_000...1_000, using: &random)
    let b = Int.random(in: -1_000...1_000, using: &random)
    let kind = Int.random(in: 0..<100, using: &random)
    do {
      switch kind {
      case 0..<35:  // one-shot call, routed to the worker pool
        tally.check("call", try await py.call("operator", "mul", args: [.int(a), .int(b)]) == .int(a * b))
      case 35..<60:  // one-shot eval on the default pool
        tally.check("eval", try await py.eval("a - b", locals: ["a": .int(a), "b": .int(b)]) == .int(a - b))
      case 60..<72:  // a lease on either pool keeps state (waiting its turn)
        let pool = kind % 2 == 0 ? "default" : "workers"
        let value = try await py.withContext(pool: pool) { lease in
          try await lease.exec("x = \(a)")
          try await lease.exec("x += 1")
          return try await lease.eval("x")
        }
        tally.check("lease", value == .int(a + 1))
      case 72..<80:  // a call beside stuck ones: must never fail because of them
        if a % 97 == 0 {  // about 1 in 100 of these calls gets stuck
          do {
            _ = try await py.call("time", "sleep", args: [2.0], timeout: .milliseconds(20))
            tally.check("stuck call times out", false)
          } catch let error as SwiftPyError where error.code == .timeout {
            tally.check("stuck call times out", true)
          }
        } else {
          let value = try await py.call("math", "fabs", args: [.int(a - b)])
          tally.check("call beside stuck calls", value == .float(Double(abs(a - b))))
        }
      case 80..<86:  // a timeout interrupts a loop
        do {
          try await py.exec("while True: pass", timeout: .milliseconds(20))
          tally.check("timeout", false)
        } catch let error as SwiftPyError where error.code == .timeout {
          tally.check("timeout", true)
        }
      case 86..<93:  // cancellation, queued or running
        let task = Task { try await py.call("time", "sleep", args: [0.02]) }
        try await Task.sleep(for: .milliseconds(Int.random(in: 0...30, using: &random)))
        task.cancel()
        switch await task.result {
        case .success(let value): tally.check("cancel (finished first)", value == .none)
        case .failure(let error): tally.check("cancel", error is CancellationError)
        }
      default:  // a Python exception
        do {
          _ = try await py.eval("\(a) / 0")
          tally.check("exception", false)
        } catch let error as PythonError {
          tally.check("exception", error.type == "ZeroDivisionError")
        }
      }
    } catch let error as SwiftPyError where error.code == .closed || error.code == .contextLost {
      tally.check("call failed because of another call's stuck context: \(error)", false)
    } catch {
      tally.check("unexpected error \(type(of: error)): \(error)", false)
    }
  }

  /// Counts outcomes by kind; a failed check is printed once per kind.
  final class Tally: Sendable {
    private let counts = Mutex<[String: (ok: Int, failed: Int)]>([:])

    func check(_ kind: String, _ ok: Bool) {
      let first = counts.withLock { counts in
        var entry = counts[kind] ?? (0, 0)
        if ok { entry.ok += 1 } else { entry.failed += 1 }
        counts[kind] = entry
        return !ok && entry.failed == 1
      }
      if first { print("  FAILED: \(kind)") }
    }

    func count(_ kind: String) { check(kind, true) }

    var failures: Int { counts.withLock { $0.values.reduce(0) { $0 + $1.failed } } }

    var summary: String {
      counts.withLock { counts in
        let total = counts.values.reduce(0) { $0 + $1.ok + $1.failed }
        let parts = counts.keys.sorted().map {
          "\($0) \(counts[$0]!.ok)" + (counts[$0]!.failed > 0 ? " (\(counts[$0]!.failed) FAILED)" : "")
        }
        return "\(total) operations: " + parts.joined(separator: ", ")
      }
    }
  }

  /// SplitMix64: seeded, so a run can be repeated.
  struct Generator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }
}
