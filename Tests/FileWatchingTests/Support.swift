import Foundation
import Synchronization
import Testing

@testable import FileWatching

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A fresh directory under the temporary directory (symlink-resolved), removed at the end.
final class TemporaryDirectory {
  let path: String

  init() throws {
    var template = Array((NSTemporaryDirectory() + "/filewatching-XXXXXX").utf8CString)
    guard mkdtemp(&template) != nil else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    let made = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    path = realPath(made) ?? made
  }

  deinit {
    try? FileManager.default.removeItem(atPath: path)
  }

  /// `path/relative`.
  func callAsFunction(_ relative: String) -> String { path + "/" + relative }
}

/// File operations made of exactly the system calls an editor makes.
enum Disk {
  /// open(O_TRUNC), write, close: an in-place save (VS Code, most editors, `echo >`). With a
  /// `pause`, half the content is written, then the rest after the pause (a slow writer).
  static func writeInPlace(_ path: String, _ content: String, pause: Duration = .zero) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0, "open \(path): \(String(cString: strerror(errno)))")
    let bytes = Array(content.utf8)
    let half = pause > .zero ? bytes.count / 2 : bytes.count
    precondition(write(fd, bytes, half) == half)
    if pause > .zero {
      sleep(pause)
      precondition(
        bytes[half...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count - half)
    }
    close(fd)
  }

  /// Blocks the thread (an editor between two system calls).
  static func sleep(_ duration: Duration) {
    let (seconds, attoseconds) = duration.components
    var time = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    var left = timespec()
    while nanosleep(&time, &left) != 0 { time = left }
  }

  /// Writes a temporary file next to `path` (named `temporaryName`, or `.name.NNNN`) and renames
  /// it over `path`, `pause` after closing it (atomic writers, Emacs without backups, `sed -i`,
  /// many formatters). Returns the rename's instant.
  @discardableResult
  static func writeTemporaryThenRename(
    _ path: String, _ content: String, temporaryName: String? = nil, pause: Duration = .zero
  ) -> ContinuousClock.Instant {
    let name = (path as NSString).lastPathComponent
    let temporary =
      parentPath(path) + "/" + (temporaryName ?? ".\(name).\(UInt32.random(in: 0...UInt32.max))")
    writeInPlace(temporary, content)
    if pause > .zero { sleep(pause) }
    let now = ContinuousClock.now
    precondition(rename(temporary, path) == 0)
    return now
  }

  /// vim with `backupcopy=no`: probe file 4913, swap file, rename `x` to `x~`, write and close a
  /// new `x` (`pause` after the rename), delete `x~`.
  static func vimSave(_ path: String, _ content: String, pause: Duration = .zero) {
    let directory = parentPath(path)
    let name = (path as NSString).lastPathComponent
    let probe = directory + "/4913"
    let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    if fd >= 0 {
      close(fd)
      unlink(probe)
    }
    writeInPlace(directory + "/." + name + ".swp", "swap \(content.count)")
    precondition(rename(path, path + "~") == 0)
    if pause > .zero { sleep(pause) }
    writeInPlace(path, content)
    unlink(path + "~")
    writeInPlace(directory + "/." + name + ".swp", "swap")
  }

  static func makeDirectory(_ path: String) {
    precondition(mkdir(path, 0o755) == 0, "mkdir \(path): \(String(cString: strerror(errno)))")
  }

  static func remove(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
  }
}

/// The ways of saving a file that must each be reported exactly once.
enum SaveStyle: String, CaseIterable, Sendable, CustomTestStringConvertible {
  case inPlace, temporaryThenRename, vimBackupRename

  var testDescription: String { rawValue }

  /// Saves `content` to `path` this way. With `slow`, the save pauses where a slow or
  /// preempted editor would (5 ms: longer than the coalescing window, shorter than polling's
  /// settling time): between two writes of an in-place save, between closing the temporary file
  /// and renaming it, between vim's rename of the old version and its creation of the new one.
  func save(_ path: String, _ content: String, slow: Bool = false) {
    let pause: Duration = slow ? .milliseconds(5) : .zero
    switch self {
    case .inPlace: Disk.writeInPlace(path, content, pause: pause)
    case .temporaryThenRename: Disk.writeTemporaryThenRename(path, content, pause: pause)
    case .vimBackupRename: Disk.vimSave(path, content, pause: pause)
    }
  }
}

/// The backends the behavioural tests run against.
enum TestBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
  case automatic, polling

  var testDescription: String { rawValue }

  var backend: FileWatchBackend {
    switch self {
    case .automatic: .automatic
    case .polling: .polling(interval: .milliseconds(20))
    }
  }
}

/// Drains a watcher's changes into a list that tests wait on.
final class Collector: Sendable {
  struct Received: Sendable {
    var change: FileChange
    var at: ContinuousClock.Instant
  }

  private final class Box: Sendable {
    let received = Mutex<[Received]>([])
    let finished = Atomic<Bool>(false)
  }

  private let box = Box()
  private let task: Task<Void, Never>

  init(_ watcher: FileWatcher) {
    let box = self.box
    let stream = watcher.changes
    task = Task {
      for await change in stream {
        let now = ContinuousClock.now
        box.received.withLock { $0.append(Received(change: change, at: now)) }
      }
      box.finished.store(true, ordering: .sequentiallyConsistent)
    }
  }

  var received: [Received] { box.received.withLock { $0 } }
  var changes: [FileChange] { received.map(\.change) }
  var isFinished: Bool { box.finished.load(ordering: .sequentiallyConsistent) }

  /// The changes that contain `path`.
  func changes(containing path: String) -> [FileChange] {
    changes.filter { $0.paths.contains(path) }
  }

  /// Waits (up to `timeout`) until `condition` holds; returns whether it did.
  @discardableResult
  func wait(timeout: Duration = .seconds(5), until condition: () -> Bool) async -> Bool {
    let end = ContinuousClock.now + timeout
    while !condition() {
      if ContinuousClock.now > end { return false }
      try? await Task.sleep(for: .milliseconds(1))
    }
    return true
  }

  /// Waits until a change contains `path`.
  @discardableResult
  func wait(for path: String, timeout: Duration = .seconds(5)) async -> Bool {
    await wait(timeout: timeout) { !changes(containing: path).isEmpty }
  }

  /// Waits for the stream to finish.
  @discardableResult
  func waitUntilFinished(timeout: Duration = .seconds(5)) async -> Bool {
    await wait(timeout: timeout) { isFinished }
  }
}

/// How long tests wait to be sure that no second change comes.
let quietPeriod: Duration = .milliseconds(300)
