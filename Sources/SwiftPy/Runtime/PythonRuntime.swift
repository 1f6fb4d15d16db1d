import CPythonShim
import Foundation
import Synchronization

/// The entry point: finds a Python, starts the default pool of contexts, and runs Python code.
///
/// ```swift
/// let py = try await PythonRuntime.start()
/// let two = try await py.eval("1 + 1")                        // .int(2)
/// let root = try await py.call("math", "sqrt", args: [16])     // .float(4.0)
/// await py.shutdown()
/// ```
///
/// One-shot calls (`eval`, `exec`, `call`) are routed to a pool (by module, see
/// ``route(module:to:)``) and to a context in it (by the caller's thread), and each runs in a
/// fresh namespace: no state is kept between them. For state, lease a context with
/// `withContext` or ``bind(pool:index:waitingUpTo:)``, or make one with
/// ``newContext(mode:)``. Several runtimes can live in one process, each with its own pools,
/// routes and preload; they share the one CPython the process loads.
public final class PythonRuntime: Sendable {
  /// How to start a runtime.
  public struct Configuration: Sendable {
    /// Which Python to use; `.automatic` follows the discovery order (see ``PythonDiscovery``).
    public var python: PythonChoice
    /// The default pool's size and mode.
    public var defaultPool: PoolConfiguration
    /// Preload code, paths and imports applied to every context, the default pool's included
    /// (they can also be changed later through ``preload``, ``paths`` and ``imports``).
    public var preload: String?
    public var paths: [String]
    public var imports: [String]
    /// The timeout of calls made without one; nil (the default) means none.
    public var defaultTimeout: Duration?
    /// How long an interrupted call (timeout, cancellation, shutdown) gets to return before its
    /// context is taken out of service and replaced: a blocking C call cannot be interrupted.
    public var interruptGrace: Duration
    /// How long a new context — a pool's, a replacement, `newContext` — may take to start (site
    /// files, imports, preload) before it is given up with ``SwiftPyError/Code/timeout``.
    public var contextStartTimeout: Duration
    /// Let Python code change the process's signal dispositions (`signal.signal` in the main
    /// interpreter). Off by default: the host's handlers stay the host's. Takes effect with the
    /// first runtime of the process, which initializes CPython.
    public var pythonSignalHandlers: Bool
    /// Where the Python output of this runtime's contexts goes (see <doc:PythonOutputGuide>).
    public var output: PythonOutputPolicy
    /// Where Python's `logging` records go, and the level of the root logger in every
    /// interpreter (see <doc:CallingSwiftFromPython>).
    public var logging: PythonLogging

    public init(
      python: PythonChoice = .automatic, defaultPool: PoolConfiguration = .init(), preload: String? = nil,
      paths: [String] = [], imports: [String] = [], defaultTimeout: Duration? = nil,
      interruptGrace: Duration = .seconds(2), output: PythonOutputPolicy = .inherit,
      contextStartTimeout: Duration = .seconds(30), logging: PythonLogging = .init(),
      pythonSignalHandlers: Bool = false
    ) {
      self.logging = logging
      self.pythonSignalHandlers = pythonSignalHandlers
      self.contextStartTimeout = contextStartTimeout
      self.python = python
      self.defaultPool = defaultPool
      self.preload = preload
      self.paths = paths
      self.imports = imports
      self.defaultTimeout = defaultTimeout
      self.interruptGrace = interruptGrace
      self.output = output
    }
  }

  /// The size and mode of a pool.
  public struct PoolConfiguration: Sendable {
    /// Contexts in the pool; nil means one per core.
    public var size: Int?
    /// nil means ownGIL where the installation supports it, else worker.
    public var mode: PythonContext.Mode?
    /// Run the pool's contexts in the sandbox (the DocC article "Sandbox"): running programs,
    /// ending or signalling the host, ctypes and the rest it lists raise PermissionError. Needs a
    /// `.subinterp` or `.ownGIL` mode.
    public var sandbox: Bool

    public init(size: Int? = nil, mode: PythonContext.Mode? = nil, sandbox: Bool = false) {
      self.size = size
      self.mode = mode
      self.sandbox = sandbox
    }
  }

  /// The Python in use, and how discovery chose it.
  public let installation: PythonInstallation
  public let discovery: DiscoveryReport
  /// The interpreters API (CPython's `concurrent.interpreters`).
  public let interpreters: Interpreters
  /// The pool named `default`, which unrouted one-shot calls use.
  public let defaultPool: PythonPool
  /// Preload code run in every new interpreter (erlang_python's preload).
  public let preload: PythonPreload
  /// Directories on `sys.path` in every interpreter.
  public let paths: PythonPaths
  /// Modules imported in every interpreter and bound in every session.
  public let imports: PythonImports

