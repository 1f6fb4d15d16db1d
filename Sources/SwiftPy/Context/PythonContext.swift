import CPythonShim
import OrderedCollections

/// One interpreter on its own pinned thread, with a namespace that keeps state between calls.
///
/// A context runs one call at a time, in order. Its methods can be called from any task; the
/// work runs on the context's thread. State set by ``exec(_:timeout:)`` stays for later calls on the
/// same context, until ``close(deadline:)``.
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
    /// A copy of the base globals (imports and preload), like a script's globals.
    case own
    /// The interpreter's `__main__.__dict__` (the ``Interpreter`` API, like CPython's).
    case mainModule
  }

  /// Where one call's globals come from.
  enum Namespace: Sendable {
    /// The context's lasting namespace.
    case own
    /// A copy of the base globals made for this call alone (one-shot calls).
    case fresh(PreloadSnapshot)
    /// A lease's namespace.
    case session(Session)
  }

  public let mode: Mode
  /// A name for logs and thread names, unique in the process.
  public let name: String
  let thread: InterpreterThread
  let policy: CallPolicy
  /// Confined to the context's interpreter: only touched by jobs on `thread` (checked).
  private let state: ThreadConfinedBox<State>

  /// What a context keeps on its thread.
  struct State {
    /// The globals new sessions copy, and the preload version they were made with.
    var base: PyObjectPointer?
    var baseVersion = 0
    var imports: [String] = []
    /// The lasting namespace of ``eval(_:locals:timeout:)`` and friends.
    var own: PyObjectPointer?
    /// Open sessions (leases): their namespaces are dropped at close if a lease outlives its
    /// context, so none leaks.
    var sessions: [ObjectIdentifier: Session] = [:]
  }

  private init(
    thread: InterpreterThread, mode: Mode, name: String, policy: CallPolicy, state: ThreadConfinedBox<State>
  ) {
    self.thread = thread
    self.policy = policy
    self.mode = mode
    self.name = name
    self.state = state
  }

  /// Starts a context's thread and interpreter and applies `blueprint` there: paths, imports,
  /// preload. A failing import or preload fails the start with its PythonError. With `shared`,
  /// the thread also runs that pool queue's one-shot calls.
  static func start(
    mode: Mode, installation: PythonInstallation, blueprint: ContextBlueprint, name: String,
    policy: CallPolicy, namespace kind: NamespaceKind = .own, shared: SharedJobQueue? = nil
  ) async throws -> PythonContext {
    try checkAvailable(mode, in: installation)
    let thread = InterpreterThread(kind: mode.interpreterKind, name: name, shared: shared)
    let state = ThreadConfinedBox(State(), owner: thread)
    let context = PythonContext(thread: thread, mode: mode, name: name, policy: policy, state: state)
    // Our references — the namespaces, and those of sessions whose lease outlived the context —
    // are dropped on the thread just before the interpreter ends, however it ends.
    thread.setCleanup { [state] in
      SwiftModule.cleanUp()  // streams closed, event loop closed, while modules are intact
      state.value.own.map(Py_DecRef)
      state.value.base.map(Py_DecRef)
      for session in state.value.sessions.values { session.drop() }
      state.value = State()
      PythonContext.resignCurrent()
    }
    // `context` is held until the setup ends: a start given up (its caller answered, the
    // context released) may still be running it.
    try await thread.start(within: policy.startLimit, grace: policy.grace) { [context] in
      try PythonContext.hintingSubinterpreterImports(mode) {
        try ContextSetup.prepare(blueprint, mode: mode)
        let base = try ContextSetup.makeBaseGlobals(
          imports: blueprint.imports, preload: blueprint.preload.code)
        state.value.base = base
        state.value.baseVersion = blueprint.preload.version
        state.value.imports = blueprint.imports
        switch kind {
        case .own: state.value.own = PyDict_Copy(base)
        case .mainModule: state.value.own = try PythonExecution.mainModuleNamespace()
        }
        if state.value.own == nil { throw PythonError.fetch() }
      }
      context.becomeCurrent()
    }
    SwiftPyLog.logger.debug(
      "context started",
      metadata: ["context": "\(name)", "mode": "\(mode)", "interpreter": "\(thread.interpreterID)"])
    return context
  }

  /// A context over the thread that runs the main interpreter, with `__main__` as namespace.
  static func main(_ thread: InterpreterThread, policy: CallPolicy) async throws -> PythonContext {
    let state = ThreadConfinedBox(State(), owner: thread)
    try await thread.perform { state.value.own = try PythonExecution.mainModuleNamespace() }
    return PythonContext(thread: thread, mode: .worker, name: "main", policy: policy, state: state)
  }

  /// The context whose thread this is (a one-shot call taken from a pool's shared queue runs on
  /// whichever context is free, and finds its state here).
  static var current: PythonContext? {
    spy_current_context().map { Unmanaged<PythonContext>.fromOpaque($0).takeUnretainedValue() }
  }

  /// Registers this context as its thread's (retained until the interpreter ends); on thread.
  private func becomeCurrent() {
    spy_set_current_context(Unmanaged.passRetained(self).toOpaque())
  }

  /// Undoes ``becomeCurrent()``; on thread, as the interpreter ends.
  private static func resignCurrent() {
    guard let raw = spy_current_context() else { return }
    spy_set_current_context(nil)
    Unmanaged<PythonContext>.fromOpaque(raw).release()
  }

  /// Throws ``SwiftPyError/Code/modeUnavailable`` when `installation` cannot run `mode`.
  static func checkAvailable(_ mode: Mode, in installation: PythonInstallation) throws {
    if mode == .ownGIL, let reason = installation.ownGILUnavailableReason {
      throw SwiftPyError(
        .modeUnavailable,
        "ownGIL is not available with Python \(installation.version): \(reason). "
          + "Use .worker or .subinterp, or another Python.")
    }
  }

  /// The CPython id of this context's interpreter (the main interpreter's, 0, for `.worker`).
  public var interpreterID: Int64 { thread.interpreterID }

  /// False once ``close(deadline:)`` has begun (or the context was taken out of service).
  public var isOpen: Bool { thread.isOpen }

  /// Calls queued on this context and not yet started.
  var queuedCalls: Int { thread.queuedRequests }

  public var description: String { "PythonContext(\(name), \(mode), interpreter \(interpreterID))" }

  // MARK: Running code in the context's own namespace

  /// Evaluates a Python expression and returns its value.
  /// `locals` are variables visible to the expression only (the namespace is unchanged).
  ///
  /// Every call takes a `timeout`; without one the runtime's default applies (none unless
  /// configured). When it passes, the call throws ``SwiftPyError/Code/timeout`` and the
  /// running Python is interrupted; the context stays usable. Cancelling the calling task
  /// interrupts it the same way.
  public func eval(_ expression: String, locals: [String: PythonValue] = [:], timeout: Duration? = nil)
    async throws -> PythonValue
  {
    try await eval(expression, locals: locals, in: .own, timeout: timeout)
  }

  /// Evaluates a Python expression with Swift values as locals: `locals: ["x": name]`.
  @_disfavoredOverload
  public func eval(
    _ expression: String, locals: [String: any PythonValueConvertible], timeout: Duration? = nil
  ) async throws -> PythonValue {
    try await eval(expression, locals: locals.pythonValues, in: .own, timeout: timeout)
  }

  /// Evaluates a Python expression and decodes its value as `T`.
  public func eval<T: Decodable & Sendable>(
    _ expression: String, locals: [String: PythonValue] = [:], as type: T.Type, timeout: Duration? = nil
  ) async throws -> T {
    try await eval(expression, locals: locals, in: .own, timeout: timeout).decode(T.self)
  }

  /// Evaluates a Python expression with Swift values as locals and decodes its value as `T`.
  @_disfavoredOverload
  public func eval<T: Decodable & Sendable>(
    _ expression: String, locals: [String: any PythonValueConvertible], as type: T.Type,
    timeout: Duration? = nil
  ) async throws -> T {
    try await eval(expression, locals: locals.pythonValues, in: .own, timeout: timeout).decode(T.self)
  }

  /// Executes Python statements in this context's namespace.
  public func exec(_ code: String, timeout: Duration? = nil) async throws {
    try await exec(code, in: .own, timeout: timeout)
  }

  /// Calls `module.function(*args, **kwargs)`. `module` may be dotted (`os.path`), `builtins`,
  /// or `__main__` for a function defined in this context by ``exec(_:timeout:)``.
  public func call(
    _ module: String, _ function: String, args: [PythonValue] = [],
    kwargs: OrderedDictionary<String, PythonValue> = [:], timeout: Duration? = nil
  ) async throws -> PythonValue {
    try await call(module, function, args: args, kwargs: kwargs, in: .own, timeout: timeout)
  }

  /// Calls `module.function(*args, **kwargs)` with Swift values: `args: [n, name, xs]`.
  @_disfavoredOverload
  public func call(
    _ module: String, _ function: String, args: [any PythonValueConvertible] = [],
    kwargs: OrderedDictionary<String, any PythonValueConvertible> = [:], timeout: Duration? = nil
  ) async throws -> PythonValue {
    try await call(
      module, function, args: args.pythonValues, kwargs: kwargs.pythonValues, in: .own, timeout: timeout)
  }

  /// Calls `module.function(*args, **kwargs)` and decodes its result as `T`.
  public func call<T: Decodable & Sendable>(
    _ module: String, _ function: String, args: [PythonValue] = [],
    kwargs: OrderedDictionary<String, PythonValue> = [:], as type: T.Type, timeout: Duration? = nil
  ) async throws -> T {
    try await call(module, function, args: args, kwargs: kwargs, in: .own, timeout: timeout).decode(T.self)
  }

  /// Calls `module.function(*args, **kwargs)` with Swift values and decodes its result as `T`.
  @_disfavoredOverload
  public func call<T: Decodable & Sendable>(
    _ module: String, _ function: String, args: [any PythonValueConvertible] = [],
    kwargs: OrderedDictionary<String, any PythonValueConvertible> = [:], as type: T.Type,
    timeout: Duration? = nil
  ) async throws -> T {
    try await call(
      module, function, args: args.pythonValues, kwargs: kwargs.pythonValues, in: .own, timeout: timeout
    ).decode(T.self)
  }

  /// Runs `body` on the context's thread with direct access to Python objects. Objects made
  /// inside cannot leave the closure: they are not `Sendable`, and the result must be.
  public func withPython<T: Sendable>(
    timeout: Duration? = nil, _ body: @escaping @Sendable (Python) throws -> T
  )
    async throws -> T
  {
    try await withPython(in: .own, timeout: timeout, body)
  }

  /// Interrupts the call running now (its caller gets the `KeyboardInterrupt` as a
  /// ``PythonError``). A call stuck in a blocking C function cannot be interrupted: after the
  /// runtime's grace period the context is taken out of service (a pool replaces it). Returns
  /// false when no call is running.
  @discardableResult
  public func interrupt() -> Bool {
    thread.interrupt(because: "interrupt() was called", grace: policy.grace)
  }

  /// Ends the interpreter on its thread after the calls already queued; later calls throw
  /// ``SwiftPyError/Code/closed``. At `deadline`, calls still queued are answered with
  /// ``SwiftPyError/Code/closed``, the running one is interrupted and its caller answered, and
  /// after the runtime's interrupt grace a context that still does not stop (a blocking C call,
  /// finalization code that loops) is abandoned: `close` returns by then whatever Python does.
  public func close(deadline: Duration = .seconds(10)) async {
    await close(deadline: deadline, refusal: nil)
  }

  /// As ``close(deadline:)``; `nil` waits for every queued call, `refusal` answers the calls cut
  /// short (``SwiftPyError/Code/shuttingDown`` at a runtime's shutdown).
  func close(deadline: Duration?, refusal: SwiftPyError?) async {
    await thread.close(deadline: deadline, grace: policy.grace, refusal: refusal)
    SwiftPyLog.logger.debug("context stopped", metadata: ["context": "\(name)", "mode": "\(mode)"])
  }

  // MARK: Running code in any namespace

  func eval(_ expression: String, locals: [String: PythonValue], in namespace: Namespace, timeout: Duration?)
    async throws -> PythonValue
  {
    try await run(namespace, timeout: timeout, describing: "eval(\(PythonContext.excerpt(expression)))") {
      globals in
      try PythonExecution.evaluate(expression, globals: globals, locals: locals)
    }
  }

  func exec(_ code: String, in namespace: Namespace, timeout: Duration?) async throws {
    try await run(namespace, timeout: timeout, describing: "exec(\(PythonContext.excerpt(code)))") {
      globals in
      try PythonExecution.execute(code, globals: globals)
    }
  }

  func call(
    _ module: String, _ function: String, args: [PythonValue], kwargs: OrderedDictionary<String, PythonValue>,
    in namespace: Namespace, timeout: Duration?
  ) async throws -> PythonValue {
    try await run(namespace, timeout: timeout, describing: "call \(module).\(function)") { globals in
      try PythonExecution.call(module, function, args: args, kwargs: kwargs, globals: globals)
    }
  }

  func withPython<T: Sendable>(
    in namespace: Namespace, timeout: Duration?, _ body: @escaping @Sendable (Python) throws -> T
  ) async throws -> T {
    try await run(namespace, timeout: timeout, describing: "withPython") { [thread] globals in
      try PythonExecution.userCode { try body(Python(thread: thread, globals: globals)) }
    }
  }

  /// The start of `code`, on one line, for error messages.
  static func excerpt(_ code: String) -> String {
    let line = code.split(whereSeparator: \.isNewline).joined(separator: "; ")
    return line.count > 60 ? "\"\(line.prefix(57))...\"" : "\"\(line)\""
  }

  /// Binds each value as a global of the context's own namespace.
  func setGlobals(_ values: [String: PythonValue]) async throws {
    try await run(.own, timeout: nil, describing: "prepareMain") { globals in
      for (name, value) in values {
        try PythonExecution.checkName(name, "variable")
        let object = try value.makePythonObject()
        defer { Py_DecRef(object) }
        guard PyDict_SetItemString(globals, name, object) == 0 else { throw PythonError.fetch() }
      }
    }
  }

  /// Runs `body` with the context's own namespace on a new OS thread of the same interpreter.
  func runOnNewThread<T: Sendable>(_ body: @escaping @Sendable (_ globals: PyObjectPointer) throws -> T)
    async throws -> T
  {
    try await thread.performOnNewThread { [state, name] in
      // Read under the interpreter's GIL; the pointer only changes at setup and close.
      guard let globals = state.value.own else { throw PythonContext.closedError(name) }
      return try body(globals)
    }
  }

  /// Runs `body` on the context's thread with the globals `namespace` names, within `timeout`
  /// (else the policy's default).
  func run<T: Sendable>(
    _ namespace: Namespace, timeout: Duration?, describing what: @autoclosure () -> String,
    _ body: @escaping @Sendable (_ globals: PyObjectPointer) throws -> T
  ) async throws -> T {
    let body = OutputCapture.capturing(into: OutputCapture.sink, body)  // the caller's capture, if any
    return try await thread.perform(
      timeout: timeout ?? policy.defaultTimeout, grace: policy.grace, describing: what()
    ) { [self] in
      try runHere(namespace, body)
    }
  }

  /// Runs `body` with the globals `namespace` names; on this context's thread, inside a job.
  func runHere<T>(_ namespace: Namespace, _ body: (_ globals: PyObjectPointer) throws -> T) throws -> T {
    try PythonContext.hintingSubinterpreterImports(mode) {
      switch namespace {
      case .own:
        guard let globals = state.value.own else { throw PythonContext.closedError(name) }
        return try body(globals)
      case .fresh(let preload):
        let globals = try PythonContext.copyBase(state, preload: preload, name: name)
        defer { Py_DecRef(globals) }
        return try body(globals)
      case .session(let session):
        guard let globals = session.globals.value else {
          throw SwiftPyError(.closed, "the session on '\(name)' has ended")
        }
        return try body(globals)
      }
    }
  }

  // MARK: Sessions, imports and paths

  /// Opens a session: a namespace of its own, copied from the base globals made with
  /// `preload` (rebuilt first if the preload changed since the context was created).
  func openSession(preload: PreloadSnapshot, timeout: Duration?) async throws -> Session {
    let session = Session(owner: thread)
    try await thread.perform(
      timeout: timeout ?? policy.defaultTimeout, grace: policy.grace, describing: "a session's preload"
    ) {
      [state, name, mode] in
      try PythonContext.hintingSubinterpreterImports(mode) {
        session.globals.value = try PythonContext.copyBase(state, preload: preload, name: name)
        state.value.sessions[ObjectIdentifier(session)] = session
      }
    }
    return session
  }

  /// Drops a session's namespace on the context's thread; if the context is gone, its close
  /// dropped it already.
  func closeSession(_ session: Session) {
    thread.submitHousekeeping(within: policy.grace * 5) { [state] in
      state.value.sessions[ObjectIdentifier(session)] = nil
      session.drop()
    }
  }

  /// Imports `module` now and binds it in the base globals (and so in every later session) and
  /// the own namespace. Throws the PythonError when the import fails.
  func addImport(_ module: String) async throws {
    try await thread.perform(
      timeout: policy.defaultTimeout, grace: policy.grace, describing: "import \(module)"
    ) {
      [state, mode] in
      try PythonContext.hintingSubinterpreterImports(mode) {
        if let base = state.value.base { try ContextSetup.bindImport(module, in: base) }
        if let own = state.value.own { try ContextSetup.bindImport(module, in: own) }
        if !state.value.imports.contains(module) { state.value.imports.append(module) }
      }
    }
  }

  /// Stops binding `module` in sessions made from now on.
  /// The base globals already hold it, so they are dropped and rebuilt (from the remaining
  /// imports and the preload) when the next session needs them.
  func removeImport(_ module: String) {
    thread.submitHousekeeping(within: policy.grace * 5) { [state] in
      state.value.imports.removeAll { $0 == module }
      state.value.base.map(Py_DecRef)
      state.value.base = nil
    }
  }

  /// Adds or removes a `sys.path` entry; queued, so every later call on the context sees it.
  func updatePath(_ path: String, add: Bool) {
    thread.submitHousekeeping(within: policy.grace * 5) {
      _ = try? add ? ContextSetup.addPath(path) : ContextSetup.removePath(path)
    }
  }

  /// A new reference to a copy of the base globals made with `preload`; on thread.
  private static func copyBase(_ state: ThreadConfinedBox<State>, preload: PreloadSnapshot, name: String)
    throws
    -> PyObjectPointer
  {
    if state.value.base == nil || state.value.baseVersion != preload.version {
      guard state.value.own != nil || state.value.base != nil else { throw closedError(name) }
      let rebuilt = try ContextSetup.makeBaseGlobals(imports: state.value.imports, preload: preload.code)
      state.value.base.map(Py_DecRef)
      state.value.base = rebuilt
      state.value.baseVersion = preload.version
    }
    guard let base = state.value.base, let copy = PyDict_Copy(base) else { throw PythonError.fetch() }
    return copy
  }

  private static func closedError(_ name: String) -> SwiftPyError {
    SwiftPyError(.closed, "the context '\(name)' has been closed")
  }

  /// An extension that refuses sub-interpreters fails its import with an ImportError that does
  /// not say what to do; say it.
  static func hintingSubinterpreterImports<T>(_ mode: Mode, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as PythonError where mode != .worker && error.mentionsSubinterpreterImport {
      let module = error.moduleName.map { String($0.prefix { $0 != "." }) }
      let named = module.map { "'\($0)'" } ?? "this extension module"
      let route = module ?? "<package>"
      throw error.addingHint(
        "\(named) cannot be loaded in a \(mode) context (it does not support sub-interpreters); "
          + "import it in a pool of .worker contexts instead: "
          + "try await py.startPool(\"workers\", size: 1, mode: .worker); py.route(module: \"\(route)\", to: \"workers\")"
      )
    }
  }
}

/// A lease's namespace, living on its context's thread.
final class Session: Sendable {
  let globals: ThreadConfinedBox<PyObjectPointer?>

  init(owner: InterpreterThread) { globals = ThreadConfinedBox(nil, owner: owner) }

  /// Releases the namespace; on the context's thread.
  func drop() {
    globals.value.map(Py_DecRef)
    globals.value = nil
  }
}
