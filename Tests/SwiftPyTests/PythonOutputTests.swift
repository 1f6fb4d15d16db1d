import Foundation
import Logging
import Synchronization
import Testing

@testable import SwiftPy

@Suite("Python output")
struct PythonOutputTests {
  // MARK: Through a pipe, as a program's output

  /// Prints from the context and from a Python thread, on both streams, then waits for a line
  /// on stdin; after it, prints more and leaves a line unfinished. `swiftpy run` never shuts
  /// its runtime down, so the end also shows that nothing is lost at exit.
  static let script = """
    import sys, threading
    print('one')
    print('two', file=sys.stderr)
    t = threading.Thread(target=lambda: print('from a thread'))
    t.start(); t.join()
    print('ready')
    sys.stdin.readline()
    print('after')
    t = threading.Thread(target=lambda: print('thread at exit', file=sys.stderr))
    t.start(); t.join()
    sys.stdout.write('unfinished')
    """

  @Test(
    "print reaches a pipe at once, in order, and nothing is lost at exit",
    arguments: [PythonContext.Mode.worker, .subinterp], [false, true])
  func printReachesAPipePromptly(mode: PythonContext.Mode, unbuffered: Bool) async throws {
    try await Self.checkPromptOutput(mode: mode, unbuffered: unbuffered)
  }

  @Test(
    "print from an ownGIL context reaches a pipe at once, in order, and nothing is lost at exit",
    .enabled("ownGIL is refused on Python 3.12.0–3.12.3") { try await availableModes().contains(.ownGIL) },
    arguments: [false, true])
  func ownGILPrintReachesAPipePromptly(unbuffered: Bool) async throws {
    try await Self.checkPromptOutput(mode: .ownGIL, unbuffered: unbuffered)
  }

  static func checkPromptOutput(mode: PythonContext.Mode, unbuffered: Bool) async throws {
    let child = try Child(["run", "--mode", mode.rawValue, "-c", script], unbuffered: unbuffered)
    // Read while the program waits for its go-ahead: output held back would not be here yet.
    let early = await child.readStdout(until: "ready\n")
    let earlyErrors = await child.readStderr(until: "two\n")
    let prompt = child.release()
    let (status, stdout, stderr) = await child.finish()
    #expect(prompt, "the output was not there while the program was still running: \(early) / \(earlyErrors)")
    #expect(early == "one\nfrom a thread\nready\n")
    #expect(earlyErrors == "two\n")
    #expect(stdout == "one\nfrom a thread\nready\nafter\nunfinished")
    #expect(stderr == "two\nthread at exit\n")
    #expect(status == 0, "\(stderr)")
  }

