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
}
