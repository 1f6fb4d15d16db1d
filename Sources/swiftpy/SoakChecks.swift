import Foundation
import SwiftPy
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What a soak operation ended with: compared, exactly, with what it had to end with.
enum SoakOutcome: Hashable, Sendable, CustomStringConvertible {
  case value(PythonValue)
  case timeout
  case cancelled
  case closed
  case contextLost
  case shuttingDown
  /// A lease's wait for a context expired.
  case noContextsAvailable
  /// A Python exception, by type.
  case python(String)
  /// Any other error, described.
  case other(String)

  init(_ error: any Error) {
    switch error {
    case let error as SoakRethrown: self = error.outcome
    case is CancellationError: self = .cancelled
    case let error as PythonError: self = .python(error.type)
    case let error as SwiftPyError where error.code == .timeout: self = .timeout
    case let error as SwiftPyError where error.code == .closed: self = .closed
    case let error as SwiftPyError where error.code == .contextLost: self = .contextLost
    case let error as SwiftPyError where error.code == .shuttingDown: self = .shuttingDown
    case let error as SwiftPyError where error.code == .noContextsAvailable: self = .noContextsAvailable
    default: self = .other("\(type(of: error)): \(error)")
    }
  }

  /// Runs `body` and returns how it ended.
  static func of(_ body: () async throws -> PythonValue) async -> SoakOutcome {
    do { return .value(try await body()) } catch { return SoakOutcome(error) }
  }

  /// The outcome as the report counts it: values are grouped (each was checked already).
  var label: String {
    switch self {
    case .value: "result"
    case .timeout: "timeout"
    case .cancelled: "cancelled"
    case .closed: "closed"
    case .contextLost: "contextLost"
    case .shuttingDown: "shuttingDown"
    case .noContextsAvailable: "noContextsAvailable"
    case .python(let type): type
    case .other: "other error"
    }
  }

  var description: String {
    switch self {
    case .value(let value): "result \(value)"
    case .other(let text): text
    default: label
    }
  }
}

/// Counts every operation by kind and outcome, and every outcome that was not the expected one.
final class SoakTally: Sendable {
  private struct Kind {
    var outcomes: [String: Int] = [:]
    var wrong = 0
    var permitted = 0
    var slowest: Duration = .zero
    var limit: Duration = .zero
  }

  private let kinds = Mutex<[String: Kind]>([:])

  /// Records `outcome` of an operation of `kind` answered after `elapsed` (its watchdog limit
  /// `limit`); wrong unless it is one of `expected` or `permitted` (an answer the load allows, such
  /// as an ordinary call's own timeout, counted apart). The first wrong outcome of each kind is
  /// printed with what was expected.
  func check(
    _ kind: String, _ outcome: SoakOutcome, expected: [SoakOutcome], permitted: [SoakOutcome] = [],
    elapsed: Duration = .zero, limit: Duration = .zero, note: String? = nil
  ) {
    let isPermitted = !expected.contains(outcome) && permitted.contains(outcome)
    let ok = expected.contains(outcome) || isPermitted
    let label =
      !ok
      ? "WRONG \(outcome.label)"
      : isPermitted ? "\(outcome.label) (load)" : note.map { "\(outcome.label) (\($0))" } ?? outcome.label
    let first = kinds.withLock { kinds in
      var entry = kinds[kind] ?? Kind()
      entry.outcomes[label, default: 0] += 1
      if elapsed > entry.slowest {
        entry.slowest = elapsed
        entry.limit = limit
      }
      if !ok { entry.wrong += 1 }
      if isPermitted { entry.permitted += 1 }
      kinds[kind] = entry
      return !ok && entry.wrong == 1
    }
    if first {
      SoakOutput.line(
        "  WRONG: \(kind): got \(outcome), expected \(expected.map(\.description).joined(separator: " or "))")
    }
  }

  var total: Int { kinds.withLock { $0.values.reduce(0) { $0 + $1.outcomes.values.reduce(0, +) } } }
  var wrong: Int { kinds.withLock { $0.values.reduce(0) { $0 + $1.wrong } } }
  /// Operations answered with an error the load permits (their own timeout, a lease wait that
  /// expired) instead of their result.
  var permitted: Int { kinds.withLock { $0.values.reduce(0) { $0 + $1.permitted } } }

  /// One line per kind: its count, outcomes, and the slowest answer against its limit.
  var table: [String] {
    kinds.withLock { kinds in
      let width = kinds.keys.map(\.count).max() ?? 0
      return kinds.keys.sorted().map { name in
        let kind = kinds[name]!
        let count = kind.outcomes.values.reduce(0, +)
        let outcomes = kind.outcomes.keys.sorted().map { "\($0) \(kind.outcomes[$0]!)" }.joined(
          separator: ", ")
        let slowest =
          kind.limit > .zero
          ? String(format: "; slowest answer %.2f s of %.2f s", kind.slowest.inSeconds, kind.limit.inSeconds)
          : ""
        return
          "    \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(count): \(outcomes)\(slowest)"
      }
    }
  }
}

