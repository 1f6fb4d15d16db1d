/// A value that cannot cross between Swift and Python.
///
/// Python objects that have no ``PythonValue`` counterpart (a module, a function, a generator)
/// are refused with their type named — never silently turned into `str(obj)` or `None`.
public struct PythonConversionError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Reason: String, Sendable, Equatable {
    /// The Python object's type has no PythonValue counterpart.
    case unsupportedType
    /// Containers nest deeper than ``PythonValue/maximumDepth`` (or contain themselves).
    case nestingTooDeep
    /// A `str` holds lone surrogates, which a Swift `String` cannot represent.
    case invalidString
    /// Keys (or set members) that are distinct on one side are equal on the other — `1`,
    /// `1.0` and `True`, or `0.0` and `-0.0`, are one key to Python; two NaN objects are two
    /// keys to Python but one ``PythonValue``. Converting would silently drop entries.
    case mergedKeys
    /// The value is bigger than ``PythonValue/maximumResultSize``.
    case tooLarge
    /// Python refused to build the object (an unhashable dict key or set element, say).
    case rejectedByPython
  }

  public let reason: Reason
  /// The Python type involved (`generator`, `module`, `str`, …).
  public let pythonType: String
  public let message: String

  public init(_ reason: Reason, pythonType: String, _ message: String) {
    self.reason = reason
    self.pythonType = pythonType
    self.message = message
  }

  public var description: String { message }
}
