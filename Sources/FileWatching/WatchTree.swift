#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One entry of ``FileWatchOptions/paths``, resolved.
struct WatchRoot: Sendable, Equatable {
  /// The real path of the watched directory or file.
  var path: String
  /// A single file, watched through its parent directory.
  var isFile: Bool
  /// The directory whose watch covers this root: itself, or a file's parent.
  var anchor: String { isFile ? parentPath(path) : path }
}

/// Which files are reported and which directories are descended into.
struct PathFilter: Sendable {
  /// Extensions with their dot (".py"); empty: every file.
  var suffixes: [String]
  var globs: [String]
  /// Ignore patterns without `/`, matched against each path component.
  var componentIgnores: [String]
  /// Ignore patterns with `/`, matched against the relative path.
  var pathIgnores: [String]

  init(extensions: Set<String>, globs: [String], ignores: [String]) {
    suffixes = extensions.map { $0.hasPrefix(".") ? $0 : "." + $0 }.sorted()
    self.globs = globs
    componentIgnores = ignores.filter { !$0.contains("/") }
    pathIgnores = ignores.filter { $0.contains("/") }
  }

  private static func matches(_ pattern: String, _ text: some StringProtocol) -> Bool {
    fnmatch(pattern, String(text), 0) == 0
  }

  private func isIgnored(relative: String) -> Bool {
    for component in relative.split(separator: "/") {
      for pattern in componentIgnores where Self.matches(pattern, component) { return true }
    }
    for pattern in pathIgnores where Self.matches(pattern, relative) { return true }
    return false
  }

  /// Whether a directory at `relative` (to its root; "" for the root) is watched.
  func acceptsDirectory(relative: String) -> Bool {
    relative.isEmpty || !isIgnored(relative: relative)
  }

  /// Whether a file at `relative` (to its root) is reported.
  func acceptsFile(relative: String) -> Bool {
    if isIgnored(relative: relative) { return false }
    let name = relative.split(separator: "/").last.map(String.init) ?? relative
    if !suffixes.isEmpty && !suffixes.contains(where: { name.hasSuffix($0) && name.count > $0.count }) {
      return false
    }
    if !globs.isEmpty
      && !globs.contains(where: { Self.matches($0, name) || Self.matches($0, relative) })
    {
      return false
    }
    return true
  }
}

/// The watched roots and the filter: which paths are reported and which directories watched.
struct WatchTree: Sendable {
  var roots: [WatchRoot]
  var filter: PathFilter

  /// Resolves `options.paths`; throws for a missing path or one that is neither a file nor a
  /// directory.
  init(_ options: FileWatchOptions) throws(FileWatchError) {
    guard !options.paths.isEmpty else { throw .noPaths }
    var roots: [WatchRoot] = []
    for given in options.paths {
      guard let real = realPath(given), let status = FileStat.of(real) else {
        throw .pathNotFound(given)
      }
      let isFile: Bool
      switch status.mode & UInt32(S_IFMT) {
      case UInt32(S_IFDIR): isFile = false
      case UInt32(S_IFREG): isFile = true
      default: throw .unsupportedFileType(given)
      }
      let root = WatchRoot(path: real, isFile: isFile)
      if !roots.contains(root) { roots.append(root) }
    }
    self.roots = roots
    filter = PathFilter(extensions: options.extensions, globs: options.globs, ignores: options.ignores)
  }

  /// Whether a change to the file at `path` is reported.
  func reports(_ path: String) -> Bool {
    for root in roots {
      if root.isFile {
        if path == root.path { return true }
      } else if let relative = relativePath(path, in: root.path), !relative.isEmpty,
        filter.acceptsFile(relative: relative)
      {
        return true
      }
    }
    return false
  }

  /// Whether the directory at `path` is part of a recursively watched tree.
  func isTreeDirectory(_ path: String) -> Bool {
    for root in roots where !root.isFile {
      if let relative = relativePath(path, in: root.path), filter.acceptsDirectory(relative: relative) {
        return true
      }
    }
    return false
  }

  /// Whether the directory at `path` must be watched: part of a tree, or a watched file's parent.
  func isWatchedDirectory(_ path: String) -> Bool {
    isTreeDirectory(path) || roots.contains { $0.isFile && $0.anchor == path }
  }

  /// Walks the tree from the directory `start`, depth first, calling `enter` with every
  /// directory to be watched before listing it (so that a watch set there misses nothing
  /// created after the listing); `enter` returns false to skip it. Returns the reported files
  /// found, with their status. Symbolic links to directories are not followed.
  func scanTree(from start: String, enter: (String) -> Bool) -> [String: FileStat] {
    var found: [String: FileStat] = [:]
    var stack = [start]
    while let directory = stack.popLast() {
      guard enter(directory), let entries = listDirectory(directory) else { continue }
      for entry in entries {
        let path = joinPath(directory, entry.name)
        if entry.isDirectory {
          if isTreeDirectory(path) { stack.append(path) }
        } else if reports(path), let status = FileStat.of(path), !status.isDirectory {
          found[path] = status
        }
      }
    }
    return found
  }

  /// The reported files of `root`: its tree, or the file itself. `enter` is called with the
  /// anchor directory of a file root (and its result ignored), and as in ``scanTree`` otherwise.
  func scan(_ root: WatchRoot, enter: (String) -> Bool) -> [String: FileStat] {
    if root.isFile {
      _ = enter(root.anchor)
      guard let status = FileStat.of(root.path), !status.isDirectory else { return [:] }
      return [root.path: status]
    }
    return scanTree(from: root.path, enter: enter)
  }

  /// Every reported file of every root.
  func scanAll(enter: (String) -> Bool = { _ in true }) -> [String: FileStat] {
    var found: [String: FileStat] = [:]
    for root in roots { found.merge(scan(root, enter: enter)) { first, _ in first } }
    return found
  }
}

/// The last known status of every reported file, grouped by directory so that the files under
/// a directory are found without looking at all of them.
struct Snapshot: Sendable {
  private var directories: [String: [String: FileStat]] = [:]

  init() {}

  init(_ files: [String: FileStat]) {
    for (path, status) in files { self[path] = status }
  }

  subscript(path: String) -> FileStat? {
    get { directories[parentPath(path)]?[String(path[path.utf8.index(after: lastSlash(path))...])] }
    set {
      let directory = parentPath(path)
      let name = String(path[path.utf8.index(after: lastSlash(path))...])
      if let newValue {
        directories[directory, default: [:]][name] = newValue
      } else if directories[directory] != nil {
        directories[directory]![name] = nil
        if directories[directory]!.isEmpty { directories[directory] = nil }
      }
    }
  }

  private func lastSlash(_ path: String) -> String.Index {
    path.utf8.lastIndex(of: UInt8(ascii: "/")) ?? path.startIndex
  }

  /// The known files at or below `directory`.
  func files(under directory: String) -> [String] {
    var paths: [String] = []
    for (path, names) in directories where isPath(path, within: directory) {
      for name in names.keys { paths.append(joinPath(path, name)) }
    }
    return paths
  }

  /// The known files directly in `directory`.
  func files(in directory: String) -> [String] {
    directories[directory].map { $0.keys.map { joinPath(directory, $0) } } ?? []
  }

  /// Every known file and its status.
  var all: [String: FileStat] {
    var result: [String: FileStat] = [:]
    for (directory, names) in directories {
      for (name, status) in names { result[joinPath(directory, name)] = status }
    }
    return result
  }

  /// The number of known files.
  var count: Int { directories.values.reduce(0) { $0 + $1.count } }
}