  let process: PythonProcess
  let policy: CallPolicy
  let output: PythonOutputPolicy
  let serial: Int
  let directory: Directory
  let routing = Mutex(RoutingTable())
  let lifecycle: RuntimeLifecycle
  /// Runs this runtime's reloads one at a time (ARCHITECTURE.md, "Hot reload").
  let reloads = ReloadLane()
  /// What the `swift` module of this runtime's interpreters reaches: registered Swift
  /// functions, shared state, logging.
  let bridge: SwiftBridge
  /// The shutdown in progress or done: every `shutdown()` caller awaits the same one.
  private let shutdownTask = Mutex<Task<Void, Never>?>(nil)
  private static let serials = Atomic<Int>(0)

  /// The runtime's pools and standalone contexts.
  final class Directory: Sendable {
    let pools = Mutex<[String: PythonPool]>([:])
    let standalone = Mutex<[PythonContext]>([])
    let contextSerials = Atomic<Int>(0)

    /// Every context of every pool, and the standalone ones.
    var allContexts: [PythonContext] {
      pools.withLock { $0.values.flatMap(\.contexts) } + standalone.withLock { $0 }
    }
  }

  private init(
    discovery: DiscoveryReport, process: PythonProcess, policy: CallPolicy, output: PythonOutputPolicy,
    serial: Int, directory: Directory, lifecycle: RuntimeLifecycle,
    preload: PythonPreload, paths: PythonPaths, imports: PythonImports, defaultPool: PythonPool,
    interpreters: Interpreters, bridge: SwiftBridge
  ) {
    self.bridge = bridge
    self.lifecycle = lifecycle
    self.discovery = discovery
    self.installation = discovery.installation
    self.process = process
    self.policy = policy
    self.output = output
    self.serial = serial
    self.directory = directory
    self.preload = preload
    self.paths = paths
    self.imports = imports
    self.defaultPool = defaultPool
    self.interpreters = interpreters
  }

  /// Discovers Python, loads and initializes it (once per process) and starts the default pool.
  public static func start(_ configuration: Configuration = .init()) async throws -> PythonRuntime {
    for module in configuration.imports { try PythonImports.check(module) }
    let discovery = try await DiscoveryCache.discover(configuration.python)
    let installation = discovery.installation
    let process = try await PythonProcess.start(
      installation, pythonSignalHandlers: configuration.pythonSignalHandlers)
    let serial = serials.wrappingAdd(1, ordering: .relaxed).newValue
    let directory = Directory()
    let lifecycle = RuntimeLifecycle()
    let preload = PythonPreload(code: configuration.preload, lifecycle: lifecycle)
    let paths = PythonPaths(configuration.paths, lifecycle: lifecycle) { directory.allContexts }
    let imports = PythonImports(configuration.imports, lifecycle: lifecycle) { directory.allContexts }
    let bridge = SwiftBridge(logging: configuration.logging)
    let blueprint = blueprintMaker(installation, preload, paths, imports, configuration.output, bridge)
    let mode = configuration.defaultPool.mode ?? defaultMode(for: installation)
    let size = configuration.defaultPool.size ?? ProcessInfo.processInfo.activeProcessorCount
    let policy = CallPolicy(
      defaultTimeout: configuration.defaultTimeout, grace: configuration.interruptGrace,
      startLimit: configuration.contextStartTimeout)
    let pool: PythonPool
    do {
      pool = try await PythonPool.start(
        name: "default", size: size, mode: mode, sandbox: configuration.defaultPool.sandbox,
        installation: installation,
        policy: policy, threadPrefix: "rt\(serial)-default", blueprint: blueprint)
    } catch {
      bridge.retire()
      throw error
    }
    directory.pools.withLock { $0["default"] = pool }
    let interpreters: Interpreters
    do {
      var created = ContextBlueprint(installation, output: configuration.output)
      created.bridge = bridge
      interpreters = try await Interpreters.start(
        process: process, runtime: serial,
        blueprint: created,
        policy: policy, lifecycle: lifecycle)
    } catch {
      await pool.stop(deadline: nil, refusal: SwiftPyError(.shuttingDown, "the runtime failed to start"))
      bridge.retire()
      throw error
    }
    let runtime = PythonRuntime(
      discovery: discovery, process: process, policy: policy, output: configuration.output, serial: serial,
      directory: directory, lifecycle: lifecycle,
      preload: preload,
      paths: paths, imports: imports, defaultPool: pool, interpreters: interpreters, bridge: bridge)
    ExitWork.started(runtime, process: process)
    return runtime
  }

