import CPythonShim
import OrderedCollections

/// Running code in the attached interpreter: compile, evaluate, execute, call. Every function
/// here runs on an interpreter thread with its thread state attached, and turns every failure
/// into a Swift error (PythonError for Python exceptions).
enum PythonExecution {
  /// `object.name()`: a new reference, or nil with the Python exception set.
  static func callMethod(_ object: PyObjectPointer, _ name: String) -> PyObjectPointer? {
    guard let method = PyObject_GetAttrString(object, name) else { return nil }
    defer { Py_DecRef(method) }
    guard let noArguments = PyTuple_New(0) else { return nil }
    defer { Py_DecRef(noArguments) }
    return PyObject_Call(method, noArguments, nil)
  }

  /// A new namespace dict: `__name__ == "__main__"` and the interpreter's builtins, like the
  /// globals of a script.
  static func makeNamespace() throws -> PyObjectPointer {
    guard let namespace = PyDict_New() else { throw PythonError.fetch() }
    guard let name = PyUnicode_FromString("__main__") else {
      Py_DecRef(namespace)
      throw PythonError.fetch()
    }
    defer { Py_DecRef(name) }
    guard PyDict_SetItemString(namespace, "__name__", name) == 0,
      PyDict_SetItemString(namespace, "__builtins__", PyEval_GetBuiltins()) == 0
    else {
      Py_DecRef(namespace)
      throw PythonError.fetch()
    }
    return namespace
  }

  /// `__main__.__dict__` of the attached interpreter (a new reference).
  static func mainModuleNamespace() throws -> PyObjectPointer {
    guard let main = PyImport_AddModule("__main__"),  // borrowed
      let namespace = PyObject_GetAttrString(main, "__dict__")
    else { throw PythonError.fetch() }
    return namespace
  }

  /// Evaluates an expression; `locals` are visible to it without touching `globals`.
  static func evaluate(_ code: String, globals: PyObjectPointer, locals: [String: PythonValue])
    throws -> PythonValue
  {
    let compiled = try compile(code, start: Int32(SPY_EVAL_INPUT))
    defer { Py_DecRef(compiled) }
    let localsDict: PyObjectPointer?
    if locals.isEmpty {
      localsDict = nil
    } else {
      localsDict = try PythonValue.dict(
        OrderedDictionary(uniqueKeysWithValues: locals.map { (.string($0.key), $0.value) })
      )
      .makePythonObject()
    }
    defer { localsDict.map(Py_DecRef) }
    guard let evaluated = userCode({ PyEval_EvalCode(compiled, globals, localsDict ?? globals) }) else {
      throw PythonError.fetch()
    }
    let result = try Coroutines.settle(evaluated)  // a coroutine: its awaited result
    defer { Py_DecRef(result) }
    return try PythonValue(pythonObject: result)
  }

  /// Executes statements in `globals`.
  static func execute(_ code: String, globals: PyObjectPointer) throws {
    let compiled = try compile(code, start: Int32(SPY_FILE_INPUT))
    defer { Py_DecRef(compiled) }
    guard let result = userCode({ PyEval_EvalCode(compiled, globals, globals) }) else {
      throw PythonError.fetch()
    }
    Py_DecRef(result)
  }

  /// Runs the caller's code, where interrupts (timeouts, cancellation) may land.
  static func userCode<T>(_ body: () throws -> T) rethrows -> T {
    guard let thread = InterpreterThread.current else { return try body() }
    return try thread.runInterruptibly(body)
  }

  /// Calls `module.function(*args, **kwargs)`. `module` may be dotted (`os.path`), `builtins`,
  /// or `__main__` for a function defined in `globals`; `function` may be dotted
  /// (`JSONDecoder.decode`) to reach an attribute of an attribute.
  static func call(
    _ module: String, _ function: String, args: [PythonValue],
    kwargs: OrderedDictionary<String, PythonValue>, globals: PyObjectPointer
  ) throws -> PythonValue {
    let callable = try resolve(module, function, globals: globals)
    defer { Py_DecRef(callable) }
    let result = try Coroutines.settle(invoke(callable, args: args, kwargs: kwargs, from: globals))  // `async def`: awaited
    defer { Py_DecRef(result) }
    return try PythonValue(pythonObject: result)
  }

