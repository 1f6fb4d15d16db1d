import Foundation
import OrderedCollections
import Testing

@testable import SwiftPy

/// Swift that reads naturally: Swift variables as arguments, results as Swift values, and live
/// objects with calls, items, operators and iteration — against a real CPython.
@Suite("Swift values in, Swift values out", .timeLimit(.minutes(2)))
struct SwiftErgonomicsTests {
  struct Point: Codable, Sendable, Equatable {
    let x: Int
    let y: Double
  }

  // MARK: Swift values as arguments

  @Test func swiftVariablesAreArguments() async throws {
    try await withRuntime { py in
      let n = 21
      let name = "ada"
      let xs: [Double] = [1.5, 2.5]
      let flag = true
      let missing: Int? = nil
      let counts: [String: Int] = ["a": 1]
      let huge = UInt64.max
      let small: Int8 = -3
      let ratio: Float = 0.5
      let payload = Data([0, 255])
      let tags: Set<String> = ["x"]
      let ordered: OrderedDictionary<String, [Int]> = ["b": [2], "a": [1]]
      let nested: [[String: Int?]] = [["k": nil]]

      #expect(try await py.call("operator", "mul", args: [n, 2]) == 42)
      #expect(try await py.call("builtins", "sum", args: [xs]) == 4.0)
      #expect(try await py.call("operator", "add", args: [name, "!"]) == "ada!")
      #expect(try await py.call("builtins", "str", args: [flag]) == "True")
      let described = try await py.eval(
        "[n * 2, name.upper(), sum(xs), flag, missing, counts['a'], huge, small, ratio, payload, "
          + "sorted(tags), list(ordered), nested, type(xs).__name__, type(payload).__name__]",
        locals: [
          "n": n, "name": name, "xs": xs, "flag": flag, "missing": missing, "counts": counts, "huge": huge,
          "small": small, "ratio": ratio, "payload": payload, "tags": tags, "ordered": ordered,
          "nested": nested,
        ])
      let expected: PythonValue = [
        42, "ADA", 4.0, true, nil, 1, .bigInt(PythonBigInt(UInt64.max)), -3, 0.5, .bytes([0, 255]), ["x"],
        ["b", "a"], [["k": nil]], "list", "bytes",
      ]
      #expect(described == expected)
    }
  }

