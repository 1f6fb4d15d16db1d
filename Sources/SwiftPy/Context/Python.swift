import CPythonShim

/// The interpreter, as seen inside ``PythonContext/withPython(timeout:_:)``: holding it means the
/// interpreter is attached to the current thread, so Python objects may be touched (the
/// token idea of PyO3). Like ``PythonObject``, it is not `Sendable`.
public struct Python {
  let thread: InterpreterThread
  /// The context's namespace (borrowed; the context keeps it alive).
  let namespace: PyObjectPointer

  init(thread: InterpreterThread, globals: PyObjectPointer) {
    self.thread = thread
    self.namespace = globals
  }

  /// `import name` (dotted names return the leaf module).
  public func `import`(_ name: String) throws -> PythonObject {
    guard let module = PyImport_ImportModule(name) else { throw PythonError.fetch() }
    return PythonObject(owning: module, thread: thread)
  }

  /// Evaluates an expression in the context's namespace and returns the live object.
  public func eval(_ expression: String) throws -> PythonObject {
    let code = try PythonExecution.compile(expression, start: Int32(SPY_EVAL_INPUT))
    defer { Py_DecRef(code) }
    guard let result = PyEval_EvalCode(code, namespace, namespace) else { throw PythonError.fetch() }
    return PythonObject(owning: result, thread: thread)
  }

  /// Executes statements in the context's namespace.
  public func exec(_ code: String) throws {
    try PythonExecution.execute(code, globals: namespace)
  }

  /// The context's namespace dict (its globals).
  public var globals: PythonObject { PythonObject(borrowing: namespace, thread: thread) }

  /// The `builtins` module.
  public var builtins: PythonObject {
    get throws { try self.import("builtins") }
  }

  /// A live object made from a Swift value.
  public func object(_ value: any PythonConvertible) throws -> PythonObject {
    try value.pythonObject(on: thread)
  }

  /// `None`.
  public var none: PythonObject { PythonObject(borrowing: spy_objects().pointee.None, thread: thread) }
}

@available(*, unavailable, message: "the interpreter token never leaves its thread")
extension Python: Sendable {}
