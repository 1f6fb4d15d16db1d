// Reading a live object as a Swift value: `try Int(obj)`. Unlike `Int(value)` for a PythonValue,
// these throw rather than return nil: besides a type that does not match ("expected int, found
// str") the object may be used off its thread, and the error says which.

extension Int {
  /// The value of a Python `int` that fits in `Int`.
  public init(_ object: PythonObject) throws { self = try object.decode(Int.self) }
}

extension Double {
  /// The value of a Python `float`, or of an `int`.
  public init(_ object: PythonObject) throws { self = try object.decode(Double.self) }
}

extension String {
  /// The text of a Python `str` (`object.description` is `str(object)` for any object).
  public init(_ object: PythonObject) throws { self = try object.decode(String.self) }
}

extension Bool {
  /// The value of a Python `bool` (``PythonObject/isTruthy()`` is Python's `bool(object)`).
  public init(_ object: PythonObject) throws { self = try object.decode(Bool.self) }
}
