/// Why a backend stopped or could not start.
enum BackendError: Error {
  /// The kernel facility is missing or exhausted (no inotify instance or watch left): the
  /// watcher falls back to polling.
  case unavailable(FileWatchError)
  /// A real error, thrown by ``FileWatcher/init(_:)``.
  case failed(FileWatchError)
}

/// One way of finding changes, driven by the reader thread: it waits (``waitForEvents``) until
/// events come, the waker is written to or ``deadline`` has passed, then calls
/// ``readEvents(at:)`` and ``deadlinePassed(at:)``. Everything in a backend is used by the
/// reader thread only.
protocol WatchBackend: AnyObject {
  /// "inotify", "kqueue" or "polling".
  var name: String { get }
  /// The descriptor to wait on, if any.
  var descriptor: Int32? { get }
  /// Blocks until events are ready, `waker` is readable or `deadline` has passed. The default
  /// waits in `poll(2)` on `waker` and ``descriptor``.
  func waitForEvents(waker: Int32, until deadline: ContinuousClock.Instant?) -> (woken: Bool, events: Bool)
  /// When ``deadlinePassed(at:)`` must be called, if ever.
  var deadline: ContinuousClock.Instant? { get }
  /// The files known and their status (handed to polling when the backend gives up).
  var knownFiles: Snapshot { get }
  /// Reads what ``descriptor`` has; `now` is when it was found readable.
  func readEvents(at now: ContinuousClock.Instant) throws(BackendError)
  /// Does what was due (report a batch, scan...).
  func deadlinePassed(at now: ContinuousClock.Instant) throws(BackendError) -> FileChange?
  /// Releases descriptors; the backend is not used afterwards.
  func close()
}

extension WatchBackend {
  func waitForEvents(waker: Int32, until deadline: ContinuousClock.Instant?) -> (woken: Bool, events: Bool) {
    let ready = waitReadable([waker] + (descriptor.map { [$0] } ?? []), until: deadline)
    return (ready[0], ready.count > 1 && ready[1])
  }
}

/// Polling: scans every root every `interval` and compares each file's status with the last
/// reported one. A file found changed is reported once its status has stayed the same for a
/// short settling time, so that a save caught half-way (the old version renamed away, the new
/// one not written yet) is still one change.
final class PollingBackend: WatchBackend {
  let name = "polling"
  let descriptor: Int32? = nil
  private let tree: WatchTree
  private let interval: Duration
  private let settle: Duration
  private var reported: Snapshot
  private var nextScan: ContinuousClock.Instant
  /// Changed paths being settled, with their last observed status (nil: missing).
  private var candidates: [String: FileStat?] = [:]
  private var settleDeadline: ContinuousClock.Instant?
  private var settleRounds = 0
  private var detectedAt = ContinuousClock.now

  /// A fallback's interval grows with the tree: at least 20 scans' time, so that polling a
  /// large tree never takes more than about 5% of a core.
  private let adaptive: Bool
  private var scanTime: Duration = .zero
  private var nextInterval: Duration { adaptive ? max(interval, scanTime * 20) : interval }

  init(
    tree: WatchTree, interval: Duration, coalescing: Duration, known: Snapshot? = nil, adaptive: Bool = false
  ) {
    self.tree = tree
    self.interval = interval
    self.adaptive = adaptive
    // Polling cannot see a writer close its file: a change counts once the file's status stays
    // the same this long. 50 ms (the same grace inotify gives new and deleted files) keeps a
    // writer preempted between truncating and writing, on a loaded machine, from being two saves.
    settle = max(coalescing, .milliseconds(50))
    reported = known ?? Snapshot(tree.scanAll())
    nextScan = .now + interval
  }

  var deadline: ContinuousClock.Instant? { settleDeadline ?? nextScan }
  var knownFiles: Snapshot { reported }

  func readEvents(at now: ContinuousClock.Instant) {}

  private static func current(_ path: String) -> FileStat? {
    guard let status = FileStat.of(path), !status.isDirectory else { return nil }
    return status
  }

  func deadlinePassed(at now: ContinuousClock.Instant) -> FileChange? {
    if settleDeadline != nil {
      var observed: [String: FileStat?] = [:]
      for path in candidates.keys { observed.updateValue(Self.current(path), forKey: path) }
      settleRounds += 1
      if observed != candidates && settleRounds < 100 {
        candidates = observed
        settleDeadline = now + settle
        return nil
      }
      settleDeadline = nil
      candidates = [:]
      nextScan = now + nextInterval
      var paths: [String] = []
      for (path, status) in observed where reported[path] != status {
        paths.append(path)
        reported[path] = status
      }
      return paths.isEmpty ? nil : FileChange(paths: paths.sorted(), rescan: false, detectedAt: detectedAt)
    }
    let found = tree.scanAll()
    var changed: [String: FileStat?] = [:]
    for (path, status) in found where reported[path] != status { changed.updateValue(status, forKey: path) }
    for path in reported.all.keys where found[path] == nil { changed.updateValue(nil, forKey: path) }
    scanTime = .now - now
    nextScan = now + nextInterval
    guard !changed.isEmpty else { return nil }
    candidates = changed
    detectedAt = now
    settleRounds = 0
    settleDeadline = now + settle
    return nil
  }

  func close() {}
}
