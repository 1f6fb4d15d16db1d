extension PythonRuntime {
  /// The lease `withContext { ... }` (the closure without a parameter) binds for its duration.
  @TaskLocal static var currentLease: PythonLease?

  /// This runtime's lease bound to the current task, if any.
  var boundLease: PythonLease? {
    guard let lease = PythonRuntime.currentLease, lease.runtimeSerial == serial, lease.isBound else {
      return nil
    }
    return lease
  }

  /// True inside `withContext { }`: `py.eval`, `py.exec` and `py.call` then
  /// use the bound context's namespace.
  public var isBound: Bool { boundLease != nil }

  /// Leases a context of `pool` exclusively, with a namespace of its own that starts from the
  /// preloaded globals. When every context is leased it throws
  /// ``SwiftPyError/Code/noContextsAvailable`` at once (erlang_python's `no_workers_available`)
  /// — or, with `waitingUpTo`, waits that long for one, in line with earlier requests.
  /// End it with ``PythonLease/unbind()``; a lease dropped without it ends by itself. With
  /// `index`, that context of the pool is leased.
  public func bind(pool: String = "default", index: Int? = nil, waitingUpTo wait: Duration = .zero)
    async throws -> PythonLease
  {
    try await takeLease(pool: pool, index: index, waitingUpTo: wait)
  }

  /// `wait` nil: as long as it takes (cancellable; answered at shutdown).
  private func takeLease(pool: String, index: Int?, waitingUpTo wait: Duration?) async throws -> PythonLease {
    try checkRunning()
    if let wait, wait < .zero {
      throw SwiftPyError(.invalidArgument, "a wait must not be negative, not \(wait)")
    }
    let pool = try self.pool(named: pool)
    let (index, context) = try await pool.lease(
      affinity: PythonRuntime.callerThreadSlot, index: index, waitingUpTo: wait)
    do {
      let session = try await context.openSession(preload: preload.snapshot, timeout: nil)
      return PythonLease(pool: pool, index: index, context: context, session: session, runtimeSerial: serial)
    } catch {
      pool.release(index: index, context: context)
      if let error = error as? SwiftPyError, error.code == .closed {
        throw pool.lost(index: index, context: context, error)
      }
      throw error
    }
  }

  /// Runs `body` with an exclusive lease passed to it; the lease ends when `body` returns or
  /// throws (erlang_python's `with_context(fun(Ctx) -> ... end)`). When every context is
  /// leased it waits its turn, first come first served, up to `waitingUpTo` — by default the
  /// runtime's call timeout, or as long as it takes when there is none (cancelling the task or
  /// shutting down the runtime ends the wait).
  ///
  /// `body` runs in the caller's isolation (`isolation`, filled in by the compiler): called on the
  /// main actor or in an actor's method, it may use that actor's state, and its result need not
  /// be `Sendable`.
  public func withContext<T>(
    pool: String = "default", index: Int? = nil, waitingUpTo wait: Duration? = nil,
    isolation: isolated (any Actor)? = #isolation, _ body: (PythonLease) async throws -> T
  ) async throws -> T {
    let lease = try await takeLease(pool: pool, index: index, waitingUpTo: wait ?? policy.defaultTimeout)
    do {
      let result = try await body(lease)
      await lease.unbind()
      return result
    } catch {
      await lease.unbind()
      throw error
    }
  }

  /// Runs `body` with an exclusive lease bound to the task: `py.eval`, `py.exec` and `py.call`
  /// inside use it, so state persists between them (erlang_python's `with_context(fun() -> ... end)`).
  /// Waits for a context and runs `body` in the caller's isolation as the other `withContext` does.
  public func withContext<T>(
    pool: String = "default", index: Int? = nil, waitingUpTo wait: Duration? = nil,
    isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
  ) async throws -> T {
    let lease = try await takeLease(pool: pool, index: index, waitingUpTo: wait ?? policy.defaultTimeout)
    do {
      let result = try await PythonRuntime.$currentLease.withValue(lease) { try await body() }
      await lease.unbind()
      return result
    } catch {
      await lease.unbind()
      throw error
    }
  }
}
