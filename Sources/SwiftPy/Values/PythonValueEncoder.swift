import Foundation
import OrderedCollections

/// Encodes any `Encodable` into a `PythonValue`.
///
/// Keyed containers become `.dict` with `.string` keys in encoding order, unkeyed containers `.list`,
/// integers `.int` (`.bigInt` past `Int.max`), `Float`/`Double` `.float`, nil `.none`.
/// `PythonValue`, `PythonBigInt` and `Data` (as `.bytes`) are stored as they are.
public struct PythonValueEncoder: Sendable {
  /// Nesting deeper than this throws rather than risking the stack. Each level of a `Codable` type costs
  /// roughly 0.8 KB of stack in release builds and 1.6 KB in debug builds (with Foundation's coders alike),
  /// so 10 000 levels would overflow an 8 MB thread stack; 1 000 matches `PythonValue`'s conversion limit.
  public static let defaultMaximumDepth = 1_000

  /// The deepest nesting of values accepted (the top-level value is at depth 0).
  public var maximumDepth: Int = PythonValueEncoder.defaultMaximumDepth
  /// Passed to the values being encoded as `Encoder.userInfo`.
  public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

  public init() {}

  public func encode<T: Encodable>(_ value: T) throws -> PythonValue {
    let context = _PythonEncodingContext(maximumDepth: maximumDepth, userInfo: userInfo)
    let root = _PythonEncodingNode()
    try _PythonValueEncoderImpl.encode(value, into: root, path: nil, depth: 0, context: context)
    if let error = context.deferredError { throw error }
    guard let result = root.finish(isRoot: true) else {
      throw EncodingError.invalidValue(
        value, .init(codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values."))
    }
    return result
  }
}

extension PythonValue {
  /// Encodes `value` with a default `PythonValueEncoder`.
  public init<T: Encodable>(encoding value: T) throws {
    self = try PythonValueEncoder().encode(value)
  }
}

// MARK: - Storage

/// Settings and the first misuse error of one `encode` call. Containers are created by non-throwing
/// methods, so errors found there are remembered and thrown when the encoding ends.
final class _PythonEncodingContext {
  let maximumDepth: Int
  let userInfo: [CodingUserInfoKey: any Sendable]
  var deferredError: EncodingError?

  init(maximumDepth: Int, userInfo: [CodingUserInfoKey: any Sendable]) {
    self.maximumDepth = maximumDepth
    self.userInfo = userInfo
  }

  func recordMisuse(_ message: String, path: _PythonCodingPath?) {
    if deferredError == nil {
      deferredError = .invalidValue(
        PythonValue.none, .init(codingPath: _PythonCodingPath.keys(path), debugDescription: message))
    }
  }
}

/// A value under construction. Nested containers and super encoders hand out references to their
/// node before it is filled, so the tree is built from references and frozen at the end.
final class _PythonEncodingNode {
  enum Content {
    case empty
    case single(PythonValue)
    case keyed
    case unkeyed
  }

  var content = Content.empty
  var keyed: OrderedDictionary<String, _PythonEncodingSlot> = [:]
  var unkeyed: [_PythonEncodingSlot] = []

  /// A finished value when there is one, so primitive leaves need no node of their own.
  var slot: _PythonEncodingSlot {
    if case .single(let value) = content { return .value(value) }
    return .node(self)
  }

  /// The built value; nil for a root that encoded nothing. A nested value that encoded nothing
  /// becomes an empty dict, as Foundation's JSONEncoder makes it `{}`.
  func finish(isRoot: Bool = false) -> PythonValue? {
    switch content {
    case .empty:
      return isRoot ? nil : .dict([:])
    case .single(let value):
      return value
    case .keyed:
      var dict = OrderedDictionary<PythonValue, PythonValue>(minimumCapacity: keyed.count)
      for (key, slot) in keyed { dict[.string(key)] = slot.finish() }
      return .dict(dict)
    case .unkeyed:
      return .list(unkeyed.map { $0.finish() })
    }
  }
}

enum _PythonEncodingSlot {
  case value(PythonValue)
  case node(_PythonEncodingNode)

  func finish() -> PythonValue {
    switch self {
    case .value(let value): value
    case .node(let node): node.finish()!
    }
  }
}

// MARK: - Encoder

final class _PythonValueEncoderImpl: Encoder {
  let node: _PythonEncodingNode
  let path: _PythonCodingPath?
  let depth: Int
  let context: _PythonEncodingContext

  init(node: _PythonEncodingNode, path: _PythonCodingPath?, depth: Int, context: _PythonEncodingContext) {
    self.node = node
    self.path = path
    self.depth = depth
    self.context = context
  }

  var codingPath: [any CodingKey] { _PythonCodingPath.keys(path) }
  var userInfo: [CodingUserInfoKey: Any] { context.userInfo }

  /// Used by `PythonValue`/`PythonBigInt.encode(to:)` to skip the portable representation.
  func storeDirectly(_ value: PythonValue) {
    node.content = .single(value)
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    let target = Self.prepare(node, as: .keyed, path: path, context: context)
    return KeyedEncodingContainer(
      _PythonKeyedEncoder<Key>(node: target, path: path, depth: depth, context: context))
  }

  func unkeyedContainer() -> any UnkeyedEncodingContainer {
    let target = Self.prepare(node, as: .unkeyed, path: path, context: context)
    return _PythonUnkeyedEncoder(node: target, path: path, depth: depth, context: context)
  }

  func singleValueContainer() -> any SingleValueEncodingContainer {
    _PythonSingleValueEncoder(node: node, path: path, depth: depth, context: context)
  }

  /// Makes `node` a keyed or unkeyed container. Asking again for the same kind is allowed (a subclass
  /// and its superclass may share an encoder); switching kinds is an error, reported when encoding ends
  /// and meanwhile given a detached node so nothing crashes.
  static func prepare(
    _ node: _PythonEncodingNode, as kind: _PythonEncodingNode.Content, path: _PythonCodingPath?,
    context: _PythonEncodingContext
  ) -> _PythonEncodingNode {
    switch (node.content, kind) {
    case (.empty, _):
      node.content = kind
      return node
    case (.keyed, .keyed), (.unkeyed, .unkeyed):
      return node
    default:
      context.recordMisuse("a value asked for two different kinds of container", path: path)
      let detached = _PythonEncodingNode()
      detached.content = kind
      return detached
    }
  }

  /// A fresh node for a nested container at `depth`, or a detached one (and a deferred error) when
  /// that is too deep.
  static func nestedNode(
    _ kind: _PythonEncodingNode.Content, path: _PythonCodingPath?, depth: Int,
    context: _PythonEncodingContext
  ) -> _PythonEncodingNode {
    let node = _PythonEncodingNode()
    node.content = kind
    if depth >= context.maximumDepth {
      context.recordMisuse("nesting deeper than \(context.maximumDepth) levels", path: path)
    }
    return node
  }

  /// Encodes `value` into `node`, storing our own value types directly.
  static func encode<T: Encodable>(
    _ value: T, into node: _PythonEncodingNode, path: _PythonCodingPath?, depth: Int,
    context: _PythonEncodingContext
  ) throws {
    // Type identity checks are cheaper than dynamic casts, and these three never need the generic path.
    if T.self == PythonValue.self {
      node.content = .single(value as! PythonValue)
    } else if T.self == PythonBigInt.self {
      node.content = .single(.integer(value as! PythonBigInt))
    } else if T.self == Data.self {
      node.content = .single(.bytes([UInt8](value as! Data)))
    } else {
      guard depth < context.maximumDepth else {
        throw EncodingError.invalidValue(
          value,
          .init(
            codingPath: _PythonCodingPath.keys(path),
            debugDescription: "nesting deeper than \(context.maximumDepth) levels"))
      }
      try value.encode(to: _PythonValueEncoderImpl(node: node, path: path, depth: depth, context: context))
    }
  }

  static func box<T: Encodable>(
    _ value: T, path: _PythonCodingPath?, depth: Int, context: _PythonEncodingContext
  ) throws -> _PythonEncodingSlot {
    let node = _PythonEncodingNode()
    try encode(value, into: node, path: path, depth: depth, context: context)
    return node.slot
  }
}

/// Conversions for the fixed-width primitives every container has to accept.
private func pythonInteger<T: FixedWidthInteger>(_ value: T) -> PythonValue {
  if let small = Int(exactly: value) { return .int(small) }
  return .bigInt(PythonBigInt(value))
}

// MARK: - Containers

private struct _PythonKeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
  let node: _PythonEncodingNode
  let path: _PythonCodingPath?
  let depth: Int
  let context: _PythonEncodingContext

  var codingPath: [any CodingKey] { _PythonCodingPath.keys(path) }

  private func store(_ value: PythonValue, _ key: Key) {
    node.keyed[key.stringValue] = .value(value)
  }

  mutating func encodeNil(forKey key: Key) throws { store(.none, key) }
  mutating func encode(_ value: Bool, forKey key: Key) throws { store(.bool(value), key) }
  mutating func encode(_ value: String, forKey key: Key) throws { store(.string(value), key) }
  mutating func encode(_ value: Double, forKey key: Key) throws { store(.float(value), key) }
  mutating func encode(_ value: Float, forKey key: Key) throws { store(.float(Double(value)), key) }
  mutating func encode(_ value: Int, forKey key: Key) throws { store(.int(value), key) }
  mutating func encode(_ value: Int8, forKey key: Key) throws { store(pythonInteger(value), key) }
  mutating func encode(_ value: Int16, forKey key: Key) throws { store(pythonInteger(value), key) }
  mutating func encode(_ value: Int32, forKey key: Key) throws { store(pythonInteger(value), key) }
  mutating func encode(_ value: Int64, forKey key: Key) throws { store(pythonInteger(value), key) }
  mutating func encode(_ value: Int128, forKey key: Key) throws { store(pythonInteger(value), key) }
  mutating func encode(_ value: UInt, forKey key: Key) throws { store(pythonInteger(value), key) }
  mutating func encode(_ value: UInt8, forKey key: Key) throws { store(pythonInteger(value), key) }
  mutating func encode(_ value: UInt16, forKey key: Key) throws { store(pythonInteger(value), key) }
  mutating func encode(_ value: UInt32, forKey key: Key) throws { store(pythonInteger(value), key) }
  mutating func encode(_ value: UInt64, forKey key: Key) throws { store(pythonInteger(value), key) }
  mutating func encode(_ value: UInt128, forKey key: Key) throws { store(pythonInteger(value), key) }

  mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
    let childPath = _PythonCodingPath.appending(key, to: path)
    node.keyed[key.stringValue] = try _PythonValueEncoderImpl.box(
      value, path: childPath, depth: depth + 1, context: context)
  }

  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy keyType: NestedKey.Type, forKey key: Key
  ) -> KeyedEncodingContainer<NestedKey> {
    let childPath = _PythonCodingPath.appending(key, to: path)
    let child = _PythonValueEncoderImpl.nestedNode(
      .keyed, path: childPath, depth: depth + 1, context: context)
    node.keyed[key.stringValue] = .node(child)
    return KeyedEncodingContainer(
      _PythonKeyedEncoder<NestedKey>(node: child, path: childPath, depth: depth + 1, context: context))
  }

  mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
    let childPath = _PythonCodingPath.appending(key, to: path)
    let child = _PythonValueEncoderImpl.nestedNode(
      .unkeyed, path: childPath, depth: depth + 1, context: context)
    node.keyed[key.stringValue] = .node(child)
    return _PythonUnkeyedEncoder(node: child, path: childPath, depth: depth + 1, context: context)
  }

  mutating func superEncoder() -> any Encoder {
    superEncoder(key: _PythonCodingKey.super)
  }

  mutating func superEncoder(forKey key: Key) -> any Encoder {
    superEncoder(key: key)
  }

  private func superEncoder(key: any CodingKey) -> any Encoder {
    let childPath = _PythonCodingPath.appending(key, to: path)
    let child = _PythonValueEncoderImpl.nestedNode(
      .empty, path: childPath, depth: depth + 1, context: context)
    node.keyed[key.stringValue] = .node(child)
    return _PythonValueEncoderImpl(node: child, path: childPath, depth: depth + 1, context: context)
  }
}