  /// Two writers on different routes — a worker context and a Python thread of the main
  /// interpreter — print to the same descriptor at once, switching threads as often as CPython
  /// can: `print` writes text and line break separately, yet every line arrives whole.
  @Test("lines printed at once to one descriptor stay whole", arguments: [false, true])
  func linesStayWholeOnOneDescriptor(unbuffered: Bool) async throws {
    let code = """
      import sys, threading
      sys.setswitchinterval(1e-6)
      def spam(letter):
          for _ in range(2000):
              print(letter * 40)
      t = threading.Thread(target=spam, args=('B',))
      t.start(); spam('A'); t.join()
      """
    let child = try Child(["run", "--mode", "worker", "-c", code], unbuffered: unbuffered)
    _ = child.release()
    let (status, stdout, stderr) = await child.finish()
    #expect(status == 0, "\(stderr)")
    let lines = stdout.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.last == "")
    let broken = lines.dropLast().filter {
      $0 != String(repeating: "A", count: 40) && $0 != String(repeating: "B", count: 40)
    }
    #expect(broken.isEmpty, "lines mixed together: \(broken.prefix(3))")
    #expect(lines.count == 4001)
  }

  // MARK: Policies

  @Test("a handler gets each line labelled with its context; partial lines at flush and shutdown")
  func handlerPolicy() async throws {
    for mode in try await availableModes() {
      let lines = Lines()
      let py = try await PythonRuntime.start(
        .init(defaultPool: .init(size: 1, mode: mode), output: .handler { lines.append($0) }))
      let ctx = try await py.newContext(mode: mode)
      try await ctx.exec(
        """
        import sys
        print('hello', 'world')
        print('oops', file=sys.stderr)
        print('flushed', end='', flush=True)
        """)
      try await py.exec("print('one-shot')")
      let pool = py.defaultPool.contexts[0].name
      #expect(
        lines.all == [
          PythonOutputLine(context: ctx.name, stream: .stdout, text: "hello world"),
          PythonOutputLine(context: ctx.name, stream: .stderr, text: "oops"),
          PythonOutputLine(context: ctx.name, stream: .stdout, text: "flushed"),
          PythonOutputLine(context: pool, stream: .stdout, text: "one-shot"),
        ], "\(mode)")
      if mode != .worker {
        // A sub-interpreter's own threads speak for its context.
        try await ctx.exec(
          "import threading\nt = threading.Thread(target=print, args=('threaded',))\nt.start(); t.join()")
        #expect(
          lines.all.last == PythonOutputLine(context: ctx.name, stream: .stdout, text: "threaded"), "\(mode)")
      }
      try await ctx.exec("import sys; sys.stdout.write('partial')")
      let before = lines.all.count
      #expect(!lines.all.contains { $0.text == "partial" }, "\(mode)")
      await py.shutdown()
      #expect(
        lines.all.dropFirst(before) == [
          PythonOutputLine(context: ctx.name, stream: .stdout, text: "partial")
        ], "\(mode)")
    }
  }

  @Test("a context's partial line is delivered when it closes")
  func partialLineAtClose() async throws {
    for mode in try await availableModes() {
      let lines = Lines()
      try await withRuntime(.init(defaultPool: .init(size: 1), output: .handler { lines.append($0) })) { py in
        let ctx = try await py.newContext(mode: mode)
        try await ctx.exec("import sys; sys.stderr.write('no line break')")
        #expect(lines.all.isEmpty, "\(mode)")
        await ctx.close()
        #expect(
          lines.all == [PythonOutputLine(context: ctx.name, stream: .stderr, text: "no line break")],
          "\(mode)")
      }
    }
  }

  @Test("a logger gets stdout at info and stderr at warning, with the context in metadata")
  func loggerPolicy() async throws {
    let records = Records()
    let logger = Logger(label: "python") { _ in CollectingLogHandler(records: records) }
    try await withRuntime(.init(defaultPool: .init(size: 1), output: .logger(logger))) { py in
      let ctx = try await py.newContext(mode: .worker)
      try await ctx.exec("import sys\nprint('to the log')\nprint('a warning', file=sys.stderr)")
      #expect(
        records.all == [
          Record(level: .info, message: "to the log", context: ctx.name, stream: "stdout"),
          Record(level: .warning, message: "a warning", context: ctx.name, stream: "stderr"),
        ])
    }
  }

  @Test("discard drops output, and a capture still takes what it asks for")
  func discardPolicy() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1), output: .discard)) { py in
      let value = try await py.eval("print('gone') or 7")
      #expect(value == .int(7))
      let (_, output) = try await py.capturingOutput { try await py.exec("print('kept')") }
      #expect(output.stdout == "kept\n")
    }
  }

  // MARK: Capture

  @Test("capture returns a call's stdout and stderr with its result")
  func captureReturnsOutputWithResult() async throws {
    for mode in try await availableModes() {
      let lines = Lines()
      try await withRuntime(
        .init(defaultPool: .init(size: 1, mode: mode), output: .handler { lines.append($0) })
      ) {
        py in
        let ctx = try await py.newContext(mode: mode)
        try await ctx.exec(
          """
          import sys
          def work():
              print('hello')
              sys.stderr.write('warning\\n')
              sys.stdout.buffer.write(b'bytes\\n')
              sys.__stdout__.write('dunder\\n')
              sys.stderr.write('lone \\udc80\\n')
              print('tty' if sys.stdout.isatty() else 'no tty', end='')
              return 42
          """)
        let (value, output) = try await py.capturingOutput { try await ctx.call("__main__", "work") }
        #expect(value == .int(42))
        #expect(output.stdout == "hello\nbytes\ndunder\nno tty", "\(mode)")
        #expect(output.stderr == "warning\nlone \\udc80\n", "\(mode)")
        #expect(lines.all.isEmpty, "\(mode): \(lines.all)")
        // The capture is over: the next call follows the policy.
        try await ctx.exec("print('after')")
        #expect(lines.all == [PythonOutputLine(context: ctx.name, stream: .stdout, text: "after")], "\(mode)")
      }
    }
  }

  @Test("capture takes only its own calls' output, not that of calls running beside it")
  func captureDoesNotLeak() async throws {
    let lines = Lines()
    try await withRuntime(.init(defaultPool: .init(size: 1), output: .handler { lines.append($0) })) { py in
      let mode = try await availableModes().last!
      let a = try await py.newContext(mode: mode)
      let b = try await py.newContext(mode: mode)
      let rounds = 20
      let captured = try await withThrowingTaskGroup(of: PythonOutput?.self) { group in
        for round in 0..<rounds {
          group.addTask {
            try await py.capturingOutput { try await a.exec("print('captured \(round)')") }.output
          }
          group.addTask {
            try await a.exec("print('free a \(round)')")
            return nil
          }
          group.addTask {
            try await b.exec("print('free b \(round)')")
            return nil
          }
        }
        return try await group.reduce(into: [PythonOutput]()) { if let output = $1 { $0.append(output) } }
      }
      #expect(Set(captured.map(\.stdout)) == Set((0..<rounds).map { "captured \($0)\n" }))
      #expect(captured.allSatisfy { $0.stderr.isEmpty })
      let free = lines.all.map(\.text)
      #expect(free.count == 2 * rounds, "\(free)")
      #expect(free.allSatisfy { $0.hasPrefix("free") }, "\(free)")
    }
  }

  @Test("two contexts printing at once never mix within a line")
  func concurrentContextsKeepLinesWhole() async throws {
    let lines = Lines()
    try await withRuntime(.init(defaultPool: .init(size: 1), output: .handler { lines.append($0) })) { py in
      let mode = try await availableModes().last!
      let contexts = [try await py.newContext(mode: mode), try await py.newContext(mode: mode)]
      let letters = ["A", "B"]
      try await withThrowingTaskGroup(of: Void.self) { group in
        for (context, letter) in zip(contexts, letters) {
          group.addTask { try await context.exec("for _ in range(2000):\n    print('\(letter)' * 40)") }
        }
        try await group.waitForAll()
      }
      for (context, letter) in zip(contexts, letters) {
        let mine = lines.all.filter { $0.context == context.name }
        #expect(mine.count == 2000)
        #expect(mine.allSatisfy { $0.text == String(repeating: letter, count: 40) }, "\(mine.prefix(3))")
      }
    }
  }

  @Test("a handler runs with the GIL released: an interpreter sharing it runs meanwhile")
  func handlerRunsWithoutTheGIL() async throws {
    // The handler of one worker context waits until another worker context, on the same GIL,
    // has run Python: had the handler kept the GIL, that could not happen until it gave up.
    let flags = Flags()
    let handler: @Sendable (PythonOutputLine) -> Void = { line in
      guard line.text == "wait" else { return }
      flags.entered.store(true, ordering: .releasing)
      let patience = ContinuousClock.now + .seconds(120)  // a hang guard, not a timing
      while !flags.ranMeanwhile.load(ordering: .acquiring) {
        if ContinuousClock.now > patience {
          flags.gaveUp.store(true, ordering: .releasing)
          return
        }
        sched_yield()
      }
    }
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: .worker), output: .handler(handler))) {
      py in
      let printer = try await py.newContext(mode: .worker)
      let other = try await py.newContext(mode: .worker)
      let printed = Task {
        defer { flags.printed.store(true, ordering: .releasing) }
        try await printer.exec("print('wait')")
      }
      while !flags.entered.load(ordering: .acquiring) && !flags.printed.load(ordering: .acquiring) {
        await Task.yield()
      }
      let entered = flags.entered.load(ordering: .acquiring)
      #expect(entered, "the handler never got the line")
      #expect(try await other.eval("1 + 1") == .int(2))
      flags.ranMeanwhile.store(true, ordering: .releasing)
      try await printed.value
      let gaveUp = flags.gaveUp.load(ordering: .acquiring)
      #expect(!gaveUp, "the other context ran only after the handler gave up")
    }
  }
}

