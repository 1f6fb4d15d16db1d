/// The events read but not reported yet, and when to report them: the coalescing window.
///
/// A path is *written* (closed after writing, renamed into place, found by a scan) or
/// *removed* (deleted, renamed away). At the end of the window every written path that exists
/// is reported. A removed path is reported only once it has stayed missing for the grace
/// period: a save that moves the old version away first (vim's backup-rename: `x.py → x.py~`,
/// then a new `x.py` is created and written) must be one change, reported when the new version
/// is closed, not a deletion followed by a change. A path that never was known (not in the
/// snapshot) and is gone again — a temporary file renamed elsewhere — is not reported at all.
///
/// A file that did not exist before (not in the snapshot) is held until the grace period has
/// passed since its first event: a temporary file renamed over the real one (or deleted) within
/// it is never reported, whatever its name. Saves of existing files are not delayed.
///
/// A file found by scanning a directory just created is *tentative*: it may have been created
/// before the directory's watch and still be open for writing, so it waits for the grace period
/// unless its own event (closed after writing) comes first, so that it is reported once.
struct PendingBatch {
  struct Entry {
    /// Waiting for the end of the window (written or found by a scan).
    var written: Bool
    /// Found in a new directory, no event of its own yet: waits for the grace period.
    var tentative = false
    /// Found missing by a scan: a deletion to report without a grace period.
    var certainRemoval: Bool
    var rescan: Bool
    var firstEvent: ContinuousClock.Instant
    var lastEvent: ContinuousClock.Instant
  }

  let coalescing: Duration
  /// The longest a batch of written files waits for quiet.
  let maxDelay: Duration
  /// How long a deleted file must stay missing before it is reported.
  let grace: Duration
  /// Report a written file only if its status differs from the snapshot (for kqueue, whose
  /// events do not say that a write is complete or even that the content changed).
  let requireStatusChange: Bool

  private(set) var entries: [String: Entry] = [:]
  private var firstWritten: ContinuousClock.Instant?
  private var lastWritten: ContinuousClock.Instant?

  init(coalescing: Duration, requireStatusChange: Bool = false) {
    self.coalescing = coalescing
    maxDelay = coalescing * 25
    grace = max(.milliseconds(50), coalescing * 25)
    self.requireStatusChange = requireStatusChange
  }

  var isEmpty: Bool { entries.isEmpty }

  /// A new version of `path` is complete (or a scan found it changed). `tentative`: found by
  /// the scan of a new directory, maybe still being written.
  mutating func written(
    _ path: String, at time: ContinuousClock.Instant, rescan: Bool = false, tentative: Bool = false
  ) {
    if var entry = entries[path] {
      entry.tentative = entry.written ? entry.tentative && tentative : tentative
      entry.written = true
      entry.certainRemoval = false
      entry.rescan = entry.rescan || rescan
      entry.lastEvent = time
      entries[path] = entry
    } else {
      entries[path] = Entry(
        written: true, tentative: tentative, certainRemoval: false, rescan: rescan, firstEvent: time,
        lastEvent: time)
    }
    if tentative { return }
    if firstWritten == nil { firstWritten = time }
    lastWritten = max(lastWritten ?? time, time)
  }

  /// `path` was deleted or renamed away (`certain`: a scan found it missing).
  mutating func removed(
    _ path: String, at time: ContinuousClock.Instant, certain: Bool = false, rescan: Bool = false
  ) {
    if var entry = entries[path] {
      if entry.tentative {
        // A new file (or one found by a scan) gone again: only its removal is left to check.
        entry.written = false
        entry.tentative = false
      }
      entry.certainRemoval = entry.certainRemoval || certain
      entry.rescan = entry.rescan || rescan
      entry.lastEvent = time
      entries[path] = entry
    } else {
      entries[path] = Entry(
        written: false, certainRemoval: certain, rescan: rescan, firstEvent: time, lastEvent: time)
    }
    // A removal also keeps the window open: the rest of the save is on its way.
    if firstWritten != nil { lastWritten = max(lastWritten ?? time, time) }
  }

  /// When ``flush`` has something to do, if ever.
  var deadline: ContinuousClock.Instant? {
    var deadline = deadlineOfWritten
    for entry in entries.values where !entry.written || entry.tentative {
      let due: ContinuousClock.Instant
      if entry.written {
        due = entry.firstEvent + grace
      } else {
        due = entry.certainRemoval ? entry.lastEvent : entry.lastEvent + grace
      }
      deadline = min(deadline ?? due, due)
    }
    return deadline
  }

  /// Reports what is due at `now`, updating `snapshot` with the reported files' status.
  /// `status` tells what is at a path now (`FileStat.of`, replaced in tests).
  mutating func flush(
    at now: ContinuousClock.Instant, snapshot: inout Snapshot,
    status: (String) -> FileStat? = FileStat.of
  ) -> FileChange? {
    let windowOver = deadlineOfWritten.map { now >= $0 } ?? false
    var reported: [String] = []
    var rescan = false
    var detectedAt: ContinuousClock.Instant?
    func report(_ path: String, _ entry: Entry) {
      reported.append(path)
      rescan = rescan || entry.rescan
      detectedAt = min(detectedAt ?? entry.firstEvent, entry.firstEvent)
    }
    for (path, entry) in entries {
      if entry.written {
        if entry.tentative ? now < entry.firstEvent + grace : !windowOver { continue }
      }
      if let current = status(path), !current.isDirectory {
        if entry.written {
          if snapshot[path] == nil && now < entry.firstEvent + grace {
            // A new file: held for the grace period, in case it is a temporary file that is
            // about to be renamed over the real one (or deleted).
            entries[path]!.tentative = true
            continue
          }
          if !requireStatusChange || snapshot[path] != current { report(path, entry) }
          snapshot[path] = current
        }
        // Removed, but something is there again: the new version is being written and its
        // own event (closed after writing, renamed into place) reports it.
        entries[path] = nil
      } else if snapshot[path] == nil {
        entries[path] = nil  // never known, gone again: a temporary file
      } else if entry.certainRemoval || now >= entry.lastEvent + grace {
        report(path, entry)
        snapshot[path] = nil
        entries[path] = nil
      } else if entry.written {
        entries[path]!.written = false  // written, then removed: now a deletion to confirm
      }
    }
    if windowOver {
      firstWritten = nil
      lastWritten = nil
    }
    guard let detectedAt else { return nil }
    return FileChange(paths: reported.sorted(), rescan: rescan, detectedAt: detectedAt)
  }

  private var deadlineOfWritten: ContinuousClock.Instant? {
    guard let firstWritten, let lastWritten else { return nil }
    return min(lastWritten + coalescing, firstWritten + maxDelay)
  }
}