private struct _PythonUnkeyedEncoder: UnkeyedEncodingContainer {
  let node: _PythonEncodingNode
  let path: _PythonCodingPath?
  let depth: Int
  let context: _PythonEncodingContext

  var codingPath: [any CodingKey] { _PythonCodingPath.keys(path) }
  var count: Int { node.unkeyed.count }

  private func append(_ value: PythonValue) {
    node.unkeyed.append(.value(value))
  }

  private var nextPath: _PythonCodingPath {
    _PythonCodingPath.appending(_PythonCodingKey(index: count), to: path)
  }

  mutating func encodeNil() throws { append(.none) }
  mutating func encode(_ value: Bool) throws { append(.bool(value)) }
  mutating func encode(_ value: String) throws { append(.string(value)) }
  mutating func encode(_ value: Double) throws { append(.float(value)) }
  mutating func encode(_ value: Float) throws { append(.float(Double(value))) }
  mutating func encode(_ value: Int) throws { append(.int(value)) }
  mutating func encode(_ value: Int8) throws { append(pythonInteger(value)) }
  mutating func encode(_ value: Int16) throws { append(pythonInteger(value)) }
  mutating func encode(_ value: Int32) throws { append(pythonInteger(value)) }
  mutating func encode(_ value: Int64) throws { append(pythonInteger(value)) }
  mutating func encode(_ value: Int128) throws { append(pythonInteger(value)) }
  mutating func encode(_ value: UInt) throws { append(pythonInteger(value)) }
  mutating func encode(_ value: UInt8) throws { append(pythonInteger(value)) }
  mutating func encode(_ value: UInt16) throws { append(pythonInteger(value)) }
  mutating func encode(_ value: UInt32) throws { append(pythonInteger(value)) }
  mutating func encode(_ value: UInt64) throws { append(pythonInteger(value)) }
  mutating func encode(_ value: UInt128) throws { append(pythonInteger(value)) }

