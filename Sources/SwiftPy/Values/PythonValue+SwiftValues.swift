// Reading a PythonValue as a Swift value: `Int(value)`, `[String](value)`, like `Int("42")` reads a
// String — nil when the value is something else. The rules are PythonValueDecoder's (an int is not a
// bool, a float is not an int); `value.decode(Int.self)` applies them too and throws an error that
// names the Python type found instead ("expected int, found str").

extension Int {
  /// The value of a Python `int` that fits in `Int`; nil otherwise.
  public init?(_ value: PythonValue) {
    guard let result = try? value.decode(Int.self) else { return nil }
    self = result
  }
}

extension Double {
  /// The value of a Python `float`, or of an `int` (rounded when `Double` cannot hold it); nil otherwise.
  public init?(_ value: PythonValue) {
    guard let result = try? value.decode(Double.self) else { return nil }
    self = result
  }
}

extension String {
  /// The text of a Python `str`; nil otherwise. (`value.description` is the value's `repr`.)
  public init?(_ value: PythonValue) {
    guard let result = try? value.decode(String.self) else { return nil }
    self = result
  }
}

extension Bool {
  /// The value of a Python `bool`; nil otherwise (Python's truthiness does not apply).
  public init?(_ value: PythonValue) {
    guard let result = try? value.decode(Bool.self) else { return nil }
    self = result
  }
}

extension Array where Element: Decodable {
  /// The elements of a Python `list`, `tuple` or `set`, each read as `Element`; nil when it is
  /// something else or an element does not read.
  public init?(_ value: PythonValue) {
    guard let result = try? value.decode([Element].self) else { return nil }
    self = result
  }
}

extension Dictionary where Key: Decodable, Value: Decodable {
  /// The items of a Python `dict`, read as `Key` and `Value`; nil when it is something else or an
  /// item does not read.
  public init?(_ value: PythonValue) {
    guard let result = try? value.decode([Key: Value].self) else { return nil }
    self = result
  }
}
