import Foundation
import Logging
import Synchronization
import Testing

@testable import SwiftPy

/// numpy refuses sub-interpreters (single-phase init). A worker pool imports it; an ownGIL (or
/// subinterp) pool gives an error that names the module and suggests a worker pool.
@Suite("Extensions that refuse sub-interpreters")
struct ExtensionModuleTests {
  @Test func numpyWorksInAWorkerPoolAndFailsClearlyElsewhere() async throws {
    let python = try await NumpyEnvironment.python()
    try await withRuntime(.init(python: .executable(python), defaultPool: .init(size: 1))) {
      (py) async throws in
      #expect(py.installation.isVirtualEnvironment)
      try await py.startPool("numpy", size: 1, mode: .worker)
      py.route(module: "numpy", to: "numpy")
      let total = try await py.withContext(pool: "numpy") { lease in
        try await lease.exec("import numpy")
        return try await lease.eval("int(numpy.arange(10).sum())")
      }
      #expect(total == 45)
      #expect(try await py.call("numpy", "__version__.__str__") != "")

      let isolatedMode: PythonContext.Mode = py.supportedModes.contains(.ownGIL) ? .ownGIL : .subinterp
      try await py.startPool("isolated", size: 1, mode: isolatedMode)
      let error = await expectPythonError {
        try await py.withContext(pool: "isolated") { lease in try await lease.exec("import numpy") }
      }
      #expect(error?.type == "ImportError")
      #expect(error?.moduleName?.hasPrefix("numpy") == true)
      #expect(error?.message.contains("'numpy' cannot be loaded in a \(isolatedMode) context") == true)
      #expect(error?.message.contains("py.route(module: \"numpy\"") == true)
      #expect(error?.message.contains(".worker") == true)
      #expect(error?.message.contains("sub-interpreters") == true)
      // The failed import left the isolated pool usable.
      #expect(try await py.withContext(pool: "isolated") { lease in try await lease.eval("1 + 1") } == 2)
    }
  }

  /// numpy lets the first interpreter of the process that imports it keep it. A `subinterp`
  /// pool used to succeed in whichever context imported it first and fail in the others (and
  /// to take it from the worker contexts); now every sub-interpreter refuses it the same way,
  /// first or not, and the main interpreter still gets it afterwards.
  @Test func everySubinterpreterRefusesNumpyAlikeAndWorkersStillGetIt() async throws {
    let python = try await NumpyEnvironment.python()
    try await withRuntime(.init(python: .executable(python), defaultPool: .init(size: 1))) {
      (py) async throws in
      try await py.startPool("sub", size: 2, mode: .subinterp)
      for context in py.contexts("sub") {
        let error = await expectPythonError { try await context.exec("import numpy") }
        #expect(error?.type == "ImportError")
        #expect(error?.message.contains("NumPy extension that can be loaded by only one interpreter") == true)
        #expect(error?.message.contains("'numpy' cannot be loaded in a subinterp context") == true)
        #expect(error?.message.contains("py.route(module: \"numpy\"") == true)
      }
      try await py.startPool("workers", size: 1, mode: .worker)
      let sum = try await py.withContext(pool: "workers") { lease in
        try await lease.exec("import numpy")
        return try await lease.eval("int(numpy.arange(4).sum())")
      }
      #expect(sum == 6)
    }
  }

  /// PyYAML imports its C extension (Cython: one interpreter per process) when it can and falls
  /// back to pure Python when that import fails. In sub-interpreters it now always falls back,
  /// and the runtime's logger says so once for the module, however many contexts refused it.
  @Test(arguments: [PythonContext.Mode.subinterp, .ownGIL])
  func aLibraryThatFallsBackIsToldOnce(mode: PythonContext.Mode) async throws {
    let python = try await NumpyEnvironment.python()
    let records = LogRecords()
    let logger = Logger(label: "python") { _ in RecordingHandler(records: records) }
    try await withRuntime(
      .init(python: .executable(python), defaultPool: .init(size: 1), logging: PythonLogging(logger: logger))
    ) { (py) async throws in
      guard py.supportedModes.contains(mode) else {
        // ownGIL on 3.12.0–3.12.3: refused clearly, which is what there is to check.
        await #expect(throws: SwiftPyError.self) { try await py.startPool("isolated", size: 2, mode: mode) }
        return
      }
      try await py.startPool("isolated", size: 2, mode: mode)
      for context in py.contexts("isolated") {
        #expect(try await context.eval("__import__('yaml').__with_libyaml__") == false)
        #expect(try await context.eval("__import__('yaml').safe_load('a: [1, 2]')") == ["a": [1, 2]])
      }
      let warnings = records.all.filter { $0.level == .warning && $0.message.contains("yaml._yaml") }
      #expect(warnings.count == 1)
      #expect(warnings.first?.message.contains("falls back to pure Python") == true)
      #expect(warnings.first?.source == "swiftpy")
    }
  }
}

/// A virtual environment with numpy and PyYAML for the Python the tests use, made once (from
/// PyPI) and kept in `.venv-numpy-<major>.<minor>` at the package root. `.ci/run` creates it
/// first (in the sid chroot: from sid's packages, through --system-site-packages).
enum NumpyEnvironment {
  private static let made = Mutex<String?>(nil)

  static func python() async throws -> String {
    if let made = made.withLock({ $0 }) { return made }
    let installation = try await DiscoveryCache.discover(.automatic).installation
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let venv = root.appendingPathComponent(".venv-numpy-\(installation.version.majorMinor)")
    let python = venv.appendingPathComponent("bin/python").path
    if try run(python, ["-c", "import numpy, yaml"]) != 0 {
      try #require(
        try run(installation.executable, ["-m", "venv", venv.path]) == 0, "could not create \(venv.path)")
      try #require(
        try run(
          python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "numpy", "pyyaml"])
          == 0, "could not install numpy and PyYAML from PyPI into \(venv.path)")
    }
    made.withLock { $0 = python }
    return python
  }

  private static func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
    guard FileManager.default.isExecutableFile(atPath: executable) else { return 127 }
    return try runProgram(executable, arguments).status
  }
}
