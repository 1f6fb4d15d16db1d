extension SwiftPyError.Code {
  /// Every context of the pool is leased (erlang_python's `no_workers_available`).
  public static let noContextsAvailable = Self("noContextsAvailable")
  /// The lease was ended with `unbind()` (erlang_python's `context_not_bound`).
  public static let contextNotBound = Self("contextNotBound")
  /// The leased context stopped working (closed, or taken out of service): its namespace is
  /// gone. The pool replaces the context, so the next lease gets a fresh one.
  public static let contextLost = Self("contextLost")
  /// No pool has this name (never started, or stopped).
  public static let poolNotFound = Self("poolNotFound")
  /// A pool with this name is running already.
  public static let poolExists = Self("poolExists")
  /// The default pool lives as long as its runtime.
  public static let cannotStopDefaultPool = Self("cannotStopDefaultPool")
  /// A sandboxed pool was asked for in `.worker` mode: worker contexts share the main
  /// interpreter, its modules and objects, with every other worker context and the host's own
  /// Python, so no sandbox can be kept there (the DocC article "Sandbox").
  public static let sandboxNeedsOwnInterpreter = Self("sandboxNeedsOwnInterpreter")
}

extension SwiftPyError {
  static func noContextsAvailable(pool: String) -> SwiftPyError {
    SwiftPyError(.noContextsAvailable, "no contexts available: every context of pool '\(pool)' is leased")
  }

  static let contextNotBound = SwiftPyError(
    .contextNotBound, "context not bound: this lease was ended with unbind()")

  static func contextLost(context: String, reason: String) -> SwiftPyError {
    SwiftPyError(
      .contextLost, "the leased context '\(context)' was lost, and its namespace with it: \(reason)")
  }

  static func poolNotFound(_ name: String) -> SwiftPyError {
    SwiftPyError(.poolNotFound, "no pool named '\(name)' is running")
  }

  static func poolExists(_ name: String) -> SwiftPyError {
    SwiftPyError(.poolExists, "a pool named '\(name)' is running already")
  }

  static func sandboxNeedsOwnInterpreter(pool: String) -> SwiftPyError {
    SwiftPyError(
      .sandboxNeedsOwnInterpreter,
      "pool '\(pool)' cannot be sandboxed in worker mode: worker contexts share the main interpreter, "
        + "and with it every module and object, with all other worker contexts and the host's own Python; "
        + "start it in .subinterp or .ownGIL mode")
  }

  static let cannotStopDefaultPool = SwiftPyError(
    .cannotStopDefaultPool, "the default pool cannot be stopped; it ends with the runtime's shutdown()")
}
