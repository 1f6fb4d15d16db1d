import Foundation
import SwiftPy

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What makes a leased context behave as the `python` command: code run as `__main__`, the
/// exit status Python would give, tracebacks printed exactly as Python prints them. Defined in a
/// lease's namespace (``define(in:)``) and called from there; the commands never print Python
/// errors themselves, so that `sys.excepthook` (and its colours on a terminal) decides.
enum PythonMain {
  /// Defines the helpers in `lease`'s namespace.
  static func define(in lease: PythonLease) async throws {
    try await lease.exec(code)
  }

  /// Starts a runtime as `options` say, runs `target` in a leased context with Ctrl-C
  /// interrupting it, and returns the exit status.
  static func runToEnd(_ kind: Kind, _ target: String, argv: [String], options: PythonOptions)
    async throws -> Int32
  {
    let py = try await PythonRuntime.start(options.configuration())
    let lease = try await py.bind()
    try await define(in: lease)
    let interrupts = InterruptSignal { count in
      // A second Ctrl-C does not wait for Python to notice the first.
      if count > 1 { _exit(ExitStatus.interrupted) }
      lease.context.interrupt()
    }
    do {
      return try await run(kind, target, argv: argv, in: lease)
    } catch let error as PythonError where error.type == "KeyboardInterrupt" {
      // Ctrl-C after the user's code had ended, while the helpers were finishing.
      ExitStatus.printError("KeyboardInterrupt")
      return ExitStatus.interrupted
    } catch let error as SwiftPyError
      where [.closed, .contextLost].contains(error.code) && interrupts.received > 0
    {
      // Ctrl-C in a blocking C call (input(), time.sleep): its context was given up.
      ExitStatus.printError("KeyboardInterrupt")
      return ExitStatus.interrupted
    }
  }

  /// Runs a script, `-c` code, a module or an expression as `python` would, and returns the
  /// process's exit status; everything Python prints is printed already.
  static func run(_ kind: Kind, _ target: String, argv: [String], in lease: PythonLease) async throws -> Int32
  {
    let status = try await lease.call(
      "__main__", "_swiftpy_run",
      args: [.string(kind.rawValue), .string(target), .list(argv.map(PythonValue.string))])
    return Int32(truncatingIfNeeded: status.intValue ?? Int(ExitStatus.pythonError))
  }

  enum Kind: String {
    /// `python FILE`.
    case file
    /// `python -c CODE`.
    case code
    /// `python -m MODULE`.
    case module
    /// `python -c 'print(repr(EXPR))'`.
    case eval
  }

  static let code = """
    import builtins as _swiftpy_builtins, sys as _swiftpy_sys

    def _swiftpy_strip(exc):
        '''exc with the frames of these helpers, runpy and codeop cut from the front of its
        traceback, so that it starts where Python's own would: at the user's code.'''
        tb = exc.__traceback__
        while tb is not None and (tb.tb_frame.f_globals is globals()
                                  or tb.tb_frame.f_globals.get('__name__') in ('runpy', 'codeop')):
            tb = tb.tb_next
        return exc.with_traceback(tb)

    def _swiftpy_status(exc):
        '''The exit status Python gives an uncaught exc (None: none), having printed what Python
        prints for it.'''
        if exc is None:
            return 0
        if isinstance(exc, SystemExit):
            if exc.code is None:
                return 0
            if isinstance(exc.code, int):
                return exc.code
            print(exc.code, file=_swiftpy_sys.stderr)
            return 1
        if isinstance(exc, KeyboardInterrupt) and str(exc).startswith('interrupted by SwiftPy'):
            exc.args = ()  # Ctrl-C: shown bare, as Python shows it
        _swiftpy_sys.excepthook(type(exc), exc, exc.__traceback__)
        return 130 if isinstance(exc, KeyboardInterrupt) else 1

    def _swiftpy_new_main(file=None):
        '''A fresh __main__ module, installed as sys.modules['__main__'] like python's own.'''
        import types
        main = types.ModuleType('__main__')
        main.__builtins__ = _swiftpy_builtins
        if file is not None:
            main.__file__ = file
            main.__cached__ = None
        _swiftpy_sys.modules['__main__'] = main
        return main

    def _swiftpy_flush():
        for stream in (_swiftpy_sys.stdout, _swiftpy_sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass

    def _swiftpy_finish():
        '''What python does before it exits: wait for non-daemon threads, run atexit.'''
        threading = _swiftpy_sys.modules.get('threading')
        if threading is not None:
            for thread in threading.enumerate():
                if (not thread.daemon and thread.is_alive()
                        and thread is not threading.current_thread()
                        and thread is not threading.main_thread()):
                    thread.join()
        import atexit
        atexit._run_exitfuncs()
        _swiftpy_flush()

    def _swiftpy_run(kind, target, argv):
        import os
        _swiftpy_sys.argv = list(argv)
        exc = None
        try:
            if kind == 'module':
                import runpy
                _swiftpy_sys.path.insert(0, os.getcwd())
                runpy.run_module(target, run_name='__main__', alter_sys=True)
            elif kind == 'file':
                path = os.path.abspath(target)
                _swiftpy_sys.path.insert(0, os.path.dirname(os.path.realpath(target)))
                main = _swiftpy_new_main(path)
                with open(target, 'rb') as file:
                    source = file.read()
                exec(compile(source, path, 'exec'), main.__dict__)
            else:
                import linecache
                _swiftpy_sys.path.insert(0, '')
                main = _swiftpy_new_main()
                # As python -c does, so that tracebacks show the lines of the code.
                linecache.cache['<string>'] = (len(target), None, target.splitlines(True), '<string>')
                if kind == 'eval':
                    print(repr(eval(compile(target, '<string>', 'eval'), main.__dict__)))
                else:
                    exec(compile(target, '<string>', 'exec'), main.__dict__)
        except BaseException as error:
            exc = _swiftpy_strip(error)
        status = _swiftpy_status(exc)
        _swiftpy_finish()
        return status

    def _swiftpy_repl_start():
        import codeop
        global _swiftpy_compile, _swiftpy_session
        _swiftpy_sys.argv = ['']
        _swiftpy_sys.path.insert(0, '')
        _swiftpy_compile = codeop.CommandCompiler()
        _swiftpy_session = _swiftpy_new_main()

    def _swiftpy_push(source):
        '''Runs source as Python's REPL does (values shown by sys.displayhook, which sets _):
        'more' when the statement goes on, else 'done', or the exit status of a SystemExit.'''
        try:
            code = _swiftpy_compile(source, '<stdin>', 'single')
        except (OverflowError, SyntaxError, ValueError) as error:
            _swiftpy_status(_swiftpy_strip(error))
            _swiftpy_flush()
            return 'done'
        if code is None:
            return 'more'
        try:
            exec(code, _swiftpy_session.__dict__)
        except SystemExit as error:
            _swiftpy_flush()
            return _swiftpy_status(error)
        except BaseException as error:
            _swiftpy_status(_swiftpy_strip(error))
        _swiftpy_flush()
        return 'done'

    def _swiftpy_readline(prompt):
        '''A line from a stdin that is not a terminal, after prompt on stderr (as python -i
        does); None at its end. Read through sys.stdin, so that input() in the session reads
        the lines that follow.'''
        _swiftpy_sys.stderr.write(prompt)
        _swiftpy_sys.stderr.flush()
        return _swiftpy_sys.stdin.readline() or None
    """
}
