import FileWatching

extension PythonRuntime {
  /// Watches `paths` and, on every change, reloads in every context of every pool (and every
  /// context from ``newContext(mode:)``) the modules loaded from the changed files, the modules
  /// that import them, and `modules` — each context between two of its jobs. The common case
  /// of ``hotReload(watch:steps:strategy:extensions:runAtStart:)``; nothing runs at start.
  ///
  /// - Parameters:
  ///   - paths: files and directories (watched recursively, new subdirectories included).
  ///   - modules: modules run again on every change, whichever file changed (an entry point),
  ///     where they are loaded.
  ///   - strategy: ``ReloadStrategy/reload`` or ``ReloadStrategy/patch``.
  ///   - extensions: the files that count, by extension; empty for every file.
  public func hotReload(
    watch paths: [String], modules: [String] = [], strategy: ReloadStrategy = .reload,
    extensions: Set<String> = ["py"]
  ) async throws -> HotReloader {
    for module in modules { try PythonImports.check(module) }
    let steps = modules.map {
      HotReloadStep(kind: .module($0, preReload: nil, postReload: nil, importMissing: false))
    }
    return try makeHotReloader(
      paths: paths, steps: steps, strategy: strategy, extensions: extensions, runAtStart: false)
  }

  /// hotload's loop for the whole runtime: watches `paths` and, on every change (and once at
  /// start, unless `runAtStart` is false), runs `steps` in order. A `.module` step reloads its
  /// module in every context; the modules loaded from the changed files and those importing them
  /// are reloaded with the first `.module` step. A failing step ends the run: its error is in the
  /// run's ``ReloadEvent`` (with the Python traceback), the previous code stays live, and the
  /// reloader keeps watching. See <doc:HotReload>.
  ///
  /// ```swift
  /// let reloader = try await py.hotReload(
  ///   watch: ["."], steps: [.clearTerminal, .module("lib", postReload: "main")])
  /// ```
  public func hotReload(
    watch paths: [String], steps: [HotReloadStep], strategy: ReloadStrategy = .reload,
    extensions: Set<String> = ["py"], runAtStart: Bool = true
  ) async throws -> HotReloader {
    for name in steps.compactMap(\.moduleName) { try PythonImports.check(name) }
    return try makeHotReloader(
      paths: paths, steps: steps, strategy: strategy, extensions: extensions, runAtStart: runAtStart)
  }

  /// Reloads `module` now in every context where it is loaded, and the modules that import it
  /// (with ``ReloadStrategy/reload``), each context between two of its jobs (erlang_python's
  /// `py:reload/1`). Returns what happened; throws the ``PythonError`` when the new code fails
  /// (a syntax error, an exception), in which case the previous code stays live everywhere.
  @discardableResult
  public func reload(module: String, strategy: ReloadStrategy = .reload) async throws -> ReloadEvent {
    try checkRunning()
    try PythonImports.check(module)
    let steps = [HotReloadStep(kind: .module(module, preReload: nil, postReload: nil, importMissing: false))]
    let runner = StepRunner(steps: steps, strategy: strategy) { [directory] in directory.allContexts }
    let began = ContinuousClock.now
    let event = await reloads.run {
      await runner.run(trigger: .onDemand, files: [], rescan: false, since: began)
    }
    if let error = event.error { throw error }
    return event
  }

  private func makeHotReloader(
    paths: [String], steps: [HotReloadStep], strategy: ReloadStrategy, extensions: Set<String>,
    runAtStart: Bool
  ) throws -> HotReloader {
    try checkRunning()
    let runner = StepRunner(steps: steps, strategy: strategy) { [directory] in directory.allContexts }
    return try HotReloader(
      options: FileWatchOptions(paths: paths, extensions: extensions), runner: runner, lane: reloads,
      runAtStart: runAtStart
    ) { [lifecycle] in lifecycle.isShutDown.load(ordering: .acquiring) }
  }
}
