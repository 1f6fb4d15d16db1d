/// An exact integer of any size: the payload of `PythonValue.bigInt`, for Python ints outside `Int`'s range.
///
/// Stored as sign and magnitude (little-endian 64-bit words, no trailing zero words), so every value has
/// exactly one representation and the synthesized `Hashable` agrees with `==`. Zero is never negative.
///
/// It converts exactly to and from decimal and hexadecimal text. Hexadecimal is the bridge to CPython,
/// because `int.__str__` refuses numbers above `sys.get_int_max_str_digits()` digits while base 16 has no limit.
public struct PythonBigInt: Sendable, Hashable {
  /// True for values below zero (never for zero).
  public let isNegative: Bool
  /// The absolute value, least significant word first, without trailing zero words (empty for zero).
  public let magnitudeWords: [UInt64]

  /// Creates a value from a sign and a little-endian magnitude; trailing zero words are dropped.
  public init(isNegative: Bool, magnitudeWords: [UInt64]) {
    var words = magnitudeWords
    Self.trim(&words)
    self.isNegative = isNegative && !words.isEmpty
    self.magnitudeWords = words
  }

  public init(_ value: Int) {
    self.init(isNegative: value < 0, magnitudeWords: [UInt64(value.magnitude)])
  }

  /// Exact conversion from any integer type (`UInt64`, `Int128`, ...).
  public init<T: BinaryInteger>(_ value: T) {
    var magnitude = value.magnitude
    var words: [UInt64] = []
    while magnitude != 0 {
      words.append(UInt64(truncatingIfNeeded: magnitude))
      magnitude >>= 64
    }
    self.init(isNegative: value < 0, magnitudeWords: words)
  }

  /// Parses decimal digits with an optional leading `+` or `-`, e.g. `"-123456789012345678901234567890"`.
  /// Anything else (spaces, underscores, an empty digit string) gives nil.
  public init?(_ decimal: String) {
    var utf8 = Substring(decimal).utf8
    let negative = Self.stripSign(&utf8)
    guard !utf8.isEmpty else { return nil }
    // Consume 19 digits at a time: 10^19 is the largest power of ten that fits in a UInt64.
    var words: [UInt64] = []
    var chunk: UInt64 = 0
    var chunkDigits = 0
    for byte in utf8 {
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
      chunk = chunk &* 10 &+ UInt64(byte - UInt8(ascii: "0"))
      chunkDigits += 1
      if chunkDigits == 19 {
        Self.multiplyAdd(&words, multiplier: Self.tenToThe19, addend: chunk)
        chunk = 0
        chunkDigits = 0
      }
    }
    if chunkDigits > 0 {
      Self.multiplyAdd(&words, multiplier: Self.powersOfTen[chunkDigits], addend: chunk)
    }
    self.init(isNegative: negative, magnitudeWords: words)
  }

  /// Parses hexadecimal digits with an optional sign and an optional `0x`/`0X` prefix: `"-0x1f"`, `"FF"`.
  /// This accepts what CPython's `PyNumber_ToBase(o, 16)` produces.
  public init?(hexadecimal: String) {
    var utf8 = Substring(hexadecimal).utf8
    let negative = Self.stripSign(&utf8)
    if utf8.count >= 2, utf8.first == UInt8(ascii: "0"),
      utf8.dropFirst().first == UInt8(ascii: "x") || utf8.dropFirst().first == UInt8(ascii: "X")
    {
      utf8 = utf8.dropFirst(2)
    }
    guard !utf8.isEmpty else { return nil }
    let digits = Array(utf8)
    var words: [UInt64] = []
    words.reserveCapacity(digits.count / 16 + 1)
    // Walk from the least significant digit so each group of 16 fills one word.
    var end = digits.count
    while end > 0 {
      let start = Swift.max(0, end - 16)
      var word: UInt64 = 0
      for byte in digits[start..<end] {
        guard let nibble = Self.hexValue(byte) else { return nil }
        word = word << 4 | UInt64(nibble)
      }
      words.append(word)
      end = start
    }
    self.init(isNegative: negative, magnitudeWords: words)
  }

  /// `"-0x1f"`-style text, parseable by Python's `int(s, 16)` and `PyLong_FromString(s, NULL, 16)`.
  /// Zero is `"0x0"`.
  public var hexadecimal: String {
    guard let top = magnitudeWords.last else { return "0x0" }
    var result = isNegative ? "-0x" : "0x"
    result += String(top, radix: 16)
    for word in magnitudeWords.dropLast().reversed() {
      let digits = String(word, radix: 16)
      result += String(repeating: "0", count: 16 - digits.count) + digits
    }
    return result
  }

  /// The value as an `Int`, or nil if it does not fit (`Int.min` fits).
  public var intValue: Int? { exactly(Int.self) }

