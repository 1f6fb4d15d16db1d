import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why a ``FileWatcher`` could not start.
public enum FileWatchError: Error, Sendable, Equatable, CustomStringConvertible {
  /// ``FileWatchOptions/paths`` is empty.
  case noPaths
  /// A path in ``FileWatchOptions/paths`` does not exist (or cannot be resolved).
  case pathNotFound(String)
  /// A path exists but is neither a regular file nor a directory (a socket, a device...).
  case unsupportedFileType(String)
  /// An option is out of range: a negative coalescing window, a polling interval of zero.
  case invalidOptions(String)
  /// A system call failed: its name, the path it was given (if any) and `errno`.
  case systemCall(String, path: String?, errno: Int32)

  /// A sentence that says what went wrong.
  public var description: String {
    switch self {
    case .noPaths: return "FileWatcher: no paths to watch"
    case .pathNotFound(let path): return "FileWatcher: no such file or directory: \(path)"
    case .unsupportedFileType(let path):
      return "FileWatcher: not a regular file nor a directory: \(path)"
    case .invalidOptions(let why): return "FileWatcher: invalid options: \(why)"
    case .systemCall(let call, let path, let code):
      let target = path.map { " on \($0)" } ?? ""
      return "FileWatcher: \(call) failed\(target): \(errnoDescription(code)) (errno \(code))"
    }
  }
}

/// `strerror` as a Swift string.
func errnoDescription(_ code: Int32) -> String {
  guard let text = strerror(code) else { return "error \(code)" }
  return String(cString: text)
}

/// What the watchers compare to tell that a file changed: identity, size and times.
struct FileStat: Equatable, Sendable {
  var device: UInt64
  var inode: UInt64
  var size: Int64
  var mode: UInt32
  var links: UInt64
  var modifiedSeconds: Int64
  var modifiedNanoseconds: Int64
  var changedSeconds: Int64
  var changedNanoseconds: Int64

  var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
  var isSymbolicLink: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFLNK) }

  init(_ st: stat) {
    device = UInt64(truncatingIfNeeded: st.st_dev)
    inode = UInt64(truncatingIfNeeded: st.st_ino)
    size = Int64(st.st_size)
    mode = UInt32(st.st_mode)
    links = UInt64(truncatingIfNeeded: st.st_nlink)
    #if canImport(Darwin)
      modifiedSeconds = Int64(st.st_mtimespec.tv_sec)
      modifiedNanoseconds = Int64(st.st_mtimespec.tv_nsec)
      changedSeconds = Int64(st.st_ctimespec.tv_sec)
      changedNanoseconds = Int64(st.st_ctimespec.tv_nsec)
    #else
      modifiedSeconds = Int64(st.st_mtim.tv_sec)
      modifiedNanoseconds = Int64(st.st_mtim.tv_nsec)
      changedSeconds = Int64(st.st_ctim.tv_sec)
      changedNanoseconds = Int64(st.st_ctim.tv_nsec)
    #endif
  }

  /// The file's status, following a symbolic link (or the link's own when it dangles); nil when
  /// nothing is at `path`.
  static func of(_ path: String) -> FileStat? {
    var st = stat()
    if stat(path, &st) == 0 || lstat(path, &st) == 0 { return FileStat(st) }
    return nil
  }

  /// The status of `path` itself, not following a symbolic link.
  static func ofLink(_ path: String) -> FileStat? {
    var st = stat()
    return lstat(path, &st) == 0 ? FileStat(st) : nil
  }
}

/// `realpath(3)`: absolute, without symbolic links, `.` or `..`; nil if it cannot be resolved.
func realPath(_ path: String) -> String? {
  guard let resolved = realpath(path, nil) else { return nil }
  defer { free(resolved) }
  return String(cString: resolved)
}

/// `parent/name`, right for the root directory too.
func joinPath(_ parent: String, _ name: String) -> String {
  parent == "/" ? "/" + name : parent + "/" + name
}

/// The directory that holds `path` (`/` for `/x` and for `/`).
func parentPath(_ path: String) -> String {
  guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
  if slash == path.utf8.startIndex { return "/" }
  return String(path[..<slash])
}

