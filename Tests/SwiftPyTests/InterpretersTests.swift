import Testing

@testable import SwiftPy

@Suite("Interpreters API (concurrent.interpreters)")
struct InterpretersTests {
  @Test func createListAndClose() async throws {
    try await withRuntime { (py) async throws in
      let before = py.interpreters.listAll()
      #expect(before.first?.id == 0)
      #expect(py.interpreters.main.whence == "runtime init")
      let isolated = try await availableModes().contains(.ownGIL)
      let interp = try await py.interpreters.create(isolated: isolated)
      #expect(interp.id > 0)
      #expect(interp.whence.contains("create"))
      #expect(py.interpreters.listAll().map(\.id).contains(interp.id))
      #expect(!interp.isRunning)
      try await interp.close()
      #expect(!py.interpreters.listAll().map(\.id).contains(interp.id))
      // Using a closed interpreter throws notFound.
      do {
        try await interp.exec("print('spam!')")
        Issue.record("a closed interpreter ran code")
      } catch let error as SwiftPyError {
        #expect(error.code == .interpreterNotFound)
        #expect(error.message.contains("\(interp.id)"))
      }
    }
  }

  @Test func execCallAndPrepareMainShareMain() async throws {
    try await withRuntime { (py) async throws in
      let interp = try await py.interpreters.create(isolated: try await availableModes().contains(.ownGIL))
      try await interp.exec(
        """
            def run(x):
                return x * factor
        """)  // indented: dedent makes it valid
      try await interp.prepareMain(["factor": 3])
      #expect(try await interp.call("__main__", "run", args: [14]) == 42)
      #expect(try await interp.call("__main__", "__name__.upper") == "__MAIN__")
      let thread = interp.callInThread("__main__", "run", args: [5])
      #expect(try await thread.value == 15)
      try await interp.close()
    }
  }

  @Test func currentInterpreterID() async throws {
    try await withRuntime { (py) async throws in
      #expect(Interpreters.currentID == nil)  // a Swift thread runs no interpreter
      let ctx = try await py.newContext(mode: .subinterp)
      let inside = try await ctx.withPython { _ in Interpreters.currentID }
      #expect(inside == ctx.interpreterID)
      await ctx.close()
    }
  }

  @Test func errorsMirrorConcurrentInterpreters() async throws {
    try await withRuntime { (py) async throws in
      let interp = try await py.interpreters.create(isolated: try await availableModes().contains(.ownGIL))
      do {
        try await interp.exec("raise ValueError('bad value')")
        Issue.record("no error")
      } catch let error as SwiftPyError {
        guard error.code == .executionFailed, let excinfo = error.excinfo else {
          Issue.record("expected executionFailed, got \(error)")
          return
        }
        #expect(excinfo.type == "ValueError")
        #expect(excinfo.msg == "bad value")
        #expect(excinfo.formatted.contains("Traceback"))
        #expect(excinfo.formatted.contains("ValueError: bad value"))
      }
      do {
        _ = try await interp.call("builtins", "iter", args: [[1]])
        Issue.record("no error")
      } catch let error as SwiftPyError {
        #expect(error.code == .notShareable)
        #expect(error.message.contains("list_iterator"))
      }
      // The interpreter is still usable after both errors.
      try await interp.exec("ok = True")
      #expect(try await interp.call("__main__", "ok.__bool__") == true)
      try await interp.close()
      await #expect(throws: SwiftPyError(.interpreterFailed, "the main interpreter cannot be closed")) {
        try await py.interpreters.main.close()
      }
    }
  }

  @Test func dedentRemovesCommonIndentation() {
    #expect(Interpreter.dedent("    a\n      b\n\n    c") == "a\n  b\n\nc")
    #expect(Interpreter.dedent("a\n  b") == "a\n  b")
  }
}
