import CPythonShim
import Foundation
import Testing

/// True when tmux is installed: the REPL's terminal tests type into a real terminal through it.
let tmuxAvailable = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/opt/homebrew/bin/tmux"].contains {
  FileManager.default.isExecutableFile(atPath: $0)
}

@Suite("swiftpy repl", .timeLimit(.minutes(2)))
struct ReplTests {
  /// A `swiftpy repl` in a detached tmux session of its own, 120×40, with a HOME of its own
  /// (the history file) and PYTHONUNBUFFERED unset, as a user's terminal would have it.
  final class Terminal {
    let session = "swiftpy-repl-\(UUID().uuidString.prefix(8))"
    let home: String

    init(arguments: [String] = []) throws {
      home = FileManager.default.temporaryDirectory.appendingPathComponent(session).path
      try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
      let command =
        "env -u PYTHONUNBUFFERED HOME=\(home) \(CommandLineTests.executable.path) repl "
        + arguments.joined(separator: " ") + "; echo swiftpy-exited-with-$?; sleep 600"
      // The first command starts the server, which lives on holding the standard output it was
      // given: a pipe there would never reach its end, so its output goes to /dev/null. Spawned
      // and reaped directly: Foundation's `Process.waitUntilExit` was seen never to return for
      // this short-lived client while other tests ran.
      let status = try spawnAndWait(
        [
          "/usr/bin/env", "tmux", "-L", session, "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
          command,
        ])
      guard status == 0 else { throw TmuxFailed(output: "tmux new-session exited with \(status)") }
    }

    deinit {
      _ = try? tmux(["kill-server"])
      try? FileManager.default.removeItem(atPath: home)
    }

    /// Sends keys as `tmux send-keys` names them (`Enter`, `C-c`, `Up`); text is typed literally.
    func send(_ keys: String...) throws { try tmux(["send-keys", "-t", session] + keys) }

    func type(_ line: String) throws {
      try tmux(["send-keys", "-t", session, "-l", line])
      try send("Enter")
    }

    /// The screen and its scrollback, wrapped lines joined, without trailing spaces.
    var screen: String {
      Self.trimmed((try? tmux(["capture-pane", "-p", "-J", "-S", "-200", "-t", session])) ?? "")
    }

    /// Waits until the screen contains `needle` (compared without trailing spaces: a prompt
    /// is ">>>" there) `count` times.
    func wait(for needle: String, count: Int = 1, timeout: Duration = .seconds(30)) async -> Bool {
      let needle = Self.trimmed(needle)
      let end = ContinuousClock.now + timeout
      while screen.components(separatedBy: needle).count - 1 < count {
        if ContinuousClock.now > end { return false }
        try? await Task.sleep(for: .milliseconds(20))
      }
      return true
    }

    static func trimmed(_ text: String) -> String {
      text.split(separator: "\n", omittingEmptySubsequences: false)
        .map { String($0.reversed().drop { $0 == " " }.reversed()) }.joined(separator: "\n")
    }

    @discardableResult
    func tmux(_ arguments: [String]) throws -> String {
      // A server of its own (-L): no test shares or depends on another's, or on the user's.
      let (status, output) = try runProgram("/usr/bin/env", ["tmux", "-L", session] + arguments)
      guard status == 0 else { throw TmuxFailed(output: output) }
      return output
    }

    /// Runs `arguments` with its output discarded and returns its exit status.
    private func spawnAndWait(_ arguments: [String]) throws -> Int32 {
      var actions = posix_spawn_file_actions_t()
      posix_spawn_file_actions_init(&actions)
      defer { posix_spawn_file_actions_destroy(&actions) }
      posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
      posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
      // Nothing else of this process: the tmux server lives on, and a descriptor it inherited
      // (another test's pipe) would keep that pipe open for ever (see `processLaunches`).
      _ = spy_spawn_close_from(&actions, 3)
      let argv = arguments.map { strdup($0) } + [nil]
      defer { argv.forEach { free($0) } }
      var pid: pid_t = 0
      let spawned = processLaunches.withLock { posix_spawn(&pid, arguments[0], &actions, nil, argv, environ) }
      guard spawned == 0 else { throw TmuxFailed(output: "could not start tmux: errno \(spawned)") }
      var status: Int32 = 0
      while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { throw TmuxFailed(output: "waitpid: errno \(errno)") }
      }
      return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    struct TmuxFailed: Error {
      var output: String
    }
  }

  @Test(
    "in a terminal: a multi-line def, values, a traceback, Ctrl-C, history, state, Ctrl-D",
    .enabled(if: tmuxAvailable, "tmux is not installed: the REPL needs a real terminal to type into"))
  func terminalSession() async throws {
    let terminal = try Terminal()
    #expect(await terminal.wait(for: ">>> "), "\(terminal.screen)")

    try terminal.type("def double(x):")
    #expect(await terminal.wait(for: "... "), "\(terminal.screen)")
    try terminal.type("    return x * 2")
    try terminal.type("")
    try terminal.type("double(21)")
    #expect(await terminal.wait(for: "\n42\n>>> "), "\(terminal.screen)")
    try terminal.type("None")
    try terminal.type("_ + 1, 'text'")
    #expect(await terminal.wait(for: "(43, 'text')\n>>> "), "None is not shown; _ is the last value")

    try terminal.type("1 / 0")
    #expect(
      await terminal.wait(
        for: "Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n"),
      "\(terminal.screen)")
    #expect(await terminal.wait(for: "ZeroDivisionError: division by zero\n>>> "), "\(terminal.screen)")

