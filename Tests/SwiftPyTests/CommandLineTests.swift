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
}