// MARK: Helpers

/// What the GIL test's handler and test body tell each other.
private final class Flags: Sendable {
  let entered = Atomic(false)
  let ranMeanwhile = Atomic(false)
  let gaveUp = Atomic(false)
  let printed = Atomic(false)
}

/// Lines a handler received, in order.
private final class Lines: Sendable {
  private let lines = Mutex<[PythonOutputLine]>([])
  func append(_ line: PythonOutputLine) { lines.withLock { $0.append(line) } }
  var all: [PythonOutputLine] { lines.withLock { $0 } }
}

private struct Record: Equatable {
  let level: Logger.Level
  let message: String
  let context: String?
  let stream: String?
}

private final class Records: Sendable {
  private let records = Mutex<[Record]>([])
  func append(_ record: Record) { records.withLock { $0.append(record) } }
  var all: [Record] { records.withLock { $0 } }
}

/// A swift-log backend that keeps what it is given.
private struct CollectingLogHandler: LogHandler {
  let records: Records
  var metadata: Logger.Metadata = [:]
  var logLevel: Logger.Level = .trace

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    records.append(
      Record(
        level: event.level, message: "\(event.message)",
        context: event.metadata?["python.context"].map { "\($0)" },
        stream: event.metadata?["python.stream"].map { "\($0)" }))
  }
}

