import ArgumentParser
import Foundation
import SwiftPy
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `swiftpy repl`: Python's interactive prompt, in one context leased for the whole session.
struct ReplCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "repl",
    abstract: "An interactive Python prompt in a SwiftPy context; state persists for the session.",
    discussion: """
      As python's own prompt: >>> and ... prompts, a statement runs when it is complete (a \
      blank line ends a block), expression values are shown with repr (not None) and kept in _, \
      errors show their traceback. On a terminal the line can be edited (arrows, Home/End, \
      Ctrl-A/E/K/U, Backspace) and the up and down arrows go through the history, kept in \
      ~/.swiftpy_history. Ctrl-C drops the line at the prompt and interrupts running code; \
      Ctrl-D at an empty prompt (or the end of standard input) leaves with status 0, \
      exit(n) with n. With --watch, changed modules are reloaded in the background and a line \
      says so.
      """)

  @OptionGroup var options: PythonOptions

  @Option(
    parsing: .upToNextOption,
    help: ArgumentHelp(
      "Files and directories whose changes reload the modules loaded from them (directories are "
        + "put on sys.path).", valueName: "paths"))
  var watch: [String] = []

  func run() async throws {
    let searchPath = watch.map { path in
      let directory = Self.isDirectory(path) ? path : (path as NSString).deletingLastPathComponent
      return URL(fileURLWithPath: directory.isEmpty ? "." : directory).standardizedFileURL.path
    }
    let py = try await PythonRuntime.start(options.configuration(paths: searchPath))
    let editor =
      isatty(STDIN_FILENO) == 1 ? LineEditor(history: LineHistory(file: LineHistory.defaultFile)) : nil
    var lease = try await Self.startSession(py)
    let running = RunningStatement()
    let interrupts = InterruptSignal { _ in running.interrupt() }
    if editor != nil {
      ExitStatus.printError(
        "Python \(py.installation.version) in a SwiftPy \(py.defaultPool.mode) context (swiftpy "
          + "\(SwiftPyCommand.version)). Ctrl-D leaves.")
    }
    if !watch.isEmpty {
      let reloader = try await py.hotReload(watch: watch)
      Task { for await event in reloader.events { Self.report(event, editor: editor) } }
    }

    var lines: [String] = []
    while true {
      let prompt = lines.isEmpty ? ">>> " : "... "
      let input: LineEditor.Input
      if let editor {
        input = await Self.read(prompt, with: editor)
      } else {
        let line = try await lease.call("__main__", "_swiftpy_readline", args: [.string(prompt)])
        input = line.stringValue.map { .line(String($0.dropLast($0.hasSuffix("\n") ? 1 : 0))) } ?? .endOfFile
      }
      switch input {
      case .endOfFile where lines.isEmpty:
        withExtendedLifetime(interrupts) {}
        return
      case .endOfFile:
        lines.append("")  // the end of input completes a block, as a blank line does
      case .interrupted:
        lines = []
        ExitStatus.printError("KeyboardInterrupt")
        continue
      case .line(let line):
        lines.append(line)
      }
      do {
        running.begin(lease)
        defer { running.end() }
        let outcome = try await lease.call(
          "__main__", "_swiftpy_push", args: [.string(lines.joined(separator: "\n"))])
        if outcome.stringValue == "more" && input != .endOfFile { continue }
        if let status = outcome.intValue { Foundation.exit(Int32(truncatingIfNeeded: status)) }
      } catch let error as PythonError where error.type == "KeyboardInterrupt" {
        // Ctrl-C after the statement had ended, while its output was being flushed.
        ExitStatus.printError("KeyboardInterrupt")
      } catch let error as SwiftPyError where [.closed, .contextLost].contains(error.code) {
        // The statement was stuck in a blocking C call (time.sleep, input) and did not stop
        // when interrupted: its context was given up, and the session's state with it.
        ExitStatus.printError(
          "KeyboardInterrupt\nswiftpy: the statement did not stop (a blocking call); its context was "
            + "replaced and a new session starts: earlier variables are gone.")
        lease = try await Self.startSession(py)
      }
      lines = []
    }
  }

  /// A lease of the default pool's context with the REPL's helpers and a fresh `__main__`.
  static func startSession(_ py: PythonRuntime) async throws -> PythonLease {
    let lease = try await py.bind(waitingUpTo: .seconds(30))  // a replacement may be starting
    try await PythonMain.define(in: lease)
    _ = try await lease.call("__main__", "_swiftpy_repl_start")
    return lease
  }

  /// A line from the terminal, read on a thread of its own: the read blocks.
  static func read(_ prompt: String, with editor: LineEditor) async -> LineEditor.Input {
    await withCheckedContinuation { continuation in
      Thread { continuation.resume(returning: editor.readLine(prompt: prompt)) }.start()
    }
  }

  /// One line for a reload, above the prompt; the traceback of a failed one.
  static func report(_ event: ReloadEvent, editor: LineEditor?) {
    let files = event.files.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
    let notice: String
    if let error = event.error {
      if let error = error as? PythonError { ExitStatus.printError(error.traceback) }
      notice =
        "[swiftpy] \(files) changed: reload failed (\((error as? PythonError)?.type ?? "\(error)")); "
        + "the previous code stays live"
    } else if !event.modules.isEmpty {
      notice = "[swiftpy] \(files) changed: reloaded \(event.modules.joined(separator: ", "))"
    } else {
      return
    }
    if let editor { editor.printAbove(notice) } else { ExitStatus.printError(notice) }
  }

  static func isDirectory(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
  }
}

/// The lease running a statement, for Ctrl-C (a SIGINT on a dispatch queue) to interrupt.
private final class RunningStatement: Sendable {
  private let lease = Mutex<PythonLease?>(nil)

  func begin(_ lease: PythonLease) { self.lease.withLock { $0 = lease } }
  func end() { lease.withLock { $0 = nil } }
  func interrupt() { _ = lease.withLock { $0?.context.interrupt() } }
}
