import ArgumentParser
import Foundation
import SwiftPy
import Synchronization

/// `swiftpy soak`: many concurrent tasks doing random calls, leases, timeouts and cancellations
/// for a set time, every outcome checked against the exact value (or error) it must be — and,
/// with `--hostile` (the default), one lane per mode running hostile Python beside them: code
/// that swallows every interrupt, blocking C calls, leases whose call sticks, and contexts whose
/// teardown loops. It checks issue 11's invariants: no wrong outcome, every caller answered
/// within its timeout plus the interrupt grace plus a slack (a watchdog per call), and the
/// abandoned threads bounded by the hostile scenarios that can hold them. Exit status 1 when any
/// fails.
struct SoakCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "soak",
    abstract: "Stress SwiftPy with concurrent calls, leases, timeouts, cancellations and hostile Python.",
    discussion: """
      Every caller must be answered within its timeout + the interrupt grace (1 s) + --slack; \
      every outcome must be the expected one; the abandoned threads (the pools' stats) must stay \
      within the hostile scenarios stuck for good plus those started in the last \
      (--hold + 0.1 s + 1 s + --slack) seconds, and be back to those stuck for good at the end. \
      Exit status 0 when all held, 1 when one failed.
      """)

  @Option(help: "How long to run, in seconds.") var duration = 60.0
  @Option(help: "Concurrent tasks of ordinary operations.") var tasks = 1_000
  @Option(help: "Seed for the random choices (a run can be repeated).") var seed: UInt64 = 1
  @Flag(
    inversion: .prefixedNo,
    help: "Run hostile Python beside the ordinary operations, one lane per mode the Python supports.")
  var hostile = true
  @Option(help: "How long hostile code holds its thread, in seconds (past its timeout and the grace).")
  var hold = 3.0
  @Option(help: "The timeout of ordinary calls, in seconds.") var callTimeout = 10.0
  @Option(help: "What a caller's answer may take beyond its timeout and the interrupt grace, in seconds.")
  var slack = 2.0
  @Option(help: .hidden) var sabotage: [Sabotage] = []
  @OptionGroup var options: PythonOptions

  /// Deliberate failures, to see the soak's checks fail (its own test does).
  enum Sabotage: String, ExpressibleByArgument, Sendable {
    /// One result checked against a wrong value.
    case wrong
    /// One caller watched with a limit shorter than its call.
    case unanswered
    /// One caller never answered: the soak cannot finish, and its watchdog ends it.
    case never
  }

  static let grace = Duration.seconds(1)

  func run() async throws {
    guard duration > 0, tasks > 0, hold > 1.5, callTimeout > 0, slack > 0 else {
      throw ValidationError(
        "--duration, --tasks, --call-timeout and --slack must be positive, --hold over 1.5")
    }
    let limits = SoakLimits(
      grace: Self.grace, slack: .soakSeconds(slack), callTimeout: .soakSeconds(callTimeout),
      hostileTimeout: .milliseconds(100), hold: .soakSeconds(hold), closeDeadline: .milliseconds(200),
      shutdownDeadline: .seconds(2))
    var configuration = options.configuration(contexts: nil)
    configuration.interruptGrace = limits.grace
    // Starting a context is not a call: on a loaded machine a sub-interpreter may take more than
    // a short call timeout to start, and the soak would fail at its start, having tested nothing.
    // Calls waiting for a replacement are still bounded by their own timeouts.
    configuration.contextStartTimeout = max(limits.callTimeout, .seconds(10))
    let py = try await PythonRuntime.start(configuration)
    let modes = py.supportedModes
    let directory = try SoakHostile.writeModules(modes: modes)
    defer { try? FileManager.default.removeItem(at: directory) }
    try py.paths.add(directory.path)
    try await py.startPool("workers", size: 2, mode: .worker)
    py.route(module: "operator", to: "workers")
    for mode in modes {
      try await py.startPool(SoakHostile.pool(mode), size: 2, mode: mode)
      py.route(module: SoakHostile.module(mode), to: SoakHostile.pool(mode))
    }
    let pools = py.poolNames

    let tally = SoakTally()
    let watchdog = SoakWatchdog()
    let ledger = SoakLedger(window: limits.window)
    let startRSS = ProcessFigures.residentMiB()
    let startThreads = ProcessFigures.threads()
    let clock = ContinuousClock()
    let began = clock.now
    let end = began + .soakSeconds(duration)
    let monitor = SoakMonitor(
      py: py, pools: pools, tally: tally, watchdog: watchdog, ledger: ledger, began: began)
    let figures = SoakFigures(
      python: "\(py.installation.version)", modes: modes, hostile: hostile, limits: limits,
      startRSS: startRSS, startThreads: startThreads)
    monitor.onOverrun = { phase in
      SoakOutput.line("soak: stuck \(phase); callers still waiting: \(watchdog.inFlight.prefix(10))")
      figures.report(tally: tally, watchdog: watchdog, ledger: ledger, end: nil)
      Foundation.exit(1)
    }
    let lanes =
      hostile ? " + \(modes.count) hostile lanes (\(modes.map(\.description).joined(separator: ", ")))" : ""
    let poolList = pools.map { pool in
      "\(pool) (\(py.contexts(pool).first.map { "\($0.mode)" } ?? "?") ×\(py.numContexts(pool)))"
    }
    SoakOutput.line(
      "soak: \(tasks) tasks\(lanes) for \(duration) s on Python \(py.installation.version), seed \(seed); "
        + "pools: \(poolList.joined(separator: ", "))")
    SoakOutput.line(
      String(
        format: "  limits: ordinary calls %.1f s, hostile calls %.1f s, hostile code holds %.1f s; "
          + "every answer due within timeout + %.1f s grace + %.1f s slack", callTimeout,
        limits.hostileTimeout.inSeconds, hold, limits.grace.inSeconds, slack))
    // Past the end, the callers still waiting have at most their longest limit: after that one
    // was never answered, and the watchdog reports and exits.
    monitor.start(deadline: end + limits.longestAnswer + .seconds(5), phase: "in the run")

    await sabotageRun(py, tally, watchdog, limits)
    let checker = SoakChecker(py: py, tally: tally, watchdog: watchdog, limits: limits)
    let ordinary = OrdinaryRun(py: py, checker: checker, modes: modes)
    let hostileRun = SoakCommand.HostileRun(checker: checker, ledger: ledger)
    let (tasks, seed, hostile) = (self.tasks, self.seed, self.hostile)
    await withTaskGroup(of: Void.self) { group in
      for index in 0..<tasks {
        group.addTask {
          var random = Generator(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
          while clock.now < end { await ordinary.step(&random) }
        }
      }
      guard hostile else { return }
      for (lane, mode) in modes.enumerated() {
        group.addTask {
          var random = Generator(seed: seed &+ 0xDEAD_BEEF &+ UInt64(lane))
          await hostileRun.forever(mode)
          while clock.now < end {
            for kind in SoakHostile.allCases.shuffled(using: &random) where clock.now < end {
              await hostileRun.run(kind, mode)
              try? await Task.sleep(for: .milliseconds(Int.random(in: 200...800, using: &random)))
            }
          }
        }
      }
    }
    let ran = clock.now - began

    // The abandoned threads of scenarios that let go must end: wait for them, within the window.
    monitor.extend(
      deadline: clock.now + limits.window + limits.longestAnswer + .seconds(10), phase: "at the end")
    let drainStart = clock.now
    var abandoned = monitor.abandoned()
    while abandoned > ledger.forever && clock.now - drainStart < limits.window + .seconds(1) {
      try? await Task.sleep(for: .milliseconds(250))
      abandoned = monitor.abandoned()
    }
    let drained = clock.now - drainStart
    let shutdownLimit = limits.answer(after: limits.shutdownDeadline)
    let shutdownStart = clock.now
    await watchdog.watch("shutdown(deadline: \(limits.shutdownDeadline))", limit: shutdownLimit) {
      await py.shutdown(deadline: limits.shutdownDeadline)
    }
    let shutdown = clock.now - shutdownStart
    monitor.stop()
    try? await Task.sleep(for: .milliseconds(500))  // threads that end with their interpreter
    let failed = figures.report(
      tally: tally, watchdog: watchdog, ledger: ledger,
      end: .init(
        ran: ran, drained: drained, shutdown: shutdown, shutdownLimit: shutdownLimit, abandoned: abandoned,
        rss: ProcessFigures.residentMiB(), threads: ProcessFigures.threads()))
    if failed { throw ExitCode.failure }
  }

  /// The deliberate failures `--sabotage` asks for, before the run.
  private func sabotageRun(
    _ py: PythonRuntime, _ tally: SoakTally, _ watchdog: SoakWatchdog, _ limits: SoakLimits
  ) async {
    for kind in sabotage {
      switch kind {
      case .wrong:
        let outcome = await SoakOutcome.of { try await py.eval("6 * 7", timeout: limits.callTimeout) }
        tally.check("sabotage: checked against a wrong value", outcome, expected: [.value(.int(43))])
      case .unanswered:
        let outcome = await watchdog.watch(
          "sabotage: a caller watched for less than its call", limit: .milliseconds(200)
        ) {
          await SoakOutcome.of {
            try await py.eval("__import__('time').sleep(0.6)", timeout: limits.callTimeout)
          }
        }
        tally.check("sabotage: watched for less than its call", outcome, expected: [.value(.none)])
      case .never:
        await watchdog.watch("sabotage: a caller never answered", limit: .milliseconds(200)) {
          try? await Task.sleep(for: .seconds(1_000_000))
        }
      }
    }
  }

  /// The ordinary operations, each checked for its exact outcome.
  struct OrdinaryRun: Sendable {
    let py: PythonRuntime
    let checker: SoakChecker
    let modes: [PythonContext.Mode]

    /// One random operation, its outcome checked.
    func step(_ random: inout Generator) async {
      let a = Int.random(in: -1_000...1_000, using: &random)
      let b = Int.random(in: -1_000...1_000, using: &random)
      let kind = Int.random(in: 0..<100, using: &random)
      let mode = modes[Int.random(in: 0..<modes.count, using: &random)]
      let timeout = checker.limits.callTimeout
      switch kind {
      case 0..<30:  // one-shot call, routed to the worker pool
        await checker.check("call operator.mul (workers)", expected: .value(.int(a * b))) {
          try await py.call("operator", "mul", args: [.int(a), .int(b)], timeout: timeout)
        }
      case 30..<50:  // one-shot eval on the default pool
        await checker.check("eval (default)", expected: .value(.int(a - b))) {
          try await py.eval("a - b", locals: ["a": .int(a), "b": .int(b)], timeout: timeout)
        }
      case 50..<60:  // a lease on either pool keeps state (waiting its turn)
        let pool = kind % 2 == 0 ? "default" : "workers"
        await checker.lease("lease (\(pool))", pool: pool, start: a)
      case 60..<64:  // a lease in a pool where hostile code runs: exclusive, so never lost to it
        await checker.lease("lease beside hostile code (\(mode))", pool: SoakHostile.pool(mode), start: a)
      case 64..<74:  // a call in a pool where hostile code runs: never fails because of it
        await checker.check("call beside hostile code (\(mode))", expected: .value(.int(a + b))) {
          try await py.call(SoakHostile.module(mode), "add", args: [.int(a), .int(b)], timeout: timeout)
        }
      case 74..<80:  // a timeout interrupts a loop
        await checker.check(
          "timeout (default)", expected: .timeout, permitted: [], timeout: .milliseconds(20)
        ) {
          try await py.exec("while True: pass", timeout: .milliseconds(20))
          return .none
        }
      case 80..<87:  // cancellation, queued or running
        let task = Task { try await py.call("time", "sleep", args: [0.02], timeout: timeout) }
        try? await Task.sleep(for: .milliseconds(Int.random(in: 0...30, using: &random)))
        task.cancel()
        await checker.check(
          "cancel (default)", expected: .cancelled, also: [.value(.none)], timeout: .milliseconds(30)
        ) { try await task.value }
      default:  // a Python exception
        await checker.check("exception (default)", expected: .python("ZeroDivisionError")) {
          try await py.eval("\(a) / 0", timeout: timeout)
        }
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

/// The soak's timeouts and the limits its watchdog holds callers to.
struct SoakLimits: Sendable {
  /// The runtime's interrupt grace.
  let grace: Duration
  /// What an answer may take beyond its timeout and the grace (a loaded machine's scheduling).
  let slack: Duration
  let callTimeout: Duration
  let hostileTimeout: Duration
  /// How long hostile code holds its thread.
  let hold: Duration
  let closeDeadline: Duration
  let shutdownDeadline: Duration

  /// A caller whose call has `timeout` must be answered within this.
  func answer(after timeout: Duration) -> Duration { timeout + grace + slack }

  /// Waiting for a lease: `waitingUpTo` is the call timeout, and the watchdog holds it to that
  /// plus the grace and slack as every other caller.
  var leaseWait: Duration { answer(after: callTimeout) }

  /// The longest a hostile scenario can keep a thread abandoned after it starts: its code's hold
  /// plus the time to be abandoned, plus the slack for its interpreter to end.
  var window: Duration { hold + hostileTimeout + grace + slack }

  /// The longest any one watched caller may wait.
  var longestAnswer: Duration { answer(after: callTimeout) * 3 + leaseWait }
}

extension SoakOutcome {
  /// The value, or the error again.
  func value() throws -> PythonValue {
    switch self {
    case .value(let value): return value
    case .timeout: throw SwiftPyError(.timeout, "timed out")
    case .cancelled: throw CancellationError()
    case .closed: throw SwiftPyError(.closed, "closed")
    case .contextLost: throw SwiftPyError(.contextLost, "context lost")
    case .shuttingDown: throw SwiftPyError(.shuttingDown, "shutting down")
    case .noContextsAvailable: throw SwiftPyError(.noContextsAvailable, "no contexts available")
    case .python(let type): throw SoakRethrown(description: type, outcome: self)
    case .other(let text): throw SoakRethrown(description: text, outcome: self)
    }
  }
}

/// An outcome carried through a `throws` (``SoakOutcome/init(_:)`` gives it back as it was).
struct SoakRethrown: Error, CustomStringConvertible {
  let description: String
  let outcome: SoakOutcome
}