  /// The value converted to a fixed-width integer type, or nil if it is out of that type's range.
  func exactly<T: FixedWidthInteger>(_: T.Type) -> T? {
    // Types wider than a word are rare here; the text path is slow but exact.
    if T.bitWidth > 64 { return T(description, radix: 10) }
    guard magnitudeWords.count <= 1 else { return nil }
    let magnitude = magnitudeWords.first ?? 0
    if !isNegative { return T(exactly: magnitude) }
    guard T.isSigned else { return nil }
    // -m is ~(m - 1) in two's complement, and m - 1 fits exactly when m <= 2^(bitWidth-1).
    guard magnitude - 1 <= UInt64(T.max) else { return nil }
    return ~T(truncatingIfNeeded: magnitude - 1)
  }

  /// The nearest `Double` (infinite when out of range), correctly rounded by way of the decimal text.
  var doubleValue: Double {
    Double(description) ?? (isNegative ? -.infinity : .infinity)
  }

  // MARK: - Magnitude arithmetic

  private static let tenToThe19: UInt64 = 10_000_000_000_000_000_000
  private static let powersOfTen: [UInt64] = (0...19).map { power in
    (0..<power).reduce(UInt64(1)) { value, _ in value * 10 }
  }

  private static func trim(_ words: inout [UInt64]) {
    while words.last == 0 { words.removeLast() }
  }

  /// `words = words * multiplier + addend`.
  private static func multiplyAdd(_ words: inout [UInt64], multiplier: UInt64, addend: UInt64) {
    var carry = addend
    for index in words.indices {
      let product = words[index].multipliedFullWidth(by: multiplier)
      let (low, overflow) = product.low.addingReportingOverflow(carry)
      words[index] = low
      carry = product.high &+ (overflow ? 1 : 0)
    }
    if carry != 0 { words.append(carry) }
  }

  /// Divides `words` in place by `divisor` and returns the remainder.
  private static func divide(_ words: inout [UInt64], by divisor: UInt64) -> UInt64 {
    var remainder: UInt64 = 0
    for index in words.indices.reversed() {
      let (quotient, rest) = divisor.dividingFullWidth((high: remainder, low: words[index]))
      words[index] = quotient
      remainder = rest
    }
    trim(&words)
    return remainder
  }

  private static func stripSign(_ utf8: inout Substring.UTF8View) -> Bool {
    switch utf8.first {
    case UInt8(ascii: "-"):
      utf8 = utf8.dropFirst()
      return true
    case UInt8(ascii: "+"):
      utf8 = utf8.dropFirst()
      return false
    default:
      return false
    }
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}

extension PythonBigInt: CustomStringConvertible, LosslessStringConvertible {
  /// The exact decimal text, e.g. `"-123456789012345678901234567890"`.
  public var description: String {
    if magnitudeWords.count <= 1 {
      let magnitude = magnitudeWords.first ?? 0
      return isNegative ? "-\(magnitude)" : "\(magnitude)"
    }
    // Peel off 19 decimal digits per division; the chunks come out least significant first.
    var words = magnitudeWords
    var chunks: [UInt64] = []
    chunks.reserveCapacity(words.count * 64 / 63 + 1)
    while !words.isEmpty {
      chunks.append(Self.divide(&words, by: Self.tenToThe19))
    }
    var result = isNegative ? "-" : ""
    result += String(chunks.last!)
    for chunk in chunks.dropLast().reversed() {
      let digits = String(chunk)
      result += String(repeating: "0", count: 19 - digits.count) + digits
    }
    return result
  }
}

extension PythonBigInt: Comparable {
  public static func < (lhs: PythonBigInt, rhs: PythonBigInt) -> Bool {
    if lhs.isNegative != rhs.isNegative { return lhs.isNegative }
    let magnitudeLess = compareMagnitudes(lhs.magnitudeWords, rhs.magnitudeWords)
    return lhs.isNegative ? magnitudeLess == .greater : magnitudeLess == .less
  }

  private enum Ordering { case less, equal, greater }

  private static func compareMagnitudes(_ lhs: [UInt64], _ rhs: [UInt64]) -> Ordering {
    if lhs.count != rhs.count { return lhs.count < rhs.count ? .less : .greater }
    for index in lhs.indices.reversed() where lhs[index] != rhs[index] {
      return lhs[index] < rhs[index] ? .less : .greater
    }
    return .equal
  }
}

extension PythonBigInt: Codable {
  /// Encodes as the decimal string: JSON numbers cannot carry arbitrary precision.
  public func encode(to encoder: any Encoder) throws {
    if let encoder = encoder as? _PythonValueEncoderImpl {
      encoder.storeDirectly(.integer(self))
      return
    }
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }

  /// Decodes the decimal string form; a plain integer is accepted too.
  public init(from decoder: any Decoder) throws {
    if let decoder = decoder as? _PythonValueDecoderImpl {
      self = try decoder.decodeBigInt()
      return
    }
    let container = try decoder.singleValueContainer()
    if let text = try? container.decode(String.self) {
      guard let value = PythonBigInt(text) else {
        throw DecodingError.dataCorruptedError(
          in: container, debugDescription: "invalid decimal integer \(String(reflecting: text))")
      }
      self = value
    } else {
      self = PythonBigInt(try container.decode(Int.self))
    }
  }
}
