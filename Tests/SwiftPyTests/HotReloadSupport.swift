import Foundation
import Synchronization
import Testing

@testable import SwiftPy

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A fresh directory of Python files (symlink-resolved), removed at the end, and a module name
/// of its own: worker contexts of every test share the main interpreter's `sys.modules`.
final class ModuleDirectory: Sendable {
  let path: String
  /// A module name unique to this directory (`lib_1a2b3c4d`).
  let lib: String

  init() throws {
    var template = Array((NSTemporaryDirectory() + "/hotreload-XXXXXX").utf8CString)
    guard mkdtemp(&template) != nil else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    let made = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    path = HotReloader.realPath(made)
    lib = "lib_" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
  }

  deinit {
    try? FileManager.default.removeItem(atPath: path)
  }

  /// `path/relative`.
  func callAsFunction(_ relative: String) -> String { path + "/" + relative }

  /// `path/<lib>.py`.
  var libFile: String { self("\(lib).py") }
}

/// File operations made of exactly the system calls an editor makes.
enum Editor {
  /// open(O_TRUNC), write, close: an in-place save.
  static func writeInPlace(_ path: String, _ content: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0, "open \(path): \(String(cString: strerror(errno)))")
    let bytes = Array(content.utf8)
    precondition(write(fd, bytes, bytes.count) == bytes.count)
    close(fd)
  }

  /// A temporary file next to `path`, renamed over it.
  static func writeTemporaryThenRename(_ path: String, _ content: String) {
    let temporary = path + ".\(UInt32.random(in: 0...UInt32.max)).tmp"
    writeInPlace(temporary, content)
    precondition(rename(temporary, path) == 0)
  }

  /// vim with `backupcopy=no`: swap file, rename `x` to `x~`, write a new `x`, delete `x~`.
  static func vimSave(_ path: String, _ content: String) {
    let directory = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    writeInPlace(directory + "/." + name + ".swp", "swap")
    precondition(rename(path, path + "~") == 0)
    writeInPlace(path, content)
    unlink(path + "~")
    unlink(directory + "/." + name + ".swp")
  }
}

/// The ways of saving a file that must each trigger exactly one reload.
enum SaveStyle: String, CaseIterable, Sendable, CustomTestStringConvertible {
  case inPlace, temporaryThenRename, vimBackupRename

  var testDescription: String { rawValue }

  func save(_ path: String, _ content: String) {
    switch self {
    case .inPlace: Editor.writeInPlace(path, content)
    case .temporaryThenRename: Editor.writeTemporaryThenRename(path, content)
    case .vimBackupRename: Editor.vimSave(path, content)
    }
  }
}

/// Drains a reloader's events into a list that tests wait on.
final class EventCollector: Sendable {
  private final class Box: Sendable {
    let events = Mutex<[ReloadEvent]>([])
  }

  private let box = Box()

  init(_ reloader: HotReloader) {
    let stream = reloader.events
    let box = self.box
    Task {
      for await event in stream { box.events.withLock { $0.append(event) } }
    }
  }

  var all: [ReloadEvent] { box.events.withLock { $0 } }

  /// Waits until `count` events have come (at most `timeout`), and returns the `count`th.
  func wait(
    for count: Int, timeout: Duration = .seconds(30), sourceLocation: SourceLocation = #_sourceLocation
  )
    async throws -> ReloadEvent
  {
    let end = ContinuousClock.now + timeout
    while all.count < count {
      guard ContinuousClock.now < end else {
        Issue.record("only \(all.count) of \(count) events came", sourceLocation: sourceLocation)
        throw CancellationError()
      }
      try await Task.sleep(for: .milliseconds(2))
    }
    return all[count - 1]
  }
}

/// How long tests wait to be sure that no further event comes.
let reloadQuietPeriod: Duration = .milliseconds(400)

/// A runtime whose default pool has `size` contexts of `mode` and `directory` on `sys.path`.
func reloadRuntime(_ directory: ModuleDirectory, size: Int = 2, mode: PythonContext.Mode? = nil)
  -> PythonRuntime.Configuration
{
  PythonRuntime.Configuration(defaultPool: .init(size: size, mode: mode), paths: [directory.path])
}

/// `module.attribute` as seen by each context of `contexts` (importing the module if needed).
func seen(_ module: String, _ attribute: String, in contexts: [PythonContext]) async throws -> [PythonValue] {
  var values: [PythonValue] = []
  for context in contexts {
    values.append(try await context.eval("__import__('importlib').import_module('\(module)').\(attribute)"))
  }
  return values
}
