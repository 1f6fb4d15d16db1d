import Foundation
import OrderedCollections
import Testing

@testable import SwiftPy

// MARK: - Fixtures

private enum Role: String, Codable { case admin, user }
private enum Level: Int, Codable {
  case low = 1
  case high = 2
}

private struct Address: Codable, Equatable {
  var street: String
  var zip: String?
}

private struct User: Codable, Equatable {
  var name: String
  var age: Int
  var score: Double
  var ratio: Float
  var active: Bool
  var nickname: String?
  var address: Address?
  var tags: [String]
  var scores: [String: Int]
  var role: Role
  var level: Level
  var small: Int8
  var big: UInt64
}

private let ada = User(
  name: "Ada", age: 36, score: 9.5, ratio: 0.25, active: true, nickname: nil,
  address: Address(street: "Main", zip: nil), tags: ["math", "engines"], scores: ["logic": 90],
  role: .admin, level: .high, small: -5, big: UInt64.max)

/// What `ada` encodes to: keys in declaration order, nil optionals left out.
private let adaValue: PythonValue = [
  "name": "Ada", "age": 36, "score": 9.5, "ratio": 0.25, "active": true,
  "address": ["street": "Main"], "tags": ["math", "engines"], "scores": ["logic": 90],
  "role": "admin", "level": 2, "small": -5, "big": .bigInt(PythonBigInt(UInt64.max)),
]

private let huge = PythonBigInt("-123456789012345678901234567890")!

/// Holds PythonValues and our other pass-through types inside an ordinary Codable struct.
private struct Holder: Codable, Equatable {
  var value: PythonValue
  var values: [PythonValue]
  var big: PythonBigInt
  var maybe: PythonValue?
  var data: Data
}

private final class Chain: Codable {
  var next: Chain?
  init(next: Chain?) { self.next = next }

  static func of(length: Int) -> Chain {
    var head = Chain(next: nil)
    for _ in 1..<length { head = Chain(next: head) }
    return head
  }

  var length: Int {
    var count = 1
    var node = self
    while let next = node.next {
      count += 1
      node = next
    }
    return count
  }
}

private func chainValue(length: Int) -> PythonValue {
  var value: PythonValue = [:]
  for _ in 1..<length { value = ["next": value] }
  return value
}

private func keys(_ path: [any CodingKey]) -> [String] { path.map(\.stringValue) }

/// The context of any DecodingError, to check paths and messages whatever the case.
private func context(_ error: DecodingError?) -> DecodingError.Context? {
  switch error {
  case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
    .dataCorrupted(let context):
    context
  default: nil
  }
}

private func decodingError<T: Decodable>(_ type: T.Type, _ value: PythonValue) -> DecodingError? {
  #expect(throws: DecodingError.self) { try value.decode(type) }
}

@Suite struct PythonValueCodingTests {
  // MARK: Encoder

  @Test func encodesNestedStructInDeclarationOrder() throws {
    let value = try PythonValue(encoding: ada)
    #expect(value == adaValue)
    #expect(value.dictValue.map { Array($0.keys) } == adaValue.dictValue.map { Array($0.keys) })
  }

  @Test func decodesNestedStruct() throws {
    #expect(try adaValue.decode(User.self) == ada)
    // Python-side shapes: another key order, a tuple for a list, explicit None, extra and non-string keys.
    var fromPython = try #require(adaValue.dictValue)
    fromPython.removeValue(forKey: "name")
    fromPython["name"] = "Ada"
    fromPython["tags"] = .tuple(["math", "engines"])
    fromPython["nickname"] = nil
    fromPython[.string("nickname")] = PythonValue.none
    fromPython["extra"] = [1, 2]
    fromPython[.int(7)] = "ignored"
    #expect(try PythonValue.dict(fromPython).decode(User.self) == ada)
  }

