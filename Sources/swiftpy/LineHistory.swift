import Foundation

/// The lines entered at the prompt, oldest first, kept in a file between sessions (one line
/// each, the newest `limit`), so that the up arrow reaches yesterday's lines too.
struct LineHistory {
  private(set) var entries: [String] = []
  private let file: String?
  private let limit: Int

  /// A history kept in `file` (nil: for this session only).
  init(file: String?, limit: Int = 1_000) {
    self.file = file
    self.limit = limit
    if let file, let text = try? String(contentsOfFile: file, encoding: .utf8) {
      entries = Array(text.split(separator: "\n").map(String.init).suffix(limit))
    }
  }

  /// `~/.swiftpy_history`, where `HOME` is set.
  static var defaultFile: String? {
    ProcessInfo.processInfo.environment["HOME"].map { $0 + "/.swiftpy_history" }
  }

  /// Adds a line entered, unless it is blank or repeats the last one; the file gets it at once,
  /// so that a session that ends abruptly keeps it.
  mutating func add(_ line: String) {
    guard !line.trimmingCharacters(in: .whitespaces).isEmpty, line != entries.last else { return }
    entries.append(line)
    if entries.count > limit { entries.removeFirst(entries.count - limit) }
    guard let file else { return }
    if !FileManager.default.fileExists(atPath: file) {
      _ = FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o600])
    }
    guard let handle = FileHandle(forWritingAtPath: file) else { return }
    defer { try? handle.close() }
    _ = try? handle.seekToEnd()
    try? handle.write(contentsOf: Data((line + "\n").utf8))
  }
}
