import Foundation
import Synchronization

/// Discovery runs a python subprocess per candidate; a process starting several runtimes (a
/// test suite, a server with several pools) should pay that once. Reports are remembered per
/// choice and per the environment variables discovery reads, and computed on a thread of
/// their own so that waiting for subprocesses never blocks Swift's cooperative pool.
enum DiscoveryCache {
  private struct Key: Hashable {
    let choice: String
    let environment: [String]
  }

  /// One search per key, shared by everyone who asks while it runs.
  private static let searches = Mutex<[Key: Task<DiscoveryReport, Error>]>([:])
  private static let relevantVariables = ["SWIFTPY_PYTHON", "VIRTUAL_ENV", "PATH", "PYENV_ROOT", "HOME"]

  static func discover(_ choice: PythonChoice) async throws -> DiscoveryReport {
    let environment = ProcessInfo.processInfo.environment
    let key = Key(
      choice: String(describing: choice), environment: relevantVariables.map { environment[$0] ?? "" })
    let search = searches.withLock { searches in
      if let running = searches[key] { return running }
      let started = Task {
        try await withCheckedThrowingContinuation { continuation in
          Thread {
            continuation.resume(
              with: Result { try PythonDiscovery.discover(choice, environment: environment) })
          }.start()
        }
      }
      searches[key] = started
      return started
    }
    do {
      return try await search.value
    } catch {
      // A failed search is not remembered: the user may install or point to a Python next.
      searches.withLock { if $0[key] == search { $0[key] = nil } }
      throw error
    }
  }
}
