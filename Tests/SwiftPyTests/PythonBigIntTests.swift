import Foundation
import Testing

@testable import SwiftPy

/// Reference values printed by CPython: `print(2**4000)`, `print(-(3**2000))`, `print(hex(-(3**2000)))`.
private enum Reference {
  static let twoToThe4000Decimal =
    """
    1318204093430943100103889794236591363184019161093272769092803450241756928112834455107975212317212203\
    3140940756480716823038446817694240581281731062452512184038544674444386888956328970642771993930036586\
    5529242495144888321833894158323756200092849226089461110385787540779132654409185831255860504316472846\
    0363649082385000782681167246890021068910448808948534719215270882011976500612594485839776187466930127\
    8745233504796586994514054435217053803732703240283400815926169348364799472716094576894007243168662568\
    8866030658324868306061250176433564697324072528745672177336948242366753233417556818392219546938204560\
    7202025388437122682684485863619421287513956658744539006801474797581397174811477043924882668866712923\
    7954128555841874460665729630492658600179338272579110020881228767361200603478973120168893997574353727\
    6539989692230927982557016660679726989062369216287647728379155260864643891615705346169567037448405029\
    7527909408758729896842351653162609089838935144902005685122107904896671887894330923207197857563987720\
    8621237040940126912767610658141079378758043403611425454744180577150855204937163460902512732551260539\
    6392214570059772472666763440181556475095153967113514875460624794445927790555554213627225045757069109\
    49376
    """
  static let minusThreeToThe2000Decimal =
    """
    -174787125172265160965997461916466057052906248743518851781188801181068626622727548929148646986468111\
    1075608950696145276588771368435875508647514414202093638481872912380089977179381529628478320523519319\
    1426815044240594108902145005006478139358189257019054026054840981379569793685510258252394113186439979\
    1652367704476966262864640654033562797532961926424507975047086246247409110544443735530214615147534809\
    0755330153269067933091699479889089824650841795567478606396975664557143737657027080403239977757865296\
    8467400937123779157705360942236880491080232441391830279624844110784644395168452279619352212698147534\
    1678257645550731607375198537404606459254679604315073780831450168467975805690594875924636864441615186\
    3138085276603595816410945157599742077617618911601185155602080771746785959359879490191933389965271275\
    4031279254322479632696759126461031563439543754427926889360470415335375231379413106908339497677642900\
    81333900380310406154723157882112449991673819054110440001
    """
  static let minusThreeToThe2000Hex =
    """
    -0x3cc2096fa0be5cf1df2c53ff4ad9cf8686b86384482b127f7c5596293c1db79cb32fc37d5067090f7536e6c3c726b4b80\
    1408df0f528e03612930e3a826307d55fcf3efa91a2ab89e19b6debea122869849d90b8eb85a78eba05cf951d4d1b24c4114\
    7a90b39248f6ae0bbe6fa8c5a12a9cacccba014b28dc387693c8567a4d1bb8d3546b8ca25e7a01143ebb7698dd2982c2544a\
    ca88149d8b731fa7479532f7139c2b849601f600d77e6fa21f075d277a6bc6596456dd8b76b9659f8ff156500736cc06b21d\
    9cd9d7fc04707221e60cdeb7ae6050ca1aad6c893e367d551d2141bd9e852426329d0e02da77c7c1a05aeae93c30c2e4f620\
    3ed65eee102b77f5df0891ed6009bd79ccc8a6a2b21fedddc837ab936ba8398d65766a8a2f03c2c81eb7aa86e542b781194e\
    19528baa6349df8fee0b46d5d03d180ceddd082e2dff70878fe15f12c4040da0fb534cf1397901cacbf81936df2730ca5e2b\
    aaaf3dc552f85c499cb7c76dd5024cf9febc23cbc82ec47855b43086b8bfc5c0b93cbcaa43b130f0b094e2b185e07a41
    """
}

@Suite struct PythonBigIntTests {
  @Test func smallValuesRoundTripThroughDecimal() {
    for text in [
      "0", "1", "-1", "42", "-9999999999999999999", "10000000000000000000", "1234567890123456789012",
    ] {
      #expect(PythonBigInt(text)?.description == text)
    }
    #expect(PythonBigInt("+17")?.description == "17")
    // "-0" is zero, and zero is never negative.
    let minusZero = PythonBigInt("-0")
    #expect(minusZero == PythonBigInt(0))
    #expect(minusZero?.isNegative == false)
    #expect(minusZero?.magnitudeWords == [])
    #expect(PythonBigInt("000123")?.description == "123")
  }

