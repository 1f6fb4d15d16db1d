import Synchronization

/// The interpreters API, modelled on CPython's `concurrent.interpreters`: create interpreters,
/// list them, reach the main one. Reach it as ``PythonRuntime/interpreters``.
public final class Interpreters: Sendable {
  /// The main interpreter (the one CPython initialized).
  public let main: Interpreter
  private let installation: PythonInstallation
  private let blueprint: ContextBlueprint
  private let policy: CallPolicy
  private let runtime: Int
  private let lifecycle: RuntimeLifecycle
  private let created = Mutex<[Interpreter]>([])
  private static let serials = Atomic<Int>(0)

  private init(
    process: PythonProcess, runtime: Int, blueprint: ContextBlueprint, policy: CallPolicy,
    lifecycle: RuntimeLifecycle, main: Interpreter
  ) {
    self.lifecycle = lifecycle
    self.installation = process.installation
    self.blueprint = blueprint
    self.policy = policy
    self.runtime = runtime
    self.main = main
  }

  /// `blueprint` prepares created interpreters: like CPython's, they get no preload or
  /// imports, only the installation's paths.
  static func start(
    process: PythonProcess, runtime: Int, blueprint: ContextBlueprint, policy: CallPolicy,
    lifecycle: RuntimeLifecycle
  ) async throws -> Interpreters {
    let main = try await PythonContext.main(process.main, policy: policy)
    return Interpreters(
      process: process, runtime: runtime, blueprint: blueprint, policy: policy, lifecycle: lifecycle,
      main: Interpreter(context: main, whence: "runtime init", isMain: true, lifecycle: lifecycle))
  }

  /// Creates a new idle interpreter on its own pinned thread. Isolated (own GIL) by default, as
  /// in CPython; `isolated: false` makes a legacy sub-interpreter sharing the main GIL.
  public func create(isolated: Bool = true) async throws(SwiftPyError) -> Interpreter {
    try lifecycle.check()
    let serial = Interpreters.serials.wrappingAdd(1, ordering: .relaxed).newValue
    let context: PythonContext
    do {
      context = try await PythonContext.start(
        mode: isolated ? .ownGIL : .subinterp, installation: installation, blueprint: blueprint,
        name: "rt\(runtime)-interp\(serial)", policy: policy, namespace: .mainModule)
    } catch {
      throw SwiftPyError(.interpreterFailed, "cannot create an interpreter: \(error)", underlying: error)
    }
    let interpreter = Interpreter(
      context: context, whence: "SwiftPy interpreters.create()", isMain: false, lifecycle: lifecycle)
    // Registered under the lock after checking for a shutdown that began meanwhile (shutdown
    // sets its flag before it takes the list), so no interpreter escapes it.
    let registered = created.withLock { list in
      guard !lifecycle.isShutDown.load(ordering: .acquiring) else { return false }
      list.append(interpreter)
      return true
    }
    guard registered else {
      await context.close(deadline: nil, refusal: nil)
      throw SwiftPyError(.shuttingDown, "the runtime has been shut down")
    }
    return interpreter
  }

  /// Every interpreter of this API that still exists: the main one, then those created here.
  public func listAll() -> [Interpreter] {
    [main]
      + created.withLock { list in
        list.removeAll { !$0.isAlive }
        return list
      }
  }

  /// The id of the interpreter attached to the calling thread: inside
  /// ``PythonContext/withPython(timeout:_:)`` that context's interpreter; nil on threads that run no
  /// interpreter (Swift's own).
  public static var currentID: Int64? { InterpreterThread.current?.interpreterID }

  /// Closes every interpreter created through this API (see ``PythonRuntime/shutdown(deadline:)``).
  func closeAll(deadline: Duration? = nil) async {
    let all = created.withLock { list in
      defer { list.removeAll() }
      return list
    }
    await withTaskGroup(of: Void.self) { group in
      let refusal = SwiftPyError(.shuttingDown, "the runtime is shutting down")
      for interpreter in all {
        group.addTask { await interpreter.context.close(deadline: deadline, refusal: refusal) }
      }
    }
  }
}
