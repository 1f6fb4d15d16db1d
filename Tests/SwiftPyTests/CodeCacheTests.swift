import Testing

@testable import SwiftPy

/// Source text run again on an interpreter's thread is not compiled again (CodeCache), and
/// nothing but the compiling is saved: results, errors and namespaces are those of each run.
@Suite("Compiled code is reused")
struct CodeCacheTests {
  @Test("the same source runs the same code object, in every mode")
  func theSameSourceRunsTheSameCode() async throws {
    try await withRuntime { (py) async throws in
      for mode in try await availableModes() {
        let ctx = try await py.newContext(mode: mode)
        try await ctx.exec("import sys\ncodes = []")
        for _ in 0..<2 { try await ctx.exec("codes.append(sys._getframe(0).f_code)") }
        #expect(try await ctx.eval("codes[0] is codes[1]") == true, "mode \(mode): compiled twice")
        // Each run sees the namespace as it is then; an error is raised every time.
        for value in 1...3 {
          try await ctx.exec("x = \(value)")
          #expect(try await ctx.eval("x * 2") == .int(value * 2))
          let error = await expectPythonError { _ = try await ctx.eval("undefined_name + 1") }
          #expect(error?.type == "NameError")
        }
        await ctx.close()
      }
    }
  }
}
