import Foundation
import Testing

@testable import SwiftPy

@Suite("Modes: each runs code and is isolated as it promises")
struct ModeTests {
  @Test func everyAvailableModeRunsCode() async throws {
    try await withRuntime { (py) async throws in
      for mode in try await availableModes() {
        let ctx = try await py.newContext(mode: mode)
        #expect(try await ctx.eval("sum(range(10))") == 45, "mode \(mode)")
        await ctx.close()
      }
    }
  }

  @Test func namesAreIsolatedInEveryMode() async throws {
    try await withRuntime { (py) async throws in
      for mode in try await availableModes() {
        let a = try await py.newContext(mode: mode)
        let b = try await py.newContext(mode: mode)
        try await a.exec("shared_name = 'a'")
        let error = await expectPythonError { _ = try await b.eval("shared_name") }
        #expect(error?.type == "NameError", "mode \(mode)")
        await a.close()
        await b.close()
      }
    }
  }

  /// worker contexts share the main interpreter's sys.modules and sys.path; sub-interpreters
  /// (subinterp and ownGIL) each have their own.
  @Test func modulesAndPathsFollowTheMode() async throws {
    try await withRuntime { (py) async throws in
      for mode in try await availableModes() {
        let a = try await py.newContext(mode: mode)
        let b = try await py.newContext(mode: mode)
        let marker = "swiftpy_marker_\(mode.rawValue)"
        try await a.exec(
          """
          import sys, types
          sys.modules['\(marker)'] = types.ModuleType('\(marker)')
          sys.path.append('/nonexistent/\(marker)')
          """)
        let seenModule = try await b.eval("'\(marker)' in __import__('sys').modules")
        let seenPath = try await b.eval("'/nonexistent/\(marker)' in __import__('sys').path")
        let shared: PythonValue = .bool(mode == .worker)
        #expect(seenModule == shared, "sys.modules in mode \(mode)")
        #expect(seenPath == shared, "sys.path in mode \(mode)")
        // Clean the shared main interpreter for other tests.
        try await a.exec("sys.modules.pop('\(marker)', None); sys.path.remove('/nonexistent/\(marker)')")
        if mode != .worker {
          #expect(a.interpreterID != b.interpreterID)
        } else {
          #expect(a.interpreterID == 0 && b.interpreterID == 0)
        }
        await a.close()
        await b.close()
      }
    }
  }

  /// Two ownGIL interpreters run Python at the same time: each waits, inside Python, for the
  /// other to have started, which is only possible when both run at once.
  @Test func twoOwnGILInterpretersProgressAtOnce() async throws {
    let modes = try await availableModes()
    try await withRuntime { (py) async throws in
      guard modes.contains(.ownGIL) else {
        // This Python refuses ownGIL (3.12.0–3.12.3): the refusal itself is the behaviour.
        await #expect(throws: SwiftPyError.self) { _ = try await py.newContext(mode: .ownGIL) }
        return
      }
      let a = try await py.newContext(mode: .ownGIL)
      let b = try await py.newContext(mode: .ownGIL)
      let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftpy-\(UUID())")
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(at: directory) }
      let code = """
        import os, time
        def meet(me, other, folder):
            # Announce, then spin (holding this interpreter's GIL) until the other announces.
            open(os.path.join(folder, me), 'w').close()
            deadline = time.monotonic() + 20
            spins = 0
            while not os.path.exists(os.path.join(folder, other)):
                spins += 1
                if time.monotonic() > deadline:
                    return -1
            return spins
        """
      try await a.exec(code)
      try await b.exec(code)
      async let first = a.call("__main__", "meet", args: ["a", "b", .string(directory.path)])
      async let second = b.call("__main__", "meet", args: ["b", "a", .string(directory.path)])
      let (x, y) = try await (first, second)
      #expect(x != -1 && y != -1, "both interpreters met while running: \(x), \(y)")
      await a.close()
      await b.close()
    }
  }

  @Test(.enabled(if: Pyenv.early312 != nil, "needs a CPython 3.12.0-3.12.3 under pyenv"))
  func ownGILRefusedClearlyOnEarly312() throws {
    let python = try #require(Pyenv.early312).prefix + "/bin/python3"
    let installation = try PythonDiscovery.discover(.executable(python)).installation
    #expect(!installation.supportsOwnGIL)
    do {
      try PythonContext.checkAvailable(.ownGIL, in: installation)
      Issue.record("\(python) accepted ownGIL")
    } catch let error as SwiftPyError {
      #expect(error.code == .modeUnavailable)
      #expect(error.message.contains("3.12.4"))
      #expect(error.message.contains("worker"))
    }
    try PythonContext.checkAvailable(.worker, in: installation)
    try PythonContext.checkAvailable(.subinterp, in: installation)
    #expect(PythonRuntime.defaultMode(for: installation) == .worker)
  }
}
