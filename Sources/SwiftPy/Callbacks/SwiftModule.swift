import CPythonShim
import Logging
import OrderedCollections

/// The `swift` module of every SwiftPy interpreter — all modes, pools, `newContext` and the
/// interpreters API alike: `swift.call(name, *args, **kwargs)`, `swift.name(...)`,
/// `from swift import name`, `swift.SwiftError`, `swift.state`, and the handler that takes
/// Python's `logging` records to swift-log. Its native builtins (spy_swift.c) are made anew in
/// each interpreter; they all reach ``native``, which finds the runtime's ``SwiftBridge``.
enum SwiftModule {
  /// Connects the builtins to Swift, once per process.
  private static let connected: Void = spy_swift_set_callback(native)

  /// Makes the module in the attached interpreter unless it has one (worker contexts share the
  /// main interpreter's), ties the calling context thread to `bridge`, and configures Python's
  /// `logging` as the runtime says (the same in every interpreter). Runs at context setup.
  static func install(_ bridge: SwiftBridge?, context: String) throws {
    _ = connected
    let id = bridge?.id ?? 0
    if let thread = InterpreterThread.current, thread.kind != .main { spy_swift_set_thread_bridge(id) }
    let natives = try PythonExecution.makeNamespace()
    defer { Py_DecRef(natives) }
    for operation in 0..<Int32(SPY_SWIFT_OP_COUNT) {
      guard let builtin = spy_swift_new_builtin(operation, id) else { throw PythonError.fetch() }
      defer { Py_DecRef(builtin) }
      guard PyDict_SetItemString(natives, spy_swift_builtin_name(operation), builtin) == 0 else {
        throw PythonError.fetch()
      }
    }
    let namespace = try PythonExecution.makeNamespace()
    defer { Py_DecRef(namespace) }
    guard PyDict_SetItemString(namespace, "natives", natives) == 0 else { throw PythonError.fetch() }
    let values: [String: PythonValue] = [
      "source": .string(source), "context": .string(context),
      "level": bridge.map { .int(PythonLogging.pythonLevel($0.logging.level)) } ?? .none,
    ]
    for (name, value) in values {
      let object = try value.makePythonObject()
      defer { Py_DecRef(object) }
      guard PyDict_SetItemString(namespace, name, object) == 0 else { throw PythonError.fetch() }
    }
    try PythonExecution.execute(bootstrap, globals: namespace)
  }

  /// Runs in a throwaway namespace holding `natives`, `source`, `context` and `level`.
  static let bootstrap = """
    import sys, types
    module = sys.modules.get('swift')
    if not getattr(module, '_swiftpy', False):
        module = types.ModuleType('swift')
        module.__dict__.update(natives)
        module._default_context = context
        exec(compile(source, '<swiftpy: swift module>', 'exec'), module.__dict__)
        sys.modules['swift'] = module
    if level is not None:
        module._configure_logging(level)
    """

  /// The module's Python half.
  static let source = #"""
    '''Swift functions, state shared with Swift and every interpreter, and logging — from SwiftPy.

    call(name, *args, **kwargs) calls the Swift function registered as `name` with
    PythonRuntime.register; swift.name(...) and `from swift import name` do the same. While Swift
    runs, this thread releases its GIL. A Swift error raises SwiftError; a Python exception raised
    in Python that Swift called propagates as the same exception type.
    '''
    import threading as _threading

    _swiftpy = True


    class SwiftError(Exception):
        '''A Swift function threw. str(error) describes the Swift error; `swift_type` names its
        Swift type.'''

        def __init__(self, message, swift_type=None):
            super().__init__(message)
            self.swift_type = swift_type


    class NotRegisteredError(SwiftError, LookupError):
        '''No Swift function of that name is registered with this runtime.'''


    def _python_exception(type_name, message):
        import builtins, sys
        module_name, _, name = type_name.rpartition('.')
        holder = sys.modules.get(module_name) if module_name else builtins
        cls = getattr(holder, name, None) if holder is not None else None
        if isinstance(cls, type) and issubclass(cls, BaseException):
            try:
                return cls(message)
            except Exception:
                pass
        return SwiftError(f'{type_name}: {message}', 'PythonError')