  @Test func encodesScalarsToTheirNaturalCases() throws {
    let encoder = PythonValueEncoder()
    #expect(try encoder.encode(Int8(-5)) == .int(-5))
    #expect(try encoder.encode(UInt8(255)) == .int(255))
    #expect(try encoder.encode(Int16.min) == .int(Int(Int16.min)))
    #expect(try encoder.encode(UInt32.max) == .int(Int(UInt32.max)))
    #expect(try encoder.encode(Int64.min) == .int(Int.min))
    #expect(try encoder.encode(UInt64(Int.max)) == .int(Int.max))
    #expect(try encoder.encode(UInt64.max) == .bigInt(PythonBigInt(UInt64.max)))
    #expect(try encoder.encode(UInt(Int.max) + 1) == .bigInt(PythonBigInt("9223372036854775808")!))
    #expect(try encoder.encode(Int128.min) == .bigInt(PythonBigInt(Int128.min)))
    #expect(try encoder.encode(Float(0.5)) == .float(0.5))
    #expect(try encoder.encode(-0.0) == .float(-0.0))
    #expect(try encoder.encode(Double.nan) == .float(.nan))
    #expect(try encoder.encode(true) == .bool(true))
    #expect(try encoder.encode("s") == .string("s"))
    #expect(try encoder.encode(Int?.none) == .none)
    #expect(try encoder.encode([1, 2]) == [1, 2])
    #expect(try encoder.encode([[Int?.none]]) == [[nil]])
    #expect(try encoder.encode(["k": 1]) == ["k": 1])
    #expect(try encoder.encode(Data([0, 255])) == .bytes([0, 255]))
    #expect(try encoder.encode(PythonBigInt(5)) == .int(5))
    #expect(try encoder.encode(huge) == .bigInt(huge))
    #expect(try encoder.encode(Role.user) == "user")
  }

