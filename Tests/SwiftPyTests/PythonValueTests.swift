import OrderedCollections
import Testing

@testable import SwiftPy

@Suite struct PythonValueTests {
  // MARK: Equality and hashing

  @Test func floatsCompareByIdentity() {
    #expect(PythonValue.float(.nan) == .float(.nan))
    #expect(PythonValue.float(.nan) == .float(-.nan))
    #expect(PythonValue.float(.nan) == .float(.signalingNaN))
    #expect(PythonValue.float(Double(nan: 0x1234, signaling: false)) == .float(.nan))
    #expect(PythonValue.float(.nan).hashValue == PythonValue.float(-.nan).hashValue)
    #expect(PythonValue.float(-0.0) != .float(0.0))
    #expect(PythonValue.float(1.5) == .float(1.5))
    #expect(PythonValue.float(.infinity) != .float(-.infinity))
    #expect(Set<PythonValue>([.float(.nan), .float(-.nan), .float(0.0), .float(-0.0)]).count == 3)
  }

  @Test func numbersOfDifferentTypesDiffer() throws {
    let values: [PythonValue] = [.int(1), .float(1.0), .bool(true), .string("1"), .bytes([1]), .list([1])]
    for (i, a) in values.enumerated() {
      for (j, b) in values.enumerated() where i != j {
        #expect(a != b, "\(a) vs \(b)")
      }
    }
    #expect(Set(values).count == values.count)
    #expect(PythonValue.int(0) != .bool(false))
    #expect(PythonValue.none != .int(0))
    #expect(PythonValue.list([1, 2]) != .tuple([1, 2]))
    #expect(PythonValue.list([]) != .set([]))
  }

  @Test func intAndBigIntHoldingTheSameNumberAreEqual() {
    let five = PythonValue.bigInt(PythonBigInt(5))
    #expect(five == .int(5))
    #expect(PythonValue.int(5) == five)
    #expect(five.hashValue == PythonValue.int(5).hashValue)
    #expect(Set<PythonValue>([five, .int(5)]).count == 1)
    #expect(five != .int(6))
    let big = PythonValue.bigInt(PythonBigInt("99999999999999999999")!)
    #expect(big != .int(Int.max))
    #expect(big == .bigInt(PythonBigInt("99999999999999999999")!))
  }

  @Test func integerNormalises() {
    #expect(PythonValue.integer(PythonBigInt(Int.min)) == .int(Int.min))
    if case .int = PythonValue.integer(PythonBigInt(Int.max)) {} else { Issue.record("expected .int") }
    let beyond = PythonBigInt("9223372036854775808")!
    if case .bigInt(let value) = PythonValue.integer(beyond) {
      #expect(value == beyond)
    } else {
      Issue.record("expected .bigInt")
    }
  }

  @Test func stringsCompareByScalarsLikePython() {
    // Canonically equivalent but different code points: distinct in Python, so distinct here.
    let composed = PythonValue.string("\u{E9}")
    let decomposed = PythonValue.string("e\u{301}")
    #expect(composed != decomposed)
    #expect(composed == .string("é"))
    let dict: PythonValue = [composed: 1, decomposed: 2]
    #expect(dict.dictValue?.count == 2)
    #expect(Set([composed, decomposed]).count == 2)
  }

  @Test func dictEqualityIsOrderSensitive() {
    let ab: PythonValue = ["a": 1, "b": 2]
    let ba: PythonValue = ["b": 2, "a": 1]
    #expect(ab != ba)
    #expect(ab == ["a": 1, "b": 2])
    #expect(ab.hashValue == PythonValue(dictionaryLiteral: ("a", 1), ("b", 2)).hashValue)
    #expect(ab != ["a": 1, "b": 3])
  }