    def _raise(status, payload):
        if status == 1:
            raise SwiftError(*payload)
        if status == 2:
            type_name, message, traceback = payload
            error = _python_exception(type_name, message)
            if traceback and hasattr(error, 'add_note'):
                error.add_note('raised in Python that Swift called:\n' + traceback.rstrip())
            raise error
        if status == 3:
            raise KeyboardInterrupt(payload)
        if status == 4:
            raise NotRegisteredError(payload)
        if status == 5:
            raise TypeError(payload)
        raise SwiftError(str(payload))


    def call(name, /, *args, **kwargs):
        '''Calls the Swift function registered as `name` and returns its result.'''
        status, payload = _call(name, args, kwargs)
        if status == 0:
            return payload
        _raise(status, payload)


    def registered():
        '''The names of the Swift functions registered now, sorted.'''
        return _names()


    def __getattr__(name):
        if name.startswith('__') or not _has(name):
            raise AttributeError(f"module 'swift' has no attribute {name!r} "
                                 "(no Swift function of that name is registered)")

        def function(*args, **kwargs):
            return call(name, *args, **kwargs)

        function.__name__ = function.__qualname__ = name
        function.__doc__ = f'Calls the Swift function registered as {name!r}.'
        return function


    def __dir__():
        return sorted(set(globals()) | set(_names()))


    def _state_op(*args):
        status, payload = _state(*args)
        if status == 0:
            return payload
        _raise(status, payload)


    class _State:
        '''State shared by Swift (py.state) and every interpreter of the runtime. Values are
        copies; every operation is atomic.'''

        def get(self, key, default=None):
            found, value = _state_op(0, key)
            return value if found else default

        def set(self, key, value):
            _state_op(1, key, value)

        def remove(self, key):
            '''Removes `key`; returns its value, or None.'''
            return _state_op(2, key)

        def keys(self):
            return _state_op(3)

        def incr(self, key, by=1):
            '''Adds `by` to the int under `key` (missing: 0); returns the new value.'''
            return _state_op(4, key, by)

        def compare_and_set(self, key, expected, new):
            '''Stores `new` if the value is `expected` (None also matches a missing key).'''
            return _state_op(5, key, expected, new)

        def __contains__(self, key):
            return _state_op(0, key)[0]

        def __repr__(self):
            return f'<swift.state keys={self.keys()!r}>'


    state = _State()

    # Coroutines: each context runs its own event loop, on its own thread.
    _local = _threading.local()


    def _event_loop():
        loop = getattr(_local, 'loop', None)
        if loop is None or loop.is_closed():
            import asyncio
            loop = _local.loop = asyncio.new_event_loop()
        return loop


    def _tick(loop):
        # Python bytecode runs at least this often while the loop waits, so an interrupt from
        # SwiftPy (a timeout, a cancellation) lands even when every task sleeps.
        _local.ticker = loop.call_later(0.02, _tick, loop)


    def _repair(loop):
        # An interrupt that landed inside the loop's own bookkeeping (worker contexts get it as
        # an asynchronous exception, which may land anywhere) can leave it marked running.
        if loop.is_running():
            import asyncio.events
            loop._thread_id = None
            loop._stopping = False
            asyncio.events._set_running_loop(None)


    def _run(awaitable):
        '''Runs `awaitable` to completion on this context's loop. Interrupted (KeyboardInterrupt
        from SwiftPy), it cancels the task and lets its CancelledError handlers run first.'''
        import asyncio
        loop = _event_loop()
        _repair(loop)
        task = asyncio.ensure_future(awaitable, loop=loop)
        _tick(loop)
        try:
            return loop.run_until_complete(task)
        except BaseException:
            held = _hold()  # SwiftPy's own cleanup: no further interrupt lands in it
            try:
                _repair(loop)
                if not task.done():
                    task.cancel()
                    try:
                        loop.run_until_complete(asyncio.wait([task]))
                    except BaseException:
                        _repair(loop)
            finally:
                _restore(held)
            raise
        finally:
            ticker = getattr(_local, 'ticker', None)
            if ticker is not None:
                ticker.cancel()
                _local.ticker = None


