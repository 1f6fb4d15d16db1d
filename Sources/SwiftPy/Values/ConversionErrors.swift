// Values that cannot cross between Swift and Python. Python objects that have no PythonValue
// counterpart (a module, a function, a generator) are refused with their type named
// (`SwiftPyError.pythonType`) — never silently turned into `str(obj)` or `None`.

extension SwiftPyError.Code {
  /// The Python object's type has no ``PythonValue`` counterpart.
  public static let unsupportedType = Self("unsupportedType")
  /// Containers nest deeper than ``PythonValue/maximumDepth`` (or contain themselves).
  public static let nestingTooDeep = Self("nestingTooDeep")
  /// A `str` holds lone surrogates, which a Swift `String` cannot represent.
  public static let invalidString = Self("invalidString")
  /// Keys (or set members) that are distinct on one side are equal on the other — `1`, `1.0`
  /// and `True`, or `0.0` and `-0.0`, are one key to Python; two NaN objects are two keys to
  /// Python but one ``PythonValue``. Converting would silently drop entries.
  public static let mergedKeys = Self("mergedKeys")
  /// The value is bigger than ``PythonValue/maximumResultSize``.
  public static let tooLarge = Self("tooLarge")
  /// Python refused to build the object (an unhashable dict key or set element, say).
  public static let rejectedByPython = Self("rejectedByPython")
}
