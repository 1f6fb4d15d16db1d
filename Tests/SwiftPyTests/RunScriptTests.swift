import Foundation
import Testing

@testable import SwiftPy

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `swiftpy run` and `swiftpy eval` against what `python` does, through the built binary.
@Suite("swiftpy run and eval", .timeLimit(.minutes(2)))
struct RunScriptTests {
  struct Outcome {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  /// Runs `swiftpy` with `input` on stdin, stdout and stderr to files (pipes a user's shell
  /// would not make unbuffered: PYTHONUNBUFFERED is unset).
  static func swiftpy(
    _ arguments: [String], input: String = "", in directory: String? = nil,
    whileRunning: ((Process) async -> Void)? = nil
  ) async throws -> Outcome {
    try await launch(
      CommandLineTests.executable, arguments, input: input, in: directory, whileRunning: whileRunning)
  }

  /// The Python SwiftPy discovers, run as a command the same way: what `swiftpy` must match.
  static func python(_ arguments: [String]) async throws -> Outcome {
    let installation = try await DiscoveryCache.discover(.automatic).installation
    return try await launch(URL(fileURLWithPath: installation.executable), arguments)
  }

  static func launch(
    _ executable: URL, _ arguments: [String], input: String = "", in directory: String? = nil,
    whileRunning: ((Process) async -> Void)? = nil
  ) async throws -> Outcome {
    let scratch = try ScratchDirectory()
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.filter { $0.key != "PYTHONUNBUFFERED" }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let inputFile = scratch.write("stdin", input)
    try processLaunches.withLock {
      process.standardInput = FileHandle(forReadingAtPath: inputFile)
      process.standardOutput = FileHandle(forWritingAtPath: scratch.write("stdout", ""))
      process.standardError = FileHandle(forWritingAtPath: scratch.write("stderr", ""))
      try process.run()
    }
    await whileRunning?(process)
    while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
    return Outcome(
      status: process.terminationStatus, stdout: scratch.read("stdout"), stderr: scratch.read("stderr"))
  }

  /// A temporary directory, removed when the value goes away.
  final class ScratchDirectory {
    let path: String

    init() throws {
      path =
        FileManager.default.temporaryDirectory.appendingPathComponent("swiftpy-run-\(UUID().uuidString)").path
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
      let file = path + "/" + name
      _ = FileManager.default.createFile(atPath: file, contents: Data(text.utf8))
      return file
    }

    func read(_ name: String) -> String {
      (try? String(contentsOfFile: path + "/" + name, encoding: .utf8)) ?? ""
    }
  }

  @Test("a script gets sys.argv, __main__, __file__, its directory on sys.path and stdin")
  func scriptEnvironment() async throws {
    let scratch = try ScratchDirectory()
    scratch.write("helper.py", "GREETING = 'hello from helper'\n")
    let script = scratch.write(
      "script.py",
      """
      import sys, helper
      print(sys.argv)
      print(__name__, __file__)
      print(sys.path[0])
      print(helper.GREETING)
      print('read:', input(), sys.stdin.read().split())
      """)
    // From elsewhere: the script's own directory, not the current one, makes `helper` importable.
    let outcome = try await Self.swiftpy(
      ["run", script, "one", "--two", "-c", "x"], input: "first line\nsecond third\n", in: "/")
    #expect(outcome.status == 0, "\(outcome.stderr)")
    #expect(
      outcome.stdout == """
        ['\(script)', 'one', '--two', '-c', 'x']
        __main__ \(script)
        \(scratch.path)
        hello from helper
        read: first line ['second', 'third']

        """)
    #expect(outcome.stderr == "")
  }

  @Test(
    "exit statuses as python gives them",
    arguments: [
      ("pass", 0, ""), ("raise SystemExit(3)", 3, ""), ("import sys; sys.exit(None)", 0, ""),
      ("raise SystemExit('bye now')", 1, "bye now\n"), ("import sys; sys.exit(True)", 1, ""),
    ])
  func exitStatuses(code: String, status: Int32, stderr: String) async throws {
    let outcome = try await Self.swiftpy(["run", "-c", code])
    #expect(outcome.status == status, "\(outcome.stderr)")
    #expect(outcome.stderr == stderr)
  }

  @Test("an uncaught exception: the traceback Python prints, exactly, on stderr, and status 1")
  func uncaughtException() async throws {
    let scratch = try ScratchDirectory()
    let script = scratch.write(
      "fails.py", "def divide(a, b):\n    return a / b\n\nprint('before')\ndivide(1, 0)\n")
    let outcome = try await Self.swiftpy(["run", script])
    let python = try await Self.python([script])
    #expect(outcome.status == 1)
    #expect(outcome.stdout == "before\n")
    #expect(outcome.stderr.hasPrefix("Traceback (most recent call last):\n  File \"\(script)\", line 5"))
    #expect(outcome.stderr.hasSuffix("\nZeroDivisionError: division by zero\n"))
    #expect(outcome.stderr == python.stderr)
  }

