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
  ///
  /// The lease's namespace is made on the context, behind any one-shot call the context was
  /// still running when it was leased (a lease prefers an idle context, but takes a busy one
  /// rather than fail). If that other caller's call gets stuck and the context is abandoned,
  /// the lease has lost nothing of its own yet: it is taken again, from the replacement or
  /// another context, within what is left of `wait` — a lease is only ever lost to its own
  /// calls.
  private func takeLease(pool: String, index: Int?, waitingUpTo wait: Duration?) async throws -> PythonLease {
    try checkRunning()
    if let wait, wait < .zero {
      throw SwiftPyError(.invalidArgument, "a wait must not be negative, not \(wait)")
    }
    let pool = try self.pool(named: pool)
    let start = ContinuousClock.now
    var attempts = 0
    while true {
      attempts += 1
      let left = wait.map { max(.zero, $0 - (ContinuousClock.now - start)) }
      let (index, context) = try await pool.lease(
        affinity: PythonRuntime.callerThreadSlot, index: index, waitingUpTo: attempts == 1 ? wait : left)
      do {
        let session = try await context.openSession(preload: preload.snapshot, timeout: nil)
        return PythonLease(
          pool: pool, index: index, context: context, session: session, runtimeSerial: serial)
      } catch {
        pool.release(index: index, context: context)
        guard let error = error as? SwiftPyError, error.code == .closed else { throw error }
        let lost = pool.lost(index: index, context: context, error)
        // Lost to another caller's stuck call: take another context (a few times at most — each
        // try needs a context abandoned, which the interrupt grace makes slow).
        guard context.thread.isAbandoned, attempts < PythonRuntime.leaseAttempts else { throw lost }
        try checkRunning()
      }
    }
  }

  /// How many contexts a lease request tries when other callers' stuck calls take them away.
  static let leaseAttempts = 4

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
