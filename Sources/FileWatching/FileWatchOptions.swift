/// How a ``FileWatcher`` learns about changes.
public enum FileWatchBackend: Sendable, Equatable {
  /// The kernel's notifications: inotify on Linux, kqueue on macOS. Falls back to
  /// ``polling(interval:)`` with ``defaultPollingInterval`` when they are unavailable (no inotify
  /// instance or watch left, for example), at start or later.
  case automatic
  /// Scans the watched trees every `interval` and compares file sizes, times and inodes. Works on
  /// every platform and file system (network mounts, containers' bind mounts), at the cost of
  /// the interval in latency and of a scan's CPU time per interval.
  case polling(interval: Duration)

  /// The interval used when ``automatic`` falls back to polling: 50 ms, or 20 times as long as
  /// a scan takes if that is longer (so that polling a large tree stays around 5% of a core).
  public static let defaultPollingInterval: Duration = .milliseconds(50)
}

/// What a ``FileWatcher`` watches and how it reports it.
public struct FileWatchOptions: Sendable {
  /// Files or directories to watch. A directory is watched recursively; a file is watched
  /// through its parent directory, so that every way of saving it (in place, by renaming a new
  /// version over it, vim's backup-rename) is seen. Relative paths are resolved against the
  /// current directory, and symbolic links are resolved.
  public var paths: [String]
  /// File-name extensions to report, without the dot (`["py"]`; `"tar.gz"` works too); empty
  /// reports every file. Files named in ``paths`` are reported whatever their extension.
  public var extensions: Set<String>
  /// `fnmatch(3)` patterns, matched against a file's name and against its path relative to the
  /// watched directory (`"*_test.py"`, `"pkg/*.py"`; `*` crosses `/`). A file is reported if
  /// one matches; empty reports every file. Files named in ``paths`` are always reported.
  public var globs: [String]
  /// `fnmatch(3)` patterns of files and directories never reported nor descended into. A pattern
  /// without `/` is matched against every component of the path relative to the watched
  /// directory (`"__pycache__"` ignores the whole directory); one with `/` against that relative
  /// path. Defaults to ``defaultIgnores``.
  public var ignores: [String]
  /// How long the watcher waits after an event for more before reporting them all as one
  /// ``FileChange``, so that one save is one change and a "save all" or a checkout is a handful.
  /// A batch is reported once no event has come for this long, and at the latest after 25 times
  /// this long. Defaults to ``defaultCoalescing``.
  public var coalescing: Duration
  /// How changes are detected; ``FileWatchBackend/automatic`` by default.
  public var backend: FileWatchBackend

  /// Set by tests only: makes `inotify_init1` fail with this `errno` (to check the fallback).
  var simulatedInotifyFailure: Int32?

  /// Version-control metadata, caches, virtual environments, editor swap, backup, lock and
  /// temporary files: vim's `.x.py.swp` (`*.sw[a-p]`) and `4913` probe, Emacs' `.#x.py` and
  /// `#x.py#`, `x.py~` backups, JetBrains' safe-write files, `*.tmp`, compiled Python.
  public static let defaultIgnores: [String] = [
    "__pycache__", "*.py[cod]", ".git", ".hg", ".svn", ".bzr", ".jj", ".tox", ".nox", ".venv",
    "site-packages", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis", ".idea",
    "node_modules", ".DS_Store", "*.sw[a-p]", "*.swx", "*~", ".#*", "#*#", "4913", "*.tmp",
    "*.temp", "*___jb_tmp___", "*___jb_old___", ".~lock.*",
  ]

  /// The default ``coalescing`` window: 2 ms.
  ///
  /// Measured on Linux (ext4), with inotify: each save style has a single event that says the
  /// file is complete (`IN_CLOSE_WRITE` or `IN_MOVED_TO`); the other events of a save that
  /// matter are close to it (vim 9 with `backupcopy=no`: 60-400 µs from the rename of the old
  /// version to the creation of the new one; 0.6-4.3 ms from there to the close, fsync
  /// included, which the grace period of deletions covers, see ``FileChange``); files written
  /// together come 0.15-0.25 ms apart (`git checkout`). 2 ms groups those with a margin of 8
  /// or more, and is added to every save's latency: about 2.4 ms from `rename(2)` to the
  /// change delivered.
  public static let defaultCoalescing: Duration = .milliseconds(2)

  /// Options for watching `paths`; see each property.
  public init(
    paths: [String], extensions: Set<String> = [], globs: [String] = [],
    ignores: [String] = FileWatchOptions.defaultIgnores,
    coalescing: Duration = FileWatchOptions.defaultCoalescing,
    backend: FileWatchBackend = .automatic
  ) {
    self.paths = paths
    self.extensions = extensions
    self.globs = globs
    self.ignores = ignores
    self.coalescing = coalescing
    self.backend = backend
  }
}

/// One batch of changed files.
///
/// A path is reported when a new version of the file is complete: closed after writing, or
/// renamed into place, at the end of the coalescing window. Two kinds of paths wait for a
/// short grace period (50 ms, or 25 coalescing windows if longer) instead:
/// - deleted files, reported if they are still missing then, so that a save that first moves
///   the old version away (vim, JetBrains' safe write) is one change, not a deletion and a
///   change;
/// - new files (that did not exist when watching started or were reported deleted since),
///   reported if they still exist then, so that a temporary file renamed over the real one or
///   deleted within the grace period is never reported, whatever its name.
///
/// Saves of existing files, the case that matters for reloading, are not delayed.
public struct FileChange: Sendable, Equatable {
  /// Absolute paths of the files that changed, sorted, without duplicates; deleted files
  /// included. The watched directories are symlink-resolved (`realpath`), and so are the paths
  /// below them, except that a symbolic link to a file is reported under its own name.
  public let paths: [String]
  /// True when the batch was found by comparing a scan with the last known state rather than
  /// from events: after the kernel's queue overflowed, or when a watched directory that had
  /// been deleted or moved away is back.
  public let rescan: Bool
  /// When the first raw event of this batch was read from the kernel (or, when polling, when
  /// the scan that found it ran), to measure latency.
  public let detectedAt: ContinuousClock.Instant

  /// A batch, as the watcher reports it; public for tests of code that consumes changes.
  public init(paths: [String], rescan: Bool, detectedAt: ContinuousClock.Instant) {
    self.paths = paths
    self.rescan = rescan
    self.detectedAt = detectedAt
  }
}