  /// A new reference to `module.function`.
  static func resolve(_ module: String, _ function: String, globals: PyObjectPointer) throws
    -> PyObjectPointer
  {
    try checkName(module, "module")
    try checkName(function, "function")
    let inNamespace = module == "__main__" || module.isEmpty
    // Most calls name a plain function: nothing is split or allocated for it on every call.
    guard hasByte(UInt8(ascii: "."), in: function) else {
      if inNamespace { return try namespaceEntry(function, in: globals) }
      return try attribute(function, of: try loadModule(module))
    }
    var parts = function.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    var object = inNamespace ? try namespaceEntry(parts.removeFirst(), in: globals) : try loadModule(module)
    for part in parts { object = try attribute(part, of: object) }
    return object
  }

  /// A new reference to `globals[name]`, or a NameError.
  private static func namespaceEntry(_ name: String, in globals: PyObjectPointer) throws -> PyObjectPointer {
    guard let found = PyDict_GetItemString(globals, name) else {  // borrowed
      throw PythonError(type: "NameError", message: "name '\(name)' is not defined in this namespace")
    }
    Py_IncRef(found)
    return found
  }

  /// A new reference to the module, imported if it is not yet.
  private static func loadModule(_ module: String) throws -> PyObjectPointer {
    if let loaded = importedModule(module) { return loaded }
    guard let imported = userCode({ PyImport_ImportModule(module) }) else { throw PythonError.fetch() }
    return imported
  }

  /// A new reference to `object.name`; takes over (and releases) the reference to `object`.
  private static func attribute(_ name: String, of object: PyObjectPointer) throws -> PyObjectPointer {
    defer { Py_DecRef(object) }
    guard let next = PyObject_GetAttrString(object, name) else { throw PythonError.fetch() }
    return next
  }

  /// Whether `text` holds `byte`, looked for in its UTF-8 storage directly when it has some.
  private static func hasByte(_ byte: UInt8, in text: String) -> Bool {
    text.utf8.withContiguousStorageIfAvailable { $0.contains(byte) } ?? text.utf8.contains(byte)
  }

  /// A new reference to `module` if it is imported already and done initializing — what
  /// Python's own `import` statement checks before it takes the import machinery's slow way;
  /// nil otherwise (then import it).
  private static func importedModule(_ module: String) -> PyObjectPointer? {
    guard let found = PyDict_GetItemString(PyImport_GetModuleDict(), module) else { return nil }  // borrowed
    // A module another thread is still importing must be waited for: the slow way does.
    if let spec = PyObject_GetAttrString(found, "__spec__") {
      defer { Py_DecRef(spec) }
      if let initializing = PyObject_GetAttrString(spec, "_initializing") {
        defer { Py_DecRef(initializing) }
        if PyObject_IsTrue(initializing) != 0 {
          PyErr_Clear()  // -1: cannot tell, so wait as for an import under way
          return nil
        }
      }
    }
    PyErr_Clear()  // no `__spec__` or no `_initializing`: a module that is done
    Py_IncRef(found)
    return found
  }

  /// Calls `callable` with converted arguments; a new reference to the result.
  ///
  /// With `namespace`, a built-in function that reads its caller's frame (`exec`, `eval`,
  /// `globals()`, `vars()`, `dir()`, `sys._getframe()`) is called from module-level code of that
  /// namespace, as a script would call it: with no Python frame at all they fail
  /// (`SystemError: frame does not exist`). Everything else is called directly
  /// (ARCHITECTURE.md, "Calls run at module level").
  static func invoke(
    _ callable: PyObjectPointer, args: [PythonValue], kwargs: OrderedDictionary<String, PythonValue>,
    from namespace: PyObjectPointer? = nil
  ) throws -> PyObjectPointer {
    let tuple = try PythonValue.tuple(args).makePythonObject()
    defer { Py_DecRef(tuple) }
    let dict: PyObjectPointer? =
      kwargs.isEmpty
      ? nil
      : try PythonValue.dict(
        OrderedDictionary(uniqueKeysWithValues: kwargs.map { (PythonValue.string($0.key), $0.value) })
      ).makePythonObject()
    defer { dict.map(Py_DecRef) }
    if let namespace, readsCallerFrame(callable) {
      return try callAtModuleLevel(callable, tuple, dict, in: namespace)
    }
    guard let result = userCode({ PyObject_Call(callable, tuple, dict) }) else { throw PythonError.fetch() }
    return result
  }

  /// A list in the interpreter's builtins: module-level code finds it by name without it being
  /// a name of the namespace (so `dir()` and `globals()` do not show it). A stack, because a
  /// call may call Swift that calls Python again (ARCHITECTURE.md, "Re-entrancy").
  private static let pendingCalls = "__swiftpy_pending_calls__"

