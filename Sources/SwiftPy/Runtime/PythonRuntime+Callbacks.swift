import OrderedCollections

extension PythonRuntime {
  /// Makes `body` callable from Python in every interpreter of this runtime — every pool, mode
  /// and standalone context, those started later included — as `swift.call(name, ...)`,
  /// `swift.name(...)` or `from swift import name`. Registering a name again replaces its
  /// function.
  ///
  /// ```swift
  /// try await py.register("fetch") { args, kwargs in
  ///   let url = args.first?.stringValue ?? ""
  ///   return .string(try await download(url))
  /// }
  /// try await py.exec("import swift; page = swift.fetch('https://example.com')")
  /// ```
  ///
  /// The Python thread releases its GIL while `body` runs, and its context keeps serving its
  /// own calls, so `body` may call Python on that same context, to any depth. An error `body`
  /// throws is raised in Python as `swift.SwiftError` (a ``PythonError`` keeps its Python type);
  /// when the Python call that is waiting times out or is cancelled, `body`'s task is cancelled.
  public func register(
    _ name: String,
    _ body:
      @escaping @Sendable (_ args: [PythonValue], _ kwargs: [String: PythonValue]) async throws -> PythonValue
  ) async throws {
    try add(SwiftCallback(name: name, body: .async(body)))
  }

  /// Registers a synchronous Swift function: it runs on the Python thread that calls it, with
  /// that thread's GIL released (the fastest round trip). It cannot call Python; register an
  /// `async` function for that.
  public func register(
    _ name: String,
    _ body: @escaping @Sendable (_ args: [PythonValue], _ kwargs: [String: PythonValue]) throws -> PythonValue
  ) async throws {
    try add(SwiftCallback(name: name, body: .sync(body)))
  }

  /// Removes the Swift function registered as `name`; Python calling it afterwards gets
  /// `swift.NotRegisteredError`. Returns false when no function had that name.
  @discardableResult
  public func unregister(_ name: String) async -> Bool {
    bridge.callbacks.withLock { $0.removeValue(forKey: name) } != nil
  }

  /// The names of the registered Swift functions, sorted.
  public var registeredFunctions: [String] { bridge.names }

  /// State shared by Swift and every interpreter of this runtime (`swift.state` in Python).
  public var state: PythonState { bridge.state }

  private func add(_ callback: SwiftCallback) throws {
    try checkRunning()
    guard !callback.name.isEmpty, !callback.name.utf8.contains(0), !callback.name.hasPrefix("__") else {
      throw SwiftPyError(
        .invalidArgument, "'\(callback.name)' cannot name a Swift function (empty, a NUL byte, or a dunder)")
    }
    bridge.callbacks.withLock { $0[callback.name] = callback }
  }

  /// Streams what `module.function(*args, **kwargs)` yields — a generator or an async generator —
  /// pulled lazily, on the pool ``lookupPool(module:function:)`` names (or the bound lease):
  /// see ``PythonContext/stream(_:_:args:kwargs:timeout:)``. The generator lives on the context
  /// that started it; each item is one call there.
  public func stream(
    _ module: String, _ function: String, args: [PythonValue] = [],
    kwargs: OrderedDictionary<String, PythonValue> = [:], timeout: Duration? = nil
  ) async throws -> AsyncThrowingStream<PythonValue, Error> {
    let poolName = lookupPool(module: module, function: function)
    if let lease = boundLease, lease.pool == poolName {
      return try await lease.stream(module, function, args: args, kwargs: kwargs, timeout: timeout)
    }
    try checkRunning()
    let key = StreamSource.nextKey()
    let thread = try await pool(named: poolName).oneShot(
      affinity: PythonRuntime.callerThreadSlot, preload: preload.snapshot, timeout: timeout,
      describing: "stream \(module).\(function)"
    ) { globals in
      try StreamSource.open(key: key, module, function, args: args, kwargs: kwargs, globals: globals)
    }
    return StreamSource(
      key: key, thread: thread, timeout: timeout ?? policy.defaultTimeout, grace: policy.grace
    ).makeStream()
  }
}
