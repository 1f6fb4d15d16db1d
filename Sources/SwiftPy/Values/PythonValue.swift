import OrderedCollections

/// A copy of a Python value, detached from any interpreter, so it can cross threads and interpreters.
///
/// Equality is structural identity, not Python's `==`: `.int(1)`, `.float(1.0)` and `.bool(true)` differ,
/// floats compare by bit pattern (so `-0.0 != 0.0`) except that every NaN equals every NaN (so a NaN
/// survives a round trip as an equal value), strings compare by Unicode scalars (Python does not treat
/// canonically equivalent strings as equal), and dicts compare in order. An `.int` and a `.bigInt` holding
/// the same number are equal, although `integer(_:)` only ever makes `.bigInt` for values outside `Int`.
public enum PythonValue: Sendable {
  case none
  case bool(Bool)
  case int(Int)
  /// Only for values outside `Int`'s range (see `integer(_:)`).
  case bigInt(PythonBigInt)
  case float(Double)
  case string(String)
  case bytes([UInt8])
  case list([PythonValue])
  case tuple([PythonValue])
  /// Insertion order is kept, keys may be any value.
  case dict(OrderedDictionary<PythonValue, PythonValue>)
  case set(Set<PythonValue>)

  /// `.int` when the value fits in `Int`, else `.bigInt` — the canonical form.
  public static func integer(_ value: PythonBigInt) -> PythonValue {
    if let small = value.intValue { return .int(small) }
    return .bigInt(value)
  }
}

// MARK: - Equality and hashing

extension PythonValue: Hashable {
  public static func == (lhs: PythonValue, rhs: PythonValue) -> Bool {
    switch (lhs, rhs) {
    case (.none, .none): true
    case (.bool(let a), .bool(let b)): a == b
    case (.int(let a), .int(let b)): a == b
    case (.bigInt(let a), .bigInt(let b)): a == b
    case (.int(let a), .bigInt(let b)), (.bigInt(let b), .int(let a)): b.intValue == a
    case (.float(let a), .float(let b)): a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN)
    case (.string(let a), .string(let b)): sameScalars(a, b)
    case (.bytes(let a), .bytes(let b)): a == b
    case (.list(let a), .list(let b)): a == b
    case (.tuple(let a), .tuple(let b)): a == b
    case (.dict(let a), .dict(let b)): a == b
    case (.set(let a), .set(let b)): a == b
    default: false
    }
  }

  public func hash(into hasher: inout Hasher) {
    switch self {
    case .none:
      hasher.combine(0)
    case .bool(let value):
      hasher.combine(1)
      hasher.combine(value)
    case .int(let value):
      hasher.combine(2)
      hasher.combine(value)
    case .bigInt(let value):
      // Must hash like `.int` when it holds a small value, because then the two are equal.
      hasher.combine(2)
      if let small = value.intValue {
        hasher.combine(small)
      } else {
        hasher.combine(value)
      }
    case .float(let value):
      hasher.combine(3)
      hasher.combine(value.isNaN ? Double.nan.bitPattern : value.bitPattern)
    case .string(let value):
      // String's hash is based on canonical equivalence, which scalar-equal strings always share.
      hasher.combine(4)
      hasher.combine(value)
    case .bytes(let value):
      hasher.combine(5)
      hasher.combine(value)
    case .list(let value):
      hasher.combine(6)
      hasher.combine(value)
    case .tuple(let value):
      hasher.combine(7)
      hasher.combine(value)
    case .dict(let value):
      hasher.combine(8)
      hasher.combine(value)
    case .set(let value):
      hasher.combine(9)
      hasher.combine(value)
    }
  }

  private static func sameScalars(_ a: String, _ b: String) -> Bool {
    // Swift's `==` treats "é" and "e\u{301}" as equal; Python does not, and dict keys must not merge.
    a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8)
  }
}

// MARK: - Accessors