  @Test("-c code: the traceback exactly as python -c prints it (with the code's lines from 3.13)")
  func codeTraceback() async throws {
    let code = "def f():\n    raise ValueError('bad value')\nf()"
    let outcome = try await Self.swiftpy(["run", "-c", code])
    let python = try await Self.python(["-c", code])
    #expect(outcome.status == 1)
    #expect(outcome.stderr.hasSuffix("ValueError: bad value\n"), "\(outcome.stderr)")
    #expect(outcome.stderr == python.stderr)
  }

  @Test("a syntax error is shown as Python shows it, without a traceback")
  func syntaxError() async throws {
    let outcome = try await Self.swiftpy(["run", "-c", "x = (1,"])
    let python = try await Self.python(["-c", "x = (1,"])
    #expect(outcome.status == 1)
    #expect(outcome.stderr.hasPrefix("  File \"<string>\", line 1\n"), "\(outcome.stderr)")
    #expect(outcome.stderr.contains("SyntaxError: "))
    #expect(outcome.stderr == python.stderr)
  }

  @Test("output through pipes, without PYTHONUNBUFFERED: all of it, in order, before the exit status")
  func outputInOrderThenStatus() async throws {
    let code = """
      import sys, atexit
      atexit.register(lambda: print('at exit'))
      for i in range(2000):
          print('line', i)
          if i % 500 == 0:
              print('error', i, file=sys.stderr)
      sys.stdout.write('no newline')
      sys.exit(7)
      """
    let outcome = try await Self.swiftpy(["run", "-c", code])
    #expect(outcome.status == 7)
    let expected = (0..<2000).map { "line \($0)\n" }.joined() + "no newlineat exit\n"
    #expect(outcome.stdout == expected)
    #expect(outcome.stderr == "error 0\nerror 500\nerror 1000\nerror 1500\n")
  }

  @Test("-c sets sys.argv[0] to '-c' and '' first on sys.path; -m runs a module as __main__")
  func codeAndModule() async throws {
    let code = try await Self.swiftpy([
      "run", "-c", "import sys; print(sys.argv, repr(sys.path[0]))", "a", "-b",
    ])
    #expect(code.stdout == "['-c', 'a', '-b'] ''\n", "\(code.stderr)")
    let scratch = try ScratchDirectory()
    scratch.write("tool.py", "import sys\nprint(__name__, sys.argv[1:])\nraise SystemExit(5)\n")
    let module = try await Self.swiftpy(["run", "-m", "tool", "x", "--y"], in: scratch.path)
    #expect(module.stdout == "__main__ ['x', '--y']\n", "\(module.stderr)")
    #expect(module.status == 5)
  }

  @Test("KeyboardInterrupt: raised, or Ctrl-C while the script runs — its traceback and status 130")
  func keyboardInterrupt() async throws {
    let raised = try await Self.swiftpy(["run", "-c", "raise KeyboardInterrupt"])
    #expect(raised.status == 130)
    #expect(raised.stderr.hasSuffix("KeyboardInterrupt\n"), "\(raised.stderr)")

    let scratch = try ScratchDirectory()
    let started = scratch.path + "/started"
    let interrupted = try await Self.swiftpy(
      ["run", "-c", "open(\(pythonLiteral(started)), 'w').close()\nwhile True: pass"],
      whileRunning: { process in
        while !FileManager.default.fileExists(atPath: started) {
          try? await Task.sleep(for: .milliseconds(10))
        }
        kill(process.processIdentifier, SIGINT)
      })
    #expect(interrupted.status == 130)
    await ctrlCTracebackExpectations {
      #expect(
        interrupted.stderr.hasPrefix(
          "Traceback (most recent call last):\n  File \"<string>\", line 2, in <module>\n"),
        "\(interrupted.stderr)")
      #expect(interrupted.stderr.hasSuffix("\nKeyboardInterrupt\n"), "shown bare, as Python shows it")
    }
  }

  @Test("eval prints the repr of the value; an error, its traceback and status 1")
  func eval() async throws {
    let value = try await Self.swiftpy(["eval", "{'a': [1, 2.5, None], 'b': 'x' * 3}"])
    #expect(value.status == 0)
    #expect(value.stdout == "{'a': [1, 2.5, None], 'b': 'xxx'}\n")
    let error = try await Self.swiftpy(["eval", "1 / 0"])
    let python = try await Self.python(["-c", "1 / 0"])
    #expect(error.status == 1)
    #expect(error.stderr.hasSuffix("ZeroDivisionError: division by zero\n"), "\(error.stderr)")
    #expect(error.stderr == python.stderr)
    #expect(error.stdout == "")
  }

  /// `text` as a Python string literal.
  func pythonLiteral(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
  }
}
