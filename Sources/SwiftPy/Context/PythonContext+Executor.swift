/// The context's own thread as a Swift task executor: the fast path for a series of calls.
///
/// ```swift
/// let ctx = try await py.context(index: 0)
/// let total = try await ctx.withExecutor {
///   var total = 0
///   for n in 0..<10_000 { total += try await ctx.call("math", "isqrt", args: [n], as: Int.self) }
///   return total
/// }
/// ```
///
/// Inside `withExecutor`, the task runs on the context's interpreter thread between its Python
/// jobs, and each call to that context — or, for a pool's context, each one-shot call routed to
/// its pool — runs right there: no queue, no thread hop, no wake-up. Everything else holds as on
/// the usual path: other callers' calls come first, timeouts and cancellation interrupt the
/// call, errors are the same errors (ARCHITECTURE.md, "Calls on the context's own thread").
extension PythonContext {
  /// This context's interpreter thread as a task executor, for `withTaskExecutorPreference`,
  /// `Task(executorPreference:)` and `group.addTask(executorPreference:)`.
  public var taskExecutor: any TaskExecutor { thread }

  /// Runs `body` on this context's thread: its calls to this context run inline, without a
  /// thread hop (see the type's documentation).
  ///
  /// `body` is not isolated to the caller's actor — code isolated to an actor (the main actor)
  /// runs on that actor's executor whatever the preference, so it would gain nothing. While
  /// `body` runs Swift code between calls, the context runs no other job; on a shared GIL
  /// (`worker`, `subinterp`) the GIL is released between calls, so other contexts run. If the
  /// context closes or is lost meanwhile, `body` goes on elsewhere and its calls to this context
  /// fail as they would anywhere.
  public func withExecutor<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
    try await withTaskExecutorPreference(thread) { try await body() }
  }
}

extension PythonLease {
  /// Runs `body` on the leased context's thread: the lease's calls run inline, without a
  /// thread hop (``PythonContext/withExecutor(_:)``).
  public func withExecutor<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
    try await context.withExecutor(body)
  }
}
