import CPythonShim

/// The interpreter, as seen inside ``PythonContext/withPython(timeout:_:)``: holding it means the
/// interpreter is attached to the current thread, so Python objects may be touched (the
/// token idea of PyO3). Like ``PythonObject``, it is not `Sendable`.
///
/// The token is valid only inside the closure that received it: kept past it (in a variable
/// outside, or in Swift 5 mode where the compiler lets it cross threads) and used later — after
/// its context closed, in another context's closure, on another thread — every method throws
/// ``SwiftPyError/Code/invalidArgument`` instead of touching an interpreter it no longer holds.
public struct Python {
  let thread: InterpreterThread
  /// The job the closure runs in: the token is valid while that job runs, on its thread.
  let job: UInt64
  /// The context's namespace (borrowed; the context keeps it alive while the job runs).
  let namespace: PyObjectPointer

  init(thread: InterpreterThread, globals: PyObjectPointer) {
    self.thread = thread
    self.job = thread.runningJobID
    self.namespace = globals
  }

  /// Throws unless the closure that received the token is running, here.
  func checkValid() throws {
    guard thread.isCurrent, thread.runningJobID == job else {
      throw SwiftPyError(
        .invalidArgument,
        "a Python token was used outside the withPython closure that received it (its context may "
          + "have closed, or this is another context's thread)")
    }
  }

  /// `import name` (dotted names return the leaf module).
  public func `import`(_ name: String) throws -> PythonObject {
    try checkValid()
    try PythonExecution.checkName(name, "module")
    guard let module = PyImport_ImportModule(name) else { throw PythonError.fetch() }
    return PythonObject(owning: module, thread: thread)
  }

  /// Evaluates an expression in the context's namespace and returns the live object.
  public func eval(_ expression: String) throws -> PythonObject {
    try checkValid()
    let code = try PythonExecution.compile(expression, start: Int32(SPY_EVAL_INPUT))
    defer { Py_DecRef(code) }
    guard let result = PyEval_EvalCode(code, namespace, namespace) else { throw PythonError.fetch() }
    return PythonObject(owning: result, thread: thread)
  }

  /// Executes statements in the context's namespace.
  public func exec(_ code: String) throws {
    try checkValid()
    try PythonExecution.execute(code, globals: namespace)
  }

  /// The context's namespace dict (its globals).
  public var globals: PythonObject {
    get throws {
      try checkValid()
      return PythonObject(borrowing: namespace, thread: thread)
    }
  }

  /// The `builtins` module.
  public var builtins: PythonObject {
    get throws { try self.import("builtins") }
  }

  /// A live object made from a Swift value.
  public func object(_ value: any PythonConvertible) throws -> PythonObject {
    try checkValid()
    return try value.pythonObject(on: thread)
  }

  /// `len(object)`.
  public func len(_ object: any PythonConvertible) throws -> Int {
    try checkValid()
    return try Int(builtins.len(object))
  }

  /// `None`.
  public var none: PythonObject {
    get throws {
      try checkValid()
      return PythonObject(borrowing: spy_objects().pointee.None, thread: thread)
    }
  }
}

@available(*, unavailable, message: "the interpreter token never leaves its thread")
extension Python: Sendable {}
