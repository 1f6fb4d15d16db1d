import Foundation
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
}

/// A virtual environment with numpy for the Python the tests use, made once (from PyPI) and
/// kept in `.venv-numpy-<major>.<minor>` at the package root. `.ci/run` creates it first.
enum NumpyEnvironment {
  private static let made = Mutex<String?>(nil)

  static func python() async throws -> String {
    if let made = made.withLock({ $0 }) { return made }
    let installation = try await DiscoveryCache.discover(.automatic).installation
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let venv = root.appendingPathComponent(".venv-numpy-\(installation.version.majorMinor)")
    let python = venv.appendingPathComponent("bin/python").path
    if try run(python, ["-c", "import numpy"]) != 0 {
      try #require(
        try run(installation.executable, ["-m", "venv", venv.path]) == 0, "could not create \(venv.path)")
      try #require(
        try run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "numpy"]) == 0,
        "could not install numpy from PyPI into \(venv.path)")
    }
    made.withLock { $0 = python }
    return python
  }

  private static func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
    guard FileManager.default.isExecutableFile(atPath: executable) else { return 127 }
    return try runProgram(executable, arguments).status
  }
}