    # Streams: generators SwiftPy iterates, by key, on the thread that made them (dropped with
    # the thread's state when the context ends).
    def _streams():
        streams = getattr(_local, 'streams', None)
        if streams is None:
            streams = _local.streams = {}
        return streams


    def _stream_open(key, iterable):
        if hasattr(iterable, '__anext__'):
            _streams()[key] = (True, iterable)
        else:
            _streams()[key] = (False, iter(iterable))


    def _stream_next(key):
        '''(True, item), or (False, None) at the end.'''
        is_async, iterator = _streams()[key]
        try:
            if is_async:
                return True, _run(iterator.__anext__())
            return True, next(iterator)
        except (StopIteration, StopAsyncIteration):
            _streams().pop(key, None)
            return False, None
        except BaseException:
            _streams().pop(key, None)
            raise


    def _stream_close(key):
        entry = _streams().pop(key, None)
        if entry is None:
            return
        is_async, iterator = entry
        if is_async:
            if hasattr(iterator, 'aclose'):
                _run(iterator.aclose())
        elif hasattr(iterator, 'close'):
            iterator.close()


    def _cleanup():
        '''Run on a context's thread just before its interpreter (or thread state) ends, while
        modules are intact: open streams are closed (their `finally` runs), the event loop is
        closed, and the thread's stand-in threading.Thread (made by logging, say) is dropped.'''
        for key in list(_streams()):
            try:
                _stream_close(key)
            except BaseException:
                pass
        loop = getattr(_local, 'loop', None)
        if loop is not None and not loop.is_closed():
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            except BaseException:
                pass
            loop.close()
        _local.loop = None
        import sys
        threading = sys.modules.get('threading')
        info = getattr(threading, '_thread_local_info', None)
        if info is not None and hasattr(info, '_track_dummy_thread_ref'):
            try:
                del info._track_dummy_thread_ref
            except BaseException:
                pass


    # Logging: records go to swift-log, with the logger's name, level and the context's name.
    def _make_handler():
        import logging

        class SwiftLogHandler(logging.Handler):
            '''Hands each record to SwiftPy, which logs it with swift-log.'''

            def emit(self, record):
                try:
                    message = record.getMessage()
                    if record.exc_info:
                        message += '\n' + logging.Formatter().formatException(record.exc_info)
                    if record.stack_info:
                        message += '\n' + record.stack_info
                    _log(record.levelno, record.name, message, _default_context)
                except RecursionError:
                    raise
                except Exception:
                    self.handleError(record)

        SwiftLogHandler.__module__ = 'swift'
        return SwiftLogHandler()


    _configured_level = None


