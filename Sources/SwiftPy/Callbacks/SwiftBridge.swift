import Synchronization

/// What one runtime offers the Python of its interpreters through the `swift` module: the
/// Swift functions registered with `PythonRuntime.register`, the shared ``PythonState``, and where Python's `logging` records go (ARCHITECTURE.md,
/// "Python calls Swift").
///
/// Every interpreter's `swift` module finds its runtime's bridge by number: through the calling
/// OS thread (a context's thread knows its runtime; worker contexts of several runtimes share
/// the main interpreter's module) or else through the number the module was made with.
final class SwiftBridge: Sendable {
  let id: Int64
  let callbacks = Mutex<[String: SwiftCallback]>([:])
  let state = PythonState()
  let logging: PythonLogging
  /// The C extensions a sub-interpreter of this runtime refused, to say so once each (bounded:
  /// Python code could name endless modules).
  private let refusedExtensions = Mutex<Set<String>>([])

  private static let serials = Atomic<Int64>(0)
  /// Every live bridge by id. A bridge leaves when its runtime shuts down.
  private static let all = Mutex<[Int64: SwiftBridge]>([:])

  init(logging: PythonLogging) {
    self.id = SwiftBridge.serials.wrappingAdd(1, ordering: .relaxed).newValue
    self.logging = logging
    SwiftBridge.all.withLock { $0[id] = self }
  }

  /// The bridge numbered `id`, while its runtime runs.
  static func find(_ id: Int64) -> SwiftBridge? {
    id == 0 ? nil : all.withLock { $0[id] }
  }

  /// Called at shutdown: Python still running finds no Swift function any more.
  func retire() {
    _ = SwiftBridge.all.withLock { $0.removeValue(forKey: id) }
    callbacks.withLock { $0.removeAll() }
  }

  /// True the first time `module` is reported refused.
  func firstRefusal(of module: String) -> Bool {
    refusedExtensions.withLock { refused in refused.count < 1000 && refused.insert(module).inserted }
  }

  func callback(named name: String) -> SwiftCallback? { callbacks.withLock { $0[name] } }

  var names: [String] { callbacks.withLock { $0.keys.sorted() } }
}

/// A Swift function Python can call.
struct SwiftCallback: Sendable {
  enum Body: Sendable {
    /// Runs on the Python thread that called it, with that thread's GIL released.
    case sync(@Sendable ([PythonValue], [String: PythonValue]) throws -> PythonValue)
    /// Runs as a task; the Python thread serves its context's queues meanwhile.
    case async(@Sendable ([PythonValue], [String: PythonValue]) async throws -> PythonValue)
  }

  let name: String
  let body: Body
}
