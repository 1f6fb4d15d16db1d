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
  /// Threads of contexts this pool abandoned in a call that would not stop, still running it
  /// (in-process Python cannot kill a thread; they keep being interrupted, and end when the call
  /// returns). Not counted in ``contexts``.
  public let abandonedThreads: Int

  public init(contexts: Int, available: Int, checkedOut: Int, pendingRequests: Int, abandonedThreads: Int = 0)
  {
    self.contexts = contexts
    self.available = available
    self.checkedOut = checkedOut
    self.pendingRequests = pendingRequests
    self.abandonedThreads = abandonedThreads
  }

  public var description: String {
    "contexts: \(contexts), available: \(available), checked out: \(checkedOut), pending: \(pendingRequests)"
      + (abandonedThreads > 0 ? ", abandoned threads: \(abandonedThreads)" : "")
  }
}