  mutating func encode<T: Encodable>(_ value: T) throws {
    let slot = try _PythonValueEncoderImpl.box(value, path: nextPath, depth: depth + 1, context: context)
    node.unkeyed.append(slot)
  }

  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy keyType: NestedKey.Type
  ) -> KeyedEncodingContainer<NestedKey> {
    let childPath = nextPath
    let child = _PythonValueEncoderImpl.nestedNode(
      .keyed, path: childPath, depth: depth + 1, context: context)
    node.unkeyed.append(.node(child))
    return KeyedEncodingContainer(
      _PythonKeyedEncoder<NestedKey>(node: child, path: childPath, depth: depth + 1, context: context))
  }

  mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
    let childPath = nextPath
    let child = _PythonValueEncoderImpl.nestedNode(
      .unkeyed, path: childPath, depth: depth + 1, context: context)
    node.unkeyed.append(.node(child))
    return _PythonUnkeyedEncoder(node: child, path: childPath, depth: depth + 1, context: context)
  }

  mutating func superEncoder() -> any Encoder {
    let childPath = nextPath
    let child = _PythonValueEncoderImpl.nestedNode(
      .empty, path: childPath, depth: depth + 1, context: context)
    node.unkeyed.append(.node(child))
    return _PythonValueEncoderImpl(node: child, path: childPath, depth: depth + 1, context: context)
  }
}