  @Test func keyedContainersKeepEncodingOrder() throws {
    struct Backwards: Encodable {
      enum Key: String, CodingKey { case a, m, z }
      func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(1, forKey: .z)
        try container.encode(2, forKey: .a)
        try container.encode(3, forKey: .m)
        // Re-encoding a key replaces its value in place.
        try container.encode(4, forKey: .z)
      }
    }
    let value = try PythonValue(encoding: Backwards())
    #expect(value == ["z": 4, "a": 2, "m": 3])
    #expect(value.description == "{'z': 4, 'a': 2, 'm': 3}")
  }

  @Test func nestedContainersAndSuperEncoders() throws {
    struct Shape: Codable, Equatable {
      var corners: [[Int]]
      var label: String
      enum Key: String, CodingKey { case geometry, label, corners, extra }

      init(corners: [[Int]], label: String) {
        self.corners = corners
        self.label = label
      }

      func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        var geometry = container.nestedContainer(keyedBy: Key.self, forKey: .geometry)
        var corners = geometry.nestedUnkeyedContainer(forKey: .corners)
        for corner in self.corners {
          var pair = corners.nestedUnkeyedContainer()
          for coordinate in corner { try pair.encode(coordinate) }
        }
        var extra = corners.nestedContainer(keyedBy: Key.self)
        try extra.encodeNil(forKey: .extra)
        try label.encode(to: container.superEncoder(forKey: .label))
        try "base".encode(to: container.superEncoder())
      }

      init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        let geometry = try container.nestedContainer(keyedBy: Key.self, forKey: .geometry)
        var corners = try geometry.nestedUnkeyedContainer(forKey: .corners)
        var result: [[Int]] = []
        while corners.count! - corners.currentIndex > 1 {
          var pair = try corners.nestedUnkeyedContainer()
          var corner: [Int] = []
          while !pair.isAtEnd { corner.append(try pair.decode(Int.self)) }
          result.append(corner)
        }
        let extra = try corners.nestedContainer(keyedBy: Key.self)
        #expect(try extra.decodeNil(forKey: .extra))
        self.corners = result
        self.label = try String(from: container.superDecoder(forKey: .label))
        #expect(try String(from: container.superDecoder()) == "base")
      }
    }
    let shape = Shape(corners: [[0, 0], [1, 2]], label: "tri")
    let value = try PythonValue(encoding: shape)
    #expect(
      value == [
        "geometry": ["corners": [[0, 0], [1, 2], ["extra": nil]]], "label": "tri", "super": "base",
      ])
    #expect(try value.decode(Shape.self) == shape)
  }

  @Test func classHierarchies() throws {
    class Base: Codable {
      var id = 1
    }
    final class SeparateSuper: Base {
      var extra = "x"
      enum Key: String, CodingKey { case extra }
      override init() { super.init() }
      required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        extra = try container.decode(String.self, forKey: .extra)
        try super.init(from: container.superDecoder())
      }
      override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(extra, forKey: .extra)
        try super.encode(to: container.superEncoder())
      }
    }
    final class SharedEncoder: Base {
      var extra = "y"
      enum Key: String, CodingKey { case extra }
      override init() { super.init() }
      required init(from decoder: any Decoder) throws {
        extra = try decoder.container(keyedBy: Key.self).decode(String.self, forKey: .extra)
        try super.init(from: decoder)
      }
      override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(extra, forKey: .extra)
        try super.encode(to: encoder)
      }
    }
    #expect(try PythonValue(encoding: SeparateSuper()) == ["extra": "x", "super": ["id": 1]])
    let separate = try PythonValue(dictionaryLiteral: ("extra", "q"), ("super", ["id": 9])).decode(
      SeparateSuper.self)
    #expect(separate.extra == "q")
    #expect(separate.id == 9)
    #expect(try PythonValue(encoding: SharedEncoder()) == ["extra": "y", "id": 1])
    let shared = try PythonValue(dictionaryLiteral: ("id", 3), ("extra", "z")).decode(SharedEncoder.self)
    #expect(shared.extra == "z")
    #expect(shared.id == 3)
  }

  @Test func encoderMisuseThrowsInsteadOfCrashing() throws {
    struct Confused: Encodable {
      enum Key: CodingKey { case a }
      func encode(to encoder: any Encoder) throws {
        var keyed = encoder.container(keyedBy: Key.self)
        try keyed.encode(1, forKey: .a)
        var unkeyed = encoder.unkeyedContainer()
        try unkeyed.encode(2)
      }
    }
    struct Silent: Encodable {
      func encode(to encoder: any Encoder) throws {}
    }
    #expect(throws: EncodingError.self) { try PythonValue(encoding: Confused()) }
    #expect(throws: EncodingError.self) { try PythonValue(encoding: Silent()) }
    // Nested, a value that encodes nothing is an empty dict, as with JSONEncoder.
    #expect(try PythonValue(encoding: [Silent()]) == [[:]])
  }

  @Test func userInfoReachesTheValues() throws {
    let key = CodingUserInfoKey(rawValue: "greeting")!
    struct Greeter: Codable {
      static let key = CodingUserInfoKey(rawValue: "greeting")!
      var text: String
      init(text: String) { self.text = text }
      func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(encoder.userInfo[Self.key] as? String ?? "none")
      }
      init(from decoder: any Decoder) throws { text = decoder.userInfo[Self.key] as? String ?? "none" }
    }
    var encoder = PythonValueEncoder()
    encoder.userInfo[key] = "hello"
    #expect(try encoder.encode(Greeter(text: "")) == "hello")
    var decoder = PythonValueDecoder()
    decoder.userInfo[key] = "hi"
    #expect(try decoder.decode(Greeter.self, from: nil).text == "hi")
  }

  // MARK: Decoder

  @Test func decodesWithStrictConversions() throws {
    #expect(try PythonValue.int(3).decode(Double.self) == 3.0)
    #expect(try PythonValue.int(3).decode(Float.self) == 3.0)
    #expect(
      try PythonValue.bigInt(PythonBigInt(UInt64.max)).decode(Double.self) == 18_446_744_073_709_551_616.0)
    #expect(try PythonValue.float(.infinity).decode(Float.self) == .infinity)
    #expect(try PythonValue.bigInt(PythonBigInt(UInt64.max)).decode(UInt64.self) == UInt64.max)
    #expect(try PythonValue.bigInt(PythonBigInt(Int128.max)).decode(Int128.self) == Int128.max)
    #expect(try PythonValue.int(-1).decode(Int64.self) == -1)
    #expect(try PythonValue.set([3, 1, 2]).decode([Int].self) == [1, 2, 3])
    #expect(try PythonValue.tuple([1, "a"]).decode([PythonValue].self) == [1, "a"])
    #expect(try PythonValue.bytes([1, 2]).decode([UInt8].self) == [1, 2])
    #expect(try PythonValue.bytes([1, 2]).decode(Data.self) == Data([1, 2]))
    #expect(try PythonValue.list([1, 2]).decode(Data.self) == Data([1, 2]))
    #expect(try PythonValue.list([1, nil, 3]).decode([Int?].self) == [1, nil, 3])
    #expect(try PythonValue.none.decode(Int?.self) == nil)
    #expect(
      try PythonValue(dictionaryLiteral: (1, "a"), (2, "b")).decode([Int: String].self) == [1: "a", 2: "b"])
    #expect(try PythonValue(dictionaryLiteral: ("1", "a")).decode([Int: String].self) == [1: "a"])
    #expect(try (["x": 1, "y": 2] as PythonValue).decode([String: Int].self) == ["x": 1, "y": 2])
    #expect(try PythonValue.int(5).decode(PythonBigInt.self) == PythonBigInt(5))
    #expect(try PythonValue.bigInt(huge).decode(PythonBigInt.self) == huge)
    #expect(try PythonValue.float(.nan).decode(Double.self).isNaN)
  }

  @Test func typeMismatchNamesThePythonType() throws {
    func check<T: Decodable>(_ type: T.Type, _ value: PythonValue, _ message: String) {
      let error = decodingError(type, value)
      guard case .typeMismatch = error else {
        Issue.record("expected typeMismatch, got \(String(describing: error))")
        return
      }
      #expect(context(error)?.debugDescription == message)
    }
    check(Int.self, "1", "expected int, found str")
    check(Int.self, true, "expected int, found bool")
    check(Int.self, 36.0, "expected int, found float")
    check(Bool.self, 1, "expected bool, found int")
    check(Double.self, "1.5", "expected float, found str")
    check(Float.self, [1], "expected float, found list")
    check(String.self, .bytes([97]), "expected str, found bytes")
    check(PythonBigInt.self, 1.0, "expected int, found float")
    check(User.self, [1], "expected dict, found list")
    check([Int].self, ["a": 1], "expected list, tuple or set, found dict")
  }

  @Test func errorsCarryTheCodingPath() throws {
    var wrongAge = try #require(adaValue.dictValue)
    wrongAge["age"] = "x"
    let ageError = decodingError(User.self, .dict(wrongAge))
    #expect(keys(context(ageError)?.codingPath ?? []) == ["age"])
    #expect(context(ageError)?.debugDescription == "expected int, found str")

    var wrongStreet = try #require(adaValue.dictValue)
    wrongStreet["address"] = ["street": 5]
    let streetError = decodingError(User.self, .dict(wrongStreet))
    #expect(keys(context(streetError)?.codingPath ?? []) == ["address", "street"])

    var wrongTag = try #require(adaValue.dictValue)
    wrongTag["tags"] = ["a", 2]
    let tagError = decodingError(User.self, .dict(wrongTag))
    #expect(keys(context(tagError)?.codingPath ?? []) == ["tags", "Index 1"])
    #expect(context(tagError)?.debugDescription == "expected str, found int")
  }

  @Test func missingKeyAndNone() throws {
    var missing = try #require(adaValue.dictValue)
    missing.removeValue(forKey: "age")
    let error = decodingError(User.self, .dict(missing))
    guard case .keyNotFound(let key, let context) = error else {
      Issue.record("expected keyNotFound, got \(String(describing: error))")
      return
    }
    #expect(key.stringValue == "age")
    #expect(context.codingPath.isEmpty)

    var noName = try #require(adaValue.dictValue)
    noName["name"] = PythonValue.none
    let noneError = decodingError(User.self, .dict(noName))
    guard case .valueNotFound(_, let noneContext) = noneError else {
      Issue.record("expected valueNotFound, got \(String(describing: noneError))")
      return
    }
    #expect(keys(noneContext.codingPath) == ["name"])
    #expect(noneContext.debugDescription == "expected str, found NoneType")
  }

  @Test func outOfRangeIntegers() throws {
    var tooBig = try #require(adaValue.dictValue)
    tooBig["small"] = 300
    let error = decodingError(User.self, .dict(tooBig))
    guard case .dataCorrupted(let context) = error else {
      Issue.record("expected dataCorrupted, got \(String(describing: error))")
      return
    }
    #expect(keys(context.codingPath) == ["small"])
    #expect(context.debugDescription == "int 300 does not fit in Int8")
    #expect(decodingError(UInt8.self, -1) != nil)
    #expect(decodingError(Int.self, .bigInt(PythonBigInt(UInt64.max))) != nil)
    #expect(decodingError(Int64.self, .bigInt(huge)) != nil)
    #expect(decodingError(Float.self, 1e300) != nil)
    #expect(decodingError(Role.self, "root") != nil)  // not a raw value of the enum
  }

  @Test func unkeyedContainerEdges() throws {
    struct Pair: Decodable {
      var first: Int
      init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        #expect(container.count == 1)
        #expect(try !container.decodeNil())  // a non-nil element stays for the next decode
        first = try container.decode(Int.self)
        #expect(container.isAtEnd)
        #expect(throws: DecodingError.self) { try container.decode(Int.self) }
        #expect(throws: DecodingError.self) { try container.decodeNil() }
      }
    }
    #expect(try PythonValue.list([7]).decode(Pair.self).first == 7)
  }

  // MARK: Pass-through of our own types

  @Test func pythonValuesPassThroughUnchanged() throws {
    let inner: PythonValue = .tuple([1, .set([1, "a"]), .bytes([0, 255]), .bigInt(huge), .float(.nan)])
    let holder = Holder(
      value: inner, values: [.float(-0.0), .tuple([]), .dict([.int(1): .set([])])], big: huge,
      maybe: .tuple([nil]), data: Data([9]))
    let encoded = try PythonValue(encoding: holder)
    #expect(
      encoded == [
        "value": inner, "values": [.float(-0.0), .tuple([]), .dict([.int(1): .set([])])],
        "big": .bigInt(huge), "maybe": .tuple([nil]), "data": .bytes([9]),
      ])
    #expect(try encoded.decode(Holder.self) == holder)
  }

  @Test func everyCaseSurvivesOurEncoderAndDecoder() throws {
    let values: [PythonValue] = [
      .none, .bool(false), .int(Int.min), .bigInt(huge), .float(.nan), .float(-0.0), .string("é"),
      .bytes([0]), .list([.tuple([])]), .tuple([1]), .dict([.tuple([1, 2]): .set([nil])]), .set([1.5, "x"]),
    ]
    for value in values {
      #expect(try PythonValue(encoding: value) == value)
      #expect(try value.decode(PythonValue.self) == value)
      #expect(try PythonValueDecoder().decode(PythonValue.self, from: value) == value)
    }
  }

  @Test func wrappersCallingEncodeDirectlyStillPassThrough() throws {
    // Property wrappers and the like call `encode(to:)`/`init(from:)` on the value themselves.
    struct Wrapper: Codable {
      var inner: PythonValue
      var number: PythonBigInt
      enum Key: CodingKey { case number }
      init(inner: PythonValue, number: PythonBigInt) {
        self.inner = inner
        self.number = number
      }
      func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try inner.encode(to: container.superEncoder())
        try number.encode(to: container.superEncoder())
      }
      init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        inner = try PythonValue(from: container.superDecoder())
        number = try PythonBigInt(from: container.superDecoder())
      }
    }
    let value = try PythonValue(encoding: Wrapper(inner: .tuple([.set([1])]), number: huge))
    #expect(value == [.tuple([.set([1])]), .bigInt(huge)])
    let back = try value.decode(Wrapper.self)
    #expect(back.inner == .tuple([.set([1])]))
    #expect(back.number == huge)
  }

  // MARK: PythonValue's own Codable with Foundation's JSON

  @Test func jsonEncoding() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let value: PythonValue = [
      "b": [1, 2.5, "x", nil, true], "a": .bigInt(huge), "c": .bytes([1, 2]), "d": .tuple([1]),
      "e": .set([2, 1]),
    ]
    let json = String(decoding: try encoder.encode(value), as: UTF8.self)
    #expect(
      json
        == #"{"a":"-123456789012345678901234567890","b":[1,2.5,"x",null,true],"c":[1,2],"d":[1],"e":[1,2]}"#)
    let pairs: PythonValue = [1: "a", "b": 2]
    #expect(String(decoding: try encoder.encode(pairs), as: UTF8.self) == #"[[1,"a"],["b",2]]"#)
    #expect(throws: EncodingError.self) { try encoder.encode(PythonValue.float(.nan)) }
  }

  @Test func jsonDecoding() throws {
    let json = #"{"x": true, "y": 1, "z": 1.5, "w": null, "v": "s", "u": [1, {"k": false}], "t": []}"#
    let value = try JSONDecoder().decode(PythonValue.self, from: Data(json.utf8))
    // JSONDecoder does not report keys in document order, so compare without order.
    let dict = try #require(value.dictValue)
    #expect(
      Dictionary(uniqueKeysWithValues: dict.map { ($0.key, $0.value) }) == [
        "x": .bool(true), "y": .int(1), "z": .float(1.5), "w": .none, "v": .string("s"),
        "u": .list([.int(1), .dict(["k": .bool(false)])]), "t": .list([]),
      ])
  }

  @Test func jsonRoundTripInsideAStruct() throws {
    struct Config: Codable, Equatable {
      var name: String
      var extra: PythonValue
    }
    let config = Config(name: "c", extra: ["list": [1, -2.5, "s", nil, false, ["nested": [[]]]]])
    let data = try JSONEncoder().encode(config)
    #expect(try JSONDecoder().decode(Config.self, from: data) == config)
    // Shapes JSON cannot tell apart come back as their portable forms.
    let lossy = Config(name: "l", extra: [.tuple([1]), .bytes([7]), .bigInt(huge), .set(["only"])])
    let back = try JSONDecoder().decode(Config.self, from: try JSONEncoder().encode(lossy))
    #expect(back.extra == [[1], [7], .string(huge.description), ["only"]])
  }

  // MARK: Depth limits

  @Test func encoderDepthLimit() throws {
    var encoder = PythonValueEncoder()
    encoder.maximumDepth = 10
    #expect(try encoder.encode(Chain.of(length: 10)) == chainValue(length: 10))
    let error = #expect(throws: EncodingError.self) { try encoder.encode(Chain.of(length: 11)) }
    guard case .invalidValue(_, let context) = error else { return }
    #expect(context.codingPath.count == 10)
    #expect(context.debugDescription == "nesting deeper than 10 levels")
  }

  @Test func decoderDepthLimit() throws {
    var decoder = PythonValueDecoder()
    decoder.maximumDepth = 10
    #expect(try decoder.decode(Chain.self, from: chainValue(length: 10)).length == 10)
    let error = #expect(throws: DecodingError.self) {
      try decoder.decode(Chain.self, from: chainValue(length: 11))
    }
    #expect(context(error)?.codingPath.count == 10)
    #expect(context(error)?.debugDescription == "nesting deeper than 10 levels")
  }

  @Test func defaultDepthLimitRefusesDeepNestingWithoutCrashing() throws {
    #expect(PythonValueEncoder().maximumDepth == PythonValueEncoder.defaultMaximumDepth)
    #expect(PythonValueDecoder().maximumDepth == PythonValueDecoder.defaultMaximumDepth)
    let limit = PythonValueEncoder.defaultMaximumDepth
    #expect(try PythonValue(encoding: Chain.of(length: limit)).dictValue != nil)
    #expect(throws: EncodingError.self) { try PythonValue(encoding: Chain.of(length: 5 * limit)) }
    let deep = chainValue(length: 5 * limit)
    #expect(try deep.decode(PythonValue.self) == deep)  // pass-through does not recurse
    #expect(throws: DecodingError.self) { try deep.decode(Chain.self) }
    #expect(try chainValue(length: limit).decode(Chain.self).length == limit)
    // Foundation's coders recurse through PythonValue's own Codable, which stops at the same limit.
    var nested: PythonValue = []
    for _ in 0..<(limit + 10) { nested = [nested] }
    #expect(throws: EncodingError.self) { try JSONEncoder().encode(nested) }
  }
}
