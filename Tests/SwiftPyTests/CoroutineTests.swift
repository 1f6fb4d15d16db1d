import Synchronization
import Testing

@testable import SwiftPy

@Suite("Coroutines")
struct CoroutineTests {
  @Test("Calling an async def returns its awaited result", arguments: callbackModes)
  func asyncDef(mode: PythonContext.Mode) async throws {
    try await withRuntime(callbackRuntime(mode)) { py in
      let ctx = try await py.newContext(mode: mode)
      try await ctx.exec(
        """
        import asyncio
        async def double(x):
            await asyncio.sleep(0.01)
            return x * 2
        async def gathered():
            return await asyncio.gather(double(1), double(2), double(3))
        """)
      #expect(try await ctx.call("__main__", "double", args: [21]) == 42)
      #expect(try await ctx.eval("double(5)") == 10)
      #expect(try await ctx.call("__main__", "gathered") == [2, 4, 6])
      // The loop stays the context's own between calls.
      #expect(
        try await ctx.eval("__import__('swift')._event_loop() is __import__('swift')._event_loop()") == true)
      // A one-shot call of an async def on the pool too.
      #expect(try await py.call("asyncio", "sleep", args: [0.01, "slept"]) == "slept")
    }
  }

  @Test("Coroutines in two contexts run at the same time", arguments: callbackModes)
  func overlap(mode: PythonContext.Mode) async throws {
    try await withRuntime(callbackRuntime(mode)) { py in
      let first = try await py.newContext(mode: mode)
      let second = try await py.newContext(mode: mode)
      // Each coroutine announces itself, then waits (in asyncio.sleep) until the other has
      // announced itself too: they finish only if both event loops run at once.
      let code = """
        import asyncio, swift
        async def meet(me, other):
            swift.state.set(me, True)
            while not swift.state.get(other):
                await asyncio.sleep(0.005)
            return me
        """
      try await first.exec(code)
      try await second.exec(code)
      async let a = first.call("__main__", "meet", args: ["a", "b"], timeout: .seconds(60))
      async let b = second.call("__main__", "meet", args: ["b", "a"], timeout: .seconds(60))
      #expect(try await [a, b] == ["a", "b"])
    }
  }

  @Test("A timeout cancels the Python task, whose CancelledError handler runs", arguments: callbackModes)
  func timeoutCancelsTask(mode: PythonContext.Mode) async throws {
    try await withRuntime(callbackRuntime(mode)) { py in
      let ctx = try await py.newContext(mode: mode)
      try await ctx.exec(
        """
        import asyncio, swift
        async def slow():
            try:
                await asyncio.sleep(600)
            except asyncio.CancelledError:
                await asyncio.sleep(0)        # a handler may still await
                swift.state.set('cancelled', True)
                raise
        """)
      await #expect(throws: SwiftPyError.self) {
        _ = try await ctx.call("__main__", "slow", timeout: .milliseconds(300))
      }
      #expect(py.state.get("cancelled") == true)
      #expect(ctx.isOpen)
      #expect(try await ctx.call("asyncio", "sleep", args: [0, "again"]) == "again")  // the loop still works
    }
  }
}
