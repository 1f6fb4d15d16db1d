import CPythonShim
import Foundation
import Synchronization

/// C extensions in sub-interpreters (ARCHITECTURE.md, "Extension modules"). Many compiled
/// modules can be loaded by only one interpreter per process — numpy, every Cython module
/// (PyYAML's `_yaml`, msgpack's `_cmsgpack`), every PyO3 module (pydantic-core) — and they
/// enforce it themselves: the first interpreter to import one keeps it, every later one gets an
/// ImportError. Left alone, which context of a `subinterp` pool succeeds depends on which ran
/// the first import, and a sub-interpreter that gets there first takes the module from the
/// worker contexts (the main interpreter) too.
///
/// So in a sub-interpreter SwiftPy looks for each such module's own refusal text in the
/// extension file before loading it, and refuses it there in every sub-interpreter alike, with
/// an ImportError that says why (the caller's error adds the fix: a worker pool). Libraries that
/// catch that ImportError and fall back to pure Python (PyYAML, msgpack) keep working, slower;
/// the runtime's ``PythonLogging`` logger is told once per module, since nothing else would say.
enum ExtensionModules {
  /// The texts that mark a module as one-interpreter-only, and who writes them.
  private static let markers: [(text: String, maker: String)] = [
    ("cannot load module more than once per process", "NumPy"),
    ("this module can only be loaded into one interpreter per process", "Cython"),
    ("PyO3 modules do not yet support subinterpreters", "PyO3"),
  ]

  /// What made each file one-interpreter-only (nil: nothing), by path, size and change time:
  /// a file is read once per process, however many interpreters import it.
  private static let verdicts = Mutex<[FileIdentity: String?]>([:])

  private struct FileIdentity: Hashable {
    let path: String
    let size: Int
    let changed: Int
  }

  /// The maker (`NumPy`, `Cython`, `PyO3`) whose one-interpreter-per-process check the
  /// extension at `path` carries, or nil. Unreadable files are nil: CPython's own load reports
  /// what is wrong with them.
  static func oneInterpreterOnly(path: String) -> String? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    let identity = FileIdentity(path: path, size: Int(info.st_size), changed: Int(info.st_ctim.tv_sec))
    if let known = verdicts.withLock({ $0[identity] }) { return known }
    let verdict = scan(path)
    verdicts.withLock { $0[identity] = verdict }
    return verdict
  }

  private static func scan(_ path: String) -> String? {
    guard let contents = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
      return nil
    }
    return contents.withUnsafeBytes { file in
      markers.first { contains(file, Array($0.text.utf8)) }?.maker
    }
  }

  /// Whether `needle` occurs in `haystack`: `memchr` to each candidate first byte (fast enough
  /// for a 10 MB library, read once per process), then a compare.
  private static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
    guard let base = haystack.baseAddress, let first = needle.first, needle.count <= haystack.count else {
      return false
    }
    let last = haystack.count - needle.count
    var offset = 0
    while offset <= last, let hit = memchr(base + offset, Int32(first), last - offset + 1) {
      offset = base.distance(to: UnsafeRawPointer(hit))
      if memcmp(hit, needle, needle.count) == 0 { return true }
      offset += 1
    }
    return false
  }

  /// Installs the check in the attached sub-interpreter (never in the main interpreter: it is
  /// the one that should get these modules). Runs at context setup, after the `swift` module.
  static func install(mode: PythonContext.Mode) throws {
    try ContextSetup.run(
      """
      import sys, swift
      from importlib import machinery
      loader = machinery.ExtensionFileLoader
      if not getattr(loader.create_module, '_swiftpy', False):
          def guarded(original, one_interpreter_only, refused, mode):
              def create_module(self, spec):
                  maker = one_interpreter_only(spec.origin) if isinstance(spec.origin, str) else None
                  if maker is not None:
                      reason = (
                          f'{spec.name} is a {maker} extension that can be loaded by only one '
                          f'interpreter per process, so SwiftPy keeps it out of subinterpreters '
                          f'(in {mode} contexts it would work only where it happened to be '
                          'imported first)')
                      refused(spec.name, reason)
                      raise ImportError(reason, name=spec.name, path=spec.origin)
                  try:
                      return original(self, spec)
                  except ImportError as error:
                      if 'subinterpreter' in str(error):
                          refused(spec.name, str(error))
                      raise
              create_module._swiftpy = True
              return create_module
          loader.create_module = guarded(loader.create_module, swift._extension, swift._refused, mode)
      """, with: ["mode": .string(mode.rawValue)])
  }
}
