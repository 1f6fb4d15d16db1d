import Testing

@testable import SwiftPy

@Suite("Python errors become Swift errors; the host lives on")
struct ErrorTests {
  @Test func syntaxErrorHasItsLine() async throws {
    try await withRuntime { (py) async throws in
      let error = await expectPythonError { try await py.exec("x = 1\ny = (\nz = 3 +") }
      #expect(error?.type == "SyntaxError")
      #expect(error?.lineNumber != nil)
      #expect((error?.lineNumber ?? 0) >= 2)
      #expect(error?.offset != nil)
      let evalError = await expectPythonError { _ = try await py.eval("1 +") }
      #expect(evalError?.type == "SyntaxError")
      #expect(evalError?.lineNumber == 1)
    }
  }

  @Test func raisedExceptionHasTracebackAndCause() async throws {
    try await withRuntime { (py) async throws in
      let ctx = try await py.newContext()
      try await ctx.exec(
        """
        import json
        def parse(text):
            try:
                return json.loads(text)
            except ValueError as e:
                raise RuntimeError('could not parse config') from e
        """)
      let error = await expectPythonError { _ = try await ctx.call("__main__", "parse", args: ["{bad"]) }
      #expect(error?.type == "RuntimeError")
      #expect(error?.message == "could not parse config")
      #expect(error?.traceback.contains("Traceback (most recent call last)") == true)
      #expect(error?.traceback.contains("in parse") == true)
      #expect(error?.traceback.contains("The above exception was the direct cause") == true)
      #expect(error?.cause?.type == "json.decoder.JSONDecodeError")
      #expect(error?.cause?.message.contains("Expecting property name") == true)
      await ctx.close()
    }
  }

  @Test func systemExitAndKeyboardInterruptAreErrors() async throws {
    try await withRuntime { (py) async throws in
      for mode in try await availableModes() {
        let ctx = try await py.newContext(mode: mode)
        let exit = await expectPythonError { try await ctx.exec("import sys\nsys.exit(3)") }
        #expect(exit?.type == "SystemExit", "mode \(mode)")
        #expect(exit?.message == "3")
        let interrupt = await expectPythonError { try await ctx.exec("raise KeyboardInterrupt") }
        #expect(interrupt?.type == "KeyboardInterrupt")
        let quit = await expectPythonError { try await ctx.exec("quit()") }
        #expect(quit?.type == "SystemExit")
        // The host and the context are alive.
        #expect(try await ctx.eval("'alive'") == "alive")
        await ctx.close()
      }
    }
  }

  @Test func unknownModuleAndFunction() async throws {
    try await withRuntime { (py) async throws in
      let module = await expectPythonError { _ = try await py.call("no_such_module_xyz", "f") }
      #expect(module?.type == "ModuleNotFoundError")
      #expect(module?.moduleName == "no_such_module_xyz")
      let function = await expectPythonError { _ = try await py.call("math", "no_such_function") }
      #expect(function?.type == "AttributeError")
      let name = await expectPythonError { _ = try await py.call("__main__", "undefined_function") }
      #expect(name?.type == "NameError")
    }
  }

  @Test func nulBytesInCodeAreRefused() async throws {
    try await withRuntime { (py) async throws in
      await #expect(throws: SwiftPyError.self) { try await py.exec("x = 1\u{0}import os") }
      await #expect(throws: SwiftPyError.self) { _ = try await py.call("ma\u{0}th", "sqrt", args: [1]) }
    }
  }

  /// Every name SwiftPy hands the C API as a C string refuses a NUL byte, rather than silently use
  /// the part before it (`os\0x` as `os`, `real\0junk` as `real`).
  @Test func nulBytesInNamesAreRefusedEverywhere() async throws {
    try await withRuntime { (py) async throws in
      func refused(_ what: String, _ body: () async throws -> Void) async {
        do {
          try await body()
          Issue.record("\(what): a name with a NUL byte was accepted")
        } catch let error as SwiftPyError {
          #expect(error.code == .invalidArgument, "\(what): \(error)")
        } catch {
          Issue.record("\(what): \(error)")
        }
      }
      let interp = try await py.interpreters.create(isolated: false)
      await refused("prepareMain") { try await interp.prepareMain(["a\u{0}b": 1]) }
      #expect(try await interp.call("builtins", "eval", args: ["'a' in globals()"]) == false)
      try await interp.close()
      let ctx = try await py.newContext()
      await refused("import") { try await ctx.withPython { python in _ = try python.import("os\u{0}x") } }
      await refused("attribute") {
        try await ctx.withPython { python in _ = try python.eval("1").attribute("real\u{0}junk") }
      }
      await refused("setAttribute") {
        try await ctx.withPython { python in try python.eval("type('T', (), {})()").setAttribute("a\u{0}b", 1)
        }
      }
      await refused("keyword argument") {
        try await ctx.withPython { python in _ = try python.builtins.dict.call(kwargs: ["a\u{0}b": 1]) }
      }
      await ctx.close()
    }
  }
}
