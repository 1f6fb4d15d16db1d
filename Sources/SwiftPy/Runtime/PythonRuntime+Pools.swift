extension PythonRuntime {
  // MARK: Pools

  /// Starts a named pool of `size` contexts (erlang_python's `start_pool`). Each pool has its
  /// own mode: a `.worker` pool can import extensions that refuse sub-interpreters (numpy).
  /// With `sandbox`, its contexts refuse running programs, ending or signalling the host,
  /// ctypes and the rest the DocC article "Sandbox" lists (PermissionError); a sandbox needs a
  /// `.subinterp` or `.ownGIL` pool.
  @discardableResult
  public func startPool(_ name: String, size: Int, mode: PythonContext.Mode? = nil, sandbox: Bool = false)
    async throws -> PythonPool
  {
    try checkRunning()
    guard directory.pools.withLock({ $0[name] == nil }) else { throw SwiftPyError.poolExists(name) }
    let pool = try await PythonPool.start(
      name: name, size: size, mode: mode ?? PythonRuntime.defaultMode(for: installation), sandbox: sandbox,
      installation: installation, policy: policy, threadPrefix: "rt\(serial)-\(name)",
      blueprint: { [self] in blueprint })
    // Registered under the lock, after checking for a shutdown that began meanwhile.
    let refusal: Error? = directory.pools.withLock { pools in
      if lifecycle.isShutDown.load(ordering: .acquiring) {
        return SwiftPyError(.shuttingDown, "the runtime has been shut down")
      }
      if pools[name] != nil { return SwiftPyError.poolExists(name) }
      pools[name] = pool
      return nil
    }
    if let refusal {
      await pool.stop(deadline: nil, refusal: SwiftPyError(.shuttingDown, "the runtime has been shut down"))
      throw refusal
    }
    return pool
  }

  /// Stops a named pool: calls and lease requests still waiting for a context are answered with
  /// ``SwiftPyError/Code/poolNotFound``, and its contexts finish the calls running or queued on
  /// them and end — at `deadline` those are cut short, and a context that still does not stop
  /// is abandoned, so this returns by `deadline` plus the interrupt grace. Routes to the pool
  /// stay registered; calls routed there throw ``SwiftPyError/Code/poolNotFound`` until a pool
  /// of that name is started again. Stopping a pool that is not running does nothing.
  public func stopPool(_ name: String, deadline: Duration = .seconds(10)) async throws {
    guard name != "default" else { throw SwiftPyError.cannotStopDefaultPool }
    let pool = directory.pools.withLock { $0.removeValue(forKey: name) }
    await pool?.stop(deadline: deadline, refusal: SwiftPyError.poolNotFound(name))
  }

  /// True when a pool of that name is running.
  public func poolStarted(_ name: String) -> Bool { directory.pools.withLock { $0[name] != nil } }

  /// The names of the running pools.
  public var poolNames: [String] { directory.pools.withLock { $0.keys.sorted() } }

  /// The contexts of a pool (empty when no such pool runs).
  public func contexts(_ pool: String = "default") -> [PythonContext] {
    directory.pools.withLock { $0[pool]?.contexts ?? [] }
  }

  /// The number of contexts in a pool (0 when no such pool runs).
  public func numContexts(_ pool: String = "default") -> Int {
    directory.pools.withLock { $0[pool]?.size ?? 0 }
  }

  /// A pool's occupancy: contexts, available, checked out, pending calls.
  public func stats(_ pool: String = "default") throws -> PoolStats {
    try self.pool(named: pool).stats()
  }

  func pool(named name: String) throws -> PythonPool {
    guard let pool = directory.pools.withLock({ $0[name] }) else { throw SwiftPyError.poolNotFound(name) }
    return pool
  }

  // MARK: Routing

  /// Routes every call to `module` to `pool`.
  public func route(module: String, to pool: String) {
    routing.withLock { $0.route(module: module, function: nil, to: pool) }
  }

  /// Routes calls to `module.function` to `pool`; this beats a module-wide route.
  public func route(module: String, function: String, to pool: String) {
    routing.withLock { $0.route(module: module, function: function, to: pool) }
  }

  /// Removes a module-wide route.
  public func unroute(module: String) {
    routing.withLock { $0.unroute(module: module, function: nil) }
  }

  /// Removes a module+function route.
  public func unroute(module: String, function: String) {
    routing.withLock { $0.unroute(module: module, function: function) }
  }

  /// The pool a call to `module.function` goes to: the function's route, else the module's,
  /// else `default`.
  public func lookupPool(module: String, function: String) -> String {
    routing.withLock { $0.lookup(module: module, function: function) } ?? "default"
  }

  /// Every registered route.
  public func routes() -> [PythonRoute] { routing.withLock { $0.all } }

  // MARK: Choosing contexts

  /// The context calls from here go to: the bound lease's if this task is bound to a lease of
  /// `pool`, else the caller thread's context in `pool` (affinity: callers on the same thread
  /// get the same context).
  public func context(pool: String = "default") async throws -> PythonContext {
    try checkRunning()
    if let lease = boundLease, lease.pool == pool { return lease.context }
    return try await self.pool(named: pool).context(affinity: PythonRuntime.callerThreadSlot)
  }

  /// The context at `index` (0-based) of `pool`.
  public func context(index: Int, pool: String = "default") async throws -> PythonContext {
    try checkRunning()
    return try await self.pool(named: pool).context(index: index)
  }
}