  /// What every new context is given: the registries as they are at that moment.
  private static func blueprintMaker(
    _ installation: PythonInstallation, _ preload: PythonPreload, _ paths: PythonPaths,
    _ imports: PythonImports, _ output: PythonOutputPolicy, _ bridge: SwiftBridge
  ) -> @Sendable () -> ContextBlueprint {
    {
      var blueprint = ContextBlueprint(installation, output: output)
      blueprint.bridge = bridge
      blueprint.paths = paths.all
      blueprint.imports = imports.all
      blueprint.preload = preload.snapshot
      return blueprint
    }
  }

  var blueprint: ContextBlueprint {
    PythonRuntime.blueprintMaker(installation, preload, paths, imports, output, bridge)()
  }

  /// ownGIL where available, else worker.
  static func defaultMode(for installation: PythonInstallation) -> PythonContext.Mode {
    installation.supportsOwnGIL ? .ownGIL : .worker
  }

  /// The modes this Python can run.
  public var supportedModes: [PythonContext.Mode] {
    PythonContext.Mode.allCases.filter { (try? PythonContext.checkAvailable($0, in: installation)) != nil }
  }

  // MARK: Standalone contexts

  /// A standalone context outside every pool, with a namespace that keeps state between calls
  /// and starts from the preloaded globals. The runtime closes it at ``shutdown(deadline:)`` if you
  /// have not.
  public func newContext(mode: PythonContext.Mode? = nil) async throws -> PythonContext {
    try checkRunning()
    let serial = directory.contextSerials.wrappingAdd(1, ordering: .relaxed).newValue
    let context = try await PythonContext.start(
      mode: mode ?? PythonRuntime.defaultMode(for: installation), installation: installation,
      blueprint: blueprint, name: "rt\(self.serial)-ctx\(serial)", policy: policy)
    // Registered under the lock, after checking for a shutdown that may have begun meanwhile:
    // shutdown sets its flag before it takes the list, so no context escapes it.
    let registered = directory.standalone.withLock { contexts in
      guard !lifecycle.isShutDown.load(ordering: .acquiring) else { return false }
      contexts.removeAll { !$0.isOpen }
      contexts.append(context)
      return true
    }
    guard registered else {
      await context.close(deadline: nil, refusal: nil)
      throw SwiftPyError(.shuttingDown, "the runtime has been shut down")
    }
    return context
  }

  // MARK: Shutdown

  /// Stops taking calls, lets the calls in flight finish until `deadline`, then interrupts the
  /// rest, and ends every interpreter this runtime started, each on its own thread. Every caller
  /// gets its result or a ``SwiftPyError/Code/shuttingDown`` error; none waits forever.
  /// A call stuck in a blocking C function is abandoned after the interrupt grace: its thread
  /// ends its interpreter when the call returns. Other runtimes in the process are unaffected.
  ///
  /// Python's exit work runs as in `python`: sub-interpreters run their `atexit` handlers as
  /// they end; the main interpreter (shared by worker contexts of every runtime) has its open
  /// files flushed, and its `atexit` handlers run when this is the process's last runtime. A
  /// process that exits without calling `shutdown()` gets the same at exit, within a few seconds.
  public func shutdown(deadline: Duration = .seconds(10)) async {
    let task = shutdownTask.withLock { task -> Task<Void, Never> in
      if let task { return task }  // a second caller waits for the first one's shutdown
      lifecycle.isShutDown.store(true, ordering: .releasing)
      let started = Task { await self.stopEverything(deadline: deadline) }
      task = started
      return started
    }
    await task.value
  }

  private func stopEverything(deadline: Duration) async {
    let pools = directory.pools.withLock { pools in
      defer { pools.removeAll() }
      return Array(pools.values)
    }
    let standalone = directory.standalone.withLock { contexts in
      defer { contexts.removeAll() }
      return contexts
    }
    let refusal = SwiftPyError(.shuttingDown, "the runtime is shutting down")
    await withTaskGroup(of: Void.self) { group in
      for pool in pools { group.addTask { await pool.stop(deadline: deadline, refusal: refusal) } }
      group.addTask { await self.interpreters.closeAll(deadline: deadline) }
      for context in standalone {
        group.addTask { await context.close(deadline: deadline, refusal: refusal) }
      }
    }
    // Python's exit work for the main interpreter, which the worker contexts share and which
    // lives on (ARCHITECTURE.md, "Exit work"): before the bridge goes, so handlers can log.
    await ExitWork.ended(self, within: max(deadline, .seconds(1)))
    bridge.retire()
  }

  /// Interrupts the call running on `context` (see ``PythonContext/interrupt()``).
  @discardableResult
  public func interrupt(_ context: PythonContext) -> Bool { context.interrupt() }

  func checkRunning() throws {
    try lifecycle.check()
  }

  /// A small number fixed for the calling OS thread: the affinity key.
  static var callerThreadSlot: Int { spy_thread_slot() }
}
