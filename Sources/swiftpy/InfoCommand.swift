import ArgumentParser
import SwiftPy

/// `swiftpy info`: which Python SwiftPy chose, how, and what it can do.
struct InfoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info",
    abstract: "Show the Python SwiftPy discovers, every candidate considered, and the modes it supports.")

  @OptionGroup var options: PythonOptions

  func run() async throws {
    let choice = options.choice
    let report = try PythonDiscovery.discover(choice)
    let installation = report.installation
    print("Python \(installation.version)")
    print("  executable:    \(installation.executable)")
    print("  library:       \(installation.libraryPath)")
    print("  prefix:        \(installation.prefix)")
    if installation.isVirtualEnvironment {
      print("  base prefix:   \(installation.basePrefix) (virtual environment)")
    }
    print("  site-packages: \(installation.sitePackages.joined(separator: ", "))")
    print("  found by:      \(installation.foundBy)")

    // Load it for real: a context (worker unless --mode says otherwise) proves the library
    // initializes.
    let py = try await PythonRuntime.start(
      .init(python: choice, defaultPool: .init(size: 1, mode: options.mode ?? .worker)))
    let version = try await py.eval("__import__('sys').version")
    print("  loaded:        \(version.stringValue ?? "?")")
    let modes = py.supportedModes.map(\.rawValue).joined(separator: ", ")
    print("  modes:         \(modes)")
    if let reason = installation.ownGILUnavailableReason { print("  ownGIL refused: \(reason)") }
    await py.shutdown()

    print("Candidates considered (in discovery order):")
    for candidate in report.candidates { print("  - \(candidate)") }
  }
}
