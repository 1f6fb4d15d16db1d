import Foundation
import Synchronization

/// Watches files and directory trees and reports each save as a ``FileChange``, within about
/// 2-3 ms, without using any CPU while nothing changes.
///
/// ```swift
/// let watcher = try FileWatcher(FileWatchOptions(paths: ["app"], extensions: ["py"]))
/// for await change in watcher.changes {
///   reload(change.paths)
/// }
/// ```
///
/// ## Design
///
/// **One thread, blocked in the kernel.** A dedicated thread waits in `poll(2)` on the inotify
/// descriptor (kqueue on macOS) and on a wake-up pipe. Nothing runs while no file changes:
/// no timer, no sleep loop. `stop()` writes to the pipe; the thread wakes, closes its
/// descriptors, finishes ``changes`` and exits, and `stop()` returns once it has.
///
/// **When a file is ready.** A save is reported when the kernel says a new version is complete:
/// `IN_CLOSE_WRITE` (a file opened for writing was closed: an in-place save) or `IN_MOVED_TO`
/// (a file was renamed into place: a write-temp-then-rename save, which never closes the final
/// name). `IN_MODIFY` is not used: it comes for every `write(2)` of a save, before the file is
/// complete, and would report half-written files. Deletions and renames away are reported only
/// if the file stays missing for a short grace period (50 ms), so that vim's backup-rename save
/// (`x.py → x.py~`, then a new `x.py` written and closed) is one change, not a deletion and a
/// change; new files wait for the same period, so that temporary files renamed over the real
/// one are never reported. Saves of existing files are not delayed (see ``FileChange``).
///
/// **Coalescing.** Events are gathered until none has come for
/// ``FileWatchOptions/coalescing`` (2 ms by default; at most 25 windows in all), so that one
/// save is one change and files saved together (save all, a checkout) are one or a few.
///
/// **Trees.** Every directory of a watched tree has its own watch (inotify is not recursive);
/// a new directory is watched, then scanned, so that files written into it before its watch
/// existed are reported too. A deleted or moved directory loses its watches; a watched
/// directory that disappears is waited for through its nearest existing ancestor and watched
/// again, with a rescan, when it is back. A single file is watched through its parent directory,
/// filtered to its name, so that rename-saves of it are seen.
///
/// **Overflows.** If the kernel's queue overflows (`IN_Q_OVERFLOW`, events lost), the trees are
/// scanned and compared with a snapshot of every file's inode, size and times; what differs is
/// reported with ``FileChange/rescan`` set.
///
/// **Fallback.** Polling (``FileWatchBackend/polling(interval:)``) is available everywhere and
/// is used automatically when inotify is not (`inotify_init1` failing with `EMFILE`, no watch
/// left with `ENOSPC`), at start or later.
public final class FileWatcher: Sendable {
  private let control: ReaderControl
  private let stream: AsyncStream<FileChange>

  /// The changes, in order. One consumer only. The stream finishes after ``stop()`` (or when
  /// the watcher is deinitialized); cancelling the task that consumes it stops the watcher.
  public var changes: AsyncStream<FileChange> { stream }

  /// The backend in use: "inotify", "kqueue" or "polling" (which it may become later, if the
  /// kernel runs out of watches).
  public var backendName: String { control.backendName }

  /// Starts watching; returns once every path is watched (and scanned).
  ///
  /// - Throws: ``FileWatchError``: no paths, a path that does not exist, an invalid option, or a
  ///   system call that failed (not being able to read a watched directory, for example).
  public init(_ options: FileWatchOptions) throws {
    guard options.coalescing >= .zero else {
      throw FileWatchError.invalidOptions("negative coalescing window \(options.coalescing)")
    }
    if case .polling(let interval) = options.backend, interval <= .zero {
      throw FileWatchError.invalidOptions("polling interval \(interval) is not positive")
    }
    let tree = try WatchTree(options)
    let control = try ReaderControl()
    let (stream, continuation) = AsyncStream.makeStream(
      of: FileChange.self, bufferingPolicy: .unbounded)
    continuation.onTermination = { _ in control.requestStop() }
    let thread = Thread {
      Reader.run(tree: tree, options: options, control: control, continuation: continuation)
    }
    thread.name = "FileWatcher"
    thread.start()
    if case .failure(let error) = control.waitForSetup() {
      control.waitForExit()
      throw error
    }
    self.control = control
    self.stream = stream
  }

  deinit {
    stop()
  }

  /// Stops watching: wakes the reader thread, which closes its descriptors, finishes
  /// ``changes`` and exits; returns once it has, after closing the wake-up pipe. Calling it
  /// again does nothing.
  public func stop() {
    control.requestStop()
    control.waitForExit()
    control.waker.close()
  }

  // MARK: Test hooks

  /// Whether the reader thread is still running.
  var isReaderRunning: Bool { control.isRunning }

  /// Makes the reader thread stop reading events until ``resumeReader()``; returns once it has
  /// (tests use it to let the kernel's queue overflow).
  @_spi(Testing) public func pauseReader() { control.pause() }

