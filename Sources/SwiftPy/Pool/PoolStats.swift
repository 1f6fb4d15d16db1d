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
