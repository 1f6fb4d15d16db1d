import Foundation
import Testing

@testable import SwiftPy

/// A virtual environment gives the contexts what its own `python` has:
/// `sys.prefix`, `sys.executable`, and its site-packages — the base installation's only when it
/// was made with `--system-site-packages`, and after its own.
@Suite("Virtual environments", .serialized, .timeLimit(.minutes(2)))
struct VirtualEnvironmentTests {
  /// A new virtual environment of the discovered Python (no pip: quick), in a temporary folder.
  static func makeVenv(systemSitePackages: Bool) async throws -> String {
    let base = try await DiscoveryCache.discover(.automatic).installation.executable
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftpy-venv-\(UUID())")
      .path
    let made = try runProgram(
      base,
      ["-m", "venv", "--without-pip"] + (systemSitePackages ? ["--system-site-packages"] : []) + [directory])
    try #require(made.status == 0, "could not create a venv at \(directory): \(made.output)")
    return directory
  }

  /// What the venv's own `python` says, and what a context of a runtime using it says.
  static let report = "(sys.prefix, sys.exec_prefix, [p for p in sys.path if p.endswith('-packages')])"

  static func pythonSays(_ python: String) throws -> String {
    try runProgram(python, ["-c", "import sys; print(repr(\(report)))"]).output
      .trimmingCharacters(in: .whitespacesAndNewlines)
  }

  @Test(arguments: [false, true])
  func contextsSeeWhatTheVenvsPythonSees(systemSitePackages: Bool) async throws {
    let venv = try await Self.makeVenv(systemSitePackages: systemSitePackages)
    defer { try? FileManager.default.removeItem(atPath: venv) }
    let expected = try Self.pythonSays(venv + "/bin/python")
    #expect(expected.contains(venv))
    // Found through VIRTUAL_ENV alone (its bin not on PATH) or SWIFTPY_PYTHON: the venv.
    // (`bin/python3` is a link straight to the base python: following it loses the venv.)
    let ways = [
      ("VIRTUAL_ENV", venv), ("SWIFTPY_PYTHON", venv + "/bin/python"),
      ("SWIFTPY_PYTHON", venv + "/bin/python3"),
    ]
    for (variable, value) in ways {
      let installation = try PythonDiscovery.discover(environment: searchEnvironment([variable: value]))
        .installation
      #expect(installation.isVirtualEnvironment, "\(variable)=\(value)")
      #expect(installation.prefix == venv, "\(variable)=\(value)")
    }
    // A runtime on it: its contexts see what the venv's python sees.
    try await withRuntime(
      .init(python: .executable(venv + "/bin/python3"), defaultPool: .init(size: 1, mode: isolatedMode))
    ) { (py) async throws in
      let seen = try await py.eval("repr((lambda sys: \(Self.report))(__import__('sys')))")
      #expect(seen == .string(expected))
      #expect(try await py.eval("__import__('sys').executable") == .string(venv + "/bin/python3"))
    }
  }
}
