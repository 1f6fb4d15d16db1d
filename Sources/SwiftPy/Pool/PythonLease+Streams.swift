import OrderedCollections

extension PythonLease {
  /// Streams what `module.function(*args, **kwargs)` yields, lazily, on the leased context
  /// (see ``PythonContext/stream(_:_:args:kwargs:timeout:)``); `__main__` names the lease's
  /// namespace.
  public func stream(
    _ module: String, _ function: String, args: [PythonValue] = [],
    kwargs: OrderedDictionary<String, PythonValue> = [:], timeout: Duration? = nil
  ) async throws -> AsyncThrowingStream<PythonValue, Error> {
    guard isBound else { throw SwiftPyError.contextNotBound }
    return try await context.stream(
      module, function, args: args, kwargs: kwargs, in: .session(session), timeout: timeout)
  }
}
