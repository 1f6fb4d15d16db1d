import Synchronization

/// Preload code: Python run once in every interpreter at creation, whose globals every new
/// session starts from (a shallow copy each, so rebinding a name in one session does not
/// affect another). Reach it as ``PythonRuntime/preload``.
///
/// Changing it affects contexts and sessions created afterwards; sessions that exist keep what
/// they started with. A preload that raises fails the creation of the context or session with
/// that ``PythonError`` (erlang_python ignores such errors; SwiftPy does not hide them).
public final class PythonPreload: Sendable {
  private let state = Mutex(PreloadSnapshot.none)
  private let lifecycle: RuntimeLifecycle

  init(code: String?, lifecycle: RuntimeLifecycle) {
    self.lifecycle = lifecycle
    if let code { state.withLock { $0 = PreloadSnapshot(version: 1, code: code) } }
  }

  /// Sets the preload code. Throws ``SwiftPyError/Code/shuttingDown`` after shutdown.
  public func setCode(_ code: String) throws {
    try lifecycle.check()
    state.withLock { $0 = PreloadSnapshot(version: $0.version + 1, code: code) }
  }

  /// The current preload code, or nil.
  public var code: String? { state.withLock { $0.code } }

  /// Removes the preload code. Throws ``SwiftPyError/Code/shuttingDown`` after shutdown.
  public func clear() throws {
    try lifecycle.check()
    state.withLock { $0 = PreloadSnapshot(version: $0.version + 1, code: nil) }
  }

  /// True when preload code is set.
  public var hasPreload: Bool { code != nil }

  var snapshot: PreloadSnapshot { state.withLock { $0 } }
}

/// Directories put first on `sys.path` in every interpreter: those created later and — queued
/// before any later call — those running now. Reach it as ``PythonRuntime/paths``.
public final class PythonPaths: Sendable {
  private let entries: Mutex<[String]>
  private let lifecycle: RuntimeLifecycle
  private let contexts: @Sendable () -> [PythonContext]

  init(_ paths: [String], lifecycle: RuntimeLifecycle, contexts: @escaping @Sendable () -> [PythonContext]) {
    self.entries = Mutex(paths)
    self.lifecycle = lifecycle
    self.contexts = contexts
  }

  /// Adds `path` to `sys.path` everywhere. Throws ``SwiftPyError/Code/shuttingDown`` after
  /// shutdown.
  public func add(_ path: String) throws {
    try lifecycle.check()
    let added = entries.withLock { entries in
      guard !entries.contains(path) else { return false }
      entries.append(path)
      return true
    }
    if added { for context in contexts() { context.updatePath(path, add: true) } }
  }

  /// Removes `path` from the registry and from `sys.path` everywhere. Throws
  /// ``SwiftPyError/Code/shuttingDown`` after shutdown.
  public func remove(_ path: String) throws {
    try lifecycle.check()
    entries.withLock { $0.removeAll { $0 == path } }
    for context in contexts() { context.updatePath(path, add: false) }
  }

  /// The registered paths, in order.
  public var all: [String] { entries.withLock { $0 } }
}

/// Modules imported in every interpreter and bound in every session's globals, so that
/// `py.eval("json.dumps(x)")` works without an import. Reach it as ``PythonRuntime/imports``.
public final class PythonImports: Sendable {
  private let entries: Mutex<[String]>
  private let lifecycle: RuntimeLifecycle
  private let contexts: @Sendable () -> [PythonContext]

  init(_ modules: [String], lifecycle: RuntimeLifecycle, contexts: @escaping @Sendable () -> [PythonContext])
  {
    self.entries = Mutex(modules)
    self.lifecycle = lifecycle
    self.contexts = contexts
  }

  /// Imports `module` in every running context now, and in every context created later.
  /// If a running context cannot import it, the module is not registered and the
  /// PythonError is thrown (an extension that refuses sub-interpreters says so).
  public func add(_ module: String) async throws {
    try lifecycle.check()
    try PythonImports.check(module)
    guard entries.withLock({ !$0.contains(module) }) else { return }
    do {
      try await withThrowingTaskGroup(of: Void.self) { group in
        for context in contexts() where context.isOpen {
          group.addTask { try await context.addImport(module) }
        }
        try await group.waitForAll()
      }
    } catch {
      for context in contexts() { context.removeImport(module) }
      throw error
    }
    entries.withLock { if !$0.contains(module) { $0.append(module) } }
  }

  /// Stops importing `module` in contexts and sessions created from now on. Throws
  /// ``SwiftPyError/Code/shuttingDown`` after shutdown.
  public func remove(_ module: String) throws {
    try lifecycle.check()
    entries.withLock { $0.removeAll { $0 == module } }
    for context in contexts() { context.removeImport(module) }
  }

  /// The registered modules, in order.
  public var all: [String] { entries.withLock { $0 } }

  /// A dotted Python identifier, nothing else (the name is spliced into an import statement).
  static func check(_ module: String) throws {
    let parts = module.split(separator: ".", omittingEmptySubsequences: false)
    let valid =
      !parts.isEmpty
      && parts.allSatisfy { part in
        guard let first = part.unicodeScalars.first, first == "_" || first.properties.isXIDStart else {
          return false
        }
        return part.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isXIDContinue }
      }
    guard valid else { throw SwiftPyError(.invalidArgument, "'\(module)' is not a module name") }
  }
}
