import Foundation
import OrderedCollections

/// Decodes any `Decodable` from a `PythonValue`.
///
/// Keyed containers read a `.dict` by its `.string` keys (an `.int` key also answers a coding key with
/// that `intValue`, so `[Int: T]` reads Python's `{1: ...}`); other keys are ignored. Unkeyed containers
/// read `.list`, `.tuple`, `.set` (in description order) or `.bytes` (as ints). Conversions are strict:
/// integers only from `.int`/`.bigInt` and in range, `Bool` only from `.bool`, `Double`/`Float` from
/// `.float` or an int. `PythonValue`, `PythonBigInt` and `Data` (from `.bytes`) are read as they are.
/// Errors are `DecodingError`s naming the Python type found, e.g. "expected str, found int".
public struct PythonValueDecoder: Sendable {
  /// Nesting deeper than this throws rather than risking the stack. Each level of a `Codable` type costs
  /// roughly 0.8 KB of stack in release builds and 1.6 KB in debug builds (with Foundation's coders alike),
  /// so 10 000 levels would overflow an 8 MB thread stack; 1 000 matches `PythonValue`'s conversion limit.
  public static let defaultMaximumDepth = 1_000

  /// The deepest nesting of values accepted (the top-level value is at depth 0).
  public var maximumDepth: Int = PythonValueDecoder.defaultMaximumDepth
  /// Passed to the values being decoded as `Decoder.userInfo`.
  public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

  public init() {}

  public func decode<T: Decodable>(_ type: T.Type, from value: PythonValue) throws -> T {
    let context = _PythonDecodingContext(maximumDepth: maximumDepth, userInfo: userInfo)
    return try _PythonValueDecoderImpl.decode(type, from: value, path: nil, depth: 0, context: context)
  }
}

extension PythonValue {
  /// Decodes the value as `type` with a default `PythonValueDecoder`.
  public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
    try PythonValueDecoder().decode(type, from: self)
  }
}

// MARK: - Decoder

final class _PythonDecodingContext {
  let maximumDepth: Int
  let userInfo: [CodingUserInfoKey: any Sendable]

  init(maximumDepth: Int, userInfo: [CodingUserInfoKey: any Sendable]) {
    self.maximumDepth = maximumDepth
    self.userInfo = userInfo
  }
}

final class _PythonValueDecoderImpl: Decoder {
  let value: PythonValue
  let path: _PythonCodingPath?
  let depth: Int
  let context: _PythonDecodingContext

  init(value: PythonValue, path: _PythonCodingPath?, depth: Int, context: _PythonDecodingContext) {
    self.value = value
    self.path = path
    self.depth = depth
    self.context = context
  }

  var codingPath: [any CodingKey] { _PythonCodingPath.keys(path) }
  var userInfo: [CodingUserInfoKey: Any] { context.userInfo }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    guard case .dict(let dict) = value else {
      throw _PythonUnbox.mismatch([String: Any].self, expected: "dict", found: value, path: path)
    }
    return KeyedDecodingContainer(_PythonKeyedDecoder<Key>(dict: dict, decoder: self))
  }

  func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
    let elements: [PythonValue]
    switch value {
    case .list(let list), .tuple(let list): elements = list
    case .set(let set): elements = PythonValue.deterministicOrder(set)
    case .bytes(let bytes): elements = bytes.map { .int(Int($0)) }
    default:
      throw _PythonUnbox.mismatch([Any].self, expected: "list, tuple or set", found: value, path: path)
    }
    return _PythonUnkeyedDecoder(elements: elements, decoder: self)
  }

  func singleValueContainer() throws -> any SingleValueDecodingContainer {
    _PythonSingleValueDecoder(decoder: self)
  }

  /// Used by `PythonBigInt.init(from:)` to read an int directly rather than its decimal string.
  func decodeBigInt() throws -> PythonBigInt {
    try _PythonUnbox.bigInt(value, path: path)
  }

  /// Decodes `type` from `value`, reading our own value types directly.
  static func decode<T: Decodable>(
    _ type: T.Type, from value: PythonValue, path: _PythonCodingPath?, depth: Int,
    context: _PythonDecodingContext
  ) throws -> T {
    // Type identity checks are cheaper than dynamic casts, and these never need the generic path.
    if T.self == PythonValue.self { return value as! T }
    if T.self == PythonBigInt.self { return try _PythonUnbox.bigInt(value, path: path) as! T }
    if T.self == Data.self, case .bytes(let bytes) = value { return Data(bytes) as! T }
    guard depth < context.maximumDepth else {
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: _PythonCodingPath.keys(path),
          debugDescription: "nesting deeper than \(context.maximumDepth) levels"))
    }
    return try T(from: _PythonValueDecoderImpl(value: value, path: path, depth: depth, context: context))
  }

  /// A decoder for a nested container's value, refusing it when too deep.
  func nested(_ value: PythonValue, path: _PythonCodingPath) throws -> _PythonValueDecoderImpl {
    guard depth + 1 < context.maximumDepth else {
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: _PythonCodingPath.keys(path),
          debugDescription: "nesting deeper than \(context.maximumDepth) levels"))
    }
    return _PythonValueDecoderImpl(value: value, path: path, depth: depth + 1, context: context)
  }
}

