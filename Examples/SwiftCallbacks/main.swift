// Python calling Swift: `swift run SwiftCallbacks`.
// Callbacks (sync and async, re-entrant), shared state, coroutines, streams and logging.
import Logging
import SwiftPy

var configuration = PythonRuntime.Configuration(defaultPool: .init(size: 2))
// Python's `logging` records go to this swift-log logger, at .info and above, from every context.
configuration.logging = PythonLogging(
  logger: Logger(label: "python") { label in StreamLogHandler.standardOutput(label: label) }, level: .info)
let py = try await PythonRuntime.start(configuration)
let ctx = try await py.newContext()

// A synchronous Swift function: runs on the calling Python thread, with its GIL released.
try await py.register("add") { args, _ in
  .int(args.compactMap(\.intValue).reduce(0, +))
}

// An asynchronous one that calls back into the very context that called it.
try await py.register("fib") { args, _ in
  let n = args[0].intValue ?? 0
  if n < 2 { return .int(n) }
  async let a = ctx.call("__main__", "fib", args: [.int(n - 1)])
  let b = try await ctx.call("__main__", "fib", args: [.int(n - 2)])
  return .int((try await a).intValue! + b.intValue!)
}

// Errors cross as exceptions.
struct Declined: Error, CustomStringConvertible {
  var description: String { "card declined" }
}
try await py.register("charge") { _, _ in throw Declined() }

try await ctx.exec(
  """
  import swift, logging
  from swift import add

  def fib(n):
      return swift.fib(n)          # Python -> Swift -> Python -> ...

  try:
      swift.charge(100)
  except swift.SwiftError as error:
      logging.getLogger('shop').warning('payment failed: %s', error)
  """)
print("add(1, 2, 3) =", try await ctx.eval("add(1, 2, 3)"))
print("fib(8) through Swift and back =", try await ctx.call("__main__", "fib", args: [8]))

// Shared state: atomic increments from every interpreter add up.
try await withThrowingTaskGroup(of: Void.self) { group in
  for _ in 0..<4 {
    group.addTask { try await py.exec("import swift\nfor _ in range(1000): swift.state.incr('hits')") }
  }
  try await group.waitForAll()
}
print("hits =", py.state.get("hits") ?? .none)

// Coroutines: an async def returns its awaited result.
try await ctx.exec(
  """
  import asyncio
  async def slow_double(x):
      await asyncio.sleep(0.05)
      return x * 2
  """)
print("slow_double(21) =", try await ctx.call("__main__", "slow_double", args: [21]))

// Streams: a generator pulled lazily; leaving the loop runs its finally.
try await ctx.exec(
  """
  def squares():
      try:
          n = 0
          while True:
              yield n * n
              n += 1
      finally:
          logging.getLogger('squares').info('generator closed after %d items', n + 1)
  """)
var squares: [PythonValue] = []
for try await square in try await ctx.stream("__main__", "squares") {
  squares.append(square)
  if squares.count == 5 { break }
}
print("first squares:", squares)

await py.shutdown()
