import Testing

@testable import SwiftPy

@Suite("Streams")
struct StreamTests {
  @Test("A generator is pulled lazily: it never runs ahead of what Swift took", arguments: callbackModes)
  func lazy(mode: PythonContext.Mode) async throws {
    try await withRuntime(callbackRuntime(mode)) { py in
      let ctx = try await py.newContext(mode: mode)
      try await ctx.exec(
        """
        produced = []
        def numbers(limit, step=1):
            for i in range(0, limit, step):
                produced.append(i)
                yield i
        """)
      var taken: [PythonValue] = []
      let stream = try await ctx.stream("__main__", "numbers", args: [1000], kwargs: ["step": 10])
      for try await item in stream {
        taken.append(item)
        #expect(try await ctx.eval("len(produced)") == .int(taken.count))  // not one more
        if taken.count == 3 { break }
      }
      #expect(taken == [0, 10, 20])
      #expect(try await ctx.eval("produced") == [0, 10, 20])
      // To the end.
      var all: [PythonValue] = []
      for try await item in try await ctx.stream("__main__", "numbers", args: [5]) { all.append(item) }
      #expect(all == [0, 1, 2, 3, 4])
    }
  }

  @Test("An async generator streams too, lazily", arguments: callbackModes)
  func asyncGenerator(mode: PythonContext.Mode) async throws {
    try await withRuntime(callbackRuntime(mode)) { py in
      let ctx = try await py.newContext(mode: mode)
      try await ctx.exec(
        """
        import asyncio
        produced = []
        async def ticks(n):
            for i in range(n):
                await asyncio.sleep(0)
                produced.append(i)
                yield {'tick': i}
        """)
      var taken: [PythonValue] = []
      for try await item in try await ctx.stream("__main__", "ticks", args: [100]) {
        taken.append(item)
        if taken.count == 2 { break }
      }
      #expect(taken == [["tick": 0], ["tick": 1]])
      #expect(try await ctx.eval("produced") == [0, 1])
    }
  }

  @Test("Leaving the loop early runs the generator's finally", arguments: callbackModes)
  func earlyExit(mode: PythonContext.Mode) async throws {
    try await withRuntime(callbackRuntime(mode)) { py in
      let ctx = try await py.newContext(mode: mode)
      try await ctx.exec(
        """
        import swift
        closed = []
        def endless():
            try:
                n = 0
                while True:
                    yield n
                    n += 1
            finally:
                closed.append('finally')
                swift.state.incr('closed')
        """)
      for try await item in try await ctx.stream("__main__", "endless") where item == 2 { break }
      // The close was queued on the context when the loop let go of the stream: it ran first.
      #expect(try await ctx.eval("closed") == ["finally"])
      // On the pool (the runtime's stream, and a lease's): the finally runs on the context that
      // made the generator.
      try py.preload.setCode(
        """
        import swift
        def endless():
            try:
                while True:
                    yield 1
            finally:
                swift.state.incr('closed')
        """)
      for try await _ in try await py.stream("__main__", "endless") { break }
      try await py.withContext { lease in
        for try await _ in try await lease.stream("__main__", "endless") { break }
      }
      #expect(await eventually { py.state.get("closed") == 3 })
    }
  }

  @Test("Cancelling the consuming task closes the generator", arguments: callbackModes)
  func cancellation(mode: PythonContext.Mode) async throws {
    try await withRuntime(callbackRuntime(mode)) { py in
      let ctx = try await py.newContext(mode: mode)
      try await ctx.exec(
        """
        import asyncio, swift
        async def slow():
            try:
                yield 'first'
                await asyncio.sleep(600)
                yield 'never'
            finally:
                swift.state.set('finally', True)
        """)
      let (first, gotFirst) = AsyncStream<Void>.makeStream()
      let consumer = Task {
        var items: [PythonValue] = []
        for try await item in try await ctx.stream("__main__", "slow") {
          items.append(item)
          gotFirst.yield()
        }
        return items
      }
      var iterator = first.makeAsyncIterator()
      await iterator.next()
      consumer.cancel()
      // A cancelled stream either ends (as AsyncStream does on cancellation) or throws,
      // depending on whether a pull was under way; either way nothing past 'first' arrives.
      if let items = try? await consumer.value { #expect(items == ["first"]) }
      #expect(await eventually { py.state.get("finally") == true })
      #expect(try await ctx.eval("1") == 1)
    }
  }

  @Test("A generator's exception ends the stream with that PythonError")
  func generatorRaises() async throws {
    try await withRuntime(callbackRuntime(.worker, size: 1)) { py in
      let ctx = try await py.newContext(mode: .worker)
      try await ctx.exec("def broken():\n    yield 1\n    raise KeyError('gone')")
      var items: [PythonValue] = []
      let error = await expectPythonError {
        for try await item in try await ctx.stream("__main__", "broken") { items.append(item) }
      }
      #expect(items == [1])
      #expect(error?.type == "KeyError")
    }
  }
}