private struct _PythonSingleValueEncoder: SingleValueEncodingContainer {
  let node: _PythonEncodingNode
  let path: _PythonCodingPath?
  let depth: Int
  let context: _PythonEncodingContext

  var codingPath: [any CodingKey] { _PythonCodingPath.keys(path) }

  private func store(_ value: PythonValue) {
    switch node.content {
    case .empty, .single: node.content = .single(value)
    case .keyed, .unkeyed:
      context.recordMisuse("a single value was encoded into a value that already has a container", path: path)
    }
  }

  mutating func encodeNil() throws { store(.none) }
  mutating func encode(_ value: Bool) throws { store(.bool(value)) }
  mutating func encode(_ value: String) throws { store(.string(value)) }
  mutating func encode(_ value: Double) throws { store(.float(value)) }
  mutating func encode(_ value: Float) throws { store(.float(Double(value))) }
  mutating func encode(_ value: Int) throws { store(.int(value)) }
  mutating func encode(_ value: Int8) throws { store(pythonInteger(value)) }
  mutating func encode(_ value: Int16) throws { store(pythonInteger(value)) }
  mutating func encode(_ value: Int32) throws { store(pythonInteger(value)) }
  mutating func encode(_ value: Int64) throws { store(pythonInteger(value)) }
  mutating func encode(_ value: Int128) throws { store(pythonInteger(value)) }
  mutating func encode(_ value: UInt) throws { store(pythonInteger(value)) }
  mutating func encode(_ value: UInt8) throws { store(pythonInteger(value)) }
  mutating func encode(_ value: UInt16) throws { store(pythonInteger(value)) }
  mutating func encode(_ value: UInt32) throws { store(pythonInteger(value)) }
  mutating func encode(_ value: UInt64) throws { store(pythonInteger(value)) }
  mutating func encode(_ value: UInt128) throws { store(pythonInteger(value)) }

  mutating func encode<T: Encodable>(_ value: T) throws {
    // A wrapper that encodes its content as a single value adds a level of recursion but no key.
    try _PythonValueEncoderImpl.encode(value, into: node, path: path, depth: depth + 1, context: context)
  }
}
