import Foundation
import SwiftPy
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The soak's watchdog thread: a plain OS thread, so that it runs even when every Swift task is
/// stuck. Every 100 ms it flags callers past their limit, samples the pools' abandoned threads
/// against the bound, and every 10 s prints progress. If the soak itself is not done by its
/// deadline (a caller never answered holds it up), it reports and ends the process.
final class SoakMonitor: Sendable {
  let py: PythonRuntime
  let pools: [String]
  let tally: SoakTally
  let watchdog: SoakWatchdog
  let ledger: SoakLedger
  let began: ContinuousClock.Instant
  private let deadline = Mutex<(at: ContinuousClock.Instant, phase: String)?>(nil)
  private let stopped = Atomic<Bool>(false)
  private let overrun = Mutex<(@Sendable (String) -> Void)?>(nil)

  init(
    py: PythonRuntime, pools: [String], tally: SoakTally, watchdog: SoakWatchdog, ledger: SoakLedger,
    began: ContinuousClock.Instant
  ) {
    self.py = py
    self.pools = pools
    self.tally = tally
    self.watchdog = watchdog
    self.ledger = ledger
    self.began = began
  }

  /// What to do when the soak overruns its deadline (report, then exit).
  var onOverrun: (@Sendable (String) -> Void)? {
    get { overrun.withLock { $0 } }
    set { overrun.withLock { $0 = newValue } }
  }

  func start(deadline at: ContinuousClock.Instant, phase: String) {
    extend(deadline: at, phase: phase)
    let thread = Thread { [self] in watch() }
    thread.start()
  }

  /// Sets the deadline of the next phase.
  func extend(deadline at: ContinuousClock.Instant, phase: String) {
    deadline.withLock { $0 = (at, phase) }
  }

  func stop() { stopped.store(true, ordering: .releasing) }

  /// Abandoned threads of every pool now, from the pools' stats.
  func abandoned() -> Int {
    pools.reduce(0) { $0 + ((try? py.stats($1))?.abandonedThreads ?? 0) }
  }

  private func watch() {
    var lastReport = began
    while !stopped.load(ordering: .acquiring) {
      usleep(100_000)
      let now = ContinuousClock.now
      watchdog.sweep()
      let abandoned = abandoned()
      ledger.sample(abandoned: abandoned, elapsed: now - began)
      if now - lastReport >= .seconds(10) {
        lastReport = now
        SoakOutput.line(
          String(
            format: "  [%3.0f s] %d operations, %d wrong, %d unanswered; hostile scenarios %d; "
              + "abandoned threads %d (bound %d); OS threads %d; RSS %.1f MiB",
            (now - began).inSeconds, tally.total, tally.wrong, watchdog.unanswered, ledger.total, abandoned,
            ledger.bound(at: now), ProcessFigures.threads(), ProcessFigures.residentMiB()))
      }
      if let deadline = deadline.withLock({ $0 }), now > deadline.at, !stopped.load(ordering: .acquiring) {
        watchdog.sweep()
        onOverrun?(deadline.phase)
        return
      }
    }
  }
}

/// The soak's figures and its final report.
struct SoakFigures: Sendable {
  let python: String
  let modes: [PythonContext.Mode]
  let hostile: Bool
  let limits: SoakLimits
  let startRSS: Double
  let startThreads: Int

  /// What is measured once the run is over.
  struct End {
    let ran: Duration
    let drained: Duration
    let shutdown: Duration
    let shutdownLimit: Duration
    /// Abandoned threads once those that let go have ended.
    let abandoned: Int
    let rss: Double
    let threads: Int
  }

  /// Prints the report; true when an invariant failed.
  @discardableResult
  func report(tally: SoakTally, watchdog: SoakWatchdog, ledger: SoakLedger, end: End?) -> Bool {
    var failures: [String] = []
    let line = SoakOutput.line
    if let end {
      line(
        String(
          format: "soak: ran %.1f s on Python %@; abandoned threads settled in %.1f s; shutdown took %.2f s "
            + "(limit %.2f s)", end.ran.inSeconds, python, end.drained.inSeconds, end.shutdown.inSeconds,
          end.shutdownLimit.inSeconds))
    } else {
      line("soak: did not finish on Python \(python)")
    }
    line("  calls by kind and outcome (slowest answer against its watchdog limit):")
    for row in tally.table { line(row) }
    let byKind = ledger.byKind
    line(
      "  hostile scenarios started: \(ledger.total)"
        + (hostile
          ? " in \(modes.map(\.description).joined(separator: ", ")) ("
            + byKind.keys.sorted().map { "\($0) \(byKind[$0]!)" }.joined(separator: ", ")
            + "), \(ledger.forever) of them stuck for good"
            + (ledger.stoppedForever.isEmpty
              ? ""
              : " (meant to be, but interrupted: "
                + ledger.stoppedForever.keys.sorted().map { "\($0) \(ledger.stoppedForever[$0]!)" }
                .joined(separator: ", ") + ")")
          : " (--no-hostile)"))
    let wrong = tally.wrong
    line("  wrong results: \(wrong)")
    line(
      "  answered with their own timeout or an expired lease wait (allowed, marked \"load\"): \(tally.permitted)"
    )
    if wrong > 0 { failures.append("\(wrong) wrong results") }
    let unanswered = watchdog.unanswered
    line(
      String(
        format:
          "  unanswered callers: %d (answered late %d, still waiting %d; limit: timeout + %.1f s grace + %.1f s slack)",
        unanswered, watchdog.answeredLate, unanswered - watchdog.answeredLate, limits.grace.inSeconds,
        limits.slack.inSeconds))
    for example in watchdog.examples { line("    \(example)") }
    if unanswered > 0 { failures.append("\(unanswered) callers unanswered within their limit") }
    let violations = ledger.violations
    line(
      String(
        format: "  abandoned threads (pools' stats): at most %d during the run; bound = stuck for good (%d) "
          + "+ pool-holding hostile scenarios started in the last %.1f s (at most %d): %@",
        ledger.maxAbandoned, ledger.forever, limits.window.inSeconds, ledger.maxBound,
        violations.isEmpty
          ? "held at every sample" : "EXCEEDED \(violations.count) times, first: \(violations[0])"))
    if !violations.isEmpty { failures.append("abandoned threads exceeded their bound") }
    if let end {
      line("  abandoned threads at the end: \(end.abandoned) (bound: the \(ledger.forever) stuck for good)")
      if end.abandoned > ledger.forever {
        failures.append("\(end.abandoned - ledger.forever) abandoned threads never ended")
      }
      line("  OS threads: \(startThreads) at the start, \(end.threads) after shutdown")
      line(String(format: "  RSS: %.1f MiB at the start, %.1f MiB at the end", startRSS, end.rss))
    }
    if end == nil { failures.append("the soak did not finish: a caller was never answered") }
    line(failures.isEmpty ? "soak passed" : "soak FAILED: " + failures.joined(separator: "; "))
    return !failures.isEmpty
  }
}