    def _configure_logging(level):
        # The main interpreter (worker contexts) may serve several runtimes: its root level is
        # the lowest of theirs, and SwiftPy drops each runtime's records below its own level.
        global _configured_level
        import logging
        root = logging.getLogger()
        if not any(getattr(h, '_swiftpy', False) for h in root.handlers):
            handler = _make_handler()
            handler._swiftpy = True
            root.addHandler(handler)
        _configured_level = level if _configured_level is None else min(_configured_level, level)
        root.setLevel(_configured_level)
    """#

  /// Runs `swift._cleanup()` in the attached interpreter, if it has the module; on a context's
  /// thread just before its interpreter or thread state ends. Never throws.
  static func cleanUp() {
    guard let modules = PyImport_AddModule("sys").flatMap({ PyObject_GetAttrString($0, "modules") }) else {
      PyErr_Clear()
      return
    }
    defer { Py_DecRef(modules) }
    guard PyDict_GetItemString(modules, "swift") != nil else { return }  // borrowed
    if let result = try? Coroutines.callModule("_cleanup", []) { Py_DecRef(result) }
    if PyErr_Occurred() != nil { PyErr_Clear() }
  }

  // MARK: The builtins

  /// Where every builtin of every `swift` module lands, with the GIL held. Returns
  /// `(status, payload)` (see `_raise` in ``source``), never NULL: conversions that fail are
  /// reported as a status, so a bad argument never leaves SwiftPy's state half-changed.
  private static let native: SPySwiftCallback = { key, args in
    let operation = Int32(truncatingIfNeeded: key & 0xff)
    let threadBridge = spy_swift_thread_bridge()
    let bridge = SwiftBridge.find(threadBridge != 0 ? threadBridge : key >> 8)
    let reply: PythonValue
    do {
      let arguments = try arguments(args)
      reply = try answer(operation, arguments, bridge)
    } catch let error as Failure {
      reply = error.reply
    } catch let error as SwiftPyError {
      reply = .tuple([.int(5), .string(error.message)])
    } catch {
      reply = .tuple([.int(1), .tuple([.string("\(error)"), .string("\(type(of: error))")])])
    }
    if PyErr_Occurred() != nil { PyErr_Clear() }
    do {
      return try reply.makePythonObject()
    } catch {
      // The callback's result cannot become a Python object (too deep, say).
      let fallback = PythonValue.tuple([
        .int(1), .tuple([.string("the Swift function's result cannot cross into Python: \(error)"), .none]),
      ])
      return try? fallback.makePythonObject()
    }
  }

  /// A reply that is not a success.
  private struct Failure: Error {
    let reply: PythonValue

    static func typeError(_ message: String) -> Failure {
      Failure(reply: .tuple([.int(5), .string(message)]))
    }
    static func noRuntime() -> Failure {
      Failure(
        reply: .tuple([
          .int(1),
          .tuple([
            .string("this thread's interpreter belongs to no running SwiftPy runtime"),
            .string("SwiftPyError"),
          ]),
        ]))
    }
  }

  private static func arguments(_ args: PyObjectPointer) throws -> [PythonValue] {
    guard case .tuple(let values) = try PythonValue(pythonObject: args) else {
      throw Failure.typeError("arguments must be a tuple")
    }
    return values
  }

  private static func answer(_ operation: Int32, _ args: [PythonValue], _ bridge: SwiftBridge?) throws
    -> PythonValue
  {
    switch operation {
    case Int32(SPY_SWIFT_CALL):
      guard let bridge else { throw Failure.noRuntime() }
      return call(args, bridge)
    case Int32(SPY_SWIFT_HAS):
      return .bool(args.first?.stringValue.flatMap { bridge?.callback(named: $0) } != nil)
    case Int32(SPY_SWIFT_NAMES):
      return .list((bridge?.names ?? []).map(PythonValue.string))
    case Int32(SPY_SWIFT_STATE):
      guard let bridge else { throw Failure.noRuntime() }
      return try state(args, bridge.state)
    case Int32(SPY_SWIFT_LOG):
      log(args, bridge)
      return .none
    case Int32(SPY_SWIFT_HOLD):
      return .int(Int(spy_hold_interrupts()))
    case Int32(SPY_SWIFT_RESTORE):
      spy_restore_interrupts(Int32(truncatingIfNeeded: args.first?.intValue ?? -1))
      return .none
    case Int32(SPY_SWIFT_EXTENSION):
      return args.first?.stringValue.flatMap(ExtensionModules.oneInterpreterOnly).map(PythonValue.string)
        ?? .none
    case Int32(SPY_SWIFT_REFUSED):
      refused(args, bridge)
      return .none
    default:
      throw Failure.typeError("unknown swift module operation \(operation)")
    }
  }

  /// `_call(name, args, kwargs)`.
  private static func call(_ args: [PythonValue], _ bridge: SwiftBridge) -> PythonValue {
    guard args.count == 3, let name = args[0].stringValue, let positional = args[1].arrayValue,
      let keywords = args[2].dictValue
    else {
      return .tuple([.int(5), .string("call() needs a function name (str) first")])
    }
    guard let callback = bridge.callback(named: name) else {
      return .tuple([
        .int(4), .string("no Swift function named '\(name)' is registered (PythonRuntime.register)"),
      ])
    }
    var kwargs: [String: PythonValue] = [:]
    for (key, value) in keywords {
      guard let key = key.stringValue else { return .tuple([.int(5), .string("keywords must be strings")]) }
      kwargs[key] = value
    }
    switch CallbackRun.run(callback, args: positional, kwargs: kwargs) {
    case .value(let value):
      return .tuple([.int(0), value])
    case .stopped:
      return .tuple([
        .int(3), .string("interrupted by SwiftPy: the call was stopped while '\(name)' ran in Swift"),
      ])
    case .failure(let error as PythonError):
      return .tuple([
        .int(2), .tuple([.string(error.type), .string(error.message), .string(error.traceback)]),
      ])
    case .failure(let error):
      return .tuple([.int(1), .tuple([.string(describe(error)), .string("\(type(of: error))")])])
    }
  }

  private static func describe(_ error: any Error) -> String {
    switch error {
    case let error as SwiftPyError: error.description
    case is CancellationError: "the Swift function was cancelled"
    default: String(describing: error)
    }
  }

  /// `_state(op, key, ...)`: 0 get, 1 set, 2 remove, 3 keys, 4 incr, 5 compare-and-set.
  private static func state(_ args: [PythonValue], _ state: PythonState) throws -> PythonValue {
    guard let op = args.first?.intValue else { throw Failure.typeError("bad state operation") }
    if op == 3 { return .tuple([.int(0), .list(state.keys.map(PythonValue.string))]) }
    guard args.count >= 2, let key = args[1].stringValue else {
      throw Failure.typeError("state keys must be str, not \(args.count > 1 ? args[1].typeName : "nothing")")
    }
    switch (op, args.count) {
    case (0, 2):
      let value = state.get(key)
      return .tuple([.int(0), .tuple([.bool(value != nil), value ?? .none])])
    case (1, 3):
      state.set(key, args[2])
      return .tuple([.int(0), .none])
    case (2, 2):
      return .tuple([.int(0), state.remove(key) ?? .none])
    case (4, 3):
      guard let delta = args[2].intValue, args[2].boolValue == nil else {
        throw Failure.typeError("incr() needs an int step, not \(args[2].typeName)")
      }
      do {
        return .tuple([.int(0), .int(try state.increment(key, by: delta))])
      } catch {
        throw Failure.typeError(error.message)
      }
    case (5, 4):
      let expected = args[2]
      if expected.isNone {  // None also matches a missing key
        if state.compareAndSet(key, expected: nil, new: args[3]) { return .tuple([.int(0), .bool(true)]) }
      }
      return .tuple([.int(0), .bool(state.compareAndSet(key, expected: expected, new: args[3]))])
    default:
      throw Failure.typeError("bad state operation \(op) with \(args.count - 1) arguments")
    }
  }

  /// `_refused(module, reason)`: a sub-interpreter refused a C extension. Said once per module
  /// and runtime, as a warning on the runtime's Python logger: a library that falls back to
  /// pure Python when the import fails would otherwise run slower without a word.
  private static func refused(_ args: [PythonValue], _ bridge: SwiftBridge?) {
    guard args.count == 2, let module = args[0].stringValue, let reason = args[1].stringValue,
      let bridge, bridge.firstRefusal(of: module)
    else { return }
    let context = InterpreterThread.current?.name ?? "?"
    bridge.logging.logger.warning(
      """
      C extension \(module) was refused in context '\(context)': \(reason). If its package falls \
      back to pure Python it runs without it; to have it, use the package from a pool of .worker \
      contexts.
      """,
      metadata: ["python.context": .string(context), "python.module": .string(module)], source: "swiftpy")
  }

  /// `_log(levelno, logger, message, default_context)`.
  private static func log(_ args: [PythonValue], _ bridge: SwiftBridge?) {
    guard args.count == 4, let levelNumber = args[0].intValue, let name = args[1].stringValue,
      let message = args[2].stringValue
    else { return }
    // A context's thread bears its name; other threads (Python's own) tell the interpreter's.
    let context = InterpreterThread.current?.name ?? args[3].stringValue ?? "?"
    if let bridge, levelNumber < PythonLogging.pythonLevel(bridge.logging.level) { return }
    let logger = bridge?.logging.logger ?? PythonLogging.fallback
    logger.log(
      level: PythonLogging.swiftLevel(levelNumber), "\(message)",
      metadata: ["python.logger": .string(name), "python.context": .string(context)], source: name)
  }
}
