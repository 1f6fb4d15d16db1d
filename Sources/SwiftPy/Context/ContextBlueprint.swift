import CPythonShim

/// Everything a new interpreter is given when it is created, in the order the seed's
/// "Execution Flow" prescribes: site-packages and registered paths (`sys.path`), then registered
/// imports, then the preload code. Sub-interpreters share none of this, so each gets it anew
/// (the DocC article "Preload", Sources/SwiftPy/SwiftPy.docc/Preload.md).
struct ContextBlueprint: Sendable {
  var executable: String
  /// `sys.prefix` as the installation's own `python` has it: a virtual environment's directory.
  var prefix: String
  var sitePackages: [String]
  var paths: [String] = []
  var imports: [String] = []
  var preload = PreloadSnapshot.none
  /// Put the interpreter in the sandbox (see ``Sandbox``); never for a worker context.
  var sandbox = false
  /// Where the context's Python output goes (the runtime's ``PythonRuntime/Configuration/output``).
  var output = PythonOutputPolicy.inherit
  /// The runtime's Swift functions, shared state and logging, for the `swift` module.
  var bridge: SwiftBridge?

  /// A blueprint with nothing registered: the installation's own executable and site-packages.
  init(_ installation: PythonInstallation, output: PythonOutputPolicy = .inherit) {
    executable = installation.executable
    prefix = installation.prefix
    sitePackages = installation.sitePackages
    self.output = output
  }
}

/// The preload code at one moment. The version changes with every `setCode`/`clear`, so a
/// context can tell that the globals it keeps for new sessions are out of date.
struct PreloadSnapshot: Sendable, Equatable {
  let version: Int
  let code: String?

  static let none = PreloadSnapshot(version: 0, code: nil)
}

/// Applies a blueprint in the attached interpreter; runs on its thread.
enum ContextSetup {
  /// Routes Python output (first, so that whatever the setup prints follows the policy), sets
  /// `sys.executable`, `argv` and `sys.path` (site-packages, then registered paths first),
  /// and puts the interpreter in the sandbox when asked (pools refuse it for worker contexts,
  /// which share the main interpreter).
  /// In a sub-interpreter (`mode` other than `.worker`) C extensions that allow one interpreter
  /// per process are refused (``ExtensionModules``).
  static func prepare(_ blueprint: ContextBlueprint, mode: PythonContext.Mode = .worker) throws {
    try OutputStreams.install(blueprint.output)
    if blueprint.sandbox { try Sandbox.enter() }
    try SwiftModule.install(blueprint.bridge, context: InterpreterThread.current?.name ?? "main")
    try ProcessStarts.install()
    try CPythonFixes.install()
    if mode != .worker { try ExtensionModules.install(mode: mode) }
    try run(
      """
      import os, sys, site
      # Embedded, sys.executable would be the host program; subprocess and multiprocessing
      # need the real interpreter.
      sys.executable = executable
      if not getattr(sys, 'argv', None):
          sys.argv = ['']
      # CPython is initialized from the base installation, so its own site-packages are on
      # sys.path; for a virtual environment the path and prefix must be what its `python` has:
      # the environment's site-packages first, the base ones only if it includes them
      # (--system-site-packages: then site_dirs lists them too), sys.prefix the environment.
      # Done once per interpreter, by the first installation to set it up: the main interpreter
      # is shared by the worker contexts of every runtime, and a later runtime of another
      # installation only adds its folders (removing them under running calls would lose
      # their imports). sys.path is replaced in one step, never left without a folder.
      wanted = [d for d in site_dirs if os.path.isdir(d)]  # as site.py (Debian lists absent ones)
      first = getattr(sys, '_swiftpy_prefix', None) is None
      stale = set(site.getsitepackages()) - set(site_dirs) if first and sys.prefix != prefix else set()
      for d in wanted:
          if d not in sys.path:
              site.addsitedir(d)  # also runs its .pth files
      if first:
          sys.path[:] = [p for p in sys.path if p not in stale and p not in wanted] + wanted
          sys.prefix = sys.exec_prefix = sys._swiftpy_prefix = prefix
      for d in reversed(paths):
          if d not in sys.path:
              sys.path.insert(0, d)
      """,
      with: [
        "executable": .string(blueprint.executable),
        "prefix": .string(blueprint.prefix),
        "site_dirs": .list(blueprint.sitePackages.map(PythonValue.string)),
        "paths": .list(blueprint.paths.map(PythonValue.string)),
      ])
  }

  /// The globals every new session starts from: a fresh namespace with each registered import
  /// bound (`import a.b` binds `a`, as in Python) and the preload code run in it. A failing
  /// import or preload throws its PythonError: the context or session is not created.
  static func makeBaseGlobals(imports: [String], preload: String?) throws -> PyObjectPointer {
    let globals = try PythonExecution.makeNamespace()
    do {
      for module in imports { try bindImport(module, in: globals) }
      if let preload { try PythonExecution.execute(preload, globals: globals) }
    } catch {
      Py_DecRef(globals)
      throw error
    }
    return globals
  }

  /// `import module` into `globals`.
  static func bindImport(_ module: String, in globals: PyObjectPointer) throws {
    let top = String(module.prefix { $0 != "." })
    if top != module {  // import the submodule itself; the name bound is its top package
      guard let submodule = PyImport_ImportModule(module) else { throw PythonError.fetch() }
      Py_DecRef(submodule)
    }
    guard let package = PyImport_ImportModule(top) else { throw PythonError.fetch() }
    defer { Py_DecRef(package) }
    guard PyDict_SetItemString(globals, top, package) == 0 else { throw PythonError.fetch() }
  }

  /// Puts `path` first in `sys.path` unless it is there.
  static func addPath(_ path: String) throws {
    try run("import sys\nif p not in sys.path:\n    sys.path.insert(0, p)", with: ["p": .string(path)])
  }

  /// Removes `path` from `sys.path`.
  static func removePath(_ path: String) throws {
    try run("import sys\nwhile p in sys.path:\n    sys.path.remove(p)", with: ["p": .string(path)])
  }

  /// Runs `code` in a throwaway namespace holding `values`.
  static func run(_ code: String, with values: [String: PythonValue]) throws {
    let namespace = try PythonExecution.makeNamespace()
    defer { Py_DecRef(namespace) }
    for (name, value) in values {
      let object = try value.makePythonObject()
      defer { Py_DecRef(object) }
      guard PyDict_SetItemString(namespace, name, object) == 0 else { throw PythonError.fetch() }
    }
    try PythonExecution.execute(code, globals: namespace)
  }
}
