/// Errors of pools, leases and routing.
public enum PythonPoolError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Every context of the pool is leased (erlang_python's `no_workers_available`).
  case noContextsAvailable(pool: String)
  /// The lease was ended with `unbind()` (erlang_python's `context_not_bound`).
  case contextNotBound
  /// The leased context stopped working (closed, or taken out of service); the pool has
  /// replaced it, so the next `bind()` gets a fresh one.
  case contextLost(context: String, reason: String)
  /// No pool has this name (never started, or stopped).
  case poolNotFound(String)
  /// A pool with this name is running already.
  case poolExists(String)
  /// The default pool lives as long as its runtime.
  case cannotStopDefaultPool

  public var description: String {
    switch self {
    case .noContextsAvailable(let pool): "no contexts available: every context of pool '\(pool)' is leased"
    case .contextNotBound: "context not bound: this lease was ended with unbind()"
    case .contextLost(let context, let reason): "the leased context '\(context)' was lost: \(reason)"
    case .poolNotFound(let name): "no pool named '\(name)' is running"
    case .poolExists(let name): "a pool named '\(name)' is running already"
    case .cannotStopDefaultPool: "the default pool cannot be stopped; it ends with the runtime's shutdown()"
    }
  }
}

/// A pool's occupancy (erlang_python's `py_pool:get_stats()`).
public struct PoolStats: Sendable, Equatable, CustomStringConvertible {
  /// Contexts in the pool.
  public let contexts: Int
  /// Contexts that can be leased now.
  public let available: Int
  /// Contexts leased by `bind()`/`withContext`.
  public let checkedOut: Int
  /// Calls queued on the pool's contexts and not yet started.
  public let pendingRequests: Int

  public init(contexts: Int, available: Int, checkedOut: Int, pendingRequests: Int) {
    self.contexts = contexts
    self.available = available
    self.checkedOut = checkedOut
    self.pendingRequests = pendingRequests
  }

  public var description: String {
    "contexts: \(contexts), available: \(available), checked out: \(checkedOut), pending: \(pendingRequests)"
  }
}