    // Ctrl-C while code runs: KeyboardInterrupt, the prompt back, the state intact.
    try terminal.type("n = 0")
    try terminal.type("while True: n += 1")
    try terminal.type("")
    try await Task.sleep(for: .milliseconds(300))
    try terminal.send("C-c")
    await ctrlCTracebackExpectations {
      #expect(await terminal.wait(for: "\nKeyboardInterrupt\n>>> "), "\(terminal.screen)")
    }
    try terminal.type("n > 0, double(5)")
    #expect(await terminal.wait(for: "(True, 10)\n>>> "), "\(terminal.screen)")

    // Line editing: the up arrow brings back the last line; Ctrl-A, Ctrl-E and Backspace edit it.
    try terminal.send("Up", "Enter")
    #expect(await terminal.wait(for: "(True, 10)\n>>> ", count: 2), "\(terminal.screen)")
    try terminal.send("-l", "ouble(3")
    try terminal.send("C-a", "d", "C-e", ")x", "BSpace", "Enter")
    #expect(await terminal.wait(for: ">>> double(3)\n6\n>>> "), "\(terminal.screen)")

    // Ctrl-C at the prompt drops the line typed so far.
    try terminal.send("-l", "this is not run")
    try terminal.send("C-c")
    await ctrlCTracebackExpectations {
      #expect(await terminal.wait(for: "KeyboardInterrupt\n>>> ", count: 2), "\(terminal.screen)")
    }
    #expect(!terminal.screen.contains("NameError"))

    try terminal.send("C-d")
    #expect(await terminal.wait(for: "swiftpy-exited-with-0"), "\(terminal.screen)")
    let history = try String(contentsOfFile: terminal.home + "/.swiftpy_history", encoding: .utf8)
    #expect(history.hasPrefix("def double(x):\n    return x * 2\ndouble(21)\n"), "\(history)")
    #expect(history.hasSuffix("double(3)\n"))
  }

  @Test(
    "the history of an earlier session is there, on the up arrow",
    .enabled(if: tmuxAvailable, "tmux is not installed: the REPL needs a real terminal to type into"))
  func historyPersists() async throws {
    let terminal = try Terminal()
    try "print('from yesterday', 6 * 7)\n".write(
      toFile: terminal.home + "/.swiftpy_history", atomically: true, encoding: .utf8)
    #expect(await terminal.wait(for: ">>> "), "\(terminal.screen)")
    try terminal.send("Up", "Enter")
    #expect(await terminal.wait(for: "from yesterday 42\n>>> "), "\(terminal.screen)")
    try terminal.type("exit(3)")
    #expect(await terminal.wait(for: "swiftpy-exited-with-3"), "\(terminal.screen)")
  }

  @Test(
    "--watch: a changed module is reloaded in the session, with a line saying so",
    .enabled(if: tmuxAvailable, "tmux is not installed: the REPL needs a real terminal to type into"))
  func watchReloads() async throws {
    let directory = try ModuleDirectory()
    Editor.writeInPlace(directory.libFile, "def answer():\n    return 1\n")
    let terminal = try Terminal(arguments: ["--watch", directory.path])
    #expect(await terminal.wait(for: ">>> "), "\(terminal.screen)")
    try terminal.type("import \(directory.lib)")
    try terminal.type("\(directory.lib).answer() + 100")
    #expect(await terminal.wait(for: "101\n>>> "), "\(terminal.screen)")
    Editor.writeTemporaryThenRename(directory.libFile, "def answer():\n    return 2\n")
    #expect(await terminal.wait(for: "changed: reloaded \(directory.lib)"), "\(terminal.screen)")
    try terminal.type("\(directory.lib).answer() + 100")
    #expect(await terminal.wait(for: "102\n>>> "), "\(terminal.screen)")
    try terminal.send("C-d")
    #expect(await terminal.wait(for: "swiftpy-exited-with-0"), "\(terminal.screen)")
  }

  @Test("from a pipe: statements run as typed, values on stdout, prompts and errors on stderr")
  func fromAPipe() async throws {
    let input = """
      def double(x):
          return x * 2

      double(21)
      name = input()
      Ada
      name.upper()
      1 / 0
      print('still here', double(2))
      for i in range(2):
          print('loop', i)
      """
    let outcome = try await RunScriptTests.swiftpy(["repl"], input: input + "\n")
    #expect(outcome.status == 0, "\(outcome.stderr)")
    #expect(outcome.stdout == "42\n'ADA'\nstill here 4\nloop 0\nloop 1\n")
    #expect(outcome.stderr.hasPrefix(">>> ... ... >>> "), "\(outcome.stderr)")
    #expect(
      outcome.stderr.contains(
        "Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n"), "\(outcome.stderr)")
    #expect(outcome.stderr.contains("ZeroDivisionError: division by zero\n>>> "))
    let exited = try await RunScriptTests.swiftpy(
      ["repl"], input: "print('bye')\nraise SystemExit(4)\nprint('no')\n")
    #expect(exited.status == 4)
    #expect(exited.stdout == "bye\n")
  }
}
