// A tour of SwiftPy in one file: `swift run QuickStart`.
import SwiftPy

struct Book: Decodable, Sendable {
  let title: String
  let year: Int
}

let py = try await PythonRuntime.start()
print("Python \(py.installation.version) (\(py.installation.foundBy)), default pool: \(py.defaultPool.mode)")

// One-shot calls: each in a fresh namespace on the default pool.
print("1 + 1 =", try await py.eval("1 + 1"))
print("sqrt(16) =", try await py.call("math", "sqrt", args: [16]))
print(try await py.call("json", "dumps", args: [["b": 1, "a": [true, nil]]], kwargs: ["sort_keys": true]))

// Swift values are arguments as they are; `as:` reads the result as a Swift type.
let scores: [Double] = [7.5, 9.0, 8.25]
let label = "mean"
let mean = try await py.call("statistics", "fmean", args: [scores], as: Double.self)
print(label, "=", mean)
let shelf: [String: Int] = ["SICP": 1985]
print("years:", try await py.eval("sorted(books.values())", locals: ["books": shelf], as: [Int].self))

// Decode Python data into Swift types.
let book = try await py.eval("{'title': 'SICP', 'year': 1985}", as: Book.self)
print("decoded:", book)

// A context keeps state between calls.
let ctx = try await py.newContext()
try await ctx.exec(
  """
  def fib(n):
      return n if n < 2 else fib(n - 1) + fib(n - 2)
  """)
print("fib(20) =", try await ctx.call("__main__", "fib", args: [20]))

// A series of small calls from a task on the context's own thread: each runs inline, no hop.
let squares = try await ctx.withExecutor {
  var total = 0
  for n in 1...1_000 { total += try await ctx.eval("n * n", locals: ["n": n], as: Int.self) }
  return total
}
print("sum of 1000 squares, called inline:", squares)

// Live objects, on the interpreter's thread only.
let (upper, total) = try await ctx.withPython { python in
  let numbers = try python.eval("[1, 2, 3]")
  return (try String(python.eval("'hello'").upper()), try Int(numbers[0] + numbers[2]))
}
print("upper:", upper, "1 + 3 =", total)

// Python errors are Swift errors, with type, message and traceback.
do {
  try await ctx.exec("import json\njson.loads('{bad')")
} catch let error as PythonError {
  print("caught \(error.type): \(error.message)")
}

// concurrent.interpreters, in Swift.
let interp = try await py.interpreters.create(isolated: py.supportedModes.contains(.ownGIL))
try await interp.prepareMain(["greeting": "spam!"])
try await interp.exec("print(greeting)")
try await interp.close()

await ctx.close()
await py.shutdown()
