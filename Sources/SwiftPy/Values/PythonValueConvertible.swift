import Foundation
import OrderedCollections

/// A Swift value that can be passed to Python as it is: `args: [n, name, xs]`, `locals: ["x": name]`.
///
/// The standard types conform: every integer type (`.int`, or `.bigInt` beyond `Int`), `Double` and
/// `Float` (`.float`), `String` and `Substring` (`.string`), `Bool`, `Data` (`.bytes`), ``PythonValue``,
/// ``PythonBigInt``; and arrays (`.list`), sets (`.set`), dictionaries and `OrderedDictionary`s
/// (`.dict`) and optionals (`nil` is `None`) of conforming values. An array of bytes (`[UInt8]`) is a
/// list of ints like every other array: pass `Data` or ``PythonValue/bytes(_:)`` for `bytes`.
/// A Swift `Dictionary` has no order, so neither has the Python dict made from it; use an
/// `OrderedDictionary` when the order matters.
///
/// Any `Encodable` value goes through ``PythonValueEncoder`` with `.encoding(_:)`:
/// `args: [n, .encoding(point)]` (inside the call's `try`). Your own types may conform by returning a
/// ``PythonValue``.
///
/// The conversion cannot fail, so it happens at the call, in the caller's task; the value then
/// crosses to the interpreter as a copy.
///
/// Each call taking values has two overloads: one of ``PythonValue``s and one of
/// `any PythonValueConvertible`, marked `@_disfavoredOverload`. Literals (`[1, "a"]`, `nil`, nested
/// mixed literals like `[["a": [true, nil]]]`) can only be ``PythonValue``s, since Swift gives an
/// existential no literal type; the disfavoring makes those call sites, and the ones with no
/// arguments at all, pick the ``PythonValue`` overload instead of being ambiguous.
public protocol PythonValueConvertible: PythonConvertible, Sendable {
  /// The value as a ``PythonValue``.
  var pythonValue: PythonValue { get }
}

extension PythonValueConvertible {
  public var pythonValueToCopy: PythonValue? { pythonValue }
}

extension PythonValueConvertible where Self == PythonValue {
  /// `value` encoded by a default ``PythonValueEncoder``: the way to pass any `Encodable` among
  /// other values, `args: [n, .encoding(point)]`.
  public static func encoding<T: Encodable>(_ value: T) throws -> PythonValue {
    try PythonValue(encoding: value)
  }
}

extension [any PythonValueConvertible] {
  /// Each element's ``PythonValueConvertible/pythonValue``.
  var pythonValues: [PythonValue] { map(\.pythonValue) }
}

extension OrderedDictionary<String, any PythonValueConvertible> {
  /// Each value's ``PythonValueConvertible/pythonValue``, in order.
  var pythonValues: OrderedDictionary<String, PythonValue> { mapValues(\.pythonValue) }
}

extension [String: any PythonValueConvertible] {
  /// Each value's ``PythonValueConvertible/pythonValue``.
  var pythonValues: [String: PythonValue] { mapValues(\.pythonValue) }
}

// MARK: - Scalars

extension PythonValue: PythonValueConvertible {
  public var pythonValue: PythonValue { self }
}

extension PythonBigInt: PythonValueConvertible {
  public var pythonValue: PythonValue { .integer(self) }
}

extension Bool: PythonValueConvertible {
  public var pythonValue: PythonValue { .bool(self) }
}

extension String: PythonValueConvertible {
  public var pythonValue: PythonValue { .string(self) }
}

extension Substring: PythonValueConvertible {
  public var pythonValue: PythonValue { .string(String(self)) }
}

extension Double: PythonValueConvertible {
  public var pythonValue: PythonValue { .float(self) }
}

extension Float: PythonValueConvertible {
  public var pythonValue: PythonValue { .float(Double(self)) }
}

extension Data: PythonValueConvertible {
  public var pythonValue: PythonValue { .bytes([UInt8](self)) }
}

extension Int: PythonValueConvertible {
  public var pythonValue: PythonValue { .int(self) }
}

extension FixedWidthInteger {
  /// `.int` when it fits, else the exact `.bigInt` (a `UInt64` above `Int.max`, say).
  fileprivate var integerValue: PythonValue {
    if let small = Int(exactly: self) { return .int(small) }
    return .bigInt(PythonBigInt(self))
  }
}

extension Int8: PythonValueConvertible {
  public var pythonValue: PythonValue { integerValue }
}
extension Int16: PythonValueConvertible {
  public var pythonValue: PythonValue { integerValue }
}
extension Int32: PythonValueConvertible {
  public var pythonValue: PythonValue { integerValue }
}
extension Int64: PythonValueConvertible {
  public var pythonValue: PythonValue { integerValue }
}
extension UInt: PythonValueConvertible {
  public var pythonValue: PythonValue { integerValue }
}
extension UInt8: PythonValueConvertible {
  public var pythonValue: PythonValue { integerValue }
}
extension UInt16: PythonValueConvertible {
  public var pythonValue: PythonValue { integerValue }
}
extension UInt32: PythonValueConvertible {
  public var pythonValue: PythonValue { integerValue }
}
extension UInt64: PythonValueConvertible {
  public var pythonValue: PythonValue { integerValue }
}

// MARK: - Collections
// A conditional conformance does not imply the inherited one, so each type states both.

extension Optional: PythonConvertible where Wrapped: PythonValueConvertible {}
extension Optional: PythonValueConvertible where Wrapped: PythonValueConvertible {
  public var pythonValue: PythonValue { self?.pythonValue ?? .none }
}

extension Array: PythonConvertible where Element: PythonValueConvertible {}
extension Array: PythonValueConvertible where Element: PythonValueConvertible {
  public var pythonValue: PythonValue { .list(map(\.pythonValue)) }
}

extension Set: PythonConvertible where Element: PythonValueConvertible {}
extension Set: PythonValueConvertible where Element: PythonValueConvertible {
  public var pythonValue: PythonValue { .set(Set<PythonValue>(map(\.pythonValue))) }
}

extension Dictionary: PythonConvertible where Key: PythonValueConvertible, Value: PythonValueConvertible {}
extension Dictionary: PythonValueConvertible
where Key: PythonValueConvertible, Value: PythonValueConvertible {
  public var pythonValue: PythonValue { .dictionary(self) }
}

extension OrderedDictionary: PythonConvertible
where Key: PythonValueConvertible, Value: PythonValueConvertible {}
extension OrderedDictionary: PythonValueConvertible
where Key: PythonValueConvertible, Value: PythonValueConvertible {
  public var pythonValue: PythonValue { .dictionary(self) }
}

extension PythonValue {
  /// A dict of the pairs, in their order. Keys distinct in Swift stay distinct as values, but for NaNs:
  /// each NaN is its own key in Swift (where it can never be looked up), one key as a value.
  fileprivate static func dictionary<
    Pairs: Sequence, Key: PythonValueConvertible, Value: PythonValueConvertible
  >(
    _ pairs: Pairs
  ) -> PythonValue where Pairs.Element == (key: Key, value: Value) {
    var dict = OrderedDictionary<PythonValue, PythonValue>(minimumCapacity: pairs.underestimatedCount)
    for (key, value) in pairs { dict[key.pythonValue] = value.pythonValue }
    return .dict(dict)
  }
}
