import OrderedCollections

// Literal conformances, so `let v: PythonValue = ["a": [1, 2.5, "x", nil, true]]` reads like Python.

extension PythonValue: ExpressibleByNilLiteral {
  public init(nilLiteral: ()) { self = .none }
}

extension PythonValue: ExpressibleByBooleanLiteral {
  public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension PythonValue: ExpressibleByIntegerLiteral {
  public init(integerLiteral value: Int) { self = .int(value) }
}

extension PythonValue: ExpressibleByFloatLiteral {
  public init(floatLiteral value: Double) { self = .float(value) }
}

extension PythonValue: ExpressibleByStringLiteral {
  public init(stringLiteral value: String) { self = .string(value) }
  public init(unicodeScalarLiteral value: String) { self = .string(value) }
  public init(extendedGraphemeClusterLiteral value: String) { self = .string(value) }
}

extension PythonValue: ExpressibleByArrayLiteral {
  public init(arrayLiteral elements: PythonValue...) { self = .list(elements) }
}

extension PythonValue: ExpressibleByDictionaryLiteral {
  /// A repeated key keeps its first position and takes the last value, as in a Python dict display.
  public init(dictionaryLiteral elements: (PythonValue, PythonValue)...) {
    var dict = OrderedDictionary<PythonValue, PythonValue>(minimumCapacity: elements.count)
    for (key, value) in elements { dict[key] = value }
    self = .dict(dict)
  }
}
