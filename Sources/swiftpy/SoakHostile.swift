import Foundation
import SwiftPy

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The soak's hostile scenarios: Python that will not stop when SwiftPy asks. One lane per mode
/// runs them one after another; each is checked for its exact outcome and for an answer within
/// its limit, and those that can get a pool's context abandoned count towards the bound on
/// abandoned threads (``SoakLedger``).
///
/// Each holds its thread for `hold` seconds whatever SwiftPy does — long past its timeout and
/// the interrupt grace, so that its context is abandoned — and then lets go, so that the
/// abandoned thread must end; the `forever` ones, run once per mode at the start, never let go.
enum SoakHostile: String, CaseIterable, Sendable {
  /// Nested `try/except BaseException` loops (ten deep) that swallow every interrupt.
  case swallow
  /// `time.sleep(hold)`: a blocking C call.
  case sleep
  /// `os.read` on a pipe nobody writes to (the soak closes its write end after `hold`).
  case read
  /// `threading.Event().wait(hold)`: a lock nobody releases.
  case wait
  /// A lease whose call gets stuck: the call times out, the lease's next call finds its context
  /// lost.
  case leaseStuck = "lease stuck"
  /// A swallowing call whose task is cancelled.
  case cancelSwallow = "cancel swallow"
  /// A context whose `__del__` swallows interrupts and loops when the context closes.
  case teardownDel = "teardown __del__"
  /// A context whose exit work loops: an `atexit` handler (sub-interpreters) or a
  /// `weakref.finalize` callback (worker contexts, whose `atexit` is the main interpreter's).
  case teardownExit = "teardown atexit"

  /// The module each hostile pool is reached through (`soak_<mode>`, routed to `hostile-<mode>`).
  static func module(_ mode: PythonContext.Mode) -> String { "soak_\(mode)" }
  static func pool(_ mode: PythonContext.Mode) -> String { "hostile-\(mode)" }

  /// The hostile code, as a module on the runtime's path.
  static let source = #"""
    """The swiftpy soak's hostile code: each function holds its thread for `hold` seconds, whatever
    SwiftPy does to stop it (for good when `hold` is None)."""
    import os
    import threading
    import time


    def add(a, b):
        return a + b


    def swallow(hold, depth=10):
        end = time.monotonic() + hold
        return _swallow(end, depth)


    def _swallow(end, depth):
        # Swallows every interrupt. A loop's jump back, where an interrupt can land, lies
        # outside its own try but inside the try of the level above, which catches it and goes
        # around again: to escape, interrupts must land at every level one after another.
        while True:
            try:
                if depth:
                    return _swallow(end, depth - 1)
                while time.monotonic() < end:
                    pass
                return "escaped"
            except BaseException:
                pass


    def sleep(hold):
        time.sleep(hold)
        return "slept"


    def read(fd):
        # Blocks until the soak closes the pipe's write end.
        try:
            return os.read(fd, 1)
        finally:
            os.close(fd)


    def read_forever():
        r, w = os.pipe()  # w stays open in this frame, and nobody writes to it
        return os.read(r, 1)


    def wait(hold):
        return threading.Event().wait(hold)


    class Lingering:
        """Swallows interrupts for `hold` seconds when it is destroyed: at the context's close."""

        def __init__(self, hold):
            self.hold = hold

