import CPythonShim
import OrderedCollections

/// One interpreter on its own pinned thread, with a namespace that keeps state between calls.
///
/// A context runs one call at a time, in order. Its methods can be called from any task; the
/// work runs on the context's thread. State set by ``exec(_:)`` stays for later calls on the
/// same context, until ``close()``.
///
/// ```swift
/// let ctx = try await py.newContext(mode: .ownGIL)
/// try await ctx.exec("counter = 41")
/// let n = try await ctx.eval("counter + 1")   // 42
/// ```
public final class PythonContext: Sendable, CustomStringConvertible {
  /// How a context's interpreter relates to the others in the process.
  public enum Mode: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// A thread state in the main interpreter: shared GIL, shared `sys.modules`, and every
    /// extension module works (numpy included). Only the namespace is the context's own.
    case worker
    /// A legacy sub-interpreter: its own `sys.modules`, `sys.path` and builtins, but the main
    /// interpreter's GIL, so no parallelism.
    case subinterp
    /// An isolated sub-interpreter with its own GIL (Python ≥ 3.12; refused on 3.12.0–3.12.3):
    /// true parallelism. Extensions without multi-interpreter support refuse to import.
    case ownGIL

    public var description: String { rawValue }

    var interpreterKind: InterpreterKind {
      switch self {
      case .worker: .worker
      case .subinterp: .sharedGIL
      case .ownGIL: .ownGIL
      }
    }
  }

  /// Which dictionary holds a context's lasting state.
  enum NamespaceKind: Sendable {
    /// A fresh dict of its own, like a script's globals (contexts, sessions).
    case own
    /// The interpreter's `__main__.__dict__` (the ``Interpreter`` API, like CPython's).
    case mainModule
  }

  public let mode: Mode
  /// A name for logs and thread names, unique in the process.
  public let name: String
  let thread: InterpreterThread
  private let namespace: Confined<OpaquePointer?>

  init(thread: InterpreterThread, mode: Mode, name: String, namespace: Confined<OpaquePointer?>) {
    self.thread = thread
    self.mode = mode
    self.name = name
    self.namespace = namespace
  }

  /// Starts a context's thread and interpreter and prepares it (paths, site-packages).
  static func start(
    mode: Mode, process: PythonProcess, name: String, namespace kind: NamespaceKind = .own
  ) async throws -> PythonContext {
    try checkAvailable(mode, in: process.installation)
    let namespace = Confined<OpaquePointer?>(nil)
    let thread = try await InterpreterThread.start(kind: mode.interpreterKind, name: name) {
      try process.prepareInterpreter()
      namespace.value =
        switch kind {
        case .own: try PythonExecution.makeNamespace()
        case .mainModule: try PythonExecution.mainModuleNamespace()
        }
    }
    return PythonContext(thread: thread, mode: mode, name: name, namespace: namespace)
  }

  /// Throws ``PythonRuntimeError/Code/modeUnavailable`` when `installation` cannot run `mode`.
  static func checkAvailable(_ mode: Mode, in installation: PythonInstallation) throws {
    if mode == .ownGIL, let reason = installation.ownGILUnavailableReason {
      throw PythonRuntimeError(
        .modeUnavailable,
        "ownGIL is not available with Python \(installation.version): \(reason). "
          + "Use .worker or .subinterp, or another Python.")
    }
  }

  /// The CPython id of this context's interpreter (the main interpreter's, 0, for `.worker`).
  public var interpreterID: Int64 { thread.interpreterID }

  /// False once ``close()`` has begun.
  public var isOpen: Bool { thread.isOpen }

  public var description: String { "PythonContext(\(name), \(mode), interpreter \(interpreterID))" }

  // MARK: Running code

  /// Evaluates a Python expression and returns its value.
  /// - Parameter locals: variables visible to the expression only (the namespace is unchanged).
  public func eval(_ expression: String, locals: [String: PythonValue] = [:]) async throws
    -> PythonValue
  {
    try await run(fresh: false) { globals in
      try PythonExecution.evaluate(expression, globals: globals, locals: locals)
    }
  }

  /// Evaluates a Python expression and decodes its value as `T`.
  public func eval<T: Decodable & Sendable>(
    _ expression: String, locals: [String: PythonValue] = [:], as type: T.Type
  ) async throws -> T {
    try await eval(expression, locals: locals).decode(T.self)
  }

  /// Executes Python statements in this context's namespace.
  public func exec(_ code: String) async throws {
    try await run(fresh: false) { globals in try PythonExecution.execute(code, globals: globals) }
  }

  /// Calls `module.function(*args, **kwargs)`. `module` may be dotted (`os.path`), `builtins`,
  /// or `__main__` for a function defined in this context by ``exec(_:)``.
  public func call(
    _ module: String, _ function: String, args: [PythonValue] = [],
    kwargs: OrderedDictionary<String, PythonValue> = [:]
  ) async throws -> PythonValue {
    try await run(fresh: false) { globals in
      try PythonExecution.call(module, function, args: args, kwargs: kwargs, globals: globals)
    }
  }

  /// Runs `body` on the context's thread with direct access to Python objects. Objects made
  /// inside cannot leave the closure: they are not `Sendable`, and the result must be.
  public func withPython<T: Sendable>(_ body: @escaping @Sendable (Python) throws -> T) async throws
    -> T
  {
    try await run(fresh: false) { [thread] globals in
      try body(Python(thread: thread, globals: globals))
    }
  }

  /// Ends the interpreter on its thread after the calls already queued; later calls throw
  /// ``PythonRuntimeError/Code/closed``.
  public func close() async {
    // Drop our reference to the namespace on the thread, before the interpreter ends.
    _ = try? await thread.perform { [namespace] in
      namespace.value.map(Py_DecRef)
      namespace.value = nil
    }
    await thread.close()
  }

  /// Binds each value as a global of this context's namespace.
  func setGlobals(_ values: [String: PythonValue]) async throws {
    try await run(fresh: false) { globals in
      for (name, value) in values {
        let object = try value.makePythonObject()
        defer { Py_DecRef(object) }
        guard PyDict_SetItemString(globals, name, object) == 0 else { throw PythonError.fetch() }
      }
    }
  }

  /// Runs `body` with the context's namespace on a new OS thread of the same interpreter.
  func runOnNewThread<T: Sendable>(_ body: @escaping @Sendable (_ globals: OpaquePointer) throws -> T)
    async throws -> T
  {
    try await thread.performOnNewThread { [namespace, name] in
      // Read under the interpreter's GIL; the pointer only changes at setup and close.
      guard let globals = namespace.value else {
        throw PythonRuntimeError(.closed, "the context '\(name)' has been closed")
      }
      return try body(globals)
    }
  }

  /// Runs `body` on the thread with the context's namespace, or — `fresh` — with a new
  /// namespace made for this call alone and dropped after it.
  func run<T: Sendable>(
    fresh: Bool, _ body: @escaping @Sendable (_ globals: OpaquePointer) throws -> T
  ) async throws -> T {
    try await thread.perform { [namespace, name] in
      if fresh {
        let globals = try PythonExecution.makeNamespace()
        defer { Py_DecRef(globals) }
        return try body(globals)
      }
      guard let globals = namespace.value else {
        throw PythonRuntimeError(.closed, "the context '\(name)' has been closed")
      }
      return try body(globals)
    }
  }
}

/// State that belongs to one interpreter thread and is only touched there. The compiler cannot
/// check that confinement, so it is stated here, and every use is inside a thread job.
final class Confined<Value>: @unchecked Sendable {
  var value: Value
  init(_ value: Value) { self.value = value }
}