// MARK: - Conversions

/// Strict conversions from a `PythonValue` to the primitives, shared by all containers.
enum _PythonUnbox {
  static func mismatch(
    _ type: Any.Type, expected: String, found value: PythonValue, path: _PythonCodingPath?
  ) -> DecodingError {
    let context = DecodingError.Context(
      codingPath: _PythonCodingPath.keys(path),
      debugDescription: "expected \(expected), found \(value.typeName)")
    // Foundation's coders report a null where a value was needed as valueNotFound; keep that convention.
    if value.isNone { return .valueNotFound(type, context) }
    return .typeMismatch(type, context)
  }

  static func bool(_ value: PythonValue, path: _PythonCodingPath?) throws -> Bool {
    guard case .bool(let result) = value else {
      throw mismatch(Bool.self, expected: "bool", found: value, path: path)
    }
    return result
  }

  static func string(_ value: PythonValue, path: _PythonCodingPath?) throws -> String {
    guard case .string(let result) = value else {
      throw mismatch(String.self, expected: "str", found: value, path: path)
    }
    return result
  }

  static func integer<T: FixedWidthInteger>(
    _ type: T.Type, _ value: PythonValue, path: _PythonCodingPath?
  ) throws -> T {
    let result: T?
    switch value {
    case .int(let int): result = T(exactly: int)
    case .bigInt(let big): result = big.exactly(T.self)
    default: throw mismatch(T.self, expected: "int", found: value, path: path)
    }
    guard let result else {
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: _PythonCodingPath.keys(path), debugDescription: "int \(value) does not fit in \(T.self)"
        ))
    }
    return result
  }

  static func bigInt(_ value: PythonValue, path: _PythonCodingPath?) throws -> PythonBigInt {
    guard let result = value.bigIntValue else {
      throw mismatch(PythonBigInt.self, expected: "int", found: value, path: path)
    }
    return result
  }

  static func double(_ value: PythonValue, path: _PythonCodingPath?) throws -> Double {
    switch value {
    case .float(let double): return double
    case .int(let int): return Double(int)
    case .bigInt(let big): return big.doubleValue
    default: throw mismatch(Double.self, expected: "float", found: value, path: path)
    }
  }

  static func float(_ value: PythonValue, path: _PythonCodingPath?) throws -> Float {
    let double: Double
    do {
      double = try self.double(value, path: path)
    } catch DecodingError.typeMismatch(_, let context) {
      throw DecodingError.typeMismatch(Float.self, context)
    }
    let result = Float(double)
    // Rounding is expected, but a finite number turning into infinity is data loss.
    guard result.isFinite || !double.isFinite else {
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: _PythonCodingPath.keys(path), debugDescription: "\(value) does not fit in Float"))
    }
    return result
  }
}

// MARK: - Containers

