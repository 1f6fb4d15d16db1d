import ArgumentParser
import Foundation
import SwiftPy

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `swiftpy watch`: hotload's workflow — re-run a module (and its entry point) on every save,
/// clearing the terminal, printing errors and carrying on — in every context of a pool.
struct WatchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "watch",
    abstract: "Re-run a Python module on every save, in every context (hotload's loop).",
    discussion: """
      Watches PATHS (directories recursively) and, at start and on every change, clears the \
      terminal, reloads --module in every context (with the modules loaded from the changed \
      files and those importing them), calls --entrypoint, and runs --run. Errors are printed \
      with their traceback; the previous code stays live and watching goes on. With no PATHS and \
      a pipe on standard input, the files to watch are read from it, one per line \
      (find . -name '*.py' | swiftpy watch --module lib). The current directory and the \
      directories named in PATHS are put on sys.path. Ctrl-C stops it.
      """)

  @Argument(
    help: "Files and directories to watch (default: the current directory, or the files listed on stdin).")
  var paths: [String] = []

  @Option(help: "The module to re-run on every change.")
  var module: String

  @Option(help: "A function of the module to call after each reload.")
  var entrypoint: String?

  @Option(help: "A shell command to run after each reload.")
  var run: String?

  @Flag(name: .customLong("no-clear"), help: "Do not clear the terminal before each run.")
  var noClear = false

  @Option(help: "How many contexts run the module.")
  var contexts = 1

  @OptionGroup var options: PythonOptions

  @Flag(help: "Patch functions and classes in place instead of reloading (see the Hot reload article).")
  var patch = false

  @Option(help: "File extensions that count, comma-separated; empty for every file.")
  var extensions = "py"

  func validate() throws {
    guard contexts >= 1 else { throw ValidationError("--contexts must be at least 1") }
  }

  func run() async throws {
    // Ctrl-C is ours from now on: the first stops cleanly, a second exits at once.
    signal(SIGINT, SIG_IGN)
    let interrupts = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    let (stopRequests, stopRequested) = AsyncStream.makeStream(of: Void.self)
    let count = Counter()
    interrupts.setEventHandler {
      if count.increment() > 1 { _exit(130) }
      stopRequested.yield()
    }
    interrupts.resume()

    var watched = paths
    var searchPath = [FileManager.default.currentDirectoryPath]
    if watched.isEmpty && isatty(STDIN_FILENO) == 0 {
      watched = Self.readLines()
    } else {
      for path in paths {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
          throw ValidationError("\(path) does not exist")
        }
        let directory = isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
        searchPath.append(URL(fileURLWithPath: directory.isEmpty ? "." : directory).standardizedFileURL.path)
      }
    }
    if watched.isEmpty { watched = [FileManager.default.currentDirectoryPath] }

    let py = try await PythonRuntime.start(
      options.configuration(contexts: contexts, paths: Array(NSOrderedSet(array: searchPath)) as! [String]))
    var steps: [HotReloadStep] = noClear ? [] : [.clearTerminal]
    steps.append(.module(module, postReload: entrypoint.map(ReloadHook.python)))
    if let run { steps.append(.shell(run)) }
    let reloader = try await py.hotReload(
      watch: watched, steps: steps, strategy: patch ? .patch : .reload,
      extensions: Set(
        extensions.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }))
    Self.status(
      "watching \(watched.count == 1 ? watched[0] : "\(watched.count) paths") (\(reloader.backendName))")

    let reporter = Task {
      for await event in reloader.events { Self.report(event) }
    }
    for await _ in stopRequests { break }
    Self.status("stopping")
    await reloader.stop()
    await py.shutdown(deadline: .milliseconds(500))
    await reporter.value
    Self.status("stopped")
  }

  /// One line per run on standard error, and the traceback of a failure.
  static func report(_ event: ReloadEvent) {
    let latency =
      Double(event.latency.components.attoseconds) / 1e15 + Double(event.latency.components.seconds) * 1e3
    let modules = event.modules.isEmpty ? "nothing" : event.modules.joined(separator: ", ")
    let trigger =
      switch event.trigger {
      case .start: "started"
      case .change:
        "\(event.files.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")) changed"
      case .onDemand: "reload"
      }
    if let error = event.pythonError {
      let report = error.traceback.isEmpty ? "\(error.type): \(error.message)\n" : error.traceback
      FileHandle.standardError.write(Data(report.utf8))
      status("\(trigger): failed (\(error.type)); the previous code stays live")
    } else if let error = event.error {
      status("\(trigger): failed: \(error)")
    } else {
      status(
        "\(trigger): ran \(modules) in \(event.contexts.count) context\(event.contexts.count == 1 ? "" : "s") "
          + "(\(String(format: "%.1f", latency)) ms)")
    }
  }

  /// A line on standard error, unbuffered.
  static func status(_ line: String) {
    FileHandle.standardError.write(Data("[swiftpy watch] \(line)\n".utf8))
  }

  /// File paths from standard input, one per line, until it ends.
  static func readLines() -> [String] {
    let data = FileHandle.standardInput.readDataToEndOfFile()
    return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
      .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
  }
}

/// Counts SIGINTs (the handler runs on a dispatch queue).
private final class Counter: @unchecked Sendable {  // guarded by `lock`
  private let lock = NSLock()
  private var value = 0

  func increment() -> Int {
    lock.lock()
    defer { lock.unlock() }
    value += 1
    return value
  }
}
