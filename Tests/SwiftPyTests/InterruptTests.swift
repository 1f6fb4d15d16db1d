import Foundation
import Synchronization
import Testing

@testable import SwiftPy

/// Timeouts, cancellation, blocking calls and manual interrupts. The tests assert what
/// happens, never how long it took; `.timeLimit` only stops a hang from blocking the suite.
@Suite("Timeouts, cancellation and interrupts", .timeLimit(.minutes(2)))
struct InterruptTests {
  /// Worker contexts are interrupted through the shared GIL, which a loaded machine (the rest
  /// of the suite runs alongside) can take a while to hand over: a generous grace.
  static let config = PythonRuntime.Configuration(defaultPool: .init(size: 1), interruptGrace: .seconds(3))

  @Test func timeoutInterruptsAPurePythonLoopInEveryMode() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      for mode in try await availableModes() {
        let ctx = try await py.newContext(mode: mode)
        try await ctx.exec("count = 0")
        do {
          try await ctx.exec("while True:\n    count += 1", timeout: .milliseconds(100))
          Issue.record("an endless loop finished")
        } catch let error as SwiftPyError {
          #expect(error.code == .timeout, "mode \(mode)")
          #expect(error.message.contains("while True"), "the error says what was running")
        }
        // The context is usable, with no stale result and no exception leaking in.
        #expect(try await ctx.eval("1 + 1") == 2, "mode \(mode)")
        #expect(try await ctx.eval("count").intValue != nil)
        #expect(try await ctx.eval("'next'") == "next")
        #expect(ctx.isOpen)
        await ctx.close()
      }
    }
  }

  @Test func oneShotAndDefaultTimeouts() async throws {
    var config = Self.config
    config.defaultTimeout = .milliseconds(200)
    try await withRuntime(config) { (py) async throws in
      await #expect(throws: SwiftPyError.self) { try await py.exec("while True: pass") }
      let context = try await py.context(index: 0)
      try await waitUntil { !context.thread.isBusy }  // the interrupted loop has stopped
      #expect(try await py.eval("2 * 21") == 42)
      // An explicit timeout beats the default.
      #expect(try await py.eval("sum(range(10))", timeout: .seconds(30)) == 45)
      // A blocking C call cannot be interrupted: it completes, and a completed call answers
      // with its result (late) — `.timeout` always means "did not complete". On a loaded machine
      // the interrupt may land before the sleep starts, and then rightly stops the call
      // (`aTimedOutIncrementNeverHappened` checks that such a call never ran).
      do {
        #expect(try await py.call("time", "sleep", args: [1.0], timeout: .milliseconds(300)) == .none)
      } catch let error as SwiftPyError {
        #expect(error.code == .timeout, "\(error)")
      }
    }
  }

  @Test func cancellingARunningCallInterruptsIt() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      let ctx = try await py.newContext()
      let flag = Self.flagPath()
      try await ctx.exec(Self.spin)
      let task = Task { try await ctx.call("__main__", "spin", args: [.string(flag)]) }
      try await waitUntil { FileManager.default.fileExists(atPath: flag) }
      task.cancel()
      await #expect(throws: CancellationError.self) { _ = try await task.value }
      #expect(try await ctx.eval("'after'") == "after")
      await ctx.close()
    }
  }

  @Test func cancellingAQueuedCallRemovesItUnrun() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      let ctx = try await py.newContext()
      try await ctx.exec("import os, time\nran = []")
      // Busy until the test says so (a fixed sleep could end before the queued call is seen).
      let flag = Self.flagPath()
      let started = Self.flagPath()
      let blocker = Task {
        try await ctx.exec(
          "open(\(PythonValue.string(started)), 'w').close()\n"
            + "while not os.path.exists(\(PythonValue.string(flag))): time.sleep(0.005)")
      }
      // Not `ctx.thread.isBusy`: that is still true for a moment after the previous call answered,
      // and the call below would then be queued before the blocker instead of behind it.
      try await waitUntil { FileManager.default.fileExists(atPath: started) }
      let queued = Task { try await ctx.exec("ran.append('queued')") }
      try await waitUntil { ctx.queuedCalls == 1 }
      queued.cancel()  // removes it from the queue at once, before the blocker is released
      _ = FileManager.default.createFile(atPath: flag, contents: nil)
      await #expect(throws: CancellationError.self) { try await queued.value }
      try await blocker.value
      #expect(try await ctx.eval("ran") == [])
      await ctx.close()
    }
  }

  @Test func blockingCallIsAbandonedAndReplaced() async throws {
    var config = Self.config
    config.interruptGrace = .milliseconds(500)
    try await withRuntime(config) { (py) async throws in
      let stuck = try await py.context(index: 0)
      do {
        _ = try await py.call("time", "sleep", args: [2.0], timeout: .milliseconds(100))
        Issue.record("a 2 s sleep finished within 100 ms")
      } catch let error as SwiftPyError {
        #expect(error.code == .timeout)
      }
      // After the grace, the context is out of service: routing skips it and it is replaced.
      try await waitUntil { !stuck.isOpen }
      #expect(try await py.eval("'served by the replacement'") == "served by the replacement")
      let replacement = try await py.context(index: 0)
      #expect(replacement !== stuck)
      #expect(py.numContexts() == 1)
      // Calls sent to the abandoned context are refused, not lost.
      await #expect(throws: SwiftPyError.self) { _ = try await stuck.eval("1") }
      // Closing it does not wait for the sleep: its thread ends the interpreter when it returns.
      await stuck.close()
    }
  }

  @Test func manualInterrupt() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      let ctx = try await py.newContext()
      #expect(!py.interrupt(ctx))  // nothing running
      let flag = Self.flagPath()
      try await ctx.exec(Self.spin)
      let task = Task { try await ctx.call("__main__", "spin", args: [.string(flag)]) }
      try await waitUntil { FileManager.default.fileExists(atPath: flag) }
      #expect(py.interrupt(ctx))
      do {
        _ = try await task.value
        Issue.record("an interrupted loop finished")
      } catch let error as PythonError {
        #expect(error.type == "KeyboardInterrupt")
      }
      #expect(try await ctx.eval("3") == 3)
      await ctx.close()
    }
  }

  @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/task"), "reads /proc"))
  func interruptingAStuckCallAnswersItsCaller() async throws {
    var config = Self.config
    config.interruptGrace = .milliseconds(300)
    try await withRuntime(config) { (py) async throws in
      let ctx = try await py.newContext()
      // A read from a pipe nobody writes: interrupts do not end it. The test interrupts it once
      // the thread is in the read (from /proc), never before: a KeyboardInterrupt landing
      // earlier would end the call.
      try await ctx.exec("import os\nreader, writer = os.pipe()")
      let reader = try await ctx.eval("reader").decode(Int.self)
      let writer = try await ctx.eval("writer").decode(Int.self)
      // No timeout: only the interrupt (and, as the read ignores it, the abandonment) answers.
      let call = Task { try await ctx.exec("os.read(reader, 1)") }
      try await waitUntil { Self.someThreadReads(fd: reader) }
      #expect(ctx.interrupt())
      do {
        try await call.value
        Issue.record("the stuck call returned normally")
      } catch let error as SwiftPyError {
        #expect(error.code == .closed)
      }
      await ctx.close()  // returns at once: nobody waits for the abandoned thread
      #expect(!ctx.isOpen)
      // Let the abandoned thread go.
      if let pipe = FileHandle(forWritingAtPath: "/proc/self/fd/\(writer)") { pipe.write(Data("x".utf8)) }
    }
  }

  /// Whether a thread of this process is blocked in `read(fd, …)`, from /proc's syscall files.
  static func someThreadReads(fd: Int) -> Bool {
    #if arch(arm64)
      let readSyscall = "63"
    #else
      let readSyscall = "0"  // x86-64
    #endif
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.contains { task in
      guard let line = try? String(contentsOfFile: "/proc/self/task/\(task)/syscall", encoding: .utf8)
      else { return false }
      let fields = line.split(separator: " ")
      return fields.count > 1 && fields[0] == readSyscall && fields[1] == "0x\(String(fd, radix: 16))"
    }
  }

  /// An interrupt can land inside importlib while it holds the import lock (between
  /// `_imp.acquire_lock()` and the `with` that releases it). Held here on purpose: after the
  /// interrupted job, the lock is given back, so the interpreter's other threads still import.
  /// Before, they waited for ever — on the main interpreter, every worker context did. (An
  /// isolated context, so that the lock held meanwhile is its own, not the whole suite's.)
  @Test func anInterruptNeverLeavesTheImportLockHeld() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: isolatedMode))) { (py) async throws in
      let ctx = try await py.newContext(mode: isolatedMode)
      do {
        try await ctx.exec(
          "import _imp\n_imp.acquire_lock()\n_imp.acquire_lock()\nwhile True: pass",
          timeout: .milliseconds(200))
        Issue.record("the loop returned")
      } catch let error as SwiftPyError {
        #expect(error.code == .timeout, "\(error)")
      }
      #expect(try await ctx.eval("__import__('_imp').lock_held()") == false)
      // Another thread of the interpreter imports.
      let module = "swiftpy_import_lock_\(UInt32.random(in: 0...UInt32.max))"
      try await ctx.exec(
        """
        import threading, importlib.util
        found = []
        importer = threading.Thread(target=lambda: found.append(importlib.util.find_spec('\(module)')))
        importer.start()
        importer.join(20)
        """, timeout: .seconds(30))
      #expect(try await ctx.eval("found") == [.none])
    }
  }

  @Test func theMainInterpreterIsNeverAbandoned() async throws {
    var config = Self.config
    config.interruptGrace = .milliseconds(200)
    try await withRuntime(config) { (py) async throws in
      do {
        try await py.interpreters.main.exec("import time\ntime.sleep(0.6)", timeout: .milliseconds(50))
        Issue.record("no timeout")
      } catch let error as SwiftPyError {
        guard error.code == .timeout else { throw error }
      }
      // After the sleep returns, the main interpreter serves calls again — here and in a new runtime.
      try await py.interpreters.main.exec("x = 1")
      try await withRuntime(.init(defaultPool: .init(size: 1))) { (other) async throws in
        try await other.interpreters.main.exec("y = 2")
      }
    }
  }

  @Test func shutdownDoesNotWaitForAGuestThreadInABlockingCall() async throws {
    let py = try await PythonRuntime.start(
      .init(defaultPool: .init(size: 1), interruptGrace: .milliseconds(200)))
    let interp = try await py.interpreters.create(isolated: py.supportedModes.contains(.ownGIL))
    let flag = Self.flagPath()
    try await interp.exec("import time\ndef slow(flag):\n    time.sleep(3)\n    open(flag, 'w').close()")
    let guest = interp.callInThread("__main__", "slow", args: [.string(flag)])
    try await Task.sleep(for: .milliseconds(50))
    await py.shutdown(deadline: .milliseconds(100))  // returns though the guest still sleeps
    // The guest's blocking call had not ended when shutdown returned.
    #expect(!FileManager.default.fileExists(atPath: flag), "shutdown waited for the guest's blocking call")
    #expect(!interp.isAlive)
    _ = await guest.result
  }

  @Test func interpreterCallsTimeOutToo() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      let interp = try await py.interpreters.create(isolated: py.supportedModes.contains(.ownGIL))
      do {
        try await interp.exec("while True: pass", timeout: .milliseconds(100))
        Issue.record("no timeout")
      } catch let error as SwiftPyError {
        guard error.code == .timeout else { throw error }
      }
      try await interp.exec("x = 1")
      try await interp.close()
    }
  }

  /// Announces that it runs by creating the file at `flag`, then loops forever in Python.
  static let spin = """
    def spin(flag):
        open(flag, 'w').close()
        while True:
            pass
    """

  static func flagPath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("swiftpy-flag-\(UUID())").path
  }
}

/// Polls `condition` until it holds (the suite's time limit stops a hang).
func waitUntil(_ condition: () async throws -> Bool) async throws {
  while try await !condition() { try await Task.sleep(for: .milliseconds(5)) }
}
