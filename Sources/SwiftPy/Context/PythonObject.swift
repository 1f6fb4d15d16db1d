import CPythonShim
import OrderedCollections

/// A reference to a live Python object, usable only inside the ``PythonContext/withPython(timeout:_:)``
/// closure that produced it, on the interpreter's thread.
///
/// ```swift
/// let root = try await ctx.withPython { py in
///   try Double(py.import("math").sqrt(2.0))
/// }
/// ```
///
/// It reads like Python: `obj.name` (``subscript(dynamicMember:)``), calls `obj.method(1, "x", key: 3)`,
/// items `try obj[0]`, operators `try a + b` and `try a < b` (see `PythonObject+Operators.swift`),
/// ``iterate()``, and conversions `try Int(obj)`, `try obj.decode([String].self)`. Everything throws
/// rather than crash: Python's exceptions as ``PythonError``. Swift setters cannot throw, so
/// assignments are calls: ``setItem(_:_:)`` and ``setAttribute(_:_:)``.
///
/// `PythonObject` is deliberately not `Sendable`: the compiler keeps it on its thread. Each
/// operation also checks that it runs on its interpreter's thread and throws otherwise, and an
/// object released elsewhere hands its reference back to its own thread.
@dynamicMemberLookup
@dynamicCallable
public final class PythonObject: CustomStringConvertible {
  /// An owned (strong) reference.
  let pointer: PyObjectPointer
  let thread: InterpreterThread

  /// Takes ownership of a new reference.
  init(owning pointer: PyObjectPointer, thread: InterpreterThread) {
    self.pointer = pointer
    self.thread = thread
  }

  /// Adds a reference to a borrowed one.
  convenience init(borrowing pointer: PyObjectPointer, thread: InterpreterThread) {
    Py_IncRef(pointer)
    self.init(owning: pointer, thread: thread)
  }

  deinit {
    // On its thread but outside a job — a Swift task running there between jobs — the GIL is
    // not held: the reference goes back through a job, as from any other thread.
    if thread.runsPythonHere {
      Py_DecRef(pointer)
    } else {
      // Released off its thread: only that thread may touch the object. If the interpreter
      // has ended the job is rejected and the reference was freed with the interpreter.
      let pointer = UncheckedSendable(pointer)
      thread.submitHousekeeping { Py_DecRef(pointer.value) }
    }
  }

  // MARK: Attributes and items

  /// `object.name`.
  public subscript(dynamicMember name: String) -> PythonObject {
    get throws { try attribute(name) }
  }

  /// `getattr(object, name)`.
  public func attribute(_ name: String) throws -> PythonObject {
    try checkThread()
    try PythonExecution.checkName(name, "attribute")
    return try wrap(PyObject_GetAttrString(pointer, name))
  }

  /// `setattr(object, name, value)`.
  public func setAttribute(_ name: String, _ value: any PythonConvertible) throws {
    try checkThread()
    try PythonExecution.checkName(name, "attribute")
    let object = try value.pythonObject(on: thread)
    guard PyObject_SetAttrString(pointer, name, object.pointer) == 0 else {
      throw PythonError.fetch()
    }
  }

  /// `object[key]`: `try list[0]`, `try dict["k"]`.
  public subscript(key: any PythonConvertible) -> PythonObject {
    get throws { try item(key) }
  }

  /// `object[key]`.
  public func item(_ key: any PythonConvertible) throws -> PythonObject {
    try checkThread()
    let key = try key.pythonObject(on: thread)
    return try wrap(PyObject_GetItem(pointer, key.pointer))
  }

  /// `object[key] = value`.
  public func setItem(_ key: any PythonConvertible, _ value: any PythonConvertible) throws {
    try checkThread()
    let key = try key.pythonObject(on: thread)
    let value = try value.pythonObject(on: thread)
    guard PyObject_SetItem(pointer, key.pointer, value.pointer) == 0 else {
      throw PythonError.fetch()
    }
  }

  // MARK: Calls

  /// `object(*args, **kwargs)`.
  @discardableResult
  public func call(
    _ args: [any PythonConvertible] = [], kwargs: KeyValuePairs<String, any PythonConvertible> = [:]
  ) throws -> PythonObject {
    try call(positional: args, keywords: kwargs.map { ($0.key, $0.value) })
  }

  /// Makes `math.sqrt(2.0)` and `os.path.join(directory, "a")` read like Python.
  @discardableResult
  public func dynamicallyCall(withArguments arguments: [any PythonConvertible]) throws -> PythonObject {
    try call(positional: arguments, keywords: [])
  }

  /// Makes `json.dumps(value, indent: 2)` read like Python.
  @discardableResult
  public func dynamicallyCall(withKeywordArguments arguments: KeyValuePairs<String, any PythonConvertible>)
    throws -> PythonObject
  {
    var positional: [any PythonConvertible] = []
    var keywords: [(String, any PythonConvertible)] = []
    for (key, value) in arguments {
      if key.isEmpty {
        guard keywords.isEmpty else {
          throw SwiftPyError(.invalidArgument, "a positional argument follows a keyword argument")
        }
        positional.append(value)
      } else {
        keywords.append((key, value))
      }
    }
    return try call(positional: positional, keywords: keywords)
  }

