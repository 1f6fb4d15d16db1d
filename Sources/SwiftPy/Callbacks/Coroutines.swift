import CPythonShim

/// Calling an `async def` function returns its awaited result: each context runs its own
/// asyncio event loop on its own thread (`swift._run`), so an `asyncio.sleep` in one context
/// holds up no other. A call that times out or is cancelled cancels the Python task, whose
/// `CancelledError` handlers run before the call ends (ARCHITECTURE.md, "Python calls Swift").
enum Coroutines {
  /// `object` itself (a new reference, consumed), or — for a coroutine — its awaited result.
  static func settle(_ object: PyObjectPointer) throws -> PyObjectPointer {
    guard spy_is_coroutine(object) != 0 else { return object }
    defer { Py_DecRef(object) }
    return try run(object)
  }

  /// Runs `awaitable` (borrowed) to completion on the attached context's event loop; a new
  /// reference to its result.
  static func run(_ awaitable: PyObjectPointer) throws -> PyObjectPointer {
    try callModule("_run", [awaitable])
  }

  /// Calls `swift.<function>(*arguments)` (arguments borrowed); a new reference to the result.
  static func callModule(_ function: String, _ arguments: [PyObjectPointer]) throws -> PyObjectPointer {
    guard let module = PyImport_ImportModule("swift") else { throw PythonError.fetch() }
    defer { Py_DecRef(module) }
    guard let callable = PyObject_GetAttrString(module, function) else { throw PythonError.fetch() }
    defer { Py_DecRef(callable) }
    guard let tuple = PyTuple_New(arguments.count) else { throw PythonError.fetch() }
    defer { Py_DecRef(tuple) }
    for (index, argument) in arguments.enumerated() {
      Py_IncRef(argument)  // PyTuple_SetItem steals it
      guard PyTuple_SetItem(tuple, index, argument) == 0 else { throw PythonError.fetch() }
    }
    guard let result = PythonExecution.userCode({ PyObject_Call(callable, tuple, nil) }) else {
      throw PythonError.fetch()
    }
    return result
  }
}
