import CPythonShim

/// Python threads still alive when an interpreter is about to end. `Py_EndInterpreter` waits
/// forever for non-daemon threads and aborts the process over daemon ones, so they are joined
/// first, for a while, and the interpreter is left running if some will not stop — or if that
/// cannot be found out: only a definite "no thread left" lets it end.
enum PythonThreads {
  enum Verdict {
    case canEnd
    case mustStayAlive(String)
  }

  /// How long non-daemon threads get to finish at close.
  static let joinTimeout = 2.0

  /// Whether the interpreter can end, after joining its threads for a while. Runs on the
  /// interpreter's thread, attached.
  static func settle(kind: InterpreterKind, name: String) -> Verdict {
    guard kind == .ownGIL || kind == .sharedGIL else { return .canEnd }  // threads of main are main's
    let unknown = Verdict.mustStayAlive(
      "context '\(name)': could not find out whether Python threads are still running at close; "
        + "the interpreter is left running instead of risking ending it under them")
    let code = """
      import sys, time, _thread
      deadline = time.monotonic() + \(joinTimeout)
      threading = sys.modules.get('threading')
      me = _thread.get_ident()
      others = [t for t in threading.enumerate()
                if t.ident != me and t is not threading.main_thread()] if threading is not None else []
      for t in others:
          if not t.daemon:
              t.join(max(0.0, deadline - time.monotonic()))
      while _thread._count() and time.monotonic() < deadline:
          time.sleep(0.01)
      alive = _thread._count()
      names = [t.name for t in others if t.is_alive()]
      result = (alive, ', '.join(names))
      """
    guard let globals = PyDict_New() else {
      PyErr_Clear()
      return unknown
    }
    defer { Py_DecRef(globals) }
    PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins())
    guard let compiled = Py_CompileString(code, "<swiftpy-close>", Int32(SPY_FILE_INPUT)) else {
      PyErr_Clear()
      return unknown
    }
    defer { Py_DecRef(compiled) }
    guard let done = PyEval_EvalCode(compiled, globals, globals) else {
      PyErr_Clear()
      return unknown
    }
    Py_DecRef(done)
    guard let result = PyDict_GetItemString(globals, "result"),
      let count = PyTuple_GetItem(result, 0), let names = PyTuple_GetItem(result, 1)
    else {
      PyErr_Clear()
      return unknown
    }
    var overflow: Int32 = 0
    let alive = PyLong_AsLongLongAndOverflow(count, &overflow)
    if alive == 0 && overflow == 0 { return .canEnd }
    PyErr_Clear()
    var size: Py_ssize_t = 0
    let list = PyUnicode_AsUTF8AndSize(names, &size).map { String(cString: $0) } ?? "?"
    return .mustStayAlive(
      "context '\(name)': \(alive) Python thread(s) still running at close (\(list)); "
        + "the interpreter is left running instead of being ended under them")
  }
}