private struct _PythonKeyedDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
  let dict: OrderedDictionary<PythonValue, PythonValue>
  let decoder: _PythonValueDecoderImpl

  var codingPath: [any CodingKey] { decoder.codingPath }

  var allKeys: [Key] {
    dict.keys.compactMap { key in
      switch key {
      case .string(let string): Key(stringValue: string)
      case .int(let int): Key(intValue: int) ?? Key(stringValue: String(int))
      default: nil
      }
    }
  }

  private func lookup(_ key: Key) -> PythonValue? {
    if let value = dict[.string(key.stringValue)] { return value }
    if let int = key.intValue { return dict[.int(int)] }
    return nil
  }

  private func path(_ key: Key) -> _PythonCodingPath {
    _PythonCodingPath.appending(key, to: decoder.path)
  }

  private func require(_ key: Key) throws -> PythonValue {
    guard let value = lookup(key) else {
      throw DecodingError.keyNotFound(
        key,
        .init(
          codingPath: codingPath,
          debugDescription: "no value for key \(PythonValue.stringRepr(key.stringValue))"))
    }
    return value
  }

  func contains(_ key: Key) -> Bool { lookup(key) != nil }

  func decodeNil(forKey key: Key) throws -> Bool { try require(key).isNone }

  func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
    try _PythonUnbox.bool(require(key), path: path(key))
  }
  func decode(_ type: String.Type, forKey key: Key) throws -> String {
    try _PythonUnbox.string(require(key), path: path(key))
  }
  func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
    try _PythonUnbox.double(require(key), path: path(key))
  }
  func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
    try _PythonUnbox.float(require(key), path: path(key))
  }
  func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
    try _PythonUnbox.integer(type, require(key), path: path(key))
  }
  func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 {
    try _PythonUnbox.integer(type, require(key), path: path(key))
  }
  func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 {
    try _PythonUnbox.integer(type, require(key), path: path(key))
  }
  func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 {
    try _PythonUnbox.integer(type, require(key), path: path(key))
  }
  func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
    try _PythonUnbox.integer(type, require(key), path: path(key))
  }
  func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 {
    try _PythonUnbox.integer(type, require(key), path: path(key))
  }
  func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt {
    try _PythonUnbox.integer(type, require(key), path: path(key))
  }
  func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 {
    try _PythonUnbox.integer(type, require(key), path: path(key))
  }
  func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 {
    try _PythonUnbox.integer(type, require(key), path: path(key))
  }
  func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 {
    try _PythonUnbox.integer(type, require(key), path: path(key))
  }
  func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
    try _PythonUnbox.integer(type, require(key), path: path(key))
  }
  func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 {
    try _PythonUnbox.integer(type, require(key), path: path(key))
  }

  func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
    try _PythonValueDecoderImpl.decode(
      type, from: require(key), path: path(key), depth: decoder.depth + 1, context: decoder.context)
  }

  func nestedContainer<NestedKey: CodingKey>(
    keyedBy type: NestedKey.Type, forKey key: Key
  ) throws -> KeyedDecodingContainer<NestedKey> {
    try decoder.nested(require(key), path: path(key)).container(keyedBy: type)
  }

  func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
    try decoder.nested(require(key), path: path(key)).unkeyedContainer()
  }

  func superDecoder() throws -> any Decoder {
    let key = _PythonCodingKey.super
    let value = dict[.string(key.stringValue)] ?? .none
    return try decoder.nested(value, path: _PythonCodingPath.appending(key, to: decoder.path))
  }

  func superDecoder(forKey key: Key) throws -> any Decoder {
    try decoder.nested(lookup(key) ?? .none, path: path(key))
  }
}

private struct _PythonUnkeyedDecoder: UnkeyedDecodingContainer {
  let elements: [PythonValue]
  let decoder: _PythonValueDecoderImpl
  private(set) var currentIndex = 0

  init(elements: [PythonValue], decoder: _PythonValueDecoderImpl) {
    self.elements = elements
    self.decoder = decoder
  }

  var codingPath: [any CodingKey] { decoder.codingPath }
  var count: Int? { elements.count }
  var isAtEnd: Bool { currentIndex >= elements.count }

  private var currentPath: _PythonCodingPath {
    _PythonCodingPath.appending(_PythonCodingKey(index: currentIndex), to: decoder.path)
  }

  /// Runs `body` on the next element and moves past it only if that succeeded, as Foundation does.
  private mutating func next<T>(
    _ type: T.Type, _ body: (PythonValue, _PythonCodingPath) throws -> T
  ) throws -> T {
    guard !isAtEnd else {
      throw DecodingError.valueNotFound(
        type,
        .init(
          codingPath: _PythonCodingPath.keys(currentPath), debugDescription: "unkeyed container is at end"))
    }
    let result = try body(elements[currentIndex], currentPath)
    currentIndex += 1
    return result
  }

  mutating func decodeNil() throws -> Bool {
    guard !isAtEnd else {
      throw DecodingError.valueNotFound(
        Any?.self,
        .init(
          codingPath: _PythonCodingPath.keys(currentPath), debugDescription: "unkeyed container is at end"))
    }
    // A non-nil element stays put for the caller's real decode.
    guard elements[currentIndex].isNone else { return false }
    currentIndex += 1
    return true
  }

  mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type, _PythonUnbox.bool) }
  mutating func decode(_ type: String.Type) throws -> String { try next(type, _PythonUnbox.string) }
  mutating func decode(_ type: Double.Type) throws -> Double { try next(type, _PythonUnbox.double) }
  mutating func decode(_ type: Float.Type) throws -> Float { try next(type, _PythonUnbox.float) }
  mutating func decode(_ type: Int.Type) throws -> Int { try integer(type) }
  mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
  mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
  mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
  mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
  mutating func decode(_ type: Int128.Type) throws -> Int128 { try integer(type) }
  mutating func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
  mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
  mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
  mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
  mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
  mutating func decode(_ type: UInt128.Type) throws -> UInt128 { try integer(type) }

  private mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
    try next(type) { value, path in try _PythonUnbox.integer(type, value, path: path) }
  }

  mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
    let depth = decoder.depth + 1
    let context = decoder.context
    return try next(type) { value, path in
      try _PythonValueDecoderImpl.decode(type, from: value, path: path, depth: depth, context: context)
    }
  }

  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy type: NestedKey.Type
  ) throws -> KeyedDecodingContainer<NestedKey> {
    let decoder = self.decoder
    return try next(KeyedDecodingContainer<NestedKey>.self) { value, path in
      try decoder.nested(value, path: path).container(keyedBy: type)
    }
  }

  mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
    let decoder = self.decoder
    return try next((any UnkeyedDecodingContainer).self) { value, path in
      try decoder.nested(value, path: path).unkeyedContainer()
    }
  }

  mutating func superDecoder() throws -> any Decoder {
    let decoder = self.decoder
    return try next((any Decoder).self) { value, path in try decoder.nested(value, path: path) }
  }
}

private struct _PythonSingleValueDecoder: SingleValueDecodingContainer {
  let decoder: _PythonValueDecoderImpl

  var codingPath: [any CodingKey] { decoder.codingPath }
  private var value: PythonValue { decoder.value }
  private var path: _PythonCodingPath? { decoder.path }

  func decodeNil() -> Bool { value.isNone }
  func decode(_ type: Bool.Type) throws -> Bool { try _PythonUnbox.bool(value, path: path) }
  func decode(_ type: String.Type) throws -> String { try _PythonUnbox.string(value, path: path) }
  func decode(_ type: Double.Type) throws -> Double { try _PythonUnbox.double(value, path: path) }
  func decode(_ type: Float.Type) throws -> Float { try _PythonUnbox.float(value, path: path) }
  func decode(_ type: Int.Type) throws -> Int { try _PythonUnbox.integer(type, value, path: path) }
  func decode(_ type: Int8.Type) throws -> Int8 { try _PythonUnbox.integer(type, value, path: path) }
  func decode(_ type: Int16.Type) throws -> Int16 { try _PythonUnbox.integer(type, value, path: path) }
  func decode(_ type: Int32.Type) throws -> Int32 { try _PythonUnbox.integer(type, value, path: path) }
  func decode(_ type: Int64.Type) throws -> Int64 { try _PythonUnbox.integer(type, value, path: path) }
  func decode(_ type: Int128.Type) throws -> Int128 { try _PythonUnbox.integer(type, value, path: path) }
  func decode(_ type: UInt.Type) throws -> UInt { try _PythonUnbox.integer(type, value, path: path) }
  func decode(_ type: UInt8.Type) throws -> UInt8 { try _PythonUnbox.integer(type, value, path: path) }
  func decode(_ type: UInt16.Type) throws -> UInt16 { try _PythonUnbox.integer(type, value, path: path) }
  func decode(_ type: UInt32.Type) throws -> UInt32 { try _PythonUnbox.integer(type, value, path: path) }
  func decode(_ type: UInt64.Type) throws -> UInt64 { try _PythonUnbox.integer(type, value, path: path) }
  func decode(_ type: UInt128.Type) throws -> UInt128 { try _PythonUnbox.integer(type, value, path: path) }

  func decode<T: Decodable>(_ type: T.Type) throws -> T {
    // A wrapper decoding its content as a single value adds a level of recursion but no key.
    try _PythonValueDecoderImpl.decode(
      type, from: value, path: path, depth: decoder.depth + 1, context: decoder.context)
  }
}
