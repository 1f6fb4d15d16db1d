import Synchronization

/// Runs a runtime's reloads one after another, in the order they are asked for: a hot
/// reloader's runs and on-demand reloads never overlap.
final class ReloadLane: Sendable {
  private let last = Mutex<Task<Void, Never>?>(nil)

  func run<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
    let task = last.withLock { last -> Task<T, Never> in
      let previous = last
      let task = Task {
        await previous?.value
        return await body()
      }
      last = Task { _ = await task.value }
      return task
    }
    // Cancelling the caller cancels its run (a reloader's stop()), not the ones queued before.
    return await withTaskCancellationHandler {
      await task.value
    } onCancel: {
      task.cancel()
    }
  }
}