/// Runs operations as watched callers and checks their outcomes.
struct SoakChecker: Sendable {
  let py: PythonRuntime
  let tally: SoakTally
  let watchdog: SoakWatchdog
  let limits: SoakLimits

  /// Runs `body` — `calls` calls of `timeout` each (the ordinary call timeout by default) — as one
  /// caller the watchdog holds to their timeouts plus the grace and slack, and checks its outcome:
  /// `expected` (or one of `also`), or one of `permitted` (by default the calls' own timeout: an
  /// answer, late only for the load), counted apart.
  func check(
    _ kind: String, expected: SoakOutcome, also: [SoakOutcome] = [], permitted: [SoakOutcome] = [.timeout],
    calls: Int = 1, timeout: Duration? = nil, note: ((Duration) -> String)? = nil,
    _ body: () async throws -> PythonValue
  ) async {
    let limit = limits.answer(after: (timeout ?? limits.callTimeout) * calls)
    let started = ContinuousClock.now
    let outcome = await watchdog.watch(kind, limit: limit) { await SoakOutcome.of(body) }
    let elapsed = ContinuousClock.now - started
    tally.check(
      kind, outcome, expected: [expected] + also, permitted: permitted, elapsed: elapsed, limit: limit,
      note: note?(elapsed))
  }

  /// A lease of `pool` keeps state over three calls: waiting its turn (within the call timeout),
  /// then each call within its timeout.
  func lease(_ kind: String, pool: String, start: Int) async {
    let timeout = limits.callTimeout
    let acquiring = watchdog.begin("\(kind): waiting for a context", limit: limits.leaseWait)
    let started = ContinuousClock.now
    let outcome = await SoakOutcome.of {
      try await py.withContext(pool: pool, waitingUpTo: timeout) { lease in
        watchdog.end(acquiring)
        return try await watchdog.watch("\(kind): its calls", limit: limits.answer(after: timeout * 3)) {
          try await lease.exec("x = \(start)", timeout: timeout)
          try await lease.exec("x += 1", timeout: timeout)
          return try await lease.eval("x", timeout: timeout)
        }
      }
    }
    watchdog.end(acquiring)
    tally.check(
      kind, outcome, expected: [.value(.int(start + 1))], permitted: [.timeout, .noContextsAvailable],
      elapsed: ContinuousClock.now - started, limit: limits.leaseWait + limits.answer(after: timeout * 3))
  }
}

/// A caller's answer is due within its limit (its timeout, plus the interrupt grace, plus the
/// soak's slack): every operation registers here while it waits, and a plain OS thread —
/// not a Swift task, so that it still runs when every task is stuck — flags those overdue.
final class SoakWatchdog: Sendable {
  private struct Entry {
    let what: String
    let started: ContinuousClock.Instant
    let due: ContinuousClock.Instant
    var flagged = false
  }

  private struct State {
    var next: UInt64 = 0
    var entries: [UInt64: Entry] = [:]
    var unanswered = 0
    var answeredLate = 0
    var examples: [String] = []
  }

  private let state = Mutex(State())

  /// Registers a caller that must be answered within `limit`; pass the id to ``end(_:)``.
  func begin(_ what: String, limit: Duration) -> UInt64 {
    let now = ContinuousClock.now
    return state.withLock { state in
      state.next += 1
      state.entries[state.next] = Entry(what: what, started: now, due: now + limit)
      return state.next
    }
  }

  /// The caller was answered (calling it again does nothing).
  func end(_ id: UInt64) {
    let late = state.withLock { state -> Entry? in
      guard let entry = state.entries.removeValue(forKey: id), entry.flagged else { return nil }
      state.answeredLate += 1
      return entry
    }
    if let late {
      SoakOutput.line(
        String(
          format: "  answered late: %@ after %.2f s", late.what,
          (ContinuousClock.now - late.started).inSeconds))
    }
  }

  /// Runs `body` as a watched caller.
  func watch<T>(_ what: @autoclosure () -> String, limit: Duration, _ body: () async throws -> T)
    async rethrows
    -> T
  {
    let id = begin(what(), limit: limit)
    defer { end(id) }
    return try await body()
  }

