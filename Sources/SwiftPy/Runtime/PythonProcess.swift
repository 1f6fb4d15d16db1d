import CPythonShim
import Synchronization

/// CPython in this process: libpython loaded once and initialized once, on a pinned thread of
/// its own that then serves the main interpreter (ARCHITECTURE.md, "One CPython"). Every
/// ``PythonRuntime`` in the process shares it; it is never finalized.
final class PythonProcess: Sendable {
  let installation: PythonInstallation
  /// The thread that initialized CPython; it runs the main interpreter's jobs.
  let main: InterpreterThread

  private static let shared = Mutex<Task<PythonProcess, Error>?>(nil)

  private init(installation: PythonInstallation, main: InterpreterThread) {
    self.installation = installation
    self.main = main
  }

  /// The process's Python, started with `installation` on first use. Asking for a different
  /// libpython afterwards is an error: one process, one libpython.
  static func start(_ installation: PythonInstallation, pythonSignalHandlers: Bool = false) async throws
    -> PythonProcess
  {
    let task = shared.withLock { (task: inout Task<PythonProcess, Error>?) in
      if let task { return task }
      let started = Task { try await launch(installation, pythonSignalHandlers: pythonSignalHandlers) }
      task = started
      return started
    }
    let process: PythonProcess
    do {
      process = try await task.value
    } catch {
      // Let a later start try again (perhaps with another Python).
      shared.withLock { if $0 == task { $0 = nil } }
      throw error
    }
    guard process.installation.libraryPath == installation.libraryPath else {
      throw SwiftPyError(
        .differentPythonAlreadyLoaded,
        "this process already runs Python \(process.installation.version) from "
          + "\(process.installation.libraryPath); it cannot also load \(installation.libraryPath)")
    }
    return process
  }

  private static func launch(_ installation: PythonInstallation, pythonSignalHandlers: Bool) async throws
    -> PythonProcess
  {
    try PythonLibrary.load(installation.libraryPath)
    let main = InterpreterThread(kind: .main, name: "swiftpy-main")
    try await main.start {
      try ContextSetup.prepare(ContextBlueprint(installation))
      // 3.13.0 crashes when several own-GIL interpreters import _datetime for the first time
      // at once; importing it here first makes their imports safe (ARCHITECTURE.md, "One CPython").
      guard let datetime = PyImport_ImportModule("datetime") else { throw PythonError.fetch() }
      Py_DecRef(datetime)
      try HostSignals.protect(allowingPythonHandlers: pythonSignalHandlers)
    }
    return PythonProcess(installation: installation, main: main)
  }
}
