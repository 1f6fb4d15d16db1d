import OrderedCollections

/// PythonValue's own `Codable`, so it can sit inside users' `Codable` types.
///
/// With a foreign coder (JSON, property lists) it maps onto the portable shapes: `bigInt` becomes its
/// decimal string, `bytes` an array of numbers, tuples and sets arrays, and a dict a keyed container
/// when all its keys are strings (else an array of `[key, value]` pairs). Decoding brings back
/// none, bool, int, float, str, list and dict. With `PythonValueEncoder`/`PythonValueDecoder` the value
/// passes through unchanged, whatever its case.
extension PythonValue: Codable {
  public func encode(to encoder: any Encoder) throws {
    if let encoder = encoder as? _PythonValueEncoderImpl {
      encoder.storeDirectly(self)
      return
    }
    // A foreign encoder recurses through us once per level; stop before the stack can run out.
    guard encoder.codingPath.count < PythonValueEncoder.defaultMaximumDepth else {
      throw EncodingError.invalidValue(
        self,
        .init(
          codingPath: encoder.codingPath,
          debugDescription: "nesting deeper than \(PythonValueEncoder.defaultMaximumDepth) levels"))
    }
    switch self {
    case .dict(let dict) where dict.keys.allSatisfy({ $0.stringValue != nil }):
      var container = encoder.container(keyedBy: _PythonCodingKey.self)
      for (key, value) in dict {
        try container.encode(value, forKey: _PythonCodingKey(stringValue: key.stringValue!))
      }
    case .dict(let dict):
      var container = encoder.unkeyedContainer()
      for (key, value) in dict {
        var pair = container.nestedUnkeyedContainer()
        try pair.encode(key)
        try pair.encode(value)
      }
    default:
      var container = encoder.singleValueContainer()
      switch self {
      case .none: try container.encodeNil()
      case .bool(let value): try container.encode(value)
      case .int(let value): try container.encode(value)
      case .bigInt(let value): try container.encode(value.description)
      case .float(let value): try container.encode(value)
      case .string(let value): try container.encode(value)
      case .bytes(let value): try container.encode(value)
      case .list(let elements), .tuple(let elements): try container.encode(elements)
      case .set(let elements): try container.encode(Self.deterministicOrder(elements))
      case .dict: preconditionFailure("dicts are handled above")
      }
    }
  }

  public init(from decoder: any Decoder) throws {
    if let decoder = decoder as? _PythonValueDecoderImpl {
      self = decoder.value
      return
    }
    // A foreign decoder recurses through us once per level; stop before the stack can run out.
    guard decoder.codingPath.count < PythonValueDecoder.defaultMaximumDepth else {
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: decoder.codingPath,
          debugDescription: "nesting deeper than \(PythonValueDecoder.defaultMaximumDepth) levels"))
    }
    // Order matters: JSON's `true` must not become 1, and 1 must stay an int rather than 1.0.
    if let container = try? decoder.singleValueContainer() {
      if container.decodeNil() {
        self = .none
        return
      }
      if let value = try? container.decode(Bool.self) {
        self = .bool(value)
        return
      }
      if let value = try? container.decode(Int.self) {
        self = .int(value)
        return
      }
      if let value = try? container.decode(Double.self) {
        self = .float(value)
        return
      }
      if let value = try? container.decode(String.self) {
        self = .string(value)
        return
      }
    }
    if var container = try? decoder.unkeyedContainer() {
      var elements: [PythonValue] = []
      if let count = container.count { elements.reserveCapacity(count) }
      while !container.isAtEnd {
        elements.append(try container.decode(PythonValue.self))
      }
      self = .list(elements)
      return
    }
    if let container = try? decoder.container(keyedBy: _PythonCodingKey.self) {
      var dict = OrderedDictionary<PythonValue, PythonValue>()
      for key in container.allKeys {
        dict[.string(key.stringValue)] = try container.decode(PythonValue.self, forKey: key)
      }
      self = .dict(dict)
      return
    }
    throw DecodingError.dataCorrupted(
      .init(codingPath: decoder.codingPath, debugDescription: "the data is not a value PythonValue can hold"))
  }

  /// Set elements ordered by their descriptions, so encodings and iteration are reproducible.
  static func deterministicOrder(_ elements: Set<PythonValue>) -> [PythonValue] {
    elements.map { ($0.description, $0) }.sorted { $0.0 < $1.0 }.map(\.1)
  }
}

// MARK: - Shared coding infrastructure

/// A coding key that is any string or index.
struct _PythonCodingKey: CodingKey {
  let stringValue: String
  let intValue: Int?

  init(stringValue: String) {
    self.stringValue = stringValue
    self.intValue = nil
  }

  init(intValue: Int) {
    self.stringValue = String(intValue)
    self.intValue = intValue
  }

  /// The key of an array element, spelled like Foundation's coders spell it.
  init(index: Int) {
    self.stringValue = "Index \(index)"
    self.intValue = index
  }

  static let `super` = _PythonCodingKey(stringValue: "super")
}

/// A coding path kept as a parent-linked list: each level only links to its parent, so deep nesting
/// does not copy ever-longer arrays. The array is built only when someone asks for it.
final class _PythonCodingPath {
  let key: any CodingKey
  let parent: _PythonCodingPath?

  init(_ key: any CodingKey, parent: _PythonCodingPath?) {
    self.key = key
    self.parent = parent
  }

  static func keys(_ path: _PythonCodingPath?) -> [any CodingKey] {
    var keys: [any CodingKey] = []
    var node = path
    while let current = node {
      keys.append(current.key)
      node = current.parent
    }
    return keys.reversed()
  }

  static func appending(_ key: any CodingKey, to path: _PythonCodingPath?) -> _PythonCodingPath {
    _PythonCodingPath(key, parent: path)
  }
}
