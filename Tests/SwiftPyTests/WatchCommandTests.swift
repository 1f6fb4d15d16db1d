import Foundation
import Synchronization
import Testing

@testable import SwiftPy

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite("swiftpy watch", .timeLimit(.minutes(2)))
struct WatchCommandTests {
  /// The output of a running process, read as it comes.
  final class Output: Sendable {
    private let text = Mutex("")

    func append(_ data: Data) { text.withLock { $0 += String(decoding: data, as: UTF8.self) } }
    var all: String { text.withLock { $0 } }

    /// Waits until the output contains `needle` `count` times (at most `timeout`).
    func wait(for needle: String, count: Int = 1, timeout: Duration = .seconds(60)) async -> Bool {
      let end = ContinuousClock.now + timeout
      while all.components(separatedBy: needle).count - 1 < count {
        if ContinuousClock.now > end { return false }
        try? await Task.sleep(for: .milliseconds(5))
      }
      return true
    }
  }

  /// Waits for `process` to exit (at most `timeout`); kills it and returns false if it does not.
  /// Never waits after the kill: Foundation sees the exit only when every process that inherited
  /// its notification socket has gone, and a shell step's child that outlived `swiftpy` (the
  /// fault this guards against) would hold it for its whole life.
  static func exits(_ process: Process, timeout: Duration = .seconds(20)) async -> Bool {
    let end = ContinuousClock.now + timeout
    while process.isRunning {
      guard ContinuousClock.now < end else {
        kill(process.processIdentifier, SIGKILL)
        return false
      }
      try? await Task.sleep(for: .milliseconds(10))
    }
    return true
  }

  /// The processes whose argument vector is `arguments`, from /proc (empty where there is none).
  static func processes(withArguments arguments: [String]) -> [pid_t] {
    let wanted = Data(arguments.joined(separator: "\0").utf8 + [0])
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry in
      guard let pid = pid_t(entry),
        FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") == wanted
      else { return nil }
      return pid
    }
  }

  @Test("write a file, read the output, Ctrl-C: `swiftpy watch` end to end")
  func endToEnd() async throws {
    let dir = try ModuleDirectory()
    let source = { (version: Int) in
      "VERSION = \(version)\nprint('lib runs', VERSION)\n\ndef main():\n    print('main says', VERSION)\n"
    }
    Editor.writeInPlace(dir.libFile, source(1))
    let process = Process()
    process.executableURL = CommandLineTests.executable
    process.arguments = [
      "watch", dir.path, "--module", dir.lib, "--entrypoint", "main", "--run", "echo ran-the-command",
    ]
    process.currentDirectoryURL = URL(fileURLWithPath: dir.path)
    // As a user's shell would have it: Python's output not forced unbuffered, stdout a pipe.
    var environment = ProcessInfo.processInfo.environment
    environment.removeValue(forKey: "PYTHONUNBUFFERED")
    process.environment = environment
    let (stdout, stderr) = try processLaunches.withLock {
      let stdout = Pipe()
      let stderr = Pipe()
      process.standardOutput = stdout
      process.standardError = stderr
      process.standardInput = FileHandle.nullDevice
      try process.run()
      return (stdout, stderr)
    }
    let out = Output()
    let err = Output()
    stdout.fileHandleForReading.readabilityHandler = { out.append($0.availableData) }
    stderr.fileHandleForReading.readabilityHandler = { err.append($0.availableData) }
    defer { if process.isRunning { process.terminate() } }

    // The first run: the terminal cleared, the module run, its entry point called, the command.
    #expect(await out.wait(for: "main says 1"), "\(out.all)\n\(err.all)")
    #expect(out.all.contains("lib runs 1"))
    #expect(await out.wait(for: "ran-the-command"))
    #expect(out.all.contains(StepRunner.clearSequence))
    #expect(await err.wait(for: "started: ran \(dir.lib) in 1 context"), "\(err.all)")

    Editor.writeTemporaryThenRename(dir.libFile, source(2))
    #expect(await out.wait(for: "main says 2"), "\(out.all)\n\(err.all)")
    #expect(await out.wait(for: "ran-the-command", count: 2))
    #expect(await err.wait(for: "\(dir.lib).py changed: ran \(dir.lib)"), "\(err.all)")

    // An error is printed with its traceback; the watch goes on.
    Editor.writeTemporaryThenRename(dir.libFile, "VERSION = (\n")
    #expect(await err.wait(for: "SyntaxError"), "\(err.all)")
    #expect(await err.wait(for: "File \"\(dir.libFile)\", line 1"), "\(err.all)")
    #expect(await err.wait(for: "the previous code stays live"))
    Editor.writeTemporaryThenRename(dir.libFile, source(3))
    #expect(await out.wait(for: "main says 3"), "\(out.all)\n\(err.all)")

    kill(process.processIdentifier, SIGINT)
    #expect(await Self.exits(process), "\(out.all)")
    #expect(process.terminationStatus == 0)
    #expect(await err.wait(for: "stopped", timeout: .seconds(5)), "\(err.all)")
  }

  @Test("a file list on standard input, and Ctrl-C during a long command")
  func filesFromStandardInput() async throws {
    let dir = try ModuleDirectory()
    Editor.writeInPlace(dir.libFile, "print('lib', 1)\n")
    let process = Process()
    process.executableURL = CommandLineTests.executable
    // A duration no other process uses, to find this command's processes in /proc.
    let duration = "600.\(UInt32.random(in: 100_000...999_999))"
    process.arguments = ["watch", "--module", dir.lib, "--no-clear", "--run", "sleep \(duration)"]
    process.currentDirectoryURL = URL(fileURLWithPath: dir.path)
    // As a user's shell would have it: Python's output not forced unbuffered, stdout a pipe.
    process.environment = ProcessInfo.processInfo.environment.filter { $0.key != "PYTHONUNBUFFERED" }
    let (stdin, stdout) = try processLaunches.withLock {
      let stdin = Pipe()
      let stdout = Pipe()
      process.standardInput = stdin
      process.standardOutput = stdout
      process.standardError = stdout
      try process.run()
      return (stdin, stdout)
    }
    let out = Output()
    stdout.fileHandleForReading.readabilityHandler = { out.append($0.availableData) }
    defer { if process.isRunning { process.terminate() } }
    stdin.fileHandleForWriting.write(Data("\(dir.libFile)\n".utf8))
    try stdin.fileHandleForWriting.close()
    #expect(await out.wait(for: "watching \(dir.libFile)"), "\(out.all)")
    #expect(await out.wait(for: "lib 1"), "\(out.all)")
    #expect(!out.all.contains(StepRunner.clearSequence))
    // The first run is in `sleep` now: Ctrl-C stops it anyway, and leaves no process behind.
    kill(process.processIdentifier, SIGINT)
    let exited = await Self.exits(process)
    let sleepers = Self.processes(withArguments: ["sleep", duration])
    for sleeper in sleepers { kill(sleeper, SIGKILL) }
    #expect(sleepers.isEmpty, "the command outlived swiftpy watch")
    #expect(exited, "\(out.all)")
    #expect(!exited || process.terminationStatus == 0)
    #expect(await out.wait(for: "stopped", timeout: .seconds(5)), "\(out.all)")
  }
}
