/// What one reload runs in every interpreter: the changed files, the modules named by steps or
/// by ``PythonRuntime/reload(module:strategy:)``, with their Python hooks, and how.
struct ReloadPlan: Sendable {
  struct Module: Sendable {
    var name: String
    /// Module-level functions called before and after the reload, in every interpreter.
    var preReload: String?
    var postReload: String?
  }

  /// Real paths (symbolic links resolved) of the files that changed.
  var files: [String]
  var modules: [Module]
  var strategy: ReloadStrategy
  /// Import the named modules where they are not loaded yet (a `.module` step does; an
  /// on-demand reload does not).
  var importMissing: Bool
  /// Code the first interpreter compiled, marshalled (`{path: [mtime_ns, size, inode, bytes]}`);
  /// nil for that first interpreter, which compiles and hands its code on.
  var precompiled: PythonValue? = nil
  /// Return the code compiled, marshalled, for ``precompiled``: set for the first interpreter
  /// when others follow it.
  var share = false
}
