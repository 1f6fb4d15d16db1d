import CPythonShim

/// Import locks an interrupt left held. An interrupt lands wherever the eval loop checks for
/// one — importlib's own Python code included, between `_imp.acquire_lock()` and the `with`
/// statement that would release it, or inside a module lock's `__exit__`. The lock then stays
/// with this thread after the job ends, and every other thread of the interpreter that imports
/// anything waits on it for ever: the worker contexts that share the main interpreter, and
/// each new context that starts there (ARCHITECTURE.md, "Interrupts").
///
/// So after a job that was interrupted, and before an interpreter ends, its thread gives back
/// what it still holds. Between two jobs no import of this thread is in progress, so whatever
/// import lock it holds then was leaked. Runs on the interpreter's thread, attached, with
/// interrupts held off.
enum ImportLocks {
  private static let code = """
    import _imp, sys, _thread
    while True:
        try:
            _imp.release_lock()
        except RuntimeError:
            break
    bootstrap = sys.modules.get('importlib._bootstrap')
    me = _thread.get_ident()
    for reference in list(getattr(bootstrap, '_module_locks', {}).values()):
        lock = reference()
        for _ in range(10_000):
            if lock is None or getattr(lock, 'owner', None) != me:
                break
            lock.release()
    try:
        bootstrap._blocking_on.pop(me, None)
    except Exception:
        pass
    """

  /// Releases the import locks this thread holds; a failure is cleared (the job's answer has
  /// been given, and nothing here may raise into the next one).
  static func releaseHeldByThisThread() {
    try? ContextSetup.run(code, with: [:])
  }

  /// Releases the interpreter-wide import lock (`_imp`'s) if this thread holds it, leaving
  /// module locks alone: safe at any point where this thread is not inside importlib, which
  /// holds that lock only around its own dictionary work. SwiftPy's error path calls this
  /// before it imports `traceback` in a job that was interrupted: a lock leaked earlier in the
  /// job would otherwise deadlock that import against another thread's. C calls only, so that
  /// a failure here never formats another error.
  static func releaseImportLockHeldHere() {
    guard let imp = PyImport_ImportModule("_imp") else { return PyErr_Clear() }
    defer { Py_DecRef(imp) }
    for _ in 0..<10_000 {  // the lock is re-entrant; RuntimeError once this thread holds none
      guard let released = PythonExecution.callMethod(imp, "release_lock") else { return PyErr_Clear() }
      Py_DecRef(released)
    }
  }
}
