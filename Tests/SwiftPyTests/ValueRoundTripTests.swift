import OrderedCollections
import Testing

@testable import SwiftPy

@Suite("Values cross the boundary exactly")
struct ValueRoundTripTests {
  static let big = PythonBigInt("-123456789012345678901234567890123456789012345678901234567890")!

  static let samples: [PythonValue] = [
    .none, true, false, 0, -1, .int(Int.max), .int(Int.min), .bigInt(big),
    .bigInt(PythonBigInt("18446744073709551616")!),  // 2**64
    1.5, .float(.nan), .float(.infinity), .float(-.infinity), .float(-0.0), .float(.leastNonzeroMagnitude),
    "", "héllo wörld 🐍", "nul\u{0}inside", .bytes([]), .bytes([0, 1, 0, 255]),
    [], [1, "two", 3.0, nil], .tuple([]), .tuple([1]), .tuple([.tuple([1, 2]), "x"]),
    [:], ["b": 1, "a": 2, "c": 3], [.int(1): "int key", .tuple([1, 2]): "tuple key", .none: "none key"],
    .set([]), .set([1, "a", .tuple([1, 2])]),
    [.set([1, 2]): "frozenset key"],
    ["nested": [["deep": [.set([.bytes([1])])]]]],
  ]

  /// Each value goes to Python and back unchanged, and Python sees the right type.
  @Test(arguments: samples) func roundTrip(_ value: PythonValue) async throws {
    try await Self.shared { (ctx) async throws in
      let echoed = try await ctx.eval("v", locals: ["v": value])
      #expect(echoed == value)
      if case .float(let d) = value, case .float(let e) = echoed {
        #expect(d.bitPattern == e.bitPattern || (d.isNaN && e.isNaN))
      }
      let typeName = try await ctx.eval("type(v).__name__", locals: ["v": value])
      #expect(typeName == .string(value.typeName))
    }
  }

