#if canImport(Glibc)
  import Glibc

  /// One `struct inotify_event` record.
  struct InotifyEvent: Equatable, Sendable {
    var descriptor: Int32
    var mask: UInt32
    var cookie: UInt32
    /// The entry's name in the watched directory; empty for events about the directory itself.
    var name: String
  }

  /// Splits the bytes read from an inotify descriptor into events.
  ///
  /// Records are variable-length: a 16-byte header (`wd`, `mask`, `cookie`, `len`) followed by
  /// `len` bytes of name, NUL-terminated and NUL-padded so that the next record is aligned. The
  /// kernel only returns whole records, but the parser does not rely on it: an incomplete
  /// record at the end of a chunk is kept for the next one.
  struct InotifyParser {
    static let headerSize = 16
    private var leftover: [UInt8] = []

    /// The complete records in `leftover + chunk`.
    mutating func parse(_ chunk: UnsafeRawBufferPointer) -> [InotifyEvent] {
      var events: [InotifyEvent] = []
      if leftover.isEmpty {
        let used = Self.parse(chunk, into: &events)
        leftover = Array(chunk[used...])
      } else {
        leftover.append(contentsOf: chunk)
        let used = leftover.withUnsafeBytes { Self.parse($0, into: &events) }
        leftover.removeFirst(used)
      }
      return events
    }

    /// Appends the complete records of `bytes` to `events`; returns the bytes they took.
    private static func parse(_ bytes: UnsafeRawBufferPointer, into events: inout [InotifyEvent]) -> Int {
      var offset = 0
      while bytes.count - offset >= headerSize {
        let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
        guard bytes.count - offset - headerSize >= length else { break }
        let nameBytes = bytes[(offset + headerSize)..<(offset + headerSize + length)]
        events.append(
          InotifyEvent(
            descriptor: bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self),
            mask: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
            cookie: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self),
            name: String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)))
        offset += headerSize + length
      }
      return offset
    }
  }

  /// inotify: one watch per directory of the trees (and per watched file's parent), events read
  /// by the reader thread. See ``FileWatcher`` for the design.
  final class InotifyBackend: WatchBackend {
    let name = "inotify"
    private let fd: Int32
    var descriptor: Int32? { fd }
    private let tree: WatchTree
    /// Watch descriptor → the directory's path, and back.
    private var watches: [Int32: String] = [:]
    private var watchByPath: [String: Int32] = [:]
    /// Per root: whether its anchor directory is watched; if not, the existing ancestor watched
    /// to see it come back.
    private var present: [Bool]
    private var sentinels: [Int: String] = [:]
    /// Roots whose sentinel saw a directory on their way created.
    private var recheck = Set<Int>()
    private var rootsChanged = false
    private var overflowed = false
    private var snapshot = Snapshot()
    private var batch: PendingBatch
    private var parser = InotifyParser()
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)

    /// What is watched on every directory. Files are ready when closed after writing or renamed
    /// into place; creations and deletions keep the tree and the snapshot up to date;
    /// `IN_EXCL_UNLINK` drops events of files already unlinked (a temporary file still open).
    static let mask =
      UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_MOVED_FROM) | UInt32(IN_CREATE)
      | UInt32(IN_DELETE) | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_ONLYDIR)
      | UInt32(IN_DONT_FOLLOW) | UInt32(IN_EXCL_UNLINK)

    /// Creates the instance and watches every root (`.unavailable` when inotify cannot be used).
    init(tree: WatchTree, options: FileWatchOptions) throws(BackendError) {
      self.tree = tree
      present = Array(repeating: false, count: tree.roots.count)
      batch = PendingBatch(coalescing: options.coalescing)
      let fd = options.simulatedInotifyFailure == nil ? inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) : -1
      guard fd >= 0 else {
        buffer.deallocate()
        let code = options.simulatedInotifyFailure ?? errno
        let error = FileWatchError.systemCall("inotify_init1", path: nil, errno: code)
        throw [EMFILE, ENFILE, ENOMEM, ENOSYS].contains(code) ? .unavailable(error) : .failed(error)
      }
      self.fd = fd
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
      Glibc.close(fd)
      buffer.deallocate()
    }

    func deadlinePassed(at now: ContinuousClock.Instant) -> FileChange? {
      batch.flush(at: now, snapshot: &snapshot)
    }

    // MARK: Watches

    private enum Added: Equatable {
      case added
      /// ENOENT, ENOTDIR: nothing (or no directory) there.
      case missing
      /// Another error (EACCES...).
      case refused(Int32)
    }

    private func addWatch(_ path: String) throws(BackendError) -> Added {
      let wd = inotify_add_watch(fd, path, Self.mask)
      guard wd >= 0 else {
        let code = errno
        switch code {
        case ENOENT, ENOTDIR: return .missing
        case ENOSPC, ENOMEM:
          throw .unavailable(.systemCall("inotify_add_watch", path: path, errno: code))
        default: return .refused(code)
        }
      }
      // The same directory seen under a new path (moved while its events were lost): remap.
      if let old = watches[wd], old != path, watchByPath[old] == wd { watchByPath[old] = nil }
      watches[wd] = path
      watchByPath[path] = wd
      return .added
    }

    private func removeWatch(_ path: String) {
      guard let wd = watchByPath.removeValue(forKey: path) else { return }
      watches[wd] = nil
      inotify_rm_watch(fd, wd)
    }

    /// Removes the watches at and below `directory` (the watches follow a moved directory).
    private func removeWatches(under directory: String) {
      for path in watchByPath.keys where isPath(path, within: directory) { removeWatch(path) }
    }

    /// Watches the new directory tree at `start` and returns the files already in it.
    private func watchTree(from start: String) throws(BackendError) -> [String: FileStat] {
      var failure: BackendError?
      let found = tree.scanTree(from: start) { directory in
        do throws(BackendError) { return try addWatch(directory) == .added } catch {
          failure = failure ?? error
          return false
        }
      }
      if let failure { throw failure }
      return found
    }

    // MARK: Roots

    /// Watches root `index` (its tree, or a file's parent) and reports what differs from the
    /// snapshot; if its anchor directory is missing, watches the nearest existing ancestor
    /// instead, to see it come back.
    private func establish(_ index: Int, at now: ContinuousClock.Instant, initial: Bool = false)
      throws(BackendError)
    {
      let root = tree.roots[index]
      for _ in 0..<64 {
        let added = try addWatch(root.anchor)
        if added == .added {
          present[index] = true
          if let sentinel = sentinels.removeValue(forKey: index) { removeWatchIfUnused(sentinel) }
          var failure: BackendError?
          let found = tree.scan(root) { directory in
            if directory == root.anchor { return true }
            do throws(BackendError) { return try addWatch(directory) == .added } catch {
              failure = failure ?? error
              return false
            }
          }
          if let failure { throw failure }
          if initial {
            for (path, status) in found { snapshot[path] = status }
          } else {
            let known = root.isFile ? [root.path] : snapshot.files(under: root.path)
            compare(found, known: known, at: now)
          }
          return
        }
        if initial {
          if case .refused(let code) = added {
            throw .failed(.systemCall("inotify_add_watch", path: root.anchor, errno: code))
          }
          throw .failed(.pathNotFound(root.path))
        }
        present[index] = false
        var ancestor = parentPath(root.anchor)
        while try addWatch(ancestor) != .added && ancestor != "/" { ancestor = parentPath(ancestor) }
        if let old = sentinels[index], old != ancestor {
          sentinels[index] = nil
          removeWatchIfUnused(old)
        }
        sentinels[index] = ancestor
        // Created between the failed watch and the sentinel's? Then go down again.
        guard let relative = relativePath(root.anchor, in: ancestor),
          let first = relative.split(separator: "/").first,
          FileStat.ofLink(joinPath(ancestor, String(first)))?.isDirectory == true
        else { return }
      }
    }

    private func removeWatchIfUnused(_ path: String) {
      if !tree.isWatchedDirectory(path) && !sentinels.values.contains(path) { removeWatch(path) }
    }

    /// Root `index`'s anchor is gone: its files are deleted unless they come back.
    private func lose(_ index: Int, at now: ContinuousClock.Instant) {
      present[index] = false
      let root = tree.roots[index]
      for path in root.isFile ? [root.path] : snapshot.files(under: root.path) where snapshot[path] != nil {
        batch.removed(path, at: now)
      }
    }

    /// Re-establishes the roots whose anchor or sentinel watch went away.
    private func reconcile(at now: ContinuousClock.Instant) throws(BackendError) {
      for index in tree.roots.indices {
        let root = tree.roots[index]
        if present[index] {
          if watchByPath[root.anchor] != nil { continue }
          lose(index, at: now)
        } else if !recheck.contains(index), let sentinel = sentinels[index], watchByPath[sentinel] != nil {
          continue
        }
        try establish(index, at: now)
      }
      recheck.removeAll()
      rootsChanged = false
    }

    /// Reports (as a rescan) the files of `found` whose status differs from the snapshot, and
    /// the paths of `known` that are no longer there.
    private func compare(_ found: [String: FileStat], known: [String], at now: ContinuousClock.Instant) {
      for (path, status) in found where snapshot[path] != status {
        batch.written(path, at: now, rescan: true, tentative: true)  // may be still open for writing
      }
      for path in known where found[path] == nil && snapshot[path] != nil {
        batch.removed(path, at: now, certain: true, rescan: true)
      }
    }

    /// After a queue overflow: every event may have been lost. Watches every directory again
    /// (new ones included), drops the watches of directories gone, and reports whatever differs
    /// from the snapshot.
    private func rescanAll(at now: ContinuousClock.Instant) throws(BackendError) {
      var visited = Set<String>()
      var found: [String: FileStat] = [:]
      var failure: BackendError?
      for (index, root) in tree.roots.enumerated() where present[index] {
        let files = tree.scan(root) { directory in
          do throws(BackendError) {
            guard try addWatch(directory) == .added else { return false }
            visited.insert(directory)
            return true
          } catch {
            failure = failure ?? error
            return false
          }
        }
        found.merge(files) { first, _ in first }
      }
      if let failure { throw failure }
      let sentinelPaths = Set(sentinels.values)
      for path in watchByPath.keys where !visited.contains(path) && !sentinelPaths.contains(path) {
        removeWatch(path)
      }
      compare(found, known: Array(snapshot.all.keys), at: now)
      // A missing root may have come back while its sentinel's events were lost.
      for index in tree.roots.indices where !present[index] { recheck.insert(index) }
      rootsChanged = true
    }

    // MARK: Events

    func readEvents(at now: ContinuousClock.Instant) throws(BackendError) {
      var now = now
      for _ in 0..<64 {
        let count = read(fd, buffer.baseAddress, buffer.count)
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { break }
        for event in parser.parse(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) {
          try handle(event, at: now)
        }
        now = .now
      }
      if overflowed {
        overflowed = false
        try rescanAll(at: now)
      }
      if rootsChanged || !recheck.isEmpty { try reconcile(at: now) }
    }

    private func handle(_ event: InotifyEvent, at now: ContinuousClock.Instant) throws(BackendError) {
      let mask = event.mask
      if mask & UInt32(IN_Q_OVERFLOW) != 0 {
        overflowed = true
        return
      }
      guard let directory = watches[event.descriptor] else { return }  // removed already
      if mask & UInt32(IN_IGNORED) != 0 {
        // The directory was deleted (or unmounted): the kernel dropped the watch.
        watches[event.descriptor] = nil
        if watchByPath[directory] == event.descriptor { watchByPath[directory] = nil }
        rootsChanged = true
        return
      }
      if mask & UInt32(IN_MOVE_SELF) != 0 {
        // A root's directory (or a sentinel) moved away: its watches now follow it elsewhere.
        // Other directories are handled by their parent's IN_MOVED_FROM.
        let isAnchor = tree.roots.indices.contains { present[$0] && tree.roots[$0].anchor == directory }
        if isAnchor || sentinels.values.contains(directory) {
          removeWatches(under: directory)
          rootsChanged = true
        }
        return
      }
      guard !event.name.isEmpty else { return }  // IN_DELETE_SELF, IN_UNMOUNT: IN_IGNORED follows
      let path = joinPath(directory, event.name)
      if mask & UInt32(IN_ISDIR) != 0 {
        if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
          if tree.isTreeDirectory(path) {
            // Scanned after its watch is set: files written before that are not missed. In a
            // directory just created they may still be open for writing (tentative); one moved
            // in is complete.
            let created = mask & UInt32(IN_CREATE) != 0
            for file in try watchTree(from: path).keys { batch.written(file, at: now, tentative: created) }
          }
          for (index, sentinel) in sentinels
          where sentinel == directory && isPath(tree.roots[index].anchor, within: path) {
            recheck.insert(index)
          }
        } else if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
          if mask & UInt32(IN_MOVED_FROM) != 0 { removeWatches(under: path) }
          for file in snapshot.files(under: path) { batch.removed(file, at: now) }
          rootsChanged = true
        }
        return
      }
      guard tree.reports(path) else { return }
      if mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 {
        batch.written(path, at: now)
      } else if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
        batch.removed(path, at: now)
      } else if mask & UInt32(IN_CREATE) != 0, let status = FileStat.ofLink(path),
        status.isSymbolicLink || status.links > 1
      {
        batch.written(path, at: now)  // a link: complete when created, never closed
      }
    }
  }
#endif
