import Foundation
import OrderedCollections
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
/// One-shot calls (`eval`, `exec`, `call`) run on the default pool, each in a fresh namespace:
/// no state is kept between them. For state, use a context from ``newContext(mode:)``.
/// Several runtimes can live in one process; they share the one CPython the process loads.
public final class PythonRuntime: Sendable {
  /// How to start a runtime.
  public struct Configuration: Sendable {
    /// Which Python to use; `.automatic` follows the discovery order (see ``PythonDiscovery``).
    public var python: PythonChoice
    /// The default pool's size and mode.
    public var defaultPool: PoolConfiguration

    public init(python: PythonChoice = .automatic, defaultPool: PoolConfiguration = .init()) {
      self.python = python
      self.defaultPool = defaultPool
    }
  }

  /// The size and mode of a pool.
  public struct PoolConfiguration: Sendable {
    /// Contexts in the pool; nil means one per core.
    public var size: Int?
    /// nil means ownGIL where the installation supports it, else worker.
    public var mode: PythonContext.Mode?

    public init(size: Int? = nil, mode: PythonContext.Mode? = nil) {
      self.size = size
      self.mode = mode
    }
  }

  /// The Python in use, and how discovery chose it.
  public let installation: PythonInstallation
  public let discovery: DiscoveryReport
  /// The interpreters API (CPython's `concurrent.interpreters`).
  public let interpreters: Interpreters
  /// The pool that one-shot calls run on.
  public let defaultPool: PythonPool

  let process: PythonProcess
  private let standaloneContexts = Mutex<[PythonContext]>([])
  private let isShutDown = Atomic<Bool>(false)
  let serial: Int

  private static let serials = Atomic<Int>(0)

  private init(
    discovery: DiscoveryReport, process: PythonProcess, defaultPool: PythonPool,
    interpreters: Interpreters, serial: Int
  ) {
    self.discovery = discovery
    self.installation = discovery.installation
    self.process = process
    self.defaultPool = defaultPool
    self.interpreters = interpreters
    self.serial = serial
  }

  /// Discovers Python, loads and initializes it (once per process) and starts the default pool.
  public static func start(_ configuration: Configuration = .init()) async throws -> PythonRuntime {
    let discovery = try await DiscoveryCache.discover(configuration.python)
    let process = try await PythonProcess.start(discovery.installation)
    let serial = serials.wrappingAdd(1, ordering: .relaxed).newValue
    let mode = configuration.defaultPool.mode ?? defaultMode(for: discovery.installation)
    let size = configuration.defaultPool.size ?? ProcessInfo.processInfo.activeProcessorCount
    let pool = try await PythonPool.start(
      name: "rt\(serial)-default", size: size, mode: mode, process: process)
    let interpreters = try await Interpreters.start(process: process, runtime: serial)
    return PythonRuntime(
      discovery: discovery, process: process, defaultPool: pool, interpreters: interpreters,
      serial: serial)
  }

  /// ownGIL where available, else worker.
  static func defaultMode(for installation: PythonInstallation) -> PythonContext.Mode {
    installation.supportsOwnGIL ? .ownGIL : .worker
  }

  /// The modes this Python can run.
  public var supportedModes: [PythonContext.Mode] {
    PythonContext.Mode.allCases.filter { (try? PythonContext.checkAvailable($0, in: installation)) != nil }
  }

  // MARK: One-shot calls

  /// Evaluates an expression in a fresh namespace on the default pool.
  public func eval(_ expression: String, locals: [String: PythonValue] = [:]) async throws -> PythonValue {
    try await oneShot { globals in
      try PythonExecution.evaluate(expression, globals: globals, locals: locals)
    }
  }

  /// Evaluates an expression and decodes its value as `T`.
  public func eval<T: Decodable & Sendable>(
    _ expression: String, locals: [String: PythonValue] = [:], as type: T.Type
  ) async throws -> T {
    try await eval(expression, locals: locals).decode(T.self)
  }

  /// Executes statements in a fresh namespace (nothing they define outlives the call).
  public func exec(_ code: String) async throws {
    try await oneShot { globals in try PythonExecution.execute(code, globals: globals) }
  }

  /// Calls `module.function(*args, **kwargs)` on the default pool.
  public func call(
    _ module: String, _ function: String, args: [PythonValue] = [],
    kwargs: OrderedDictionary<String, PythonValue> = [:]
  ) async throws -> PythonValue {
    try await oneShot { globals in
      try PythonExecution.call(module, function, args: args, kwargs: kwargs, globals: globals)
    }
  }

  private func oneShot<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
    try checkRunning()
    return try await defaultPool.nextContext().run(fresh: true, body)
  }

  // MARK: Contexts

  /// A standalone context outside every pool, with a namespace that keeps state between calls.
  /// The runtime closes it at ``shutdown()`` if you have not.
  public func newContext(mode: PythonContext.Mode? = nil) async throws -> PythonContext {
    try checkRunning()
    let context = try await PythonContext.start(
      mode: mode ?? PythonRuntime.defaultMode(for: installation), process: process,
      name: "rt\(serial)-ctx\(PythonRuntime.contextSerials.wrappingAdd(1, ordering: .relaxed).newValue)")
    standaloneContexts.withLock { $0.append(context) }
    return context
  }

  private static let contextSerials = Atomic<Int>(0)

  // MARK: Shutdown

  /// Stops taking calls, lets queued calls finish, and ends every interpreter this runtime
  /// started, each on its own thread. Other runtimes in the process are unaffected.
  public func shutdown() async {
    guard !isShutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
    let standalone = standaloneContexts.withLock { contexts in
      defer { contexts.removeAll() }
      return contexts
    }
    await withTaskGroup(of: Void.self) { group in
      group.addTask { await self.defaultPool.stop() }
      group.addTask { await self.interpreters.closeAll() }
      for context in standalone { group.addTask { await context.close() } }
    }
  }

  private func checkRunning() throws {
    guard !isShutDown.load(ordering: .acquiring) else {
      throw PythonRuntimeError(.shuttingDown, "the runtime has been shut down")
    }
  }
}
