import Foundation
import Testing

@testable import SwiftPy

@Suite("The swiftpy command")
struct CommandLineTests {
  /// The `swiftpy` binary, built beside the test bundle.
  static var executable: URL {
    let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return me.deletingLastPathComponent().appendingPathComponent("swiftpy")
  }

  static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> (
    status: Int32, output: String
  ) {
    try runProgram(executable.path, arguments, environment: environment)
  }

  @Test func infoNamesTheChosenPython() async throws {
    let installation = try await DiscoveryCache.discover(.automatic).installation
    let (status, output) = try Self.run(["info"])
    #expect(status == 0, "\(output)")
    #expect(output.contains("Python \(installation.version)"))
    #expect(output.contains(installation.executable))
    #expect(output.contains(installation.libraryPath))
    #expect(output.contains("found by:      \(installation.foundBy)"))
    #expect(output.contains("modes:"))
    #expect(output.contains("worker"))
    #expect(output.contains("Candidates considered"))
    #expect(output.contains(": chosen"))
  }

  @Test func infoWithABadSwiftpyPythonFailsClearly() throws {
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFTPY_PYTHON"] = "/nonexistent/python3"
    let (status, output) = try Self.run(["info"], environment: environment)
    #expect(status != 0)
    #expect(output.contains("SWIFTPY_PYTHON"))
    #expect(output.contains("/nonexistent/python3"))
  }

  @Test func versionIsPrinted() throws {
    let (status, output) = try Self.run(["--version"])
    #expect(status == 0)
    #expect(output == "0.9.0\n")
  }

  @Test(
    "a Python that is not there: a sentence naming it, and exit status 3", arguments: ["info", "run", "repl"])
  func missingPythonIsASentence(command: String) throws {
    let arguments =
      command == "run"
      ? [command, "--python", "/nonexistent", "-c", "pass"] : [command, "--python", "/nonexistent"]
    let (status, output) = try Self.run(arguments)
    #expect(status == 3)
    #expect(
      output == "swiftpy: no usable Python at /nonexistent (no such file). "
        + "Choose a python 3.12 or newer built with --enable-shared.\n")
  }

  @Test func usageErrorsExitWithTwo() throws {
    let (status, output) = try Self.run(["run", "/nonexistent/script.py"])
    #expect(status == 2)
    #expect(output.contains("Can't open file '/nonexistent/script.py'"), "\(output)")
    let (unknown, _) = try Self.run(["eval", "1", "--no-such-option"])
    #expect(unknown == 2)
  }
}
