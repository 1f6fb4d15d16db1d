/// The sandbox of `sandbox: true` pools: what it refuses, and how.
///
/// Refused, with a `PermissionError` that names the operation:
/// - running programs and replacing or copying the process: `os.system`, `os.exec*`,
///   `os.posix_spawn*`, `os.spawn*`, `os.fork`/`forkpty`, `subprocess`, `pty.spawn` (an audit
///   hook, PEP 578);
/// - signalling or ending the host: `os.kill`/`killpg`, `signal.pthread_kill`, `raise_signal`,
///   `alarm`, `setitimer`, `pidfd_send_signal`, `signal.signal` and friends, `os._exit`,
///   `os.abort`, and `faulthandler`'s deliberate crashes — these have no audit event, so the
///   functions themselves are replaced in `os`, `posix`, `signal`, `_signal` and `faulthandler`;
/// - `ctypes` (importing it), and changing the environment (`os.putenv`).
///
/// In the shared main interpreter (worker pools) the checks apply to the sandboxed contexts'
/// threads only, which may then not start threads of their own (such a thread would escape
/// them); the thread leaves the sandbox when its context closes, so an OS thread reused later
/// by an unsandboxed context is not refused anything.
///
/// What it does not stop: the sandbox lives in Python, in the sandboxed interpreter itself, so
/// code that reaches its state or replaces the guarded functions back (through
/// `importlib.reload` of a built-in module, `gc.get_referents`, or a C extension) gets out;
/// memory and CPU are not limited (use timeouts). It stops ordinary code, not a determined
/// attacker: run hostile code in a separate process when that matters.
enum Sandbox {
  /// Installs the sandbox (once per interpreter) and puts this interpreter — or, in the shared
  /// main interpreter, this thread — in it. Runs on the context's thread, attached.
  static func enter(wholeInterpreter: Bool) throws {
    try ContextSetup.run(code, with: ["everyone": .bool(wholeInterpreter)])
  }

  /// Takes this thread out of the shared main interpreter's sandbox (a sandboxed worker context
  /// closing). Runs on the context's thread, attached.
  static func leave() {
    _ = try? ContextSetup.run(
      "import sys, _thread\nstate = sys.modules.get('_swiftpy_sandbox')\n"
        + "if state is not None:\n    state.idents.discard(_thread.get_ident())", with: [:])
  }

  private static let code = """
    import sys, _thread
    state = sys.modules.get('_swiftpy_sandbox')
    if state is None:
        import types, os, posix, signal, _signal
        try:
            import faulthandler
        except ImportError:  # sub-interpreters cannot load it: nothing to guard there
            faulthandler = None
        state = types.ModuleType('_swiftpy_sandbox')
        state.everyone = False
        state.idents = set()
        refused = frozenset({
            'os.system', 'os.exec', 'os.posix_spawn', 'os.spawn', 'os.fork', 'os.forkpty',
            'os.kill', 'os.killpg', 'os.putenv', 'subprocess.Popen', 'pty.spawn',
            'signal.pthread_kill',
            'ctypes.dlopen', 'ctypes.dlsym', 'ctypes.cdata', 'ctypes.call_function',
            'ctypes.addressof', 'ctypes.string_at', 'ctypes.wstring_at',
        })
        def applies(state=state, ident=_thread.get_ident):
            return state.everyone or ident() in state.idents
        def hook(event, args, applies=applies, refused=refused, state=state):
            if not applies():
                return
            if (event in refused
                    or (event == 'import' and args and str(args[0]).split('.')[0] in ('ctypes', '_ctypes'))
                    or (event == '_thread.start_new_thread' and not state.everyone)):
                raise PermissionError(f'refused by the SwiftPy sandbox: {event}')
        sys.addaudithook(hook)
        # What ends or signals the host without raising an audit event.
        def guard(module, name, applies=applies):
            original = getattr(module, name, None)
            if original is None:
                return
            def refusing(*args, **kwargs):
                if applies():
                    raise PermissionError(f'refused by the SwiftPy sandbox: {module.__name__}.{name}')
                return original(*args, **kwargs)
            refusing.__name__ = refusing.__qualname__ = name
            setattr(module, name, refusing)
        for module in (os, posix):
            for name in ('_exit', 'abort'):
                guard(module, name)
        for module in (signal, _signal):
            for name in ('alarm', 'setitimer', 'pthread_kill', 'raise_signal', 'pidfd_send_signal',
                         'signal', 'siginterrupt', 'pthread_sigmask', 'set_wakeup_fd'):
                guard(module, name)
        for name in ('_sigsegv', '_sigabrt', '_sigfpe', '_read_null', '_fatal_error',
                     '_fatal_error_c_thread', '_stack_overflow'):
            if faulthandler is not None:
                guard(faulthandler, name)
        sys.modules['_swiftpy_sandbox'] = state
    if everyone:
        state.everyone = True
    else:
        state.idents.add(_thread.get_ident())
    """
}
