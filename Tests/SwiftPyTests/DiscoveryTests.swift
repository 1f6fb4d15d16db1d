import Foundation
import Testing

@testable import SwiftPy

/// The pyenv installs of the machine running the tests, found the way a user's shell would
/// (PYENV_ROOT, else HOME/.pyenv), so that nothing here depends on who runs the tests.
enum Pyenv {
  static let environment = ProcessInfo.processInfo.environment

  static var versionsDirectory: String? {
    let root =
      environment["PYENV_ROOT"].flatMap { $0.isEmpty ? nil : $0 }
      ?? environment["HOME"].map { $0 + "/.pyenv" }
    return root.map { $0 + "/versions" }
  }

  /// The directory of the newest installed version whose name satisfies `matches`, e.g. "3.13.0".
  static func version(where matches: (PythonVersion) -> Bool) -> (name: String, prefix: String)? {
    guard let directory = versionsDirectory,
      let names = try? FileManager.default.contentsOfDirectory(atPath: directory)
    else { return nil }
    let versions = names.compactMap { name -> (PythonVersion, String)? in
      guard let (major, minor, micro, rest) = PythonDiscovery.leadingVersion(Substring(name)), let micro,
        rest.isEmpty,
        FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)/bin/python3")
      else { return nil }
      return (PythonVersion(major, minor, micro), name)
    }
    guard let best = versions.filter({ matches($0.0) }).max(by: { $0.0 < $1.0 }) else { return nil }
    return (best.1, "\(directory)/\(best.1)")
  }

  static var python313: String? {
    version { $0.major == 3 && $0.minor == 13 }.map { $0.prefix + "/bin/python3" }
  }
  static var python311: String? {
    version { $0.major == 3 && $0.minor == 11 }.map { $0.prefix + "/bin/python3" }
  }
  /// A 3.12 before 3.12.4, whose own-GIL interpreters crash.
  static var early312: (name: String, prefix: String)? {
    version { $0.major == 3 && $0.minor == 12 && $0.micro < 4 }
  }
}

/// The test process's environment without the variables that would short-circuit the search.
func searchEnvironment(_ changes: [String: String?] = [:]) -> [String: String] {
  var environment = ProcessInfo.processInfo.environment
  environment["SWIFTPY_PYTHON"] = nil
  environment["VIRTUAL_ENV"] = nil
  for (key, value) in changes { environment[key] = value }
  return environment
}

