import OrderedCollections

extension PythonContext {
  /// Calls `module.function(*args, **kwargs)` — a generator function, an `async def` generator
  /// function, or anything iterable it returns — and streams what it yields, pulled lazily: the
  /// generator advances only as the loop asks for the next item. Leaving the loop (or
  /// cancelling its task) closes the generator on this context, so its `finally` runs.
  /// `__main__` names the context's namespace, as in ``call(_:_:args:kwargs:timeout:)-(_,_,[PythonValue],_,_)``; each
  /// item is one call on the context, within `timeout`.
  ///
  /// ```swift
  /// try await ctx.exec("def count(n):\n    yield from range(n)")
  /// for try await item in try await ctx.stream("__main__", "count", args: [3]) { print(item) }
  /// ```
  public func stream(
    _ module: String, _ function: String, args: [PythonValue] = [],
    kwargs: OrderedDictionary<String, PythonValue> = [:], timeout: Duration? = nil
  ) async throws -> AsyncThrowingStream<PythonValue, Error> {
    try await stream(module, function, args: args, kwargs: kwargs, in: .own, timeout: timeout)
  }

  func stream(
    _ module: String, _ function: String, args: [PythonValue], kwargs: OrderedDictionary<String, PythonValue>,
    in namespace: Namespace, timeout: Duration?
  ) async throws -> AsyncThrowingStream<PythonValue, Error> {
    let key = StreamSource.nextKey()
    let thread = try await run(namespace, timeout: timeout, describing: "stream \(module).\(function)") {
      globals in
      try StreamSource.open(key: key, module, function, args: args, kwargs: kwargs, globals: globals)
    }
    return StreamSource(
      key: key, thread: thread, timeout: timeout ?? policy.defaultTimeout, grace: policy.grace
    ).makeStream()
  }
}
