import OrderedCollections

/// One call for ``PythonRuntime/parallel(_:pool:timeout:)``.
public struct PythonCall: Sendable {
  public let module: String
  public let function: String
  public let args: [PythonValue]
  public let kwargs: OrderedDictionary<String, PythonValue>

  public init(
    _ module: String, _ function: String, args: [PythonValue] = [],
    kwargs: OrderedDictionary<String, PythonValue> = [:]
  ) {
    self.module = module
    self.function = function
    self.args = args
    self.kwargs = kwargs
  }

  /// A call with Swift values: `PythonCall("math", "hypot", args: [x, y])`.
  @_disfavoredOverload
  public init(
    _ module: String, _ function: String, args: [any PythonValueConvertible] = [],
    kwargs: OrderedDictionary<String, any PythonValueConvertible> = [:]
  ) {
    self.init(module, function, args: args.pythonValues, kwargs: kwargs.pythonValues)
  }
}

extension PythonRuntime {
  /// Evaluates an expression: in the bound lease's namespace inside `withContext { }`,
  /// else in a fresh namespace on the default pool.
  ///
  /// Every call takes a `timeout` (else ``Configuration/defaultTimeout``): when it passes, the
  /// call throws ``SwiftPyError/Code/timeout`` and the Python it runs is interrupted.
  public func eval(_ expression: String, locals: [String: PythonValue] = [:], timeout: Duration? = nil)
    async throws -> PythonValue
  {
    if let lease = boundLease { return try await lease.eval(expression, locals: locals, timeout: timeout) }
    return try await oneShot(
      pool: "default", timeout: timeout, describing: "eval(\(PythonContext.excerpt(expression)))"
    ) { globals in
      try PythonExecution.evaluate(expression, globals: globals, locals: locals)
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

  /// Executes statements: in the bound lease's namespace, else in a fresh namespace (nothing
  /// they define outlives the call).
  public func exec(_ code: String, timeout: Duration? = nil) async throws {
    if let lease = boundLease { return try await lease.exec(code, timeout: timeout) }
    try await oneShot(pool: "default", timeout: timeout, describing: "exec(\(PythonContext.excerpt(code)))") {
      globals in
      try PythonExecution.execute(code, globals: globals)
    }
  }

  /// Calls `module.function(*args, **kwargs)` on the pool ``lookupPool(module:function:)``
  /// names — or on the bound lease when it belongs to that pool.
  public func call(
    _ module: String, _ function: String, args: [PythonValue] = [],
    kwargs: OrderedDictionary<String, PythonValue> = [:], timeout: Duration? = nil
  ) async throws -> PythonValue {
    let pool = lookupPool(module: module, function: function)
    if let lease = boundLease, lease.pool == pool {
      return try await lease.call(module, function, args: args, kwargs: kwargs, timeout: timeout)
    }
    return try await oneShot(pool: pool, timeout: timeout, describing: "call \(module).\(function)") {
      globals in
      try PythonExecution.call(module, function, args: args, kwargs: kwargs, globals: globals)
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

  /// Runs `body` with direct access to Python objects: on the bound lease inside
  /// `withContext { }`, else in a fresh namespace on a free context of the default pool.
  public func withPython<T: Sendable>(
    timeout: Duration? = nil, _ body: @escaping @Sendable (Python) throws -> T
  ) async throws -> T {
    if let lease = boundLease { return try await lease.withPython(timeout: timeout, body) }
    return try await oneShot(pool: "default", timeout: timeout, describing: "withPython") { globals in
      guard let thread = InterpreterThread.current else {
        throw SwiftPyError(.closed, "withPython reached a thread without an interpreter")
      }
      return try PythonExecution.userCode { try body(Python(thread: thread, globals: globals)) }
    }
  }

  /// Runs `calls` across the contexts of `pool` at once — call *i* on context *i* mod size —
  /// and returns their results in order. If any call fails, the first failure (in order) is
  /// thrown after all have finished.
  public func parallel(_ calls: [PythonCall], pool: String = "default", timeout: Duration? = nil) async throws
    -> [PythonValue]
  {
    try checkRunning()
    let contexts = try self.pool(named: pool).contexts
    let preload = preload.snapshot
    let results = await withTaskGroup(of: (Int, Result<PythonValue, Error>).self) { group in
      for (index, call) in calls.enumerated() {
        let context = contexts[index % contexts.count]
        group.addTask {
          let result = await Result {
            try await context.call(
              call.module, call.function, args: call.args, kwargs: call.kwargs, in: .fresh(preload),
              timeout: timeout)
          }
          return (index, result)
        }
      }
      var results = [Result<PythonValue, Error>?](repeating: nil, count: calls.count)
      for await (index, result) in group { results[index] = result }
      return results
    }
    return try results.map { try $0!.get() }
  }

  /// Runs `body` in a fresh namespace on a free context of `pool` (see ``PythonPool``).
  private func oneShot<T: Sendable>(
    pool: String, timeout: Duration?, describing what: @autoclosure () -> String,
    _ body: @escaping @Sendable (_ globals: PyObjectPointer) throws -> T
  ) async throws -> T {
    try checkRunning()
    return try await self.pool(named: pool).oneShot(
      affinity: PythonRuntime.callerThreadSlot, preload: preload.snapshot, timeout: timeout,
      describing: what(),
      body)
  }
}