  @Test func keywordArgumentsTakeSwiftVariables() async throws {
    try await withRuntime { py in
      let value = 2.567
      let digits = 1
      #expect(try await py.call("builtins", "round", args: [value], kwargs: ["ndigits": digits]) == 2.6)
      let ctx = try await py.newContext(mode: .worker)
      try await ctx.exec("def greet(name, punctuation='.'):\n    return 'hi ' + name + punctuation")
      let name = "bob"
      #expect(
        try await ctx.call("__main__", "greet", args: [name], kwargs: ["punctuation": "!"]) == "hi bob!")
      #expect(try await ctx.call("__main__", "greet", kwargs: ["name": name]) == "hi bob.")
      await ctx.close()
    }
  }

  @Test func encodableValuesGoThroughEncoding() async throws {
    try await withRuntime { py in
      let point = Point(x: 3, y: 4.5)
      let scale = 2
      #expect(try await py.eval("p['x'] * s + p['y']", locals: ["p": .encoding(point), "s": scale]) == 10.5)
      let keys = try await py.call("builtins", "sorted", args: [.encoding(point)], as: [String].self)
      #expect(keys == ["x", "y"])
      // A round trip: Python builds the dict, Swift decodes it.
      #expect(try await py.eval("{'x': 1, 'y': 2.0}", as: Point.self) == Point(x: 1, y: 2.0))
    }
  }

  @Test func literalCallSitesStillMeanPythonValues() async throws {
    try await withRuntime { py in
      // Mixed literals and nil need the PythonValue overload; they keep working.
      let text = try await py.call(
        "json", "dumps", args: [["b": 1, "a": [true, nil]]], kwargs: ["sort_keys": true], as: String.self)
      #expect(text == #"{"a": [true, null], "b": 1}"#)
      let values: [PythonValue] = [1, "a", .none]
      #expect(try await py.call("builtins", "repr", args: [.list(values)]) == "[1, 'a', None]")
      let calls = [
        PythonCall("operator", "add", args: [1, 2]), PythonCall("operator", "add", args: [values[1], "b"]),
      ]
      #expect(try await py.parallel(calls) == [3, "ab"])
      let n = 5
      #expect(try await py.parallel([PythonCall("operator", "neg", args: [n])]) == [-5])
    }
  }

  // MARK: Results as Swift values

  @Test func resultsReadAsSwiftTypes() async throws {
    try await withRuntime { py in
      let x = 3.0
      let y = 4.0
      #expect(try await py.call("math", "hypot", args: [x, y], as: Double.self) == 5.0)
      #expect(try await py.eval("list(range(n))", locals: ["n": 3], as: [Int].self) == [0, 1, 2])
      let lease = try await py.bind()
      try await lease.exec("def pair(a, b):\n    return {a: b}")
      #expect(try await lease.call("__main__", "pair", args: ["k", 7], as: [String: Int].self) == ["k": 7])
      await lease.unbind()
      do {
        _ = try await py.call("builtins", "str", args: [1], as: Int.self)
        Issue.record("a str read as Int")
      } catch let error as DecodingError {
        #expect("\(error)".contains("expected int, found str"))
      }
    }
  }

  @Test func pythonValuesConvertToSwiftTypes() {
    #expect(Int(PythonValue.int(42)) == 42)
    #expect(Int(PythonValue.string("42")) == nil)
    #expect(Int(PythonValue.bool(true)) == nil)
    #expect(Int(PythonValue.bigInt(PythonBigInt(UInt64.max))) == nil)
    #expect(Double(PythonValue.float(2.5)) == 2.5)
    #expect(Double(PythonValue.int(2)) == 2.0)
    #expect(String(PythonValue.string("a")) == "a")
    #expect(String(PythonValue.int(1)) == nil)
    #expect(Bool(PythonValue.bool(false)) == false)
    #expect(Bool(PythonValue.int(0)) == nil)
    #expect([Int](PythonValue.tuple([1, 2])) == [1, 2])
    #expect([Int](PythonValue.list([1, "x"])) == nil)
    #expect([String: Double](PythonValue.dict(["a": 1.5])) == ["a": 1.5])
    // Printing shows Python's repr, so a str keeps its quotes and None is None.
    #expect(PythonValue.list([1, "a", .none, .tuple([2.0])]).description == "[1, 'a', None, (2.0,)]")
    #expect("\(PythonValue.dict(["k": .bytes([104, 105])]))" == "{'k': b'hi'}")
  }

  @Test func swiftValuesConvertToPythonValues() throws {
    #expect(UInt8(200).pythonValue == .int(200))
    #expect(UInt64.max.pythonValue == .bigInt(PythonBigInt(UInt64.max)))
    #expect(Int64.min.pythonValue == .int(Int(Int64.min)))
    #expect(Float(1.5).pythonValue == .float(1.5))
    #expect("ab".dropFirst().pythonValue == .string("b"))
    #expect([UInt8]([1, 2]).pythonValue == .list([1, 2]))
    #expect(Data([1, 2]).pythonValue == .bytes([1, 2]))
    #expect(Set([3]).pythonValue == .set([3]))
    #expect((nil as String?).pythonValue == .none)
    #expect(["a": [1, 2]].pythonValue == .dict(["a": [1, 2]]))
    let ordered: OrderedDictionary<Int, Bool> = [2: true, 1: false]
    #expect(ordered.pythonValue == .dict([2: true, 1: false]))
    #expect(PythonBigInt(7).pythonValue == .int(7))
    #expect(try PythonValue.encoding(Point(x: 1, y: 2)) == ["x": 1, "y": 2.0])
  }

  // MARK: Live objects

  @Test func liveObjectsReadLikePython() async throws {
    try await withRuntime { py in
      let ctx = try await py.newContext(mode: .worker)
      try await ctx.withPython { python in
        let math = try python.import("math")
        #expect(try Double(math.sqrt(16)) == 4.0)
        let joined = try python.import("os.path").join("a", "b")
        #expect(try String(joined) == "a/b")
        let dumped = try python.import("json").dumps(["b": 1, "a": 2] as PythonValue, sort_keys: true)
        #expect(dumped.description == #"{"a": 2, "b": 1}"#)

        let list = try python.eval("[10, 20, 30]")
        #expect(try Int(list[0]) == 10)
        #expect(try Int(list[-1]) == 30)
        try list.setItem(1, 21)
        #expect(try list.value == [10, 21, 30])
        #expect(try python.len(list) == 3)
        #expect(try list.iterate().map { try Int($0) } == [10, 21, 30])

        let dict = try python.eval("{}")
        try dict.setItem("k", [1, 2])
        #expect(try dict["k"].value == [1, 2])
        #expect(throws: PythonError.self) { _ = try dict["missing"] }

        #expect(try "\(python.eval("'text'"))" == "text")
        #expect(throws: DecodingError.self) { _ = try Int(python.eval("'1'")) }
      }
      await ctx.close()
    }
  }

  @Test func operatorsFollowPythonAndThrow() async throws {
    try await withRuntime { py in
      try await py.withPython { python in
        let seven = try python.object(7)
        let two = try python.object(2)
        #expect(try Int(seven + two) == 9)
        #expect(try Int(seven - 10) == -3)
        #expect(try Int(seven * two) == 14)
        #expect(try Double(seven / 2) == 3.5)
        #expect(try Int(-seven % 3) == 2)  // Python's modulo takes the divisor's sign
        #expect(try String(python.object("ab") * 2) == "abab")
        #expect(try seven == 7)
        #expect(try seven != two)
        #expect(try two < seven)
        #expect(try seven <= 7)
        #expect(try !(two > seven))
        #expect(try seven >= two)
        #expect(try python.eval("[1]") == python.eval("[1]"))
        let division = #expect(throws: PythonError.self) { _ = try seven / 0 }
        #expect(division?.type == "ZeroDivisionError")
        let mismatch = #expect(throws: PythonError.self) { _ = try seven + "x" }
        #expect(mismatch?.type == "TypeError")
        #expect(throws: PythonError.self) { _ = try seven < "x" }
      }
    }
  }

  @Test func iterationThrowsWhatTheIteratorRaises() async throws {
    try await withRuntime { py in
      let ctx = try await py.newContext(mode: .worker)
      try await ctx.exec(
        """
        def broken():
            yield 1
            raise ValueError('midway')
        """)
      try await ctx.withPython { python in
        var seen: [String] = []
        for key in try python.eval("{'a': 1, 'b': 2}").iterate() { seen.append(try String(key)) }
        #expect(seen == ["a", "b"])
        let error = #expect(throws: PythonError.self) { _ = try python.eval("broken()").iterate() }
        #expect(error?.type == "ValueError")
        #expect(throws: PythonError.self) { _ = try python.object(3).iterate() }
        #expect(try python.eval("[0]").isTruthy())
        #expect(try !python.eval("''").isTruthy())
      }
      await ctx.close()
    }
  }

  @Test func keptObjectsThrowOffTheirThread() async throws {
    try await withRuntime { py in
      let ctx = try await py.newContext(mode: .worker)
      let kept = ConfinementTests.Smuggled()
      try await ctx.withPython { python in kept.object = try python.eval("[1, 2]") }
      let object = try #require(kept.object)
      #expect(throws: SwiftPyError.self) { _ = try object[0] }
      #expect(throws: SwiftPyError.self) { _ = try object + [3] }
      #expect(throws: SwiftPyError.self) { _ = try object == [1, 2] }
      #expect(throws: SwiftPyError.self) { _ = try -object }
      #expect(throws: SwiftPyError.self) { _ = try object.iterate() }
      #expect(throws: SwiftPyError.self) { _ = try object.isTruthy() }
      #expect(throws: SwiftPyError.self) { _ = try Int(object) }
      #expect(throws: SwiftPyError.self) { _ = try object.index(1) }
      #expect(throws: SwiftPyError.self) { try object.setItem(0, 5) }
      kept.object = nil
      await ctx.close()
    }
  }

  // MARK: withPython on the runtime

  @Test func runtimeWithPythonUsesTheBoundLease() async throws {
    try await withRuntime { py in
      let fresh = try await py.withPython { python in try python.eval("'x' in globals()").isTruthy() }
      #expect(!fresh)
      let answer = try await py.withContext {
        try await py.exec("x = 41")
        return try await py.withPython { python in try Int(python.eval("x") + 1) }
      }
      #expect(answer == 42)
      // Outside the lease the namespace is fresh again: `x` is gone.
      let error = await expectPythonError {
        _ = try await py.withPython { python in try python.eval("x").value }
      }
      #expect(error?.type == "NameError")
    }
  }
}
