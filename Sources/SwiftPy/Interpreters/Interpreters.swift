import Synchronization

/// The interpreters API, modelled on CPython's `concurrent.interpreters`: create interpreters,
/// list them, reach the main one. Reach it as ``PythonRuntime/interpreters``.
public final class Interpreters: Sendable {
  /// The main interpreter (the one CPython initialized).
  public let main: Interpreter
  private let process: PythonProcess
  private let runtime: Int
  private let created = Mutex<[Interpreter]>([])
  private static let serials = Atomic<Int>(0)

  private init(process: PythonProcess, runtime: Int, main: Interpreter) {
    self.process = process
    self.runtime = runtime
    self.main = main
  }

  static func start(process: PythonProcess, runtime: Int) async throws -> Interpreters {
    // The main interpreter's own thread, with __main__ as its namespace.
    let namespace = Confined<OpaquePointer?>(nil)
    _ = try await process.main.perform { namespace.value = try PythonExecution.mainModuleNamespace() }
    let context = PythonContext(thread: process.main, mode: .worker, name: "main", namespace: namespace)
    return Interpreters(
      process: process, runtime: runtime, main: Interpreter(context: context, whence: "runtime init", isMain: true))
  }

  /// Creates a new idle interpreter on its own pinned thread. Isolated (own GIL) by default, as
  /// in CPython; `isolated: false` makes a legacy sub-interpreter sharing the main GIL.
  public func create(isolated: Bool = true) async throws(InterpreterError) -> Interpreter {
    let serial = Interpreters.serials.wrappingAdd(1, ordering: .relaxed).newValue
    let context: PythonContext
    do {
      context = try await PythonContext.start(
        mode: isolated ? .ownGIL : .subinterp, process: process, name: "rt\(runtime)-interp\(serial)",
        namespace: .mainModule)
    } catch {
      throw .failed("cannot create an interpreter: \(error)")
    }
    let interpreter = Interpreter(context: context, whence: "SwiftPy interpreters.create()", isMain: false)
    created.withLock { $0.append(interpreter) }
    return interpreter
  }

  /// Every interpreter of this API that still exists: the main one, then those created here.
  public func listAll() -> [Interpreter] {
    [main] + created.withLock { list in
      list.removeAll { !$0.isAlive }
      return list
    }
  }

  /// The id of the interpreter attached to the calling thread: inside
  /// ``PythonContext/withPython(_:)`` that context's interpreter; nil on threads that run no
  /// interpreter (Swift's own).
  public static var currentID: Int64? { InterpreterThread.current?.interpreterID }

  /// Closes every interpreter created through this API.
  func closeAll() async {
    let all = created.withLock { list in
      defer { list.removeAll() }
      return list
    }
    for interpreter in all { try? await interpreter.close() }
  }
}
