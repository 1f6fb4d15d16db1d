#if canImport(Darwin)
  import Darwin

  /// kqueue (macOS): an `O_EVTONLY` descriptor with an `EVFILT_VNODE` filter on every directory
  /// of the trees and on every reported file.
  ///
  /// A directory's `NOTE_WRITE` says that its entries changed (a file created, deleted or
  /// renamed: rename-saves, vim's backup-rename): the directory is listed again and compared
  /// with the snapshot, new subdirectories are watched and scanned. A file's `NOTE_WRITE`,
  /// `NOTE_EXTEND` or `NOTE_ATTRIB` says it was written in place; kqueue has no "closed after
  /// writing", so a file is reported at the end of the coalescing window if its status differs
  /// from the snapshot. A root that disappears is waited for through its nearest existing
  /// ancestor, as with inotify. One descriptor per directory and file: past half the process's
  /// descriptor limit, the backend gives up and the watcher polls instead.
  final class KqueueBackend: WatchBackend {
    let name = "kqueue"
    private let kq: Int32
    var descriptor: Int32? { kq }
    private let tree: WatchTree

    private struct Watch {
      var fd: Int32
      var token: Int
      var isDirectory: Bool
      /// For a file: the inode the descriptor is open on (a rename-save replaces it).
      var inode: UInt64
    }

    /// Watched paths, and the token (a kevent's `udata`) of each: a token is never reused, so
    /// that an event of a descriptor closed meanwhile is not taken for another path's.
    private var watches: [String: Watch] = [:]
    private var pathByToken: [Int: String] = [:]
    private var nextToken = 1
    private let budget: Int
    private var present: [Bool]
    private var sentinels: [Int: String] = [:]
    private var recheck = Set<Int>()
    private var rootsChanged = false
    private var snapshot = Snapshot()
    private var batch: PendingBatch
    private var wakerRegistered = false
    private var received: [kevent] = []
    private var eventBuffer: [kevent] = Array(repeating: kevent(), count: 256)

    private static let directoryFlags =
      UInt32(NOTE_WRITE) | UInt32(NOTE_EXTEND) | UInt32(NOTE_LINK) | UInt32(NOTE_DELETE)
      | UInt32(NOTE_RENAME) | UInt32(NOTE_REVOKE)
    private static let fileFlags =
      UInt32(NOTE_WRITE) | UInt32(NOTE_EXTEND) | UInt32(NOTE_ATTRIB) | UInt32(NOTE_DELETE)
      | UInt32(NOTE_RENAME) | UInt32(NOTE_REVOKE)
    private static let goneFlags = UInt32(NOTE_DELETE) | UInt32(NOTE_RENAME) | UInt32(NOTE_REVOKE)

    init(tree: WatchTree, options: FileWatchOptions) throws(BackendError) {
      self.tree = tree
      present = Array(repeating: false, count: tree.roots.count)
      batch = PendingBatch(coalescing: options.coalescing, requireStatusChange: true)
      var limit = rlimit()
      if getrlimit(RLIMIT_NOFILE, &limit) == 0 {
        budget = Int(clamping: min(limit.rlim_cur, rlim_t(1 << 20))) / 2
      } else {
        budget = 128
      }
      let kq = kqueue()
      guard kq >= 0 else {
        let code = errno
        throw .unavailable(.systemCall("kqueue", path: nil, errno: code))
      }
      _ = fcntl(kq, F_SETFD, FD_CLOEXEC)
      self.kq = kq
      do {
        for index in tree.roots.indices { try establish(index, at: .now, initial: true) }
      } catch {
        close()
        throw error
      }
    }

    var deadline: ContinuousClock.Instant? { batch.deadline }
    var knownFiles: Snapshot { snapshot }

    func close() {
      for watch in watches.values { Darwin.close(watch.fd) }
      watches = [:]
      pathByToken = [:]
      Darwin.close(kq)
    }

    func deadlinePassed(at now: ContinuousClock.Instant) -> FileChange? {
      batch.flush(at: now, snapshot: &snapshot)
    }

    /// Waits in `kevent` itself (with the waker's pipe registered in the queue), which also
    /// gives a precise timeout.
    func waitForEvents(waker: Int32, until deadline: ContinuousClock.Instant?) -> (woken: Bool, events: Bool)
    {
      if !wakerRegistered {
        var change = kevent()
        change.ident = UInt(waker)
        change.filter = Int16(EVFILT_READ)
        change.flags = UInt16(EV_ADD)
        change.udata = nil
        wakerRegistered = kevent(kq, &change, 1, nil, 0, nil) == 0
        if !wakerRegistered { return (true, false) }
      }
      var timeout = timespec()
      var count: Int32
      if let deadline {
        let left = max(deadline - .now, .zero)
        let (seconds, attoseconds) = left.components
        timeout.tv_sec = Int(seconds)
        timeout.tv_nsec = Int(attoseconds / 1_000_000_000)
        count = kevent(kq, nil, 0, &eventBuffer, Int32(eventBuffer.count), &timeout)
      } else {
        count = kevent(kq, nil, 0, &eventBuffer, Int32(eventBuffer.count), nil)
      }
      guard count > 0 else { return (false, false) }
      var woken = false
      for index in 0..<Int(count) {
        let event = eventBuffer[index]
        if event.filter == Int16(EVFILT_READ) && event.ident == UInt(waker) {
          woken = true
        } else {
          received.append(event)
        }
      }
      return (woken, !received.isEmpty)
    }

    // MARK: Watches

    /// Watches `path` (a directory or a file); false if it cannot be opened (gone, no access).
    private func watch(_ path: String, isDirectory: Bool, inode: UInt64 = 0) throws(BackendError) -> Bool {
      if let existing = watches[path] {
        if existing.isDirectory == isDirectory && (isDirectory || existing.inode == inode) { return true }
        unwatch(path)
      }
      guard watches.count < budget else {
        throw .unavailable(.systemCall("open", path: path, errno: EMFILE))
      }
      let fd = open(path, O_EVTONLY | O_CLOEXEC | (isDirectory ? O_DIRECTORY : 0))
      guard fd >= 0 else {
        let code = errno
        if code == EMFILE || code == ENFILE {
          throw .unavailable(.systemCall("open", path: path, errno: code))
        }
        return false
      }
      let token = nextToken
      nextToken += 1
      var change = kevent()
      change.ident = UInt(fd)
      change.filter = Int16(EVFILT_VNODE)
      change.flags = UInt16(EV_ADD) | UInt16(EV_CLEAR)
      change.fflags = isDirectory ? Self.directoryFlags : Self.fileFlags
      change.udata = UnsafeMutableRawPointer(bitPattern: token)
      guard kevent(kq, &change, 1, nil, 0, nil) == 0 else {
        Darwin.close(fd)
        return false
      }
      watches[path] = Watch(fd: fd, token: token, isDirectory: isDirectory, inode: inode)
      pathByToken[token] = path
      return true
    }

    private func unwatch(_ path: String) {
      guard let watch = watches.removeValue(forKey: path) else { return }
      pathByToken[watch.token] = nil
      Darwin.close(watch.fd)  // removes its filter from the queue
    }

    /// Unwatches `directory` and everything below it.
    private func unwatch(under directory: String) {
      for path in watches.keys where isPath(path, within: directory) { unwatch(path) }
    }

    /// Watches the new directory tree at `start` (its files too) and returns its files.
    private func watchTree(from start: String) throws(BackendError) -> [String: FileStat] {
      var failure: BackendError?
      let found = tree.scanTree(from: start) { directory in
        do throws(BackendError) { return try watch(directory, isDirectory: true) } catch {
          failure = failure ?? error
          return false
        }
      }
      if let failure { throw failure }
      for (path, status) in found { _ = try watch(path, isDirectory: false, inode: status.inode) }
      return found
    }

    // MARK: Roots

    private func establish(_ index: Int, at now: ContinuousClock.Instant, initial: Bool = false)
      throws(BackendError)
    {
      let root = tree.roots[index]
      for _ in 0..<64 {
        if try watch(root.anchor, isDirectory: true) {
          present[index] = true
          if let sentinel = sentinels.removeValue(forKey: index) { unwatchIfUnused(sentinel) }
          var found: [String: FileStat] = [:]
          if root.isFile {
            if let status = FileStat.of(root.path), !status.isDirectory {
              found[root.path] = status
              _ = try watch(root.path, isDirectory: false, inode: status.inode)
            }
          } else {
            found = try watchTree(from: root.path)
          }
          if initial {
            for (path, status) in found { snapshot[path] = status }
          } else {
            let known = root.isFile ? [root.path] : snapshot.files(under: root.path)
            compare(found, known: known, at: now)
          }
          return
        }
        if initial { throw .failed(.pathNotFound(root.path)) }
        present[index] = false
        var ancestor = parentPath(root.anchor)
        while try !watch(ancestor, isDirectory: true) && ancestor != "/" { ancestor = parentPath(ancestor) }
        if let old = sentinels[index], old != ancestor {
          sentinels[index] = nil
          unwatchIfUnused(old)
        }
        sentinels[index] = ancestor
        guard let relative = relativePath(root.anchor, in: ancestor),
          let first = relative.split(separator: "/").first,
          FileStat.ofLink(joinPath(ancestor, String(first)))?.isDirectory == true
        else { return }
      }
    }

    private func unwatchIfUnused(_ path: String) {
      if !tree.isWatchedDirectory(path) && !sentinels.values.contains(path) { unwatch(path) }
    }

    private func lose(_ index: Int, at now: ContinuousClock.Instant) {
      present[index] = false
      let root = tree.roots[index]
      for path in root.isFile ? [root.path] : snapshot.files(under: root.path) where snapshot[path] != nil {
        batch.removed(path, at: now)
      }
    }

    private func reconcile(at now: ContinuousClock.Instant) throws(BackendError) {
      for index in tree.roots.indices {
        let root = tree.roots[index]
        if present[index] {
          if watches[root.anchor] != nil { continue }
          lose(index, at: now)
        } else if !recheck.contains(index), let sentinel = sentinels[index], watches[sentinel] != nil {
          continue
        }
        try establish(index, at: now)
      }
      recheck.removeAll()
      rootsChanged = false
    }

    private func compare(_ found: [String: FileStat], known: [String], at now: ContinuousClock.Instant) {
      for (path, status) in found where snapshot[path] != status {
        batch.written(path, at: now, rescan: true, tentative: true)  // may be still open for writing
      }
      for path in known where found[path] == nil && snapshot[path] != nil {
        batch.removed(path, at: now, certain: true, rescan: true)
      }
    }

    // MARK: Events

    func readEvents(at now: ContinuousClock.Instant) throws(BackendError) {
      let events = received
      received = []
      var changedDirectories = Set<String>()
      for event in events where event.filter == Int16(EVFILT_VNODE) {
        let token = Int(bitPattern: event.udata)
        guard let path = pathByToken[token], let watched = watches[path], watched.token == token else {
          continue  // its descriptor was closed since
        }
        let gone = event.fflags & Self.goneFlags != 0
        if watched.isDirectory {
          if gone {
            // Deleted or moved away: its watches would follow it. Its parent's listing (if
            // watched) or the roots' reconciliation takes it from here.
            unwatch(under: path)
            for file in snapshot.files(under: path) { batch.removed(file, at: now) }
            changedDirectories.insert(parentPath(path))
            rootsChanged = true
          } else {
            changedDirectories.insert(path)
          }
          for (index, sentinel) in sentinels where sentinel == path { recheck.insert(index) }
        } else if gone {
          unwatch(path)
          if tree.reports(path) { batch.removed(path, at: now) }
          changedDirectories.insert(parentPath(path))
        } else if tree.reports(path) {
          batch.written(path, at: now)
        }
      }
      for directory in changedDirectories where watches[directory]?.isDirectory == true {
        try relist(directory, at: now)
      }
      if rootsChanged || !recheck.isEmpty { try reconcile(at: now) }
    }

    /// Lists `directory` again: new or replaced files are written, missing ones removed, new
    /// subdirectories watched and scanned, vanished ones unwatched.
    private func relist(_ directory: String, at now: ContinuousClock.Instant) throws(BackendError) {
      guard tree.isWatchedDirectory(directory), let entries = listDirectory(directory) else { return }
      let isTree = tree.isTreeDirectory(directory)
      var files = Set<String>()
      var subdirectories = Set<String>()
      for entry in entries {
        let path = joinPath(directory, entry.name)
        if entry.isDirectory {
          guard isTree && tree.isTreeDirectory(path) else { continue }
          subdirectories.insert(path)
          if watches[path] == nil {
            for file in try watchTree(from: path).keys { batch.written(file, at: now, tentative: true) }
          }
        } else if tree.reports(path) {
          files.insert(path)
          guard let status = FileStat.of(path), !status.isDirectory else { continue }
          if snapshot[path] != status { batch.written(path, at: now) }
          _ = try watch(path, isDirectory: false, inode: status.inode)
        }
      }
      for path in snapshot.files(in: directory) where !files.contains(path) {
        unwatch(path)
        batch.removed(path, at: now)
      }
      for path in watches.keys
      where watches[path]?.isDirectory == true && path != directory && parentPath(path) == directory
        && !subdirectories.contains(path) && tree.isTreeDirectory(path)
      {
        unwatch(under: path)
        for file in snapshot.files(under: path) { batch.removed(file, at: now) }
        rootsChanged = true
      }
    }
  }
#endif
