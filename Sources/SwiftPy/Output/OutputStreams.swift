import CPythonShim

/// SwiftPy's `sys.stdout` and `sys.stderr`: text streams whose every write goes straight to
/// Swift (``OutputRouter``), so nothing waits in a Python buffer that the main interpreter —
/// never finalized — would never flush, or that a sub-interpreter flushes only when it ends.
enum OutputStreams {
  /// Prepares output in the attached interpreter for the context this thread serves (run by
  /// ``ContextSetup/prepare(_:mode:)``): the main interpreter gets the
  /// streams once at process start; a sub-interpreter gets streams that name its context; a
  /// context's own thread, in any mode, is tied to the context's route until its thread state
  /// is cleared at close.
  static func install(_ policy: PythonOutputPolicy) throws {
    OutputRouter.started
    guard let thread = InterpreterThread.current, thread.kind != .main else {
      try replaceStreams(owner: OutputRouter.process.id)
      return
    }
    let route = OutputRouter.register(context: thread.name, policy: policy)
    guard spy_output_watch_thread_state(Int64(route.id)) == 0 else {
      OutputRouter.ended(route.id)
      throw PythonError.fetch()
    }
    spy_output_set_thread_route(Int64(route.id))
    // Worker contexts share the main interpreter and the streams it got at process start.
    if thread.kind != .worker { try replaceStreams(owner: route.id) }
  }

  /// Flushes the interpreter's current streams and replaces `sys.stdout`, `sys.stderr` and
  /// their `__stdout__`/`__stderr__` with SwiftPy streams naming the route `owner`.
  private static func replaceStreams(owner: Int) throws {
    let namespace = try PythonExecution.makeNamespace()
    defer { Py_DecRef(namespace) }
    for (index, stream) in PythonOutputStream.allCases.enumerated() {
      let key = Int64(owner) << 1 | Int64(index)
      for (name, isatty) in [("emit", Int32(0)), ("isatty", Int32(1))] {
        guard let builtin = spy_output_new_builtin(key, isatty) else { throw PythonError.fetch() }
        defer { Py_DecRef(builtin) }
        guard PyDict_SetItemString(namespace, "\(stream)_\(name)", builtin) == 0 else {
          throw PythonError.fetch()
        }
      }
    }
    try PythonExecution.execute(code, globals: namespace)
  }

  static let code = """
    import io, sys

    class SwiftPyStream(io.TextIOBase):
        '''sys.stdout or sys.stderr of a SwiftPy interpreter: each write is handed to SwiftPy at
        once, UTF-8 encoded, and SwiftPy's output policy decides where it goes.'''

        def __init__(self, name, fd, errors, emit, isatty):
            self._name, self._fd, self._errors = name, fd, errors
            self._emit, self._isatty = emit, isatty
            self._buffer = SwiftPyBinaryStream(self)

        name = property(lambda self: self._name)
        encoding = property(lambda self: 'utf-8')
        errors = property(lambda self: self._errors)
        buffer = property(lambda self: self._buffer)
        line_buffering = property(lambda self: True)
        mode = property(lambda self: 'w')

        def write(self, s):
            if not isinstance(s, str):
                raise TypeError(f'write() argument must be str, not {type(s).__name__}')
            try:
                self._emit(s)
            except UnicodeEncodeError:  # lone surrogates: as the stream's `errors` says
                self._emit(s.encode('utf-8', self._errors))
            return len(s)

        def flush(self):
            self._emit(None)

        def isatty(self):
            return self._isatty()

        def fileno(self):
            return self._fd

        def writable(self):
            return True

        def close(self):
            # The process's stream stays open for every other interpreter.
            self.flush()

        def reconfigure(self, *, encoding=None, errors=None, newline=None, line_buffering=None,
                        write_through=None):
            # Always UTF-8 and line-buffered; only the error handler can change.
            if errors is not None:
                self._errors = errors

    class SwiftPyBinaryStream(io.BufferedIOBase):
        '''The `buffer` of a SwiftPyStream: bytes go to SwiftPy as they are.'''

        def __init__(self, text):
            self._text = text

        name = property(lambda self: self._text.name)
        mode = property(lambda self: 'wb')

        def write(self, b):
            data = memoryview(b).tobytes()
            self._text._emit(data)
            return len(data)

        def flush(self):
            self._text.flush()

        def isatty(self):
            return self._text.isatty()

        def fileno(self):
            return self._text.fileno()

        def writable(self):
            return True

        def close(self):
            self.flush()

    SwiftPyStream.__module__ = SwiftPyBinaryStream.__module__ = 'swiftpy'
    for old in {id(s): s for s in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
                if s is not None}.values():
        try:
            old.flush()  # anything the interpreter wrote before (startup warnings)
        except Exception:
            pass
    sys.stdout = sys.__stdout__ = SwiftPyStream('<stdout>', 1, 'strict', stdout_emit, stdout_isatty)
    sys.stderr = sys.__stderr__ = SwiftPyStream('<stderr>', 2, 'backslashreplace', stderr_emit,
                                                stderr_isatty)
    """
}