/// `path` relative to `directory` ("" for the directory itself), or nil when it is not in it.
func relativePath(_ path: String, in directory: String) -> String? {
  if path == directory { return "" }
  if directory == "/" { return path.utf8.first == UInt8(ascii: "/") ? String(path.dropFirst()) : nil }
  guard path.utf8.starts(with: directory.utf8), path.utf8.count > directory.utf8.count else { return nil }
  let slash = path.utf8.index(path.utf8.startIndex, offsetBy: directory.utf8.count)
  guard path.utf8[slash] == UInt8(ascii: "/") else { return nil }
  return String(path[path.utf8.index(after: slash)...])
}

/// True when `path` is `directory` or inside it.
func isPath(_ path: String, within directory: String) -> Bool {
  relativePath(path, in: directory) != nil
}

/// One entry of a directory listing.
struct DirectoryEntry {
  var name: String
  /// A real directory (not a symbolic link to one).
  var isDirectory: Bool
}

/// The entries of `path` except `.` and `..`; nil when it cannot be read (gone, not a
/// directory, no permission).
func listDirectory(_ path: String) -> [DirectoryEntry]? {
  guard let dir = opendir(path) else { return nil }
  defer { closedir(dir) }
  var entries: [DirectoryEntry] = []
  while let entry = readdir(dir) {
    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
      String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
    if name == "." || name == ".." { continue }
    var isDirectory: Bool
    switch Int32(entry.pointee.d_type) {
    case Int32(DT_DIR): isDirectory = true
    case Int32(DT_UNKNOWN): isDirectory = FileStat.ofLink(joinPath(path, name))?.isDirectory ?? false
    default: isDirectory = false
    }
    entries.append(DirectoryEntry(name: name, isDirectory: isDirectory))
  }
  return entries
}

/// A pipe whose read end sits in the reader thread's `poll` set: writing a byte wakes the thread
/// up (to stop, or to pause for tests). The write end is non-blocking, so waking an already
/// woken thread never blocks. ``close()`` (after the reader thread has exited) closes both ends;
/// waking a closed waker does nothing, so a late `stop()` never writes to a reused descriptor.
final class Waker: Sendable {
  let readEnd: Int32
  let writeEnd: Int32
  private let closed = Mutex(false)

  init() throws(FileWatchError) {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { throw .systemCall("pipe", path: nil, errno: errno) }
    for fd in fds {
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
    readEnd = fds[0]
    writeEnd = fds[1]
  }

  deinit {
    close()
  }

  /// Wakes the reader (a full pipe means it is woken already).
  func wake() {
    closed.withLock { closed in
      guard !closed else { return }
      var byte: UInt8 = 1
      _ = write(writeEnd, &byte, 1)
    }
  }

  /// Empties the pipe (reader thread only).
  func drain() {
    var buffer = [UInt8](repeating: 0, count: 64)
    while read(readEnd, &buffer, buffer.count) > 0 {}
  }

  /// Closes both ends; idempotent.
  func close() {
    closed.withLock { closed in
      guard !closed else { return }
      closed = true
      _ = systemClose(readEnd)
      _ = systemClose(writeEnd)
    }
  }
}

/// `close(2)`, under a name that methods called `close` do not shadow.
func systemClose(_ fd: Int32) -> Int32 {
  close(fd)
}

/// Blocks in `poll(2)` until one of `fds` is readable or `deadline` (if any) has passed; returns
/// which are readable. No CPU is used while waiting. `poll` counts milliseconds, so the wait is
/// rounded up to the next one (waking up early would spin).
func waitReadable(_ fds: [Int32], until deadline: ContinuousClock.Instant?) -> [Bool] {
  var set = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
  while true {
    var timeout: Int32 = -1
    if let deadline {
      let left = deadline - .now
      if left <= .zero {
        timeout = 0
      } else {
        let (seconds, attoseconds) = left.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        timeout = Int32(clamping: milliseconds)
      }
    }
    let result = poll(&set, nfds_t(set.count), timeout)
    if result < 0 && errno == EINTR { continue }
    return set.map { $0.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 }
  }
}
