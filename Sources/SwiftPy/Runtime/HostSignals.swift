#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The host's signal dispositions belong to the host (ARCHITECTURE.md, "One CPython"). CPython
/// is initialized without its signal handlers, but the first import of `signal` in the main
/// interpreter still installs Python's SIGINT handler — after which Ctrl-C no longer stops the
/// host and a stale `KeyboardInterrupt` surfaces in some later call — and Python code running in
/// the main interpreter's first thread (`interpreters.main`) could make the host ignore SIGTERM.
/// So `signal` is imported once at process start and whatever it changed is put back, and the
/// functions that change dispositions refuse, unless the host opts in
/// (``PythonRuntime/Configuration/pythonSignalHandlers``).
enum HostSignals {
  /// Runs on the main interpreter's thread, attached, once per process.
  static func protect(allowingPythonHandlers allowed: Bool) throws {
    // Only the signals CPython's `signal` module may take over at import. Not every signal:
    // the host may change others meanwhile (Foundation's `Process` installs its SIGCHLD
    // handler on first use, perhaps on another thread right now), and putting back an older
    // disposition would undo that — children would never be reaped.
    let touched = [SIGINT, SIGPIPE, SIGXFSZ]
    let before = touched.map { disposition($0) }
    try ContextSetup.run("import _signal, signal", with: [:])
    for (signal, saved) in zip(touched, before) {
      var current = sigaction()
      sigaction(signal, nil, &current)
      if !sameHandler(current, saved) {
        var restore = saved
        sigaction(signal, &restore, nil)
      }
    }
    guard !allowed else { return }
    try ContextSetup.run(
      """
      import _signal, signal
      def guard(module, name):
          original = getattr(module, name, None)
          if original is None:
              return
          def refusing(*args, **kwargs):
              raise PermissionError(
                  f'{module.__name__}.{name}: the host owns its signal handlers (SwiftPy); '
                  'start the runtime with pythonSignalHandlers: true to let Python change them')
          refusing.__name__ = refusing.__qualname__ = name
          setattr(module, name, refusing)
      for module in (signal, _signal):
          for name in ('signal', 'siginterrupt', 'set_wakeup_fd'):
              guard(module, name)
      """, with: [:])
  }

  private static func disposition(_ signal: Int32) -> sigaction {
    var current = sigaction()
    sigaction(signal, nil, &current)
    return current
  }

  private static func sameHandler(_ a: sigaction, _ b: sigaction) -> Bool {
    #if canImport(Glibc)
      unsafeBitCast(a.__sigaction_handler.sa_handler, to: Int.self)
        == unsafeBitCast(b.__sigaction_handler.sa_handler, to: Int.self)
    #else
      unsafeBitCast(a.__sigaction_u.__sa_handler, to: Int.self)
        == unsafeBitCast(b.__sigaction_u.__sa_handler, to: Int.self)
    #endif
  }
}