  @Test func setsAndDictsAsKeys() {
    let s1 = PythonValue.set([1, "x", .tuple([1, 2])])
    let s2 = PythonValue.set([.tuple([1, 2]), "x", 1])
    #expect(s1 == s2)
    #expect(s1.hashValue == s2.hashValue)
    #expect(s1 != .set([1, "x"]))
    var dict = OrderedDictionary<PythonValue, PythonValue>()
    dict[s1] = "set"
    dict[["k": [1, 2]]] = "dict"
    dict[.tuple([])] = "empty tuple"
    #expect(dict[s2] == "set")
    #expect(dict[["k": [1, 2]]] == "dict")
    #expect(dict[["k": [1, 3]]] == nil)
    #expect(dict[.list([])] == nil)
  }

  // MARK: Description

  @Test func scalarDescriptions() {
    #expect(PythonValue.none.description == "None")
    #expect(PythonValue.bool(true).description == "True")
    #expect(PythonValue.bool(false).description == "False")
    #expect(PythonValue.int(42).description == "42")
    #expect(PythonValue.int(Int.min).description == "-9223372036854775808")
    #expect(
      PythonValue.bigInt(PythonBigInt("-123456789012345678901234567890")!).description
        == "-123456789012345678901234567890")
  }

  @Test func floatDescriptionsMatchPythonRepr() {
    #expect(PythonValue.float(1.0).description == "1.0")
    #expect(PythonValue.float(1.5).description == "1.5")
    #expect(PythonValue.float(.nan).description == "nan")
    #expect(PythonValue.float(-.nan).description == "nan")
    #expect(PythonValue.float(.infinity).description == "inf")
    #expect(PythonValue.float(-.infinity).description == "-inf")
    #expect(PythonValue.float(0.0).description == "0.0")
    #expect(PythonValue.float(-0.0).description == "-0.0")
    #expect(PythonValue.float(1e100).description == "1e+100")
    // Bit patterns and the repr CPython 3.11 prints for them.
    let reference: [(UInt64, String)] = [
      (0x3FB9_9999_9999_999A, "0.1"),
      (0x3FD5_5555_5555_5555, "0.3333333333333333"),
      (0x3FE5_5555_5555_5555, "0.6666666666666666"),
      (0x4341_C379_37E0_8000, "1e+16"),
      (0x430C_6BF5_2634_0000, "1000000000000000.0"),
      (0x4341_C379_37E0_7FFF, "9999999999999998.0"),
      (0x419D_6F34_547D_F3B6, "123456789.123"),
      (0x0000_0000_0000_0001, "5e-324"),
      (0x7FEF_FFFF_FFFF_FFFF, "1.7976931348623157e+308"),
      (0x3F1A_36E2_EB1C_432D, "0.0001"),
      (0x3EE4_F8B5_88E3_68F1, "1e-05"),
      (0x3F20_2E4B_6CE5_DC68, "0.00012345"),
      (0x4480_F0CF_064D_D592, "1e+22"),
      (0x44B5_2D02_C7E1_4AF6, "1e+23"),
      (0x3EFA_36E2_EB1C_432D, "2.5e-05"),
      (0x4059_0000_0000_0000, "100.0"),
      (0x3E7A_D7F2_9ABC_AF48, "1e-07"),
      (0xC006_0000_0000_0000, "-2.75"),
      (0x43E5_6A95_319D_63E1, "1.2345678901234567e+19"),
      (0x4311_8B54_F22A_EB03, "1234567890123456.8"),
      (0x3F40_624D_D2F1_A9FC, "0.0005"),
      (0x4009_21FB_5444_2D18, "3.141592653589793"),
      (0x4340_0000_0000_0000, "9007199254740992.0"),
      (0x43B0_0000_0000_0000, "1.152921504606847e+18"),
      (0x81A5_6E1F_C2F8_F359, "-1e-300"),
      (0x44DF_E185_CA57_C517, "6.02214076e+23"),
      (0x001F_FFFF_FFFF_FFFF, "4.4501477170144023e-308"),
      (0xF2A7_4DE4_52E6_B438, "-1.989032661366619e+244"),
      (0x6513_270E_269E_0D37, "7.761117632285041e+178"),
      (0x0C5C_7FD0_A6A3_A450, "3.980498358697587e-249"),
      (0xD23F_0824_128B_2F33, "-1.5432835417340557e+88"),
      (0x1818_E811_892F_902B, "1.3647584518757569e-192"),
      (0x9531_985D_5D9D_C9F8, "-1.3701135617873088e-206"),
      (0x36F6_75CC_81E7_4EF5, "6.294675241195386e-44"),
      (0x3D9C_1724_11E2_0B8F, "6.387016158513563e-12"),
      (0x95E6_0AF5_93BD_04CF, "-3.51527970626667e-203"),
      (0x412D_117C_6C20_8CEA, "952510.2111858402"),
      (0xC12B_ACA5_470C_238F, "-906834.6387644875"),
      (0xC125_B683_AAA4_5910, "-711489.833285125"),
      (0xC117_60F1_683D_3EBA, "-383036.35179613123"),
      (0x4103_EC02_9E5C_88C0, "163200.32732493244"),
    ]
    for (bits, repr) in reference {
      #expect(PythonValue.float(Double(bitPattern: bits)).description == repr)
    }
  }

  @Test func stringDescriptionsMatchPythonRepr() {
    let reference: [(String, String)] = [
      ("a'b", #""a'b""#),
      ("a\"b", #"'a"b'"#),
      ("a'b\"c", #"'a\'b"c'"#),
      ("tab\there\nnew\r", #"'tab\there\nnew\r'"#),
      ("\\", #"'\\'"#),
      ("\u{0}\u{1F}\u{7F}", #"'\x00\x1f\x7f'"#),
      ("é日本", "'é日本'"),
      ("\u{A0}\u{2028}\u{200B}\u{E000}", #"'\xa0\u2028\u200b\ue000'"#),
      ("\u{1F600}", "'\u{1F600}'"),
      ("\u{E0001}", #"'\U000e0001'"#),
      ("\u{85}", #"'\x85'"#),
      ("", "''"),
    ]
    for (string, repr) in reference {
      #expect(PythonValue.string(string).description == repr)
    }
  }

  @Test func bytesDescriptionsMatchPythonRepr() {
    #expect(PythonValue.bytes([UInt8]("a".utf8) + [0]).description == #"b'a\x00'"#)
    #expect(PythonValue.bytes(Array("it's".utf8)).description == #"b"it's""#)
    #expect(PythonValue.bytes(Array("say \"hi\"".utf8)).description == #"b'say "hi"'"#)
    #expect(PythonValue.bytes(Array("both'\"".utf8)).description == #"b'both\'"'"#)
    #expect(
      PythonValue.bytes([9, 10, 13, 92, 0x7F, 0x80, 0xFF, 32, 126]).description
        == #"b'\t\n\r\\\x7f\x80\xff ~'"#)
    #expect(PythonValue.bytes([]).description == "b''")
  }

  @Test func containerDescriptions() {
    #expect(PythonValue.list([1, 2]).description == "[1, 2]")
    #expect(PythonValue.list([]).description == "[]")
    #expect(PythonValue.tuple([1]).description == "(1,)")
    #expect(PythonValue.tuple([]).description == "()")
    #expect(PythonValue.tuple([1, "a"]).description == "(1, 'a')")
    #expect(PythonValue.dict([:]).description == "{}")
    #expect(PythonValue.set([]).description == "set()")
    #expect(PythonValue.set([2, 1, 3]).description == "{1, 2, 3}")
    let nested: PythonValue = [1: "a", "b": .tuple([2]), nil: [true, 1.0]]
    #expect(nested.description == "{1: 'a', 'b': (2,), None: [True, 1.0]}")
  }

  // MARK: Literals

  @Test func literalsBuildTheExpectedCases() {
    let value: PythonValue = ["a": [1, 2.5, "x", nil, true]]
    let expected = PythonValue.dict([
      .string("a"): .list([.int(1), .float(2.5), .string("x"), .none, .bool(true)])
    ])
    #expect(value == expected)
    let scalar: PythonValue = "é"
    #expect(scalar == .string("é"))
    let character: Character = "x"
    #expect(PythonValue(extendedGraphemeClusterLiteral: String(character)) == .string("x"))
    let negative: PythonValue = -7
    #expect(negative == .int(-7))
    let empty: PythonValue = [:]
    #expect(empty == .dict([:]))
    let emptyList: PythonValue = []
    #expect(emptyList == .list([]))
  }

  @Test func dictionaryLiteralKeepsOrderAndLastValue() {
    let value: PythonValue = ["z": 1, "a": 2, "z": 3]
    #expect(value.dictValue.map { Array($0.keys) } == ["z", "a"])
    #expect(value["z"] == 3)
    #expect(value.description == "{'z': 3, 'a': 2}")
  }

  // MARK: Accessors

  @Test func accessors() {
    #expect(PythonValue.none.isNone)
    #expect(!PythonValue.int(0).isNone)
    #expect(PythonValue.bool(true).boolValue == true)
    #expect(PythonValue.int(1).boolValue == nil)
    #expect(PythonValue.int(7).intValue == 7)
    #expect(PythonValue.bool(true).intValue == nil)
    #expect(PythonValue.float(1.0).intValue == nil)
    #expect(PythonValue.bigInt(PythonBigInt(-3)).intValue == -3)
    #expect(PythonValue.bigInt(PythonBigInt("99999999999999999999")!).intValue == nil)
    #expect(PythonValue.int(-3).bigIntValue == PythonBigInt(-3))
    #expect(PythonValue.string("3").bigIntValue == nil)
    #expect(PythonValue.float(2.5).doubleValue == 2.5)
    #expect(PythonValue.int(3).doubleValue == 3.0)
    #expect(PythonValue.int(Int.max).doubleValue == nil)  // not exactly representable
    #expect(PythonValue.bool(true).doubleValue == nil)
    #expect(PythonValue.string("s").stringValue == "s")
    #expect(PythonValue.bytes([1]).stringValue == nil)
    #expect(PythonValue.bytes([1, 2]).bytesValue == [1, 2])
    #expect(PythonValue.list([1]).arrayValue == [1])
    #expect(PythonValue.tuple([1]).arrayValue == [1])
    #expect(PythonValue.set([1]).arrayValue == nil)
    #expect(PythonValue.set([1]).setValue == [1])
    #expect(PythonValue.dict(["k": 1]).dictValue == ["k": 1])
    #expect(PythonValue.list([]).dictValue == nil)
  }

  @Test func subscripts() {
    let list: PythonValue = [10, 20]
    #expect(list[0] == 10)
    #expect(list[1] == 20)
    #expect(list[2] == nil)
    #expect(list[-1] == nil)
    #expect(PythonValue.tuple(["a"])[0] == "a")
    #expect(PythonValue.string("ab")[0] == nil)
    let dict: PythonValue = ["a": 1, 2: "two", nil: [1]]
    #expect(dict["a"] == 1)
    #expect(dict[.int(2)] == "two")
    #expect(dict[nil] == [1])
    #expect(dict["b"] == nil)
    #expect(list["a"] == nil)
  }

  @Test func typeNames() {
    let cases: [(PythonValue, String)] = [
      (.none, "NoneType"), (.bool(true), "bool"), (.int(1), "int"),
      (.bigInt(PythonBigInt("99999999999999999999")!), "int"), (.float(1), "float"), (.string(""), "str"),
      (.bytes([]), "bytes"), (.list([]), "list"), (.tuple([]), "tuple"), (.dict([:]), "dict"),
      (.set([]), "set"),
    ]
    for (value, name) in cases {
      #expect(value.typeName == name)
    }
  }
}
