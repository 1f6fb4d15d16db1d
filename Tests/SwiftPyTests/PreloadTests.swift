import Foundation
import Testing

@testable import SwiftPy

/// Every example of erlang_python's preload page, in Swift, plus paths and imports.
@Suite("Preload, paths and imports reach every interpreter and session")
struct PreloadTests {
  static let config = PythonRuntime.Configuration(defaultPool: .init(size: 2))

  @Test func api() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      #expect(!py.preload.hasPreload)
      #expect(py.preload.code == nil)
      try py.preload.setCode("X = 1")
      #expect(py.preload.hasPreload)
      #expect(py.preload.code == "X = 1")
      try py.preload.clear()
      #expect(!py.preload.hasPreload)
      #expect(py.preload.code == nil)
    }
  }

  @Test func basicUsage() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      try py.preload.setCode(
        """
        import json
        import os

        def shared_helper(x):
            return x * 2

        CONFIG = {'debug': True, 'version': '1.0'}
        """)
      let ctx = try await py.newContext(mode: .worker)
      #expect(try await ctx.eval("json.dumps({'a': 1})") == #"{"a": 1}"#)
      #expect(try await ctx.eval("shared_helper(5)") == 10)
      #expect(try await ctx.eval("CONFIG['debug']") == true)
      // One-shot calls and leases start from the preloaded globals too, in every mode.
      #expect(try await py.eval("shared_helper(21)") == 42)
      for mode in try await availableModes() {
        let other = try await py.newContext(mode: mode)
        #expect(try await other.eval("CONFIG['version']") == "1.0", "mode \(mode)")
        await other.close()
      }
      try await py.withContext { (lease) async throws in
        #expect(try await lease.eval("shared_helper(1)") == 2)
      }
    }
  }

  @Test func processIsolation() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      try py.preload.setCode("COUNTER = 0")
      let ctx1 = try await py.newContext(mode: .worker)
      let ctx2 = try await py.newContext(mode: .worker)
      try await ctx1.exec("COUNTER = 100")
      #expect(try await ctx1.eval("COUNTER") == 100)
      #expect(try await ctx2.eval("COUNTER") == 0)
      // Sessions on the same context are isolated from each other too.
      let a = try await py.bind()
      let b = try await py.bind()
      try await a.exec("COUNTER += 5")
      #expect(try await a.eval("COUNTER") == 5)
      #expect(try await b.eval("COUNTER") == 0)
      await a.unbind()
      await b.unbind()
      // And a new session after one changed it starts from the preload again.
      try await py.withContext { (lease) async throws in #expect(try await lease.eval("COUNTER") == 0) }
      #expect(try await py.eval("COUNTER") == 0)
    }
  }

  @Test func clearingPreloadAffectsOnlyNewContexts() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      try py.preload.setCode("PRELOADED = 42")
      let ctx1 = try await py.newContext(mode: .worker)
      #expect(try await ctx1.eval("PRELOADED") == 42)
      try py.preload.clear()
      #expect(try await ctx1.eval("PRELOADED") == 42)  // existing context still has it
      let ctx2 = try await py.newContext(mode: .worker)
      let error = await expectPythonError { _ = try await ctx2.eval("PRELOADED") }
      #expect(error?.type == "NameError")
      // Sessions created afterwards don't have it either.
      let oneShot = await expectPythonError { _ = try await py.eval("PRELOADED") }
      #expect(oneShot?.type == "NameError")
    }
  }

  @Test func preloadErrorFailsCreationWithTraceback() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      try py.preload.setCode("import json\nraise RuntimeError('preload exploded')")
      let error = await expectPythonError { _ = try await py.newContext(mode: .worker) }
      #expect(error?.type == "RuntimeError")
      #expect(error?.message == "preload exploded")
      #expect(error?.traceback.contains("Traceback") == true)
      let pool = await expectPythonError { try await py.startPool("broken", size: 2, mode: .subinterp) }
      #expect(pool?.message == "preload exploded")
      #expect(!py.poolStarted("broken"))
      // A session on an existing context fails the same way, and the context survives.
      let session = await expectPythonError { _ = try await py.bind() }
      #expect(session?.type == "RuntimeError")
      #expect(try py.stats().checkedOut == 0)
      try py.preload.clear()
      #expect(try await py.eval("'recovered'") == "recovered")
    }
  }

  @Test func startConfigurationAppliesToTheDefaultPool() async throws {
    let directory = try Self.moduleDirectory(name: "swiftpy_cfgmod", body: "VALUE = 'from path'")
    defer { try? FileManager.default.removeItem(at: directory) }
    let config = PythonRuntime.Configuration(
      defaultPool: .init(size: 2),
      preload: "import swiftpy_cfgmod\nGREETING = swiftpy_cfgmod.VALUE + ' ' + str(len(json.dumps([])))",
      paths: [directory.path], imports: ["json"])
    try await withRuntime(config) { (py) async throws in
      // Execution flow: paths → imports → preload, so the preload sees both.
      for index in 0..<2 {
        #expect(try await py.context(index: index).eval("GREETING") == "from path 2")
      }
      #expect(py.paths.all == [directory.path])
      #expect(py.imports.all == ["json"])
    }
  }

  @Test func pathsAddedAtRunTimeReachRunningContexts() async throws {
    let directory = try Self.moduleDirectory(name: "swiftpy_latemod", body: "def answer():\n    return 42")
    defer { try? FileManager.default.removeItem(at: directory) }
    try await withRuntime(Self.config) { (py) async throws in
      let standalone = try await py.newContext(mode: .subinterp)
      let missing = await expectPythonError { _ = try await py.call("swiftpy_latemod", "answer") }
      #expect(missing?.type == "ModuleNotFoundError")
      try py.paths.add(directory.path)
      // Every running context of the pool (each with its own sys.path when ownGIL) sees it.
      for index in 0..<py.numContexts() {
        #expect(try await py.context(index: index).call("swiftpy_latemod", "answer") == 42)
      }
      #expect(try await standalone.call("swiftpy_latemod", "answer") == 42)
      #expect(try await py.call("swiftpy_latemod", "answer") == 42)
      try py.paths.remove(directory.path)
      #expect(py.paths.all.isEmpty)
      #expect(
        try await standalone.eval("__import__('sys').path.count(p)", locals: ["p": .string(directory.path)])
          == 0)
    }
  }

  @Test func importsAddedAtRunTime() async throws {
    try await withRuntime(Self.config) { (py) async throws in
      let before = await expectPythonError { _ = try await py.eval("textwrap.dedent('  x')") }
      #expect(before?.type == "NameError")
      try await py.imports.add("textwrap")
      #expect(try await py.eval("textwrap.dedent('  x')") == "x")
      #expect(try await py.context(index: 1).eval("textwrap.dedent('  y')") == "y")
      #expect(py.imports.all == ["textwrap"])
      let bad = await expectPythonError { try await py.imports.add("no_such_module_xyz") }
      #expect(bad?.type == "ModuleNotFoundError")
      #expect(py.imports.all == ["textwrap"])
      await #expect(throws: SwiftPyError.self) { try await py.imports.add("os; import sys") }
      try py.imports.remove("textwrap")
      #expect(py.imports.all.isEmpty)
      // Sessions made afterwards on the running contexts no longer have it either.
      for index in 0..<py.numContexts() {
        let session = await expectPythonError {
          try await py.withContext(index: index) { lease in _ = try await lease.eval("textwrap") }
        }
        #expect(session?.type == "NameError")
      }
      let ctx = try await py.newContext()
      let after = await expectPythonError { _ = try await ctx.eval("textwrap") }
      #expect(after?.type == "NameError")
    }
  }

  /// A temporary directory holding `name.py`.
  static func moduleDirectory(name: String, body: String) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftpy-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try body.write(to: directory.appendingPathComponent("\(name).py"), atomically: true, encoding: .utf8)
    return directory
  }
}
