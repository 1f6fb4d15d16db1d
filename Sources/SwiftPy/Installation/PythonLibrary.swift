import CPythonShim
import Synchronization

/// Loads libpython into the process, once. A process can hold one libpython only: a second
/// request for a different library is an error, not a silent reuse.
enum PythonLibrary {
  private static let loaded = Mutex<String?>(nil)

  static func load(_ path: String) throws(SwiftPyError) {
    try loaded.withLock { (current: inout String?) throws(SwiftPyError) in
      if let current {
        guard current == path else {
          throw SwiftPyError(
            .differentPythonAlreadyLoaded,
            "this process already runs \(current); it cannot also load \(path)")
        }
        return
      }
      var message = [CChar](repeating: 0, count: 1024)
      guard spy_load(path, &message, message.count) == 0 else {
        let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw SwiftPyError(.libraryLoadFailed, "cannot load \(path): \(reason)")
      }
      current = path
    }
  }
}
