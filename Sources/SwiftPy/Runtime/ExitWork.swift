import CPythonShim
import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Python's exit work — `atexit` handlers, buffered file writes flushed — which CPython does when
/// it is finalized, and SwiftPy never finalizes it (ARCHITECTURE.md, "Exit work").
/// Sub-interpreters get theirs when they end (`Py_EndInterpreter` runs their `atexit` handlers
/// and frees their modules, closing their files). The main interpreter, where worker contexts
/// run, is shared by every runtime of the process and lives on; so:
/// - every runtime's `shutdown()` flushes every open file object of the main interpreter (what
///   another runtime still writes is only flushed early);
/// - the last runtime's `shutdown()` also runs the main interpreter's `atexit` handlers;
/// - at process exit (`exit()`, or `main` returning), runtimes never shut down are shut down
///   (calls in flight get 1 s, then are interrupted), then the same work runs. All of it is
///   bounded: the process waits at most ``exitLimit`` for it, then exits anyway.
///
/// Not done: objects still alive are not destroyed (a `zipfile.ZipFile` never closed has no
/// directory written), and Python threads are not joined. A process ended by a signal it does
/// not handle runs no exit work at all, in Python or in C.
enum ExitWork {
  /// How long the process waits for the exit work, at most.
  static let exitLimit = Duration.seconds(5)

  private struct Live {
    /// Held until shut down: a runtime its host let go of still runs its interpreters (nothing
    /// ends them but `shutdown()`), and at exit they still have work to do.
    var runtimes: [ObjectIdentifier: PythonRuntime] = [:]
    var process: PythonProcess?
    /// The main interpreter's `atexit` handlers may have work: a runtime ran since they last ran.
    var atexitPending = false
    var hooked = false
  }

  private static let live = Mutex(Live())

  /// Called when a runtime has started.
  static func started(_ runtime: PythonRuntime, process: PythonProcess) {
    let hook = live.withLock { live -> Bool in
      live.runtimes[ObjectIdentifier(runtime)] = runtime
      live.process = process
      live.atexitPending = true
      defer { live.hooked = true }
      return !live.hooked
    }
    if hook { atexit { ExitWork.atProcessExit() } }
  }

  /// Called when a runtime's shutdown has stopped its interpreters: flushes, and runs the
  /// `atexit` handlers if no other runtime is left.
  static func ended(_ runtime: PythonRuntime, within limit: Duration) async {
    let (process, runAtexit) = live.withLock { live -> (PythonProcess?, Bool) in
      live.runtimes[ObjectIdentifier(runtime)] = nil
      return (live.process, takeAtexit(&live))
    }
    if let process { await run(on: process, atexit: runAtexit, within: limit) }
  }

  /// True, once, when no runtime is left and the handlers have not run since one started.
  private static func takeAtexit(_ live: inout Live) -> Bool {
    guard live.runtimes.isEmpty, live.atexitPending else { return false }
    live.atexitPending = false
    return true
  }

  /// The work, on the main interpreter's thread, within `limit`.
  private static func run(on process: PythonProcess, atexit runAtexit: Bool, within limit: Duration) async {
    do {
      try await process.main.perform(timeout: limit, describing: "Python's exit work") {
        if runAtexit {
          // Reports a failing handler itself, as Python's exit does.
          try ContextSetup.run("import atexit\natexit._run_exitfuncs()", with: [:])
        }
        try flushOpenFiles()
      }
    } catch {
      SwiftPyLog.logger.warning("[SwiftPy] Python's exit work did not finish: \(error)")
    }
  }

  /// Flushes every open `_io` file object of the attached interpreter. They are found by a
  /// walk of the garbage collector's objects done in C, with the GIL held throughout: a Python
  /// loop over `gc.get_objects()` can let other threads run while its list keeps every object
  /// of the shared main interpreter alive, so their finalizers ran late (a test saw it).
  private static func flushOpenFiles() throws {
    let namespace = try PythonExecution.makeNamespace()
    defer { Py_DecRef(namespace) }
    try PythonExecution.execute(
      "import _io, gc\nwalk = (gc.get_objects, _io._IOBase)", globals: namespace)
    guard let walk = PyDict_GetItemString(namespace, "walk"), let getObjects = PyTuple_GetItem(walk, 0),
      let base = PyTuple_GetItem(walk, 1), let none = PyTuple_New(0)
    else { throw PythonError.fetch() }
    defer { Py_DecRef(none) }
    guard let files = PyList_New(0) else { throw PythonError.fetch() }
    defer { Py_DecRef(files) }
    guard let everything = PyObject_Call(getObjects, none, nil) else { throw PythonError.fetch() }
    // By type only: isinstance() could run a class's own __class__ property, Python code. The
    // list of everything is dropped before any Python code runs again.
    let fileType = UnsafeMutablePointer<PyTypeObject>(OpaquePointer(base))
    for index in 0..<PyList_Size(everything) {
      if let object = PyList_GetItem(everything, index), PyType_IsSubtype(spy_type(object), fileType) != 0 {
        if PyList_Append(files, object) != 0 { PyErr_Clear() }  // out of memory: not flushed
      }
    }
    Py_DecRef(everything)
    guard PyDict_SetItemString(namespace, "files", files) == 0 else { throw PythonError.fetch() }
    try PythonExecution.execute(
      """
      for stream in files:
          try:
              if not stream.closed:
                  stream.flush()
          except Exception:
              pass  # a pipe nobody reads, a file on a full disk: nothing to do now
      """, globals: namespace)
  }

  /// The C `atexit` handler: shuts down every runtime still running (the last one's shutdown
  /// ends with the exit work), or runs the work itself when none is left, and waits for it at
  /// most ``exitLimit``.
  private static func atProcessExit() {
    let (runtimes, process, pending) = live.withLock { live in
      (Array(live.runtimes.values), live.process, live.atexitPending)
    }
    guard pending, let process else { return }
    let done = DispatchSemaphore(value: 0)
    Task.detached {
      if runtimes.isEmpty {
        let runAtexit = live.withLock { takeAtexit(&$0) }
        await run(on: process, atexit: runAtexit, within: .seconds(3))
      } else {
        await withTaskGroup(of: Void.self) { group in
          for runtime in runtimes { group.addTask { await runtime.shutdown(deadline: .seconds(3)) } }
        }
      }
      done.signal()
    }
    _ = done.wait(timeout: .now() + .seconds(Int(exitLimit.components.seconds)))
  }
}