  @Test func pythonSideValuesArriveExactly() async throws {
    try await Self.shared { (ctx) async throws in
      #expect(
        try await ctx.eval("2**200")
          == .bigInt(PythonBigInt("1606938044258990275541962092341162602522202993782792835301376")!))
      #expect(try await ctx.eval("-2**63") == .int(Int.min))
      #expect(try await ctx.eval("2**63") == .bigInt(PythonBigInt("9223372036854775808")!))
      #expect(try await ctx.eval("float('-0.0')") == .float(-0.0))
      #expect(try await ctx.eval("float('-0.0')") != .float(0.0))
      #expect(try await ctx.eval("b'a\\x00b'") == .bytes([97, 0, 98]))
      #expect(try await ctx.eval("frozenset({1})") == .set([1]))
      #expect(
        try await ctx.eval("{'z': 1, 'a': 2, 'm': 3}").dictValue.map { Array($0.keys) } == ["z", "a", "m"])
      // Subclasses arrive as their base type.
      #expect(try await ctx.eval("__import__('collections').OrderedDict(b=1, a=2)") == ["b": 1, "a": 2])
      #expect(try await ctx.eval("__import__('enum').IntEnum('E', 'X Y').Y") == 2)
      #expect(try await ctx.eval("True") == true)
      // A set subclass's own __iter__ is never run by the conversion.
      let noisy =
        "type('S', (set,), {'__iter__': lambda self: (_ for _ in ()).throw(RuntimeError('ran'))})({1, 2})"
      #expect(try await ctx.eval(noisy) == .set([1, 2]))
    }
  }

  /// A 16 MB int converts in linear time (through its bytes; the decimal text CPython would
  /// make is quadratic: hours at this size), and exactly.
  @Test(.timeLimit(.minutes(2))) func aHugeIntConvertsInLinearTime() async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1))) { (py) async throws in
      let bits = 8 << 24
      let value = try await py.eval("(1 << \(bits)) - 1")
      guard case .bigInt(let huge) = value else {
        Issue.record("not a big int: \(value.typeName)")
        return
      }
      #expect(!huge.isNegative && huge.magnitudeWords.count == bits / 64)
      #expect(huge.magnitudeWords.allSatisfy { $0 == .max })
    }
  }

  @Test func dictKeyOrderIsKept() async throws {
    try await Self.shared { (ctx) async throws in
      var dict = OrderedDictionary<PythonValue, PythonValue>()
      for key in (0..<200).shuffled() { dict[.string("k\(key)")] = .int(key) }
      let keys = try await ctx.eval("list(d)", locals: ["d": .dict(dict)])
      #expect(keys == .list(Array(dict.keys)))
    }
  }

  @Test func unconvertibleValueNamesItsType() async throws {
    try await Self.shared { (ctx) async throws in
      for (code, type) in [
        ("(i for i in range(3))", "generator"), ("__import__('math')", "module"), ("object()", "object"),
        ("len", "builtin_function_or_method"),
      ] {
        do {
          _ = try await ctx.eval(code)
          Issue.record("\(code) converted")
        } catch let error as SwiftPyError {
          #expect(error.code == .unsupportedType)
          #expect(error.pythonType == type)
          #expect(error.message.contains("'\(type)'"))
        }
      }
      // An unhashable key in a Swift-made dict is refused by Python, clearly.
      do {
        _ = try await ctx.eval("d", locals: ["d": [[1]: "list key"]])
        Issue.record("list key converted")
      } catch let error as SwiftPyError {
        #expect(error.code == .rejectedByPython)
        #expect(error.message.contains("unhashable"))
      }
      #expect(try await ctx.eval("'still alive'") == "still alive")
    }
  }

  @Test func deepNestingIsAnErrorNotACrash() async throws {
    try await Self.shared { (ctx) async throws in
      // Python → Swift: deeper than the limit, and a list that contains itself.
      for code in [
        "__import__('functools').reduce(lambda a, _: [a], range(5000), [])",
        "(lambda l: (l.append(l), l)[1])([])",
      ] {
        do {
          _ = try await ctx.eval(code)
          Issue.record("converted \(code)")
        } catch let error as SwiftPyError {
          #expect(error.code == .nestingTooDeep)
        }
      }
      // Swift → Python.
      var deep: PythonValue = []
      for _ in 0..<(PythonValue.maximumDepth + 5) { deep = [deep] }
      do {
        _ = try await ctx.eval("v", locals: ["v": deep])
        Issue.record("converted a too-deep value")
      } catch let error as SwiftPyError {
        #expect(error.code == .nestingTooDeep)
      }
      // Just under the limit works.
      var fine: PythonValue = 1
      for _ in 0..<(PythonValue.maximumDepth - 10) { fine = [fine] }
      #expect(try await ctx.eval("v", locals: ["v": fine]) == fine)
    }
  }

  @Test func keysThatMergeOnTheOtherSideAreRefused() async throws {
    try await Self.shared { (ctx) async throws in
      for value: PythonValue in [
        [.int(1): "a", .bool(true): "b"], .set([0, false]), .set([.float(0.0), .float(-0.0)]),
      ] {
        do {
          _ = try await ctx.eval("v", locals: ["v": value])
          Issue.record("\(value) converted with merged keys")
        } catch let error as SwiftPyError {
          #expect(error.code == .mergedKeys)
        }
      }
      do {
        _ = try await ctx.eval("{float('nan'): 1, float('nan'): 2}")
        Issue.record("two NaN keys collapsed silently")
      } catch let error as SwiftPyError {
        #expect(error.code == .mergedKeys)
      }
    }
  }

  @Test func loneSurrogatesAreAClearError() async throws {
    try await Self.shared { (ctx) async throws in
      do {
        _ = try await ctx.eval("'a\\ud800b'")
        Issue.record("converted a lone surrogate")
      } catch let error as SwiftPyError {
        #expect(error.code == .invalidString)
      }
    }
  }

  /// One worker context per call of this helper; worker mode works with every Python.
  static func shared(_ body: (PythonContext) async throws -> Void) async throws {
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: .worker))) { (py) async throws in
      let ctx = try await py.newContext(mode: .worker)
      try await body(ctx)
    }
  }
}