  private func call(positional: [any PythonConvertible], keywords: [(String, any PythonConvertible)])
    throws -> PythonObject
  {
    try checkThread()
    guard let tuple = PyTuple_New(positional.count) else { throw PythonError.fetch() }
    defer { Py_DecRef(tuple) }
    for (index, argument) in positional.enumerated() {
      let object = try argument.pythonObject(on: thread)
      Py_IncRef(object.pointer)
      PyTuple_SetItem(tuple, index, object.pointer)  // steals the extra reference
    }
    var kwargs: PythonObject?
    if !keywords.isEmpty {
      let dict = try wrap(PyDict_New())
      for (key, value) in keywords {
        try PythonExecution.checkName(key, "keyword argument")
        let object = try value.pythonObject(on: thread)
        guard PyDict_SetItemString(dict.pointer, key, object.pointer) == 0 else {
          throw PythonError.fetch()
        }
      }
      kwargs = dict
    }
    return try wrap(PyObject_Call(pointer, tuple, kwargs?.pointer))
  }

  // MARK: Values

  /// A copy of the object as a ``PythonValue``; throws ``SwiftPyError`` for types
  /// without a counterpart.
  public var value: PythonValue {
    get throws {
      try checkThread()
      return try PythonValue(pythonObject: pointer)
    }
  }

  /// The object's value decoded as `T` (through ``PythonValueDecoder``).
  public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
    try value.decode(type)
  }

  /// The items `for item in object` gives, all at once: Swift's `for` cannot throw from a
  /// sequence, and an exception in the middle is thrown here. An endless iterator runs until the
  /// closure's timeout interrupts it.
  public func iterate() throws -> [PythonObject] {
    try checkThread()
    let iterator = try wrap(PyObject_GetIter(pointer))
    var items: [PythonObject] = []
    while let item = PyIter_Next(iterator.pointer) {
      items.append(PythonObject(owning: item, thread: thread))
    }
    if PyErr_Occurred() != nil { throw PythonError.fetch() }
    return items
  }

  /// `bool(object)`: Python's truthiness.
  public func isTruthy() throws -> Bool {
    try checkThread()
    let truth = PyObject_IsTrue(pointer)
    guard truth >= 0 else { throw PythonError.fetch() }
    return truth == 1
  }

  /// The qualified name of the object's type (`int`, `collections.OrderedDict`).
  public var typeName: String {
    guard thread.runsPythonHere else { return "<PythonObject used off its interpreter thread>" }
    return PythonError.qualifiedTypeName(of: pointer)
  }

  /// `str(object)`.
  public var description: String {
    guard thread.runsPythonHere else { return "<PythonObject used off its interpreter thread>" }
    return PythonError.string(PyObject_Str(pointer)) ?? "<str() failed>"
  }

  // MARK: Helpers

  func checkThread() throws {
    guard thread.runsPythonHere else {
      throw SwiftPyError(
        .invalidArgument,
        "a PythonObject was used outside the withPython closure (and thread) that made it")
    }
  }

  /// Wraps a new reference, or throws the pending Python exception.
  func wrap(_ result: PyObjectPointer?) throws -> PythonObject {
    guard let result else { throw PythonError.fetch() }
    return PythonObject(owning: result, thread: thread)
  }
}

@available(*, unavailable, message: "Python objects never leave their interpreter's thread")
extension PythonObject: Sendable {}

/// What ``PythonObject`` operations and ``Python/object(_:)`` take: a live ``PythonObject`` of the
/// same interpreter, passed as itself, or any ``PythonValueConvertible`` value, copied into a new
/// object.
public protocol PythonConvertible {
  /// The value to copy into a new Python object; nil for a ``PythonObject``, which is used as it is.
  var pythonValueToCopy: PythonValue? { get }
}

extension PythonConvertible {
  func pythonObject(on thread: InterpreterThread) throws -> PythonObject {
    // A metatype comparison rather than `as?`: a dynamic cast on every argument of every call
    // cost more than the call's own C work.
    if Self.self == PythonObject.self {
      let object = withUnsafeBytes(of: self) { $0.load(as: PythonObject.self) }  // Self is it
      // An object of another interpreter (or of this one, on the wrong thread) must not be
      // handed to this one's C API: it would corrupt both.
      guard object.thread === thread, thread.runsPythonHere else {
        throw SwiftPyError(
          .invalidArgument,
          "a PythonObject of context '\(object.thread.name)' was passed to context '\(thread.name)'; "
            + "objects never cross interpreters: pass a PythonValue (a copy) instead")
      }
      return object
    }
    guard let value = pythonValueToCopy else {
      throw SwiftPyError(.invalidArgument, "\(type(of: self)) is neither a PythonObject nor a value to copy")
    }
    return PythonObject(owning: try value.makePythonObject(), thread: thread)
  }
}

extension PythonObject: PythonConvertible {
  public var pythonValueToCopy: PythonValue? { nil }
}