  @Test func chunkBoundariesOfTheDecimalConversion() {
    // The conversion works in 19-digit chunks: powers of ten around it exercise the zero padding.
    for zeros in [18, 19, 20, 37, 38, 39, 57, 190] {
      let power = "1" + String(repeating: "0", count: zeros)
      #expect(PythonBigInt(power)?.description == power)
      let belowPower = String(repeating: "9", count: zeros)
      #expect(PythonBigInt(belowPower)?.description == belowPower)
      #expect(PythonBigInt("-" + power)?.description == "-" + power)
    }
  }

  @Test func intBoundaries() throws {
    let max = try #require(PythonBigInt(String(Int.max)))
    let min = try #require(PythonBigInt(String(Int.min)))
    #expect(max.intValue == Int.max)
    #expect(min.intValue == Int.min)
    #expect(PythonBigInt(Int.min) == min)
    #expect(PythonBigInt(Int.max) == max)
    #expect(PythonBigInt(Int.min).description == "-9223372036854775808")
    #expect(PythonBigInt(Int.min).hexadecimal == "-0x8000000000000000")
    #expect(PythonBigInt("9223372036854775808")?.intValue == nil)
    #expect(PythonBigInt("-9223372036854775809")?.intValue == nil)
    #expect(PythonBigInt("18446744073709551616")?.hexadecimal == "0x10000000000000000")
    #expect(PythonBigInt("18446744073709551616")?.magnitudeWords == [0, 1])
  }

  @Test func fixedWidthConversions() throws {
    #expect(PythonBigInt(127).exactly(Int8.self) == 127)
    #expect(PythonBigInt(128).exactly(Int8.self) == nil)
    #expect(PythonBigInt(-128).exactly(Int8.self) == -128)
    #expect(PythonBigInt(-129).exactly(Int8.self) == nil)
    #expect(PythonBigInt(-1).exactly(UInt8.self) == nil)
    #expect(PythonBigInt(UInt64.max).exactly(UInt64.self) == UInt64.max)
    #expect(PythonBigInt(UInt64.max).description == "18446744073709551615")
    #expect(PythonBigInt(UInt64.max).exactly(Int64.self) == nil)
    #expect(PythonBigInt(Int128.min).description == "-170141183460469231731687303715884105728")
    #expect(PythonBigInt(Int128.min).exactly(Int128.self) == Int128.min)
    #expect(PythonBigInt(UInt128.max).exactly(Int128.self) == nil)
    #expect(PythonBigInt(UInt128.max).exactly(UInt128.self) == UInt128.max)
  }