        def __del__(self):
            swallow(self.hold)
    """#

  /// Writes the hostile module, and one `soak_<mode>` module per mode importing it, into a new
  /// directory; returns the directory.
  static func writeModules(modes: [PythonContext.Mode]) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "swiftpy-soak-\(getpid())", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try source.write(
      to: directory.appendingPathComponent("soak_hostile.py"), atomically: true, encoding: .utf8)
    for mode in modes {
      try "from soak_hostile import *\n".write(
        to: directory.appendingPathComponent("\(module(mode)).py"), atomically: true, encoding: .utf8)
    }
    return directory
  }
}

extension SoakCommand {
  /// How the hostile scenarios are run and checked.
  struct HostileRun: Sendable {
    let checker: SoakChecker
    let ledger: SoakLedger
    var py: PythonRuntime { checker.py }
    var tally: SoakTally { checker.tally }
    var watchdog: SoakWatchdog { checker.watchdog }
    var limits: SoakLimits { checker.limits }

    /// The scenarios stuck for good, once for `mode`: a sleep, a read and a wait that never
    /// return. Each is answered with a timeout and leaves one abandoned thread for the rest of
    /// the process.
    func forever(_ mode: PythonContext.Mode) async {
      let module = SoakHostile.module(mode)
      let calls: [(String, String, [PythonValue])] = [
        ("sleep forever", "sleep", [.float(1e6)]), ("read forever", "read_forever", []),
        ("wait forever", "wait", [.none]),
      ]
      await withTaskGroup(of: Void.self) { group in
        for (kind, function, args) in calls {
          ledger.started(kind, pool: true, forever: true)
          group.addTask {
            let abandoned = await stuckCall(
              "hostile \(kind)", mode: mode, module: module, function: function, args: args)
            if !abandoned { ledger.stopped(forever: kind) }
          }
        }
      }
    }

    /// Runs `kind` in `mode` once and checks its outcome.
    func run(_ kind: SoakHostile, _ mode: PythonContext.Mode) async {
      let module = SoakHostile.module(mode)
      let hold = PythonValue.float(limits.hold.inSeconds)
      let name = "hostile \(kind.rawValue)"
      switch kind {
      case .swallow, .sleep, .wait:
        ledger.started(kind.rawValue, pool: true)
        await stuckCall(name, mode: mode, module: module, function: kind.rawValue, args: [hold])
      case .read:
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
          tally.check(name, .other("pipe() failed: errno \(errno)"), expected: [])
          return
        }
        ledger.started(kind.rawValue, pool: true)
        // Nobody writes; the write end closes after `hold`, and the read returns b"".
        let writer = fds[1]
        let closer = Task {
          try? await Task.sleep(for: limits.hold)
          close(writer)
        }
        await stuckCall(name, mode: mode, module: module, function: "read", args: [.int(Int(fds[0]))])
        _ = closer  // closes on its own
      case .leaseStuck:
        ledger.started(kind.rawValue, pool: true)
        await leaseStuck(mode: mode, module: module, hold: hold)
      case .cancelSwallow:
        ledger.started(kind.rawValue, pool: true)
        let delay = Duration.milliseconds(20)
        let task = Task { try await py.call(module, "swallow", args: [hold], timeout: limits.callTimeout) }
        try? await Task.sleep(for: delay)
        let started = ContinuousClock.now
        task.cancel()
        let limit = limits.answer(after: .zero)
        let outcome = await watchdog.watch("\(name) in \(mode)", limit: limit) {
          await SoakOutcome.of { try await task.value }
        }
        let elapsed = ContinuousClock.now - started
        tally.check(
          name, outcome, expected: [.cancelled], elapsed: elapsed, limit: limit,
          note: elapsed >= limits.grace ? "abandoned" : "stopped")
      case .teardownDel, .teardownExit:
        ledger.started(kind.rawValue, pool: false)
        await teardown(kind, mode: mode)
      }
    }

    /// A one-shot call to the hostile pool that must be answered with a timeout; true when it
    /// was answered after the grace (its context abandoned), false when the interrupt stopped it.
    @discardableResult
    private func stuckCall(
      _ name: String, mode: PythonContext.Mode, module: String, function: String, args: [PythonValue]
    ) async -> Bool {
      let timeout = limits.hostileTimeout
      let limit = limits.answer(after: timeout)
      let started = ContinuousClock.now
      let outcome = await watchdog.watch("\(name) in \(mode)", limit: limit) {
        await SoakOutcome.of { try await py.call(module, function, args: args, timeout: timeout) }
      }
      let elapsed = ContinuousClock.now - started
      tally.check(
        name, outcome, expected: [.timeout], elapsed: elapsed, limit: limit,
        note: elapsed >= limits.grace ? "abandoned" : "stopped")
      return elapsed >= limits.grace
    }

    /// A lease keeps state, then its call sticks: the call times out, and every later use of the
    /// lease fails with `contextLost` (its namespace is gone with the context).
    private func leaseStuck(mode: PythonContext.Mode, module: String, hold: PythonValue) async {
      let name = "hostile lease stuck"
      let pool = SoakHostile.pool(mode)
      let acquiring = watchdog.begin("\(name) in \(mode): waiting for a context", limit: limits.leaseWait)
      do {
        try await py.withContext(pool: pool, waitingUpTo: limits.callTimeout) { lease in
          watchdog.end(acquiring)
          await checker.check("\(name): state kept", expected: .value(.int(42)), calls: 2) {
            try await lease.exec("x = 41", timeout: limits.callTimeout)
            return try await lease.eval("x + 1", timeout: limits.callTimeout)
          }
          let limit = limits.answer(after: limits.hostileTimeout)
          let started = ContinuousClock.now
          let stuck = await watchdog.watch("\(name) in \(mode): stuck call", limit: limit) {
            await SoakOutcome.of {
              try await lease.call(module, "sleep", args: [hold], timeout: limits.hostileTimeout)
            }
          }
          let elapsed = ContinuousClock.now - started
          tally.check(
            "\(name): stuck call", stuck, expected: [.timeout], elapsed: elapsed, limit: limit,
            note: elapsed >= limits.grace ? "abandoned" : "stopped")
          // Stopped by the interrupt (not abandoned), the lease would still hold x.
          await checker.check(
            "\(name): next call", expected: .contextLost,
            also: elapsed >= limits.grace ? [] : [.value(.int(41))]
          ) { try await lease.eval("x", timeout: limits.callTimeout) }
        }
      } catch {
        tally.check("\(name): lease", SoakOutcome(error), expected: [])
      }
      watchdog.end(acquiring)
    }

    /// A standalone context whose teardown loops: `close(deadline:)` must return by its deadline
    /// plus the grace, and the context then refuse calls.
    private func teardown(_ kind: SoakHostile, mode: PythonContext.Mode) async {
      let name = "hostile \(kind.rawValue)"
      let hold = limits.hold.inSeconds
      let code =
        switch kind {
        case .teardownDel: "from soak_hostile import Lingering\nkeep = Lingering(\(hold))\nx = 7"
        default:
          mode == .worker
            ? "import weakref\nfrom soak_hostile import swallow\nclass Box: pass\nkeep = Box()\n"
              + "weakref.finalize(keep, swallow, \(hold))\nx = 7"
            : "import atexit\nfrom soak_hostile import swallow\natexit.register(swallow, \(hold))\nx = 7"
        }
      let context: PythonContext
      do {
        context = try await watchdog.watch(
          "\(name) in \(mode): new context", limit: limits.answer(after: limits.callTimeout)
        ) {
          try await py.newContext(mode: mode)
        }
      } catch {
        tally.check("\(name): start", SoakOutcome(error), expected: [])
        return
      }
      await checker.check("\(name): setup", expected: .value(.int(42)), calls: 2) {
        try await context.exec(code, timeout: limits.callTimeout)
        return try await context.eval("x * 6", timeout: limits.callTimeout)
      }
      let limit = limits.answer(after: limits.closeDeadline)
      let started = ContinuousClock.now
      await watchdog.watch("\(name) in \(mode): close", limit: limit) {
        await context.close(deadline: limits.closeDeadline)
      }
      let elapsed = ContinuousClock.now - started
      tally.check(
        "\(name): close returns", .value(.none), expected: [.value(.none)], elapsed: elapsed, limit: limit,
        note: elapsed >= limits.closeDeadline + limits.grace ? "abandoned" : "ended")
      await checker.check("\(name): call after close", expected: .closed) {
        try await context.eval("1", timeout: limits.callTimeout)
      }
    }
  }
}