  /// Lets a paused reader thread go on.
  @_spi(Testing) public func resumeReader() { control.resume() }

  /// How many times the reader thread has come back from `poll` (to check that it sleeps).
  var readerWakeups: Int { control.wakeups.load(ordering: .relaxed) }
}

/// What the caller's threads and the reader thread share: requests to stop or pause, the
/// backend's name, the outcome of the setup, and the wake-up pipe.
final class ReaderControl: Sendable {
  enum Request { case run, pause, stop }

  private struct State {
    var stopRequested = false
    var pauseRequested = false
    var running = true
    var backendName = ""
    var setup: Result<Void, FileWatchError>?
  }

  private let state = Mutex(State())
  let waker: Waker
  /// Returns from `poll`, counted for tests.
  let wakeups = Atomic<Int>(0)
  private let setupDone = DispatchSemaphore(value: 0)
  private let exited = DispatchSemaphore(value: 0)
  private let parked = DispatchSemaphore(value: 0)

  init() throws(FileWatchError) {
    waker = try Waker()
  }

  var backendName: String { state.withLock { $0.backendName } }
  var isRunning: Bool { state.withLock { $0.running } }
  var request: Request {
    state.withLock { $0.stopRequested ? .stop : $0.pauseRequested ? .pause : .run }
  }

  func setBackendName(_ name: String) { state.withLock { $0.backendName = name } }

  /// Called by the reader thread once the backend is set up, or could not be.
  func finishSetup(_ result: Result<Void, FileWatchError>) {
    state.withLock { $0.setup = result }
    setupDone.signal()
  }

  func waitForSetup() -> Result<Void, FileWatchError> {
    setupDone.wait()
    return state.withLock { $0.setup! }
  }

  func requestStop() {
    state.withLock { $0.stopRequested = true }
    waker.wake()
  }

  /// Called by the reader thread last.
  func markExited() {
    let pausing = state.withLock { state in
      state.running = false
      return state.pauseRequested
    }
    if pausing { parked.signal() }
    exited.signal()
  }

  /// Returns once the reader thread has exited; any number of callers.
  func waitForExit() {
    exited.wait()
    exited.signal()
  }

  func pause() {
    let running = state.withLock { state in
      state.pauseRequested = state.running
      return state.running
    }
    guard running else { return }
    waker.wake()
    parked.wait()
  }

  func resume() {
    state.withLock { $0.pauseRequested = false }
    waker.wake()
  }

  /// Called by the reader thread when it sees a pause request: blocks until it is lifted.
  func park() {
    parked.signal()
    while request == .pause {
      _ = waitReadable([waker.readEnd], until: nil)
      waker.drain()
    }
  }
}

/// The reader thread's body.
enum Reader {
  static func makeBackend(tree: WatchTree, options: FileWatchOptions) throws(FileWatchError)
    -> any WatchBackend
  {
    switch options.backend {
    case .polling(let interval):
      return PollingBackend(tree: tree, interval: interval, coalescing: options.coalescing)
    case .automatic:
      do {
        #if canImport(Glibc)
          return try InotifyBackend(tree: tree, options: options)
        #elseif canImport(Darwin)
          return try KqueueBackend(tree: tree, options: options)
        #else
          throw BackendError.unavailable(.invalidOptions("no kernel notifications on this platform"))
        #endif
      } catch {
        if case .failed(let error) = error { throw error }
        return PollingBackend(
          tree: tree, interval: FileWatchBackend.defaultPollingInterval, coalescing: options.coalescing,
          adaptive: true)
      }
    }
  }

  static func run(
    tree: WatchTree, options: FileWatchOptions, control: ReaderControl,
    continuation: AsyncStream<FileChange>.Continuation
  ) {
    defer {
      continuation.finish()
      control.markExited()
    }
    var backend: any WatchBackend
    do {
      backend = try makeBackend(tree: tree, options: options)
    } catch {
      control.finishSetup(.failure(error))
      return
    }
    control.setBackendName(backend.name)
    control.finishSetup(.success(()))
    defer { backend.close() }
    while true {
      switch control.request {
      case .stop: return
      case .pause:
        control.park()
        continue
      case .run: break
      }
      let ready = backend.waitForEvents(waker: control.waker.readEnd, until: backend.deadline)
      control.wakeups.add(1, ordering: .relaxed)
      if ready.woken {
        control.waker.drain()
        if control.request != .run { continue }
      }
      do {
        if ready.events { try backend.readEvents(at: .now) }
        if let deadline = backend.deadline, deadline <= .now,
          let change = try backend.deadlinePassed(at: .now)
        {
          continuation.yield(change)
        }
      } catch {
        // No watch left (or the like): poll from now on, from what the backend knew.
        let known = backend.knownFiles
        backend.close()
        backend = PollingBackend(
          tree: tree, interval: FileWatchBackend.defaultPollingInterval,
          coalescing: options.coalescing, known: known, adaptive: true)
        control.setBackendName(backend.name)
      }
    }
  }
}
