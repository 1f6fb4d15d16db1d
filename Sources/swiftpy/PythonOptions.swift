import ArgumentParser
import SwiftPy

/// The options every command that runs Python shares: which Python, and the contexts' mode.
struct PythonOptions: ParsableArguments {
  @Option(
    name: .customLong("python"),
    help: ArgumentHelp(
      "The Python to use: a python executable, a libpython path, or a version such as 3.13 "
        + "(found as python3.13 on PATH).",
      valueName: "path-or-version"))
  var python: String?

  @Option(help: "The contexts' mode: worker, subinterp or ownGIL (default: ownGIL where available).")
  var mode: PythonContext.Mode?

  /// What `--python` asks discovery for: a libpython path is a library; a version (3.13,
  /// 3.12.1) the usable Python of that version discovery finds, else `python3.13` on PATH;
  /// anything else an executable.
  var choice: PythonChoice {
    guard let python else { return .automatic }
    if python.contains("libpython") { return .library(python) }
    guard python.first?.isNumber == true && python.allSatisfy({ $0.isNumber || $0 == "." }) else {
      return .executable(python)
    }
    let usable = (try? PythonDiscovery.discover())?.candidates.first { candidate in
      guard let version = candidate.version,
        version.majorMinor == python || version.description == python
      else { return false }
      switch candidate.verdict {
      case .chosen: return true
      case .passedOver(let reason): return reason.hasPrefix("usable")
      default: return false
      }
    }
    return .executable(usable?.path ?? "python\(python)")
  }

  /// A runtime configuration with `contexts` contexts in the default pool, of the chosen mode.
  func configuration(contexts: Int? = 1, paths: [String] = []) -> PythonRuntime.Configuration {
    .init(python: choice, defaultPool: .init(size: contexts, mode: mode), paths: paths)
  }
}

extension PythonContext.Mode: ExpressibleByArgument {}