  /// Flags every caller past its limit, once; prints the first few.
  func sweep() {
    let now = ContinuousClock.now
    let flagged = state.withLock { state -> [String] in
      var flagged: [String] = []
      for (id, entry) in state.entries where !entry.flagged && entry.due < now {
        state.entries[id]!.flagged = true
        state.unanswered += 1
        let text = String(
          format: "%@ (limit %.2f s)", entry.what, (entry.due - entry.started).inSeconds)
        if state.examples.count < 10 { state.examples.append(text) }
        flagged.append(text)
      }
      return flagged
    }
    for text in flagged.prefix(5) { SoakOutput.line("  UNANSWERED: \(text)") }
  }

  /// Callers not answered within their limit (answered late or never).
  var unanswered: Int { state.withLock { $0.unanswered } }
  var answeredLate: Int { state.withLock { $0.answeredLate } }
  var examples: [String] { state.withLock { $0.examples } }
  /// Callers still waiting now.
  var inFlight: [String] { state.withLock { $0.entries.values.map(\.what).sorted() } }
}

/// The hostile scenarios started, for the bound on abandoned threads.
final class SoakLedger: Sendable {
  private struct State {
    var starts: [ContinuousClock.Instant] = []
    var forever = 0
    var stoppedForever: [String: Int] = [:]
    var byKind: [String: Int] = [:]
    var maxAbandoned = 0
    var maxBound = 0
    var violations: [String] = []
  }

  private let state = Mutex(State())
  /// How long a hostile scenario may keep a thread abandoned after it started.
  let window: Duration

  init(window: Duration) { self.window = window }

  /// A hostile scenario starts; `pool` when it can get a pool's context abandoned (counted in
  /// the bound), `forever` when its thread never comes back.
  func started(_ kind: String, pool: Bool, forever: Bool = false) {
    let now = ContinuousClock.now
    state.withLock { state in
      state.byKind[kind, default: 0] += 1
      if forever { state.forever += 1 } else if pool { state.starts.append(now) }
    }
  }

  /// A scenario counted as stuck for good was stopped after all (its interrupt landed): its
  /// thread is not held.
  func stopped(forever kind: String) {
    state.withLock { state in
      state.forever -= 1
      state.stoppedForever[kind, default: 0] += 1
    }
  }

  /// The bound now: the scenarios stuck for good, plus those started within the window.
  func bound(at now: ContinuousClock.Instant = .now) -> Int {
    state.withLock { state in
      state.forever + state.starts.reversed().prefix { now - $0 < window }.count
    }
  }

  var forever: Int { state.withLock { $0.forever } }
  /// Scenarios meant to be stuck for good whose interrupt landed, by kind.
  var stoppedForever: [String: Int] { state.withLock { $0.stoppedForever } }
  var total: Int { state.withLock { $0.byKind.values.reduce(0, +) } }
  var byKind: [String: Int] { state.withLock { $0.byKind } }
  var maxAbandoned: Int { state.withLock { $0.maxAbandoned } }
  var maxBound: Int { state.withLock { $0.maxBound } }
  var violations: [String] { state.withLock { $0.violations } }

  /// Checks a sample of the abandoned threads against the bound.
  func sample(abandoned: Int, elapsed: Duration) {
    let bound = bound()
    let first = state.withLock { state -> Bool in
      state.maxAbandoned = max(state.maxAbandoned, abandoned)
      state.maxBound = max(state.maxBound, bound)
      guard abandoned > bound else { return false }
      state.violations.append(
        String(format: "%d abandoned threads > bound %d at %.1f s", abandoned, bound, elapsed.inSeconds))
      return state.violations.count == 1
    }
    if first {
      SoakOutput.line(
        String(
          format: "  BOUND EXCEEDED: %d abandoned threads > %d at %.1f s", abandoned, bound, elapsed.inSeconds
        ))
    }
  }
}

/// The soak's output: whole lines written at once, so that they stay whole between SwiftPy's
/// log lines and reach a pipe as they are made.
enum SoakOutput {
  static func line(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
  }
}

/// The process's figures: resident memory and OS threads, from /proc.
enum ProcessFigures {
  static func residentMiB() -> Double { Double(MemCheckCommand.residentBytes()) / 1_048_576 }

  /// OS threads of this process (`Threads:` in /proc/self/status); 0 where /proc is absent.
  static func threads() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("Threads:") {
      return Int(line.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)) ?? 0
    }
    return 0
  }
}

extension Duration {
  /// The duration in seconds (named apart from the library's internal `seconds`).
  var inSeconds: Double {
    let (seconds, attoseconds) = components
    return Double(seconds) + Double(attoseconds) / 1e18
  }

  /// A duration of `seconds`, which may have a fraction.
  static func soakSeconds(_ seconds: Double) -> Duration { .nanoseconds(Int64(seconds * 1e9)) }
}