  @Test func hexadecimalParsing() {
    #expect(PythonBigInt(hexadecimal: "-0x1f") == PythonBigInt(-31))
    #expect(PythonBigInt(hexadecimal: "ff") == PythonBigInt(255))
    #expect(PythonBigInt(hexadecimal: "0XFF") == PythonBigInt(255))
    #expect(PythonBigInt(hexadecimal: "+0xAbC") == PythonBigInt(0xABC))
    #expect(PythonBigInt(hexadecimal: "-0x0") == PythonBigInt(0))
    #expect(PythonBigInt(hexadecimal: "0x" + String(repeating: "0", count: 40) + "1")?.magnitudeWords == [1])
    #expect(
      PythonBigInt(hexadecimal: "0x123456789abcdef0fedcba9876543210")?.magnitudeWords
        == [0xFEDC_BA98_7654_3210, 0x1234_5678_9ABC_DEF0])
  }

  @Test func hexadecimalPrinting() {
    #expect(PythonBigInt(0).hexadecimal == "0x0")
    #expect(PythonBigInt(-31).hexadecimal == "-0x1f")
    #expect(PythonBigInt(255).hexadecimal == "0xff")
    // Lower words are zero-padded to 16 digits.
    #expect(PythonBigInt(isNegative: false, magnitudeWords: [1, 1]).hexadecimal == "0x10000000000000001")
  }

  @Test func invalidTextIsRejected() {
    for text in ["", "-", "+", "--1", "+-1", "12a", " 1", "1 ", "1_000", "0x10", "1.0", "١٢"] {
      #expect(PythonBigInt(text) == nil, "decimal \(text)")
    }
    for text in ["", "0x", "-0x", "-", "0xg", "0x-1", "--1", "0x 1", "x1", "0x1_0", "0o7"] {
      #expect(PythonBigInt(hexadecimal: text) == nil, "hex \(text)")
    }
  }

  @Test func twoToThe4000() throws {
    let hex = "0x1" + String(repeating: "0", count: 1000)
    let fromHex = try #require(PythonBigInt(hexadecimal: hex))
    #expect(fromHex.magnitudeWords.count == 63)
    #expect(fromHex.magnitudeWords.last == 1 << 32)
    #expect(fromHex.description == Reference.twoToThe4000Decimal)
    let fromDecimal = try #require(PythonBigInt(Reference.twoToThe4000Decimal))
    #expect(fromDecimal == fromHex)
    #expect(fromDecimal.hexadecimal == hex)
  }

  @Test func minusThreeToThe2000() throws {
    let fromDecimal = try #require(PythonBigInt(Reference.minusThreeToThe2000Decimal))
    #expect(fromDecimal.isNegative)
    #expect(fromDecimal.hexadecimal == Reference.minusThreeToThe2000Hex)
    let fromHex = try #require(PythonBigInt(hexadecimal: Reference.minusThreeToThe2000Hex))
    #expect(fromHex.description == Reference.minusThreeToThe2000Decimal)
    #expect(fromHex == fromDecimal)
  }

  @Test func randomValuesRoundTrip() {
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<200 {
      let count = Int.random(in: 1...40, using: &generator)
      var words = (0..<count).map { _ in UInt64.random(in: .min ... .max, using: &generator) }
      // Sprinkle zero and all-ones words, which stress carries and padding.
      if Bool.random(using: &generator) { words[Int.random(in: 0..<count, using: &generator)] = 0 }
      if Bool.random(using: &generator) { words[Int.random(in: 0..<count, using: &generator)] = .max }
      let value = PythonBigInt(isNegative: Bool.random(using: &generator), magnitudeWords: words)
      #expect(PythonBigInt(value.description) == value)
      #expect(PythonBigInt(hexadecimal: value.hexadecimal) == value)
    }
  }

  @Test func normalisedRepresentation() {
    let zero = PythonBigInt(isNegative: true, magnitudeWords: [0, 0])
    #expect(zero == PythonBigInt(0))
    #expect(!zero.isNegative)
    #expect(zero.hashValue == PythonBigInt(0).hashValue)
    let padded = PythonBigInt(isNegative: false, magnitudeWords: [5, 0, 0])
    #expect(padded.magnitudeWords == [5])
    #expect(padded == PythonBigInt(5))
  }

  @Test func comparison() throws {
    let hugeNegative = try #require(PythonBigInt(Reference.minusThreeToThe2000Decimal))
    let huge = try #require(PythonBigInt(Reference.twoToThe4000Decimal))
    let twoToThe64 = try #require(PythonBigInt("18446744073709551616"))
    let ordered = [
      hugeNegative, PythonBigInt("-18446744073709551616")!, PythonBigInt(Int.min), PythonBigInt(-1),
      PythonBigInt(0), PythonBigInt(1), PythonBigInt(Int.max), twoToThe64, huge,
    ]
    #expect(ordered.shuffled().sorted() == ordered)
    for (lower, higher) in zip(ordered, ordered.dropFirst()) {
      #expect(lower < higher)
      #expect(!(higher < lower))
    }
    #expect(!(PythonBigInt(3) < PythonBigInt(3)))
    #expect(PythonBigInt(-5) < PythonBigInt(-4))
  }

  @Test func doubleConversionRoundsCorrectly() throws {
    #expect(PythonBigInt(UInt64.max).doubleValue == 18_446_744_073_709_551_616.0)
    #expect(try #require(PythonBigInt(Reference.twoToThe4000Decimal)).doubleValue == .infinity)
    #expect(try #require(PythonBigInt(Reference.minusThreeToThe2000Decimal)).doubleValue == -.infinity)
  }

  @Test func codableAsDecimalString() throws {
    let value = try #require(PythonBigInt(Reference.minusThreeToThe2000Decimal))
    let json = try JSONEncoder().encode([value])
    #expect(String(decoding: json, as: UTF8.self) == "[\"\(Reference.minusThreeToThe2000Decimal)\"]")
    #expect(try JSONDecoder().decode([PythonBigInt].self, from: json) == [value])
    // A plain JSON integer is accepted too; junk is not.
    #expect(try JSONDecoder().decode([PythonBigInt].self, from: Data("[42]".utf8)) == [PythonBigInt(42)])
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode([PythonBigInt].self, from: Data("[\"12x\"]".utf8))
    }
  }
}