extension PythonValue {
  /// The Python type name of the value: `"NoneType"`, `"bool"`, `"int"`, `"float"`, `"str"`, `"bytes"`,
  /// `"list"`, `"tuple"`, `"dict"` or `"set"`.
  public var typeName: String {
    switch self {
    case .none: "NoneType"
    case .bool: "bool"
    case .int, .bigInt: "int"
    case .float: "float"
    case .string: "str"
    case .bytes: "bytes"
    case .list: "list"
    case .tuple: "tuple"
    case .dict: "dict"
    case .set: "set"
    }
  }

  public var isNone: Bool {
    if case .none = self { return true }
    return false
  }

  public var boolValue: Bool? {
    if case .bool(let value) = self { return value }
    return nil
  }

  /// From `.int`, or from `.bigInt` when it fits; never from `.bool`.
  public var intValue: Int? {
    switch self {
    case .int(let value): value
    case .bigInt(let value): value.intValue
    default: nil
    }
  }

  /// From `.int` or `.bigInt`.
  public var bigIntValue: PythonBigInt? {
    switch self {
    case .int(let value): PythonBigInt(value)
    case .bigInt(let value): value
    default: nil
    }
  }

  /// From `.float`, or from `.int` when the `Double` holds it exactly.
  public var doubleValue: Double? {
    switch self {
    case .float(let value): value
    case .int(let value): Double(exactly: value)
    default: nil
    }
  }

  public var stringValue: String? {
    if case .string(let value) = self { return value }
    return nil
  }

  public var bytesValue: [UInt8]? {
    if case .bytes(let value) = self { return value }
    return nil
  }

  /// The elements of a `.list` or a `.tuple`.
  public var arrayValue: [PythonValue]? {
    switch self {
    case .list(let value), .tuple(let value): value
    default: nil
    }
  }

  public var dictValue: OrderedDictionary<PythonValue, PythonValue>? {
    if case .dict(let value) = self { return value }
    return nil
  }

  public var setValue: Set<PythonValue>? {
    if case .set(let value) = self { return value }
    return nil
  }

  /// The element at `index` of a `.list` or `.tuple`; nil when out of range or not a sequence.
  public subscript(index: Int) -> PythonValue? {
    guard let elements = arrayValue, elements.indices.contains(index) else { return nil }
    return elements[index]
  }

  /// The value for `key` in a `.dict`; nil when absent or not a dict.
  public subscript(key: PythonValue) -> PythonValue? {
    dictValue?[key]
  }
}

// MARK: - Description

extension PythonValue: CustomStringConvertible {
  /// Python's `repr` of the value. Sets are listed in order of their elements' descriptions, so the text
  /// is deterministic.
  public var description: String {
    switch self {
    case .none: return "None"
    case .bool(let value): return value ? "True" : "False"
    case .int(let value): return String(value)
    case .bigInt(let value): return value.description
    case .float(let value): return Self.floatRepr(value)
    case .string(let value): return Self.stringRepr(value)
    case .bytes(let value): return Self.bytesRepr(value)
    case .list(let elements):
      return "[" + elements.map(\.description).joined(separator: ", ") + "]"
    case .tuple(let elements):
      if elements.count == 1 { return "(\(elements[0]),)" }
      return "(" + elements.map(\.description).joined(separator: ", ") + ")"
    case .dict(let dict):
      return "{" + dict.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
    case .set(let elements):
      if elements.isEmpty { return "set()" }
      return "{" + elements.map(\.description).sorted().joined(separator: ", ") + "}"
    }
  }

  /// Python's `repr(float)`: shortest round-trip digits, exponent form when the decimal point would be
  /// more than 16 digits right or 4 left (Python's rule), and `.0` on integral values.
  static func floatRepr(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    let sign = value.sign == .minus ? "-" : ""
    if value == 0 { return sign + "0.0" }
    // Swift's description already has the shortest round-trip digits; only the layout differs.
    let (digits, pointPosition) = shortestDigits(value.magnitude)
    if pointPosition <= -4 || pointPosition > 16 {
      let exponent = pointPosition - 1
      var mantissa = String(digits.first!)
      if digits.count > 1 { mantissa += "." + digits.dropFirst() }
      let exponentDigits = String(abs(exponent))
      return sign + mantissa + (exponent < 0 ? "e-" : "e+")
        + (exponentDigits.count < 2 ? "0" : "") + exponentDigits
    }
    if pointPosition <= 0 {
      return sign + "0." + String(repeating: "0", count: -pointPosition) + digits
    }
    if pointPosition >= digits.count {
      return sign + digits + String(repeating: "0", count: pointPosition - digits.count) + ".0"
    }
    let split = digits.index(digits.startIndex, offsetBy: pointPosition)
    return sign + digits[..<split] + "." + digits[split...]
  }