private func makeTemporaryDirectory() throws -> String {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent(
    "swiftpy-discovery-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url.path
}

private func resolved(_ path: String) -> String {
  URL(fileURLWithPath: path).resolvingSymlinksInPath().path
}

@Suite("Python discovery")
struct DiscoveryTests {
  @Test("automatic discovery finds a Python ≥ 3.12 with a libpython, and says what it passed over")
  func automaticOnThisMachine() throws {
    let clock = ContinuousClock()
    var report: DiscoveryReport?
    let elapsed = try clock.measure {
      report = try PythonDiscovery.discover(environment: searchEnvironment())
    }
    let found = try #require(report)
    print("automatic discovery took \(elapsed):\n\(found)")

    #expect(found.installation.version >= PythonVersion(3, 12))
    #expect(FileManager.default.fileExists(atPath: found.installation.libraryPath))
    #expect(found.candidates.filter { $0.verdict == .chosen }.count == 1)
    // This machine's python3 is 3.11: it must be listed as passed over, with a reason.
    if Pyenv.python311 != nil {
      #expect(
        found.candidates.contains {
          if case .passedOver(let reason) = $0.verdict { return !reason.isEmpty }
          return false
        })
    }
  }

  @Test(
    "the default environment is the process's own",
    .enabled(
      if: ProcessInfo.processInfo.environment["SWIFTPY_PYTHON"] == nil,
      "SWIFTPY_PYTHON is set: discovery stops there, so the default search is not what runs"))
  func defaultEnvironment() throws {
    let report = try PythonDiscovery.discover()
    #expect(FileManager.default.fileExists(atPath: report.installation.libraryPath))
  }

  @Test("SWIFTPY_PYTHON naming a missing file is an error, not a fallback")
  func swiftpyPythonMissing() {
    let error = #expect(throws: SwiftPyError.self) {
      try PythonDiscovery.discover(environment: searchEnvironment(["SWIFTPY_PYTHON": "/nonexistent/python3"]))
    }
    #expect(error?.code == .unusablePython)
    #expect(error?.message.contains("SWIFTPY_PYTHON") == true)
    #expect(error?.message.contains("/nonexistent/python3") == true)
    #expect(error?.message.contains("no such file") == true)
  }

  @Test(
    "SWIFTPY_PYTHON naming a Python 3.11 is refused with the minimum version",
    .enabled(if: Pyenv.python311 != nil))
  func swiftpyPythonTooOld() throws {
    let python311 = try #require(Pyenv.python311)
    let error = #expect(throws: SwiftPyError.self) {
      try PythonDiscovery.discover(environment: searchEnvironment(["SWIFTPY_PYTHON": python311]))
    }
    #expect(error?.code == .unusablePython)
    #expect(error?.message.contains("3.12") == true)
    #expect(error?.message.contains(python311) == true)
  }

  @Test(
    "SWIFTPY_PYTHON naming a 3.12.0–3.12.3 libpython: chosen, without ownGIL",
    .enabled(if: Pyenv.early312 != nil))
  func swiftpyPythonLibrary() throws {
    let early = try #require(Pyenv.early312)
    let library = early.prefix + "/lib/libpython3.12.so"
    let report = try PythonDiscovery.discover(environment: searchEnvironment(["SWIFTPY_PYTHON": library]))
    let installation = report.installation
    #expect(installation.version.description == early.name)
    #expect(installation.libraryPath == library)
    #expect(installation.foundBy == "SWIFTPY_PYTHON")
    #expect(installation.supportsOwnGIL == false)
    #expect(installation.ownGILUnavailableReason?.contains("3.12.4") == true)
    #expect(report.candidates.map(\.verdict) == [.chosen])
  }

  @Test("an explicit executable is used as configured", .enabled(if: Pyenv.python313 != nil))
  func explicitExecutable() throws {
    let python313 = try #require(Pyenv.python313)
    let installation = try PythonDiscovery.discover(.executable(python313), environment: searchEnvironment())
      .installation
    #expect(installation.foundBy == "configuration")
    #expect(installation.version.minor == 13)
    #expect(installation.supportsOwnGIL)
    #expect(installation.ownGILUnavailableReason == nil)
    #expect(!installation.isVirtualEnvironment)
    #expect(FileManager.default.fileExists(atPath: installation.libraryPath))
  }

  @Test("an explicit library finds its executable beside it", .enabled(if: Pyenv.python313 != nil))
  func explicitLibrary() throws {
    let prefix = try #require(Pyenv.version { $0.minor == 13 }).prefix
    let library = prefix + "/lib/libpython3.13.so"
    let installation = try PythonDiscovery.discover(.library(library), environment: searchEnvironment())
      .installation
    #expect(installation.libraryPath == library)
    #expect(installation.executable.hasPrefix(prefix + "/bin/"))
  }

  @Test("an unusable explicit choice names the choice and the reason")
  func explicitMissing() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let error = #expect(throws: SwiftPyError.self) {
      try PythonDiscovery.discover(
        .library(directory + "/libpython3.13.so"), environment: searchEnvironment())
    }
    #expect(error?.code == .unusablePython)
    #expect(error?.message.contains(directory + "/libpython3.13.so") == true)
  }

  @Test(
    "an active virtual environment is chosen, with its site-packages", .enabled(if: Pyenv.python313 != nil))
  func virtualEnvironment() throws {
    let python313 = try #require(Pyenv.python313)
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let venv = directory + "/venv"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python313)
    process.arguments = ["-m", "venv", "--without-pip", venv]
    try processLaunches.withLock { try process.run() }
    process.waitUntilExit()
    try #require(process.terminationStatus == 0)

    let report = try PythonDiscovery.discover(environment: searchEnvironment(["VIRTUAL_ENV": venv]))
    let installation = report.installation
    #expect(installation.foundBy == "VIRTUAL_ENV")
    #expect(installation.isVirtualEnvironment)
    #expect(resolved(installation.prefix) == resolved(venv))
    let venvSitePackages = resolved(venv + "/lib/python3.13/site-packages")
    #expect(installation.sitePackages.first.map(resolved) == venvSitePackages)
    // The venv has no libpython of its own: the base installation's is loaded.
    let base = resolved(
      URL(fileURLWithPath: python313).deletingLastPathComponent().deletingLastPathComponent().path)
    #expect(resolved(installation.basePrefix) == base)
    #expect(resolved(installation.libraryPath).hasPrefix(base + "/lib/"))
    #expect(FileManager.default.fileExists(atPath: installation.libraryPath))
  }

  @Test("a broken VIRTUAL_ENV is passed over, not fatal")
  func brokenVirtualEnvironment() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let report = try PythonDiscovery.discover(environment: searchEnvironment(["VIRTUAL_ENV": directory]))
    #expect(report.installation.foundBy != "VIRTUAL_ENV")
    let venvCandidate = try #require(report.candidates.first { $0.source == "VIRTUAL_ENV" })
    #expect(venvCandidate.verdict == .passedOver("no bin/python3 or bin/python in it"))
  }

  @Test("with nowhere to look, the error lists every place tried and how to fix it")
  func nothingFound() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let environment = ["PATH": directory, "PYENV_ROOT": directory, "HOME": directory]
    // Homebrew and /usr are fixed places: on a machine that has a Python there, it must be found.
    let fixed = (12...20).flatMap { minor in
      [
        "/opt/homebrew/bin/python3.\(minor)", "/usr/local/opt/python@3.\(minor)/bin/python3.\(minor)",
        "/home/linuxbrew/.linuxbrew/bin/python3.\(minor)", "/usr/local/bin/python3.\(minor)",
        "/usr/bin/python3.\(minor)",
      ]
    }
    guard !fixed.contains(where: FileManager.default.isExecutableFile(atPath:)) else {
      let report = try PythonDiscovery.discover(environment: environment)
      #expect(["Homebrew", "/usr/local/bin", "/usr/bin"].contains(report.installation.foundBy))
      return
    }
    let error = #expect(throws: SwiftPyError.self) {
      try PythonDiscovery.discover(environment: environment)
    }
    #expect(error?.code == .pythonNotFound)
    let message = error?.message ?? ""
    for expected in [
      "SWIFTPY_PYTHON: not set", "VIRTUAL_ENV: not set", "python3 on PATH", "pyenv versions", directory,
      "Homebrew", "/usr/bin/python3.N", "--enable-shared", "set SWIFTPY_PYTHON",
    ] {
      #expect(message.contains(expected), "missing \(expected) in: \(message)")
    }
  }

  @Test("old pyenv versions are passed over by name without being run", .enabled(if: Pyenv.python311 != nil))
  func oldVersionsSkippedByName() throws {
    let report = try PythonDiscovery.discover(environment: searchEnvironment())
    let old = try #require(
      report.candidates.first {
        $0.source == "pyenv versions" && $0.path.contains(Pyenv.version { $0.minor == 11 }!.name)
      })
    guard case .passedOver(let reason) = old.verdict else {
      Issue.record("expected passed over, got \(old.verdict)")
      return
    }
    #expect(reason.contains("not run"))
  }

  @Test("versions order like Python's and print like `python -V`")
  func versions() {
    #expect(PythonVersion(3, 12, 4) > PythonVersion(3, 12, 3))
    #expect(PythonVersion(3, 13, 0, releaseLevel: "beta", serial: 2) < PythonVersion(3, 13, 0))
    #expect(PythonVersion(3, 14, 0, releaseLevel: "candidate", serial: 1).description == "3.14.0rc1")
    #expect(PythonVersion(3, 13, 0).description == "3.13.0")
    #expect(PythonDiscovery.libraryNameVersion("/x/libpython3.12.so.1.0")! == (3, 12, false))
    #expect(PythonDiscovery.libraryNameVersion("/x/libpython3.13t.dylib")! == (3, 13, true))
    #expect(PythonDiscovery.libraryNameVersion("/x/libfoo.so") == nil)
  }
}
