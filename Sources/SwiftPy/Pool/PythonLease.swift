import OrderedCollections
import Synchronization

/// An exclusive lease on one context of a pool, with a namespace of its own that keeps state
/// between calls (erlang_python's context affinity, `py:bind()`).
///
/// ```swift
/// let lease = try await py.bind()
/// try await lease.exec("counter = 0")
/// try await lease.exec("counter += 1")
/// let one = try await lease.eval("counter")      // .int(1)
/// await lease.unbind()
/// ```
///
/// The lease starts from a copy of the preloaded globals. It ends with ``unbind()`` or, if you
/// forget, when the last reference to it goes away; either way the context returns to the pool.
/// Calls after ``unbind()`` throw ``SwiftPyError/Code/contextNotBound``.
public final class PythonLease: Sendable, CustomStringConvertible {
  /// The pool the context was leased from.
  public let pool: String
  /// The leased context.
  public let context: PythonContext
  let session: Session
  private let index: Int
  private let owner: PythonPool
  let runtimeSerial: Int
  private let bound = Atomic<Bool>(true)
  /// Set when the context died under the lease: every later call gets the same error.
  private let loss = Mutex<SwiftPyError?>(nil)

  init(pool: PythonPool, index: Int, context: PythonContext, session: Session, runtimeSerial: Int) {
    self.pool = pool.name
    self.owner = pool
    self.index = index
    self.context = context
    self.session = session
    self.runtimeSerial = runtimeSerial
  }

  deinit { end() }

  /// True until ``unbind()``.
  public var isBound: Bool { bound.load(ordering: .acquiring) }

  public var description: String {
    "PythonLease(\(context.name) of pool \(pool)\(isBound ? "" : ", unbound"))"
  }

  /// Evaluates an expression in the lease's namespace.
  /// Every call takes a `timeout` (else the runtime's default), as on ``PythonContext``.
  public func eval(_ expression: String, locals: [String: PythonValue] = [:], timeout: Duration? = nil)
    async throws -> PythonValue
  {
    try await checked {
      try await context.eval(expression, locals: locals, in: .session(session), timeout: timeout)
    }
  }

  /// Evaluates an expression with Swift values as locals: `locals: ["x": name]`.
  @_disfavoredOverload
  public func eval(
    _ expression: String, locals: [String: any PythonValueConvertible], timeout: Duration? = nil
  ) async throws -> PythonValue {
    try await eval(expression, locals: locals.pythonValues, timeout: timeout)
  }

  /// Evaluates an expression and decodes its value as `T`.
  public func eval<T: Decodable & Sendable>(
    _ expression: String, locals: [String: PythonValue] = [:], as type: T.Type, timeout: Duration? = nil
  ) async throws -> T {
    try await eval(expression, locals: locals, timeout: timeout).decode(T.self)
  }

  /// Evaluates an expression with Swift values as locals and decodes its value as `T`.
  @_disfavoredOverload
  public func eval<T: Decodable & Sendable>(
    _ expression: String, locals: [String: any PythonValueConvertible], as type: T.Type,
    timeout: Duration? = nil
  ) async throws -> T {
    try await eval(expression, locals: locals.pythonValues, timeout: timeout).decode(T.self)
  }

  /// Executes statements in the lease's namespace; what they define stays for later calls.
  public func exec(_ code: String, timeout: Duration? = nil) async throws {
    try await checked { try await context.exec(code, in: .session(session), timeout: timeout) }
  }

  /// Calls `module.function(*args, **kwargs)`; `__main__` finds functions the lease defined.
  public func call(
    _ module: String, _ function: String, args: [PythonValue] = [],
    kwargs: OrderedDictionary<String, PythonValue> = [:], timeout: Duration? = nil
  ) async throws -> PythonValue {
    try await checked {
      try await context.call(
        module, function, args: args, kwargs: kwargs, in: .session(session), timeout: timeout)
    }
  }

  /// Calls `module.function(*args, **kwargs)` with Swift values: `args: [n, name, xs]`.
  @_disfavoredOverload
  public func call(
    _ module: String, _ function: String, args: [any PythonValueConvertible] = [],
    kwargs: OrderedDictionary<String, any PythonValueConvertible> = [:], timeout: Duration? = nil
  ) async throws -> PythonValue {
    try await call(module, function, args: args.pythonValues, kwargs: kwargs.pythonValues, timeout: timeout)
  }

  /// Calls `module.function(*args, **kwargs)` and decodes its result as `T`.
  public func call<T: Decodable & Sendable>(
    _ module: String, _ function: String, args: [PythonValue] = [],
    kwargs: OrderedDictionary<String, PythonValue> = [:], as type: T.Type, timeout: Duration? = nil
  ) async throws -> T {
    try await call(module, function, args: args, kwargs: kwargs, timeout: timeout).decode(T.self)
  }

  /// Calls `module.function(*args, **kwargs)` with Swift values and decodes its result as `T`.
  @_disfavoredOverload
  public func call<T: Decodable & Sendable>(
    _ module: String, _ function: String, args: [any PythonValueConvertible] = [],
    kwargs: OrderedDictionary<String, any PythonValueConvertible> = [:], as type: T.Type,
    timeout: Duration? = nil
  ) async throws -> T {
    try await call(module, function, args: args.pythonValues, kwargs: kwargs.pythonValues, timeout: timeout)
      .decode(T.self)
  }

  /// Direct object access with the lease's namespace as globals.
  public func withPython<T: Sendable>(
    timeout: Duration? = nil, _ body: @escaping @Sendable (Python) throws -> T
  )
    async throws -> T
  {
    try await checked { try await context.withPython(in: .session(session), timeout: timeout, body) }
  }

  /// Ends the lease: the namespace is dropped and the context returns to the pool.
  public func unbind() async { end() }

  private func end() {
    guard bound.exchange(false, ordering: .acquiringAndReleasing) else { return }
    context.closeSession(session)
    owner.release(index: index, context: context)
  }

  private func checked<T>(_ body: () async throws -> T) async throws -> T {
    guard isBound else { throw SwiftPyError.contextNotBound }
    if let loss = loss.withLock({ $0 }) { throw loss }
    do {
      return try await body()
    } catch let error as SwiftPyError where error.code == .closed && !context.isOpen {
      // The context died under the lease, and its namespace with it: the pool replaces the
      // context; this lease cannot continue.
      let lost = owner.lost(index: index, context: context, error)
      loss.withLock { $0 = $0 ?? lost }
      throw lost
    }
  }
}
