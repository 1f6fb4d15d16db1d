import Foundation
import Testing

@testable import SwiftPy

/// Python's exit work — `atexit` handlers, buffered writes flushed — happens in every mode,
/// whether the host shuts its runtime down or just exits (ARCHITECTURE.md, "Exit work").
@Suite("Python's exit work")
struct ExitWorkTests {
  /// `swiftpy eval` exits without a shutdown and without running Python's exit work itself
  /// (unlike `swiftpy run`): the process-exit hook must do it. Run as users run it:
  /// PYTHONUNBUFFERED unset, standard output a pipe.
  @Test(arguments: ProcessStartTests.modes)
  func aProcessThatJustExitsRunsItsExitWork(mode: PythonContext.Mode) throws {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("swiftpy-exit-\(UUID()).txt")
      .path
    defer { try? FileManager.default.removeItem(atPath: file) }
    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONUNBUFFERED"] = nil
    let expression = """
      (__import__('atexit').register(print, 'atexit ran'), \
      __import__('builtins').__dict__.setdefault('kept', open(\(String(reflecting: file)), 'w')), \
      kept.write('written, never closed'), __import__('sys').stdout.write('no newline, no flush'))[-1]
      """
    let (status, output) = try runProgram(
      CommandLineTests.executable.path, ["eval", "--mode", mode.rawValue, expression],
      environment: environment)
    #expect(status == 0, "\(output)")
    #expect(output.contains("no newline, no flush"), "\(output)")
    #expect(output.contains("atexit ran"), "\(output)")
    #expect((try? String(contentsOfFile: file, encoding: .utf8)) == "written, never closed")
  }

  /// A worker runtime's shutdown flushes what Python left in the main interpreter's buffers,
  /// though the main interpreter lives on.
  @Test func shutdownFlushesTheMainInterpretersFiles() async throws {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("swiftpy-flush-\(UUID()).txt")
      .path
    defer { try? FileManager.default.removeItem(atPath: file) }
    let py = try await PythonRuntime.start(.init(defaultPool: .init(size: 1, mode: .worker)))
    try await py.exec(
      "import builtins\nbuiltins._swiftpy_test_unclosed = open(\(String(reflecting: file)), 'w')\n"
        + "builtins._swiftpy_test_unclosed.write('flushed at shutdown')")
    #expect((try? String(contentsOfFile: file, encoding: .utf8)) == "")
    await py.shutdown()
    #expect((try? String(contentsOfFile: file, encoding: .utf8)) == "flushed at shutdown")
  }
}
