import FileWatching
import Foundation
import Synchronization

/// A running hot reloader: watches files and, on each change, runs its steps, reloading the
/// changed modules in every context of its runtime (ARCHITECTURE.md, "Hot reload"). Made by
/// ``PythonRuntime/hotReload(watch:modules:strategy:extensions:)`` and
/// ``PythonRuntime/hotReload(watch:steps:strategy:extensions:runAtStart:)``.
///
/// ```swift
/// let reloader = try await py.hotReload(watch: ["app"], modules: ["app.main"])
/// for await event in reloader.events {
///   if let error = event.pythonError { print(error.traceback) }
/// }
/// ```
public final class HotReloader: Sendable {
  /// One event per run: at the start (when the steps run at start), then per change in the
  /// watched set. One consumer; the sequence finishes after ``stop()``. Events wait here until
  /// read (the last 1024 are kept).
  public let events: AsyncStream<ReloadEvent>
  /// The file watcher's backend: "inotify", "kqueue" or "polling".
  public var backendName: String { watcher.backendName }

  /// Internal for tests (which pause its reader to overflow the kernel's queue).
  let watcher: FileWatcher
  private let continuation: AsyncStream<ReloadEvent>.Continuation
  private let loop = Mutex<Task<Void, Never>?>(nil)

  init(
    options: FileWatchOptions, runner: StepRunner, lane: ReloadLane, runAtStart: Bool,
    isShutDown: @escaping @Sendable () -> Bool
  ) throws {
    let watcher: FileWatcher
    do {
      watcher = try FileWatcher(options)
    } catch {
      throw SwiftPyError(.invalidArgument, "cannot watch \(options.paths): \(error)", underlying: error)
    }
    let (events, continuation) = AsyncStream.makeStream(
      of: ReloadEvent.self, bufferingPolicy: .bufferingNewest(1024))
    self.watcher = watcher
    self.events = events
    self.continuation = continuation
    let changes = watcher.changes
    let task = Task {
      if runAtStart {
        let began = ContinuousClock.now
        let event = await lane.run {
          await runner.run(trigger: .start, files: [], rescan: false, since: began)
        }
        continuation.yield(event)
      }
      for await change in changes {
        if isShutDown() || Task.isCancelled { break }
        let files = change.paths.map(HotReloader.realPath)
        let event = await lane.run {
          await runner.run(trigger: .change, files: files, rescan: change.rescan, since: change.detectedAt)
        }
        continuation.yield(event)
      }
      continuation.finish()
    }
    loop.withLock { $0 = task }
  }

  /// Stops watching and ends ``events``. A run in progress is cancelled: the Python it runs is
  /// interrupted (a module interrupted halfway keeps its previous code), a shell command is
  /// terminated, a Swift step or hook sees the cancellation. Returns once the run has stopped.
  /// Calling it again does nothing.
  public func stop() async {
    watcher.stop()
    let task = loop.withLock { $0 }
    task?.cancel()
    await task?.value
    continuation.finish()
  }

  /// The path with every symbolic link resolved (as Python's `os.path.realpath`); the path
  /// itself when it no longer exists.
  static func realPath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
  }
}
