import Testing

@testable import SwiftPy

/// Hostile Python reached from SwiftPy's own work (formatting an error, resolving a name,
/// compiling) stays interruptible: the caller's timeout lands and the context serves on.
@Suite("SwiftPy's own work stays interruptible", .timeLimit(.minutes(2)))
struct OwnWorkInterruptTests {
  static let modes: [PythonContext.Mode] = [.worker, isolatedMode]

  @Test(arguments: modes)
  func anExceptionWhoseStrLoopsTimesOut(mode: PythonContext.Mode) async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: mode))) { (py) async throws in
      let ctx = try await py.newContext(mode: mode)
      let code = """
        class Stubborn(Exception):
            def __str__(self):
                while True: pass
        raise Stubborn()
        """
      // The call completed (it raised); reading its message was stopped: the caller gets the
      // exception, described without the message it could not read. (On a loaded machine the
      // timeout may land before the raise: a plain timeout. Before reading the message could
      // be interrupted, the context was taken out of service instead.)
      do {
        try await ctx.exec(code, timeout: .milliseconds(300))
        Issue.record("the call returned")
      } catch let error as PythonError {
        #expect(error.type == "__main__.Stubborn" && error.message == "<str() failed>", "\(error)")
      } catch let error as SwiftPyError {
        #expect(error.code == .timeout, "\(error)")
      }
      #expect(try await ctx.eval("1 + 1") == 2)  // the context still serves
      await ctx.close()
    }
  }

  @Test(arguments: modes)
  func aModuleGetattrThatLoopsTimesOut(mode: PythonContext.Mode) async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: mode))) { (py) async throws in
      let ctx = try await py.newContext(mode: mode)
      try await ctx.exec(
        """
        import sys, types
        looping = types.ModuleType('looping_getattr_\(mode)')
        def __getattr__(name):
            while True: pass
        looping.__getattr__ = __getattr__
        sys.modules[looping.__name__] = looping
        """)
      do {
        _ = try await ctx.call("looping_getattr_\(mode)", "anything", timeout: .milliseconds(300))
        Issue.record("the call returned")
      } catch let error as SwiftPyError {
        #expect(error.code == .timeout, "\(error)")
      }
      #expect(try await ctx.eval("1 + 1") == 2)
      // Worker contexts share the main interpreter's sys.modules with the rest of the process.
      try await ctx.exec("del sys.modules[looping.__name__]")
      await ctx.close()
    }
  }

  /// An audit hook that loops on `compile` (here in a sub-interpreter: audit hooks of the main
  /// interpreter are process-wide and cannot be removed).
  @Test func anAuditHookThatLoopsOnCompileTimesOut() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: isolatedMode))) { (py) async throws in
      let ctx = try await py.newContext(mode: isolatedMode)
      try await ctx.exec(
        """
        import sys
        armed = [False]
        def hook(event, args):
            if event == 'compile' and armed[0]:
                armed[0] = False  # once: later compiles (the close's own) run normally
                while True: pass
        sys.addaudithook(hook)
        """)
      try await ctx.exec("armed[0] = True")
      do {
        try await ctx.exec("x = 1", timeout: .milliseconds(300))
        Issue.record("the call returned")
      } catch let error as SwiftPyError {
        #expect(error.code == .timeout, "\(error)")
      }
      #expect(try await ctx.eval("1 + 1") == 2)  // the context still serves
      await ctx.close(deadline: .seconds(1))
    }
  }
}