  /// The significant digits of a positive finite value and where the decimal point goes:
  /// value = 0.DIGITS × 10^pointPosition.
  private static func shortestDigits(_ value: Double) -> (digits: String, pointPosition: Int) {
    let text = value.description
    let parts = text.split(separator: "e", maxSplits: 1)
    let exponent = parts.count == 2 ? Int(parts[1])! : 0
    let mantissa = parts[0]
    let pointIndex = mantissa.firstIndex(of: ".") ?? mantissa.endIndex
    var pointPosition = mantissa.distance(from: mantissa.startIndex, to: pointIndex) + exponent
    var digits = Substring(mantissa.filter { $0 != "." })
    while digits.first == "0" {
      digits = digits.dropFirst()
      pointPosition -= 1
    }
    while digits.last == "0" { digits = digits.dropLast() }
    return (String(digits), pointPosition)
  }

  /// Python's `repr(str)`: single quotes unless only `'` occurs, escapes for the quote, backslash,
  /// control and other non-printable characters.
  static func stringRepr(_ value: String) -> String {
    let quote: Unicode.Scalar = value.contains("'") && !value.contains("\"") ? "\"" : "'"
    var result = String(quote)
    for scalar in value.unicodeScalars {
      switch scalar {
      case quote, "\\":
        result += "\\" + String(scalar)
      case "\t": result += "\\t"
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7F {
          result += hexEscape(scalar.value, prefix: "x", width: 2)
        } else if scalar.isASCII || isPrintable(scalar) {
          result.unicodeScalars.append(scalar)
        } else if scalar.value <= 0xFF {
          result += hexEscape(scalar.value, prefix: "x", width: 2)
        } else if scalar.value <= 0xFFFF {
          result += hexEscape(scalar.value, prefix: "u", width: 4)
        } else {
          result += hexEscape(scalar.value, prefix: "U", width: 8)
        }
      }
    }
    result.unicodeScalars.append(quote)
    return result
  }

  /// Python's `repr(bytes)`: printable ASCII as is, `\t \n \r`, everything else as `\xHH`.
  static func bytesRepr(_ value: [UInt8]) -> String {
    let quote: UInt8 =
      value.contains(UInt8(ascii: "'")) && !value.contains(UInt8(ascii: "\""))
      ? UInt8(ascii: "\"") : UInt8(ascii: "'")
    var result = "b" + String(UnicodeScalar(quote))
    for byte in value {
      switch byte {
      case quote, UInt8(ascii: "\\"): result += "\\" + String(UnicodeScalar(byte))
      case UInt8(ascii: "\t"): result += "\\t"
      case UInt8(ascii: "\n"): result += "\\n"
      case UInt8(ascii: "\r"): result += "\\r"
      case 0x20..<0x7F: result.unicodeScalars.append(UnicodeScalar(byte))
      default: result += hexEscape(UInt32(byte), prefix: "x", width: 2)
      }
    }
    result.unicodeScalars.append(UnicodeScalar(quote))
    return result
  }

  private static func hexEscape(_ value: UInt32, prefix: String, width: Int) -> String {
    let digits = String(value, radix: 16)
    return "\\" + prefix + String(repeating: "0", count: max(0, width - digits.count)) + digits
  }

  /// Python's `str.isprintable` for one character: not in the Other or Separator categories (space aside).
  private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator:
      return false
    case .spaceSeparator:
      return scalar == " "
    default:
      return true
    }
  }
}