/// The `swiftpy` executable with its three standard streams on pipes. Reads block, so they run
/// on threads of their own, never on Swift's cooperative ones. The test drives it step by step:
/// each pipe is read by one thread at a time.
private final class Child: @unchecked Sendable {
  private let process = Process()
  private let stdin: Pipe
  private let pipes: [Pipe]  // stdout, stderr
  private var received = [Data(), Data()]
  private let released = Atomic<Bool>(false)
  /// Guards against a hang only: a program whose output never comes is let go after this, and
  /// the test then fails because the output came late, not because of the time it took.
  private static let patience = 120.0

  init(_ arguments: [String], unbuffered: Bool) throws {
    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONUNBUFFERED"] = unbuffered ? "1" : nil
    process.executableURL = CommandLineTests.executable
    process.arguments = arguments
    process.environment = environment
    (stdin, pipes) = try processLaunches.withLock { [process] in
      let stdin = Pipe()
      let pipes = [Pipe(), Pipe()]
      process.standardInput = stdin
      process.standardOutput = pipes[0]
      process.standardError = pipes[1]
      try process.run()
      return (stdin, pipes)
    }
    DispatchQueue.global().asyncAfter(deadline: .now() + Self.patience) { [self] in _ = release() }
  }

  /// Lets the program go on: a line on its stdin, then end of file. True for the first caller —
  /// the test, unless it waited in vain and the hang guard came first.
  func release() -> Bool {
    guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return false }
    try? stdin.fileHandleForWriting.write(contentsOf: Data("go\n".utf8))
    try? stdin.fileHandleForWriting.close()
    return true
  }

  func readStdout(until marker: String) async -> String { await read(0, until: marker) }
  func readStderr(until marker: String) async -> String { await read(1, until: marker) }

  /// Reads stream `index` until what came holds `marker`, or the stream ends; returns all of it.
  private func read(_ index: Int, until marker: String) async -> String {
    await offThread { [self] in
      let handle = pipes[index].fileHandleForReading
      while !String(decoding: received[index], as: UTF8.self).contains(marker) {
        let data = handle.availableData
        if data.isEmpty { break }
        received[index].append(data)
      }
      return String(decoding: received[index], as: UTF8.self)
    }
  }

  /// Waits for the exit; returns the status and everything each stream carried.
  func finish() async -> (status: Int32, stdout: String, stderr: String) {
    await offThread { [self] in
      let errors = DispatchGroup()
      DispatchQueue.global().async(group: errors) { [self] in
        received[1].append(pipes[1].fileHandleForReading.readDataToEndOfFile())
      }
      received[0].append(pipes[0].fileHandleForReading.readDataToEndOfFile())
      errors.wait()
      process.waitUntilExit()
      return (
        process.terminationStatus, String(decoding: received[0], as: UTF8.self),
        String(decoding: received[1], as: UTF8.self)
      )
    }
  }
}

/// Runs `body` on a new thread of its own.
private func offThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
  await withCheckedContinuation { continuation in Thread { continuation.resume(returning: body()) }.start() }
}
