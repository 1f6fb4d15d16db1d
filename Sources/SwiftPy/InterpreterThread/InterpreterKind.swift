import CPythonShim

/// What an ``InterpreterThread`` hosts. The ceremony for each kind — how it is created on its
/// thread and how it is ended there — lives here, in one place, because getting it wrong
/// crashes or hangs CPython (ARCHITECTURE.md, "One thread per interpreter").
enum InterpreterKind: Sendable, Equatable {
  /// The thread that initializes CPython and then serves the main interpreter.
  case main
  /// A thread state of its own in the main interpreter (shared GIL, every extension works).
  case worker
  /// A legacy sub-interpreter: own modules and namespace, the main interpreter's GIL.
  case sharedGIL
  /// An isolated sub-interpreter with its own GIL (PEP 684): true parallelism.
  case ownGIL

  /// The configuration CPython documents for each sub-interpreter flavour.
  fileprivate var config: PyInterpreterConfig? {
    switch self {
    case .main, .worker:
      return nil
    case .sharedGIL:
      // Py_NewInterpreter's legacy settings: everything allowed, main obmalloc, shared GIL.
      return PyInterpreterConfig(
        use_main_obmalloc: 1, allow_fork: 1, allow_exec: 1, allow_threads: 1,
        allow_daemon_threads: 1, check_multi_interp_extensions: 0, gil: 1)
    case .ownGIL:
      // The isolated settings: own allocator and GIL; single-phase-init extensions refused;
      // no fork (a forked child cannot survive). Unlike CPython's isolated defaults, exec and
      // daemon threads are allowed, as multiprocessing needs both (its spawn start method and
      // its queues' feeder threads): exec starts a new program at once, with no Python run in
      // between, and an interpreter is never ended under a live thread, daemon or not
      // (`PythonThreads.settle` leaves it running instead).
      return PyInterpreterConfig(
        use_main_obmalloc: 0, allow_fork: 0, allow_exec: 1, allow_threads: 1,
        allow_daemon_threads: 1, check_multi_interp_extensions: 1, gil: 2)
    }
  }

  /// Creates the interpreter (or main-interpreter thread state) on the calling thread, which
  /// must have no thread state attached. On return the new thread state is attached.
  func create() throws(SwiftPyError) -> PyThreadStatePointer {
    switch self {
    case .main:
      if Py_IsInitialized() != 0 {
        // An earlier start initialized CPython and then failed: attach instead.
        let state = try InterpreterKind.newThreadState(in: PyInterpreterState_Main())
        PyEval_RestoreThread(state)
        return state
      }
      Py_InitializeEx(0)  // 0: no signal handlers; Ctrl-C belongs to the host.
      return PyThreadState_Get()
    case .worker:
      let state = try InterpreterKind.newThreadState(in: PyInterpreterState_Main())
      PyEval_RestoreThread(state)
      return state
    case .sharedGIL, .ownGIL:
      // Py_NewInterpreterFromConfig wants an attached thread state: borrow a fresh one in
      // the main interpreter (as pybind11 does), then dispose of it on this same thread.
      let borrowed = try InterpreterKind.newThreadState(in: PyInterpreterState_Main())
      PyEval_RestoreThread(borrowed)
      var created: PyThreadStatePointer?
      var config = self.config!
      let status = Py_NewInterpreterFromConfig(&created, &config)
      guard PyStatus_Exception(status) == 0, let created else {
        // Failure leaves the borrowed state attached.
        let reason = status.err_msg.map { String(cString: $0) } ?? "unknown reason"
        PyThreadState_Clear(borrowed)
        PyThreadState_DeleteCurrent()
        throw SwiftPyError(
          .interpreterCreationFailed, "Py_NewInterpreterFromConfig failed: \(reason)")
      }
      // The new interpreter is attached (its GIL held; with an own GIL the main GIL was
      // released). Detach it, re-attach the borrowed state to delete it, re-attach ours.
      _ = PyEval_SaveThread()
      PyEval_RestoreThread(borrowed)
      PyThreadState_Clear(borrowed)
      PyThreadState_DeleteCurrent()
      PyEval_RestoreThread(created)
      return created
    }
  }

  /// A new thread state of `interpreter` (not attached); an error instead of a crash when
  /// CPython cannot allocate one.
  static func newThreadState(in interpreter: PyInterpreterPointer) throws(SwiftPyError)
    -> PyThreadStatePointer
  {
    guard let state = PyThreadState_New(interpreter) else {
      throw SwiftPyError(.interpreterCreationFailed, "CPython could not allocate a thread state")
    }
    return state
  }

  /// Ends what ``create()`` made. `state` must be attached on the calling thread; on return
  /// nothing is attached. The main interpreter is never finalized (ARCHITECTURE.md, "One CPython").
  func end(_ state: PyThreadStatePointer) {
    switch self {
    case .main:
      _ = PyEval_SaveThread()
    case .worker:
      PyThreadState_Clear(state)
      PyThreadState_DeleteCurrent()
    case .sharedGIL, .ownGIL:
      Py_EndInterpreter(state)
    }
  }
}