  /// The built-in functions that read their caller's frame. Only these go through module-level
  /// code: after any call from Python code the eval loop checks for interrupts, so a timeout
  /// could land just after the call completed and report a call that ran as timed out; a direct
  /// C call returns with nothing after it.
  private static let frameReaders: [(module: String?, name: String)] = [
    (nil, "exec"), (nil, "eval"), (nil, "globals"), (nil, "locals"), (nil, "vars"), (nil, "dir"),
    ("sys", "_getframe"), ("sys", "_getframemodulename"),
  ]

  /// `callable` is one of ``frameReaders`` of the attached interpreter.
  private static func readsCallerFrame(_ callable: PyObjectPointer) -> Bool {
    // Every call passes here: one type comparison rules out all but functions written in C
    // before any lookup.
    guard let len = PyDict_GetItemString(PyEval_GetBuiltins(), "len"), spy_type(callable) == spy_type(len)
    else { return false }
    for reader in frameReaders {
      if let module = reader.module {
        guard let found = PyImport_AddModule(module),
          let attribute = PyObject_GetAttrString(found, reader.name)
        else {
          PyErr_Clear()
          continue
        }
        Py_DecRef(attribute)
        if attribute == callable { return true }
      } else if PyDict_GetItemString(PyEval_GetBuiltins(), reader.name) == callable {  // borrowed
        return true
      }
    }
    return false
  }

  /// Evaluates `callable(*args, **kwargs)` as module-level code whose globals and locals are
  /// `namespace`. The code takes its call off the stack before making it.
  private static func callAtModuleLevel(
    _ callable: PyObjectPointer, _ args: PyObjectPointer, _ kwargs: PyObjectPointer?,
    in namespace: PyObjectPointer
  ) throws -> PyObjectPointer {
    let builtins = PyEval_GetBuiltins()
    var stack = PyDict_GetItemString(builtins, pendingCalls)  // borrowed
    if stack == nil {
      guard let made = PyList_New(0) else { throw PythonError.fetch() }
      defer { Py_DecRef(made) }
      guard PyDict_SetItemString(builtins, pendingCalls, made) == 0 else { throw PythonError.fetch() }
      stack = made
    }
    guard let stack, let packed = PyTuple_New(3),
      let keywords = kwargs.map({
        Py_IncRef($0)
        return $0
      }) ?? PyDict_New()
    else { throw PythonError.fetch() }
    defer { Py_DecRef(packed) }
    Py_IncRef(callable)
    Py_IncRef(args)
    // SetItem steals each reference, and cannot fail on a new tuple in range.
    _ = PyTuple_SetItem(packed, 0, callable)
    _ = PyTuple_SetItem(packed, 1, args)
    _ = PyTuple_SetItem(packed, 2, keywords)
    let name = pendingCalls
    let code = try compile(
      "\(name)[-1][0](*\(name)[-1][1], **\(name).pop()[2])", start: Int32(SPY_EVAL_INPUT))
    defer { Py_DecRef(code) }
    guard PyList_Append(stack, packed) == 0 else { throw PythonError.fetch() }
    guard let result = userCode({ PyEval_EvalCode(code, namespace, namespace) }) else {
      throw PythonError.fetch()
    }
    return result
  }

  static func compile(_ code: String, start: Int32) throws -> PyObjectPointer {
    // A C string ends at the first NUL: refuse rather than silently run a prefix.
    guard !hasByte(0, in: code) else {
      throw SwiftPyError(.invalidArgument, "source code cannot contain NUL bytes")
    }
    let compileNow = { () throws -> PyObjectPointer in
      guard let compiled = Py_CompileString(code, "<string>", start) else { throw PythonError.fetch() }
      return compiled
    }
    // On an interpreter's own thread, a source text run before is not compiled again.
    guard let thread = InterpreterThread.current else { return try compileNow() }
    return try thread.codeCache.code(for: code, start: start, compile: compileNow)
  }

  /// Refuses a name with a NUL byte: the C API reads names as C strings, and would silently
  /// use the part before it (`"real\0junk"` as `real`).
  static func checkName(_ name: String, _ what: String) throws {
    guard !hasByte(0, in: name) else {
      throw SwiftPyError(.invalidArgument, "the \(what) name '\(name)' contains a NUL byte")
    }
  }
}
