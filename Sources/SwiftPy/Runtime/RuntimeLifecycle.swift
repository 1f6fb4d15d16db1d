import Synchronization

/// Whether a runtime still takes work. Shared by everything the runtime hands out — registries,
/// the interpreters API — so that after ``PythonRuntime/shutdown(deadline:)`` every entry point
/// throws ``SwiftPyError/Code/shuttingDown`` instead of starting work nobody will stop.
final class RuntimeLifecycle: Sendable {
  let isShutDown = Atomic<Bool>(false)

  /// Throws ``SwiftPyError/Code/shuttingDown`` once shutdown has begun.
  func check() throws(SwiftPyError) {
    guard !isShutDown.load(ordering: .acquiring) else {
      throw SwiftPyError(.shuttingDown, "the runtime has been shut down")
    }
  }
}
