/// A hook of a `.module` step (see ``HotReloadStep/module(_:preReload:postReload:)``).
///
/// A string literal is a Python hook: `.module("lib", postReload: "init")`.
public enum ReloadHook: Sendable, ExpressibleByStringLiteral {
  /// A module-level function of the reloaded module, called without arguments in every
  /// context: before the reload (the old code's function; skipped where the module is not
  /// loaded yet) or after it (the new code's). An exception fails the run and is reported.
  case python(String)
  /// Swift code run once per run: before the module is reloaded anywhere, or after it has
  /// been reloaded everywhere. An error thrown fails the run and is reported.
  case swift(@Sendable () async throws -> Void)

  public init(stringLiteral name: String) { self = .python(name) }
}

/// One step of a hot reloader's run, run in order on every change in the watched set (and once
/// when the reloader starts), as hotload's steps are. A failing step ends the run; the
/// error is reported in its ``ReloadEvent`` and the reloader keeps watching.
public struct HotReloadStep: Sendable {
  enum Kind: Sendable {
    case clearTerminal
    case module(String, preReload: ReloadHook?, postReload: ReloadHook?, importMissing: Bool)
    case shell(String)
    case swift(@Sendable (_ files: [String]) async throws -> Void)
  }

  let kind: Kind

  /// Clears the terminal (writes the ANSI clear-screen sequence to standard output), so that each
  /// run's output starts on a clean screen: hotload's `ClearTerminal()`.
  public static let clearTerminal = HotReloadStep(kind: .clearTerminal)

  /// Runs `module` again in every context of every pool (and every context from
  /// ``PythonRuntime/newContext(mode:)``), importing it where it is not loaded yet, with
  /// optional hooks: hotload's `ReloadedPythonModule`. It re-runs on every change in the
  /// watched set, whichever file changed (a change in a helper re-runs the entry point). The
  /// modules loaded from the changed files, and the modules that import them, are reloaded
  /// with it (with the first `.module` step when there are several).
  public static func module(_ module: String, preReload: ReloadHook? = nil, postReload: ReloadHook? = nil)
    -> HotReloadStep
  {
    HotReloadStep(kind: .module(module, preReload: preReload, postReload: postReload, importMissing: true))
  }

  /// Runs `command` with `/bin/sh -c`, its output going to the process's; a failure status
  /// fails the run.
  public static func shell(_ command: String) -> HotReloadStep { HotReloadStep(kind: .shell(command)) }

  /// Runs Swift code, given the changed files (empty at the first run).
  public static func swift(_ body: @escaping @Sendable (_ files: [String]) async throws -> Void)
    -> HotReloadStep
  {
    HotReloadStep(kind: .swift(body))
  }

  var moduleName: String? {
    if case .module(let name, _, _, _) = kind { return name }
    return nil
  }
}
