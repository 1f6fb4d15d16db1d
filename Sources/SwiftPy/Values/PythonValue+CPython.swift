import CPythonShim
import OrderedCollections
import Synchronization

// Conversions between PythonValue and CPython objects. They run on an interpreter thread with
// its thread state attached, and never run Python code (no __str__, no __iter__ of user
// classes), so a container cannot change under them.

extension PythonValue {
  /// Containers nested deeper than this are refused in both directions: a cyclic or
  /// pathological structure becomes an error instead of a stack overflow.
  public static let maximumDepth = 1_000

  /// The largest value, counted as the bytes of its strings and bytes plus 8 per item, that
  /// may cross from Python to Swift (default 64 MiB, for the whole process). A bigger result
  /// is a ``SwiftPyError`` rather than a memory spike; raise it if you mean to move
  /// big data this way.
  public static var maximumResultSize: Int {
    get { resultSizeLimit.load(ordering: .relaxed) }
    set { resultSizeLimit.store(newValue, ordering: .relaxed) }
  }
  private static let resultSizeLimit = Atomic<Int>(64 << 20)

  /// A new reference to a Python object equal to `self`. `hashable` asks for the hashable
  /// form (a `frozenset` for `.set`) because the object will be a dict key or set element.
  func makePythonObject(hashable: Bool = false, depth: Int = 0) throws(SwiftPyError)
    -> PyObjectPointer
  {
    guard depth < PythonValue.maximumDepth else { throw PythonValue.tooDeep(typeName) }
    switch self {
    case .none:
      Py_IncRef(spy_objects().pointee.None)
      return spy_objects().pointee.None
    case .bool(let flag):
      return try PythonValue.check(PyBool_FromLong(flag ? 1 : 0), "bool")
    case .int(let number):
      return try PythonValue.check(PyLong_FromLongLong(Int64(number)), "int")
    case .bigInt(let number):
      return try PythonValue.check(PyLong_FromString(number.hexadecimal, nil, 16), "int")
    case .float(let number):
      return try PythonValue.check(PyFloat_FromDouble(number), "float")
    case .string(var text):
      // withUTF8 passes the bytes with their length, so NUL characters survive.
      let object = text.withUTF8 { utf8 in
        PyUnicode_FromStringAndSize(
          UnsafeRawPointer(utf8.baseAddress)?.assumingMemoryBound(to: CChar.self),
          utf8.count)
      }
      return try PythonValue.check(object, "str")
    case .bytes(let bytes):
      let object = bytes.withUnsafeBufferPointer { buffer in
        PyBytes_FromStringAndSize(
          UnsafeRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: CChar.self), buffer.count)
      }
      return try PythonValue.check(object, "bytes")
    case .list(let items):
      let list = try PythonValue.check(PyList_New(items.count), "list")
      for (index, item) in items.enumerated() {
        do {
          PyList_SetItem(list, index, try item.makePythonObject(depth: depth + 1))  // steals
        } catch {
          Py_DecRef(list)
          throw error
        }
      }
      return list
    case .tuple(let items):
      let tuple = try PythonValue.check(PyTuple_New(items.count), "tuple")
      for (index, item) in items.enumerated() {
        do {
          PyTuple_SetItem(tuple, index, try item.makePythonObject(hashable: hashable, depth: depth + 1))
        } catch {
          Py_DecRef(tuple)
          throw error
        }
      }
      return tuple
    case .dict(let entries):
      let dict = try PythonValue.check(PyDict_New(), "dict")
      do throws(SwiftPyError) {
        for (key, value) in entries {
          let pyKey = try key.makePythonObject(hashable: true, depth: depth + 1)
          defer { Py_DecRef(pyKey) }
          let pyValue = try value.makePythonObject(depth: depth + 1)
          defer { Py_DecRef(pyValue) }
          if PyDict_SetItem(dict, pyKey, pyValue) != 0 { throw PythonValue.rejected("dict") }
        }
        if PyDict_Size(dict) != entries.count { throw PythonValue.merged("dict", swiftCount: entries.count) }
      } catch {
        Py_DecRef(dict)
        throw error
      }
      return dict
    case .set(let members):
      // A brand-new frozenset may be filled with PySet_Add before anyone else sees it.
      let set = try PythonValue.check(hashable ? PyFrozenSet_New(nil) : PySet_New(nil), "set")
      do throws(SwiftPyError) {
        for member in members {
          let element = try member.makePythonObject(hashable: true, depth: depth + 1)
          defer { Py_DecRef(element) }
          if PySet_Add(set, element) != 0 { throw PythonValue.rejected("set") }
        }
        if PySet_Size(set) != members.count { throw PythonValue.merged("set", swiftCount: members.count) }
      } catch {
        Py_DecRef(set)
        throw error
      }
      return set
    }
  }

  /// Copies a Python object (borrowed) into a PythonValue.
  init(pythonObject object: PyObjectPointer) throws(SwiftPyError) {
    var budget = PythonValue.maximumResultSize
    try self.init(pythonObject: object, depth: 0, budget: &budget)
  }

  /// `budget` is what may still be copied; every level charges its size to it.
  private init(pythonObject object: PyObjectPointer, depth: Int, budget: inout Int)
    throws(SwiftPyError)
  {
    guard depth < PythonValue.maximumDepth else {
      throw PythonValue.tooDeep(PythonError.qualifiedTypeName(of: object))
    }
    budget -= 8
    if budget < 0 { throw PythonValue.tooLarge(PythonError.qualifiedTypeName(of: object)) }
    let type = spy_type(object)
    if object == spy_objects().pointee.None {
      self = .none
    } else if type == spy_objects().pointee.BoolType {
      self = .bool(object == spy_objects().pointee.True)
    } else if spy_has_flag(object, UInt(SPY_TPFLAGS_LONG_SUBCLASS)) {
      var overflow: Int32 = 0
      let number = PyLong_AsLongLongAndOverflow(object, &overflow)
      if overflow == 0 {
        self = .int(Int(number))
      } else {
        // Charged to the budget by its size before anything is copied (a 512 MB int is a
        // 1 GB hexadecimal string on the way).
        budget -= PythonValue.byteLength(ofInt: object)
        if budget < 0 { throw PythonValue.tooLarge("int") }
        // Exact at any size: through Python's own hexadecimal form.
        guard let hex = PythonError.string(PyNumber_ToBase(object, 16)),
          let big = PythonBigInt(hexadecimal: hex)
        else { throw PythonValue.rejected("int") }
        self = .integer(big)
      }
    } else if type == spy_objects().pointee.FloatType
      || PyType_IsSubtype(type, spy_objects().pointee.FloatType) != 0
    {
      self = .float(PyFloat_AsDouble(object))
    } else if spy_has_flag(object, UInt(SPY_TPFLAGS_UNICODE_SUBCLASS)) {
      var size: Py_ssize_t = 0
      guard let utf8 = PyUnicode_AsUTF8AndSize(object, &size) else {
        PyErr_Clear()
        throw SwiftPyError(
          .invalidString,
          "a Python str holds lone surrogates (e.g. '\\ud800'), which a Swift String cannot represent",
          pythonType: "str")
      }
      budget -= size
      if budget < 0 { throw PythonValue.tooLarge("str") }
      self = .string(String(decoding: UnsafeRawBufferPointer(start: utf8, count: size), as: UTF8.self))
    } else if spy_has_flag(object, UInt(SPY_TPFLAGS_BYTES_SUBCLASS)) {
      var buffer: UnsafeMutablePointer<CChar>?
      var size: Py_ssize_t = 0
      guard PyBytes_AsStringAndSize(object, &buffer, &size) == 0 else { throw PythonValue.rejected("bytes") }
      budget -= size
      if budget < 0 { throw PythonValue.tooLarge("bytes") }
      self = .bytes(Array(UnsafeRawBufferPointer(start: buffer, count: size)))
    } else if spy_has_flag(object, UInt(SPY_TPFLAGS_LIST_SUBCLASS)) {
      var items: [PythonValue] = []
      items.reserveCapacity(PyList_Size(object))
      var index = 0
      while index < PyList_Size(object), let item = PyList_GetItem(object, index) {
        items.append(try PythonValue(pythonObject: item, depth: depth + 1, budget: &budget))
        index += 1
      }
      self = .list(items)
    } else if spy_has_flag(object, UInt(SPY_TPFLAGS_TUPLE_SUBCLASS)) {
      let count = PyTuple_Size(object)
      var items: [PythonValue] = []
      items.reserveCapacity(count)
      for index in 0..<count {
        items.append(
          try PythonValue(pythonObject: PyTuple_GetItem(object, index)!, depth: depth + 1, budget: &budget))
      }
      self = .tuple(items)
    } else if spy_has_flag(object, UInt(SPY_TPFLAGS_DICT_SUBCLASS)) {
      var entries = OrderedDictionary<PythonValue, PythonValue>(minimumCapacity: PyDict_Size(object))
      var position: Py_ssize_t = 0
      var key: PyObjectPointer?
      var value: PyObjectPointer?
      while PyDict_Next(object, &position, &key, &value) != 0 {
        let entryKey = try PythonValue(pythonObject: key!, depth: depth + 1, budget: &budget)
        guard
          entries.updateValue(
            try PythonValue(pythonObject: value!, depth: depth + 1, budget: &budget), forKey: entryKey) == nil
        else { throw PythonValue.merged("dict", pythonKey: entryKey) }
      }
      self = .dict(entries)
    } else if type == spy_objects().pointee.SetType || type == spy_objects().pointee.FrozenSetType
      || PyType_IsSubtype(type, spy_objects().pointee.SetType) != 0
      || PyType_IsSubtype(type, spy_objects().pointee.FrozenSetType) != 0
    {
      // Iterating an exact set runs no Python code. A subclass may override __iter__, so it is
      // copied into an exact set first (set_update takes any set without calling __iter__).
      let exact = type == spy_objects().pointee.SetType || type == spy_objects().pointee.FrozenSetType
      guard let source = exact ? object : PySet_New(object) else { throw PythonValue.rejected("set") }
      defer { if !exact { Py_DecRef(source) } }
      guard let iterator = PyObject_GetIter(source) else { throw PythonValue.rejected("set") }
      defer { Py_DecRef(iterator) }
      var members = Set<PythonValue>()
      while let member = PyIter_Next(iterator) {
        defer { Py_DecRef(member) }
        let element = try PythonValue(pythonObject: member, depth: depth + 1, budget: &budget)
        guard members.insert(element).inserted else { throw PythonValue.merged("set", pythonKey: element) }
      }
      if PyErr_Occurred() != nil { throw PythonValue.rejected("set") }
      self = .set(members)
    } else {
      let name = PythonError.qualifiedTypeName(of: object)
      throw SwiftPyError(
        .unsupportedType,
        "cannot convert a Python '\(name)' to PythonValue: only None, bool, int, float, str, "
          + "bytes, list, tuple, dict, set and frozenset (and their subclasses) cross the boundary",
        pythonType: name)
    }
  }

  private static func check(_ object: PyObjectPointer?, _ type: String) throws(SwiftPyError)
    -> PyObjectPointer
  {
    guard let object else { throw rejected(type) }
    return object
  }

  /// The pending Python exception, turned into a conversion error.
  private static func rejected(_ type: String) -> SwiftPyError {
    let error = PythonError.fetch()
    return SwiftPyError(
      .rejectedByPython, "Python refused to build a \(type): \(error.type): \(error.message)",
      pythonType: type)
  }

  /// Swift → Python: distinct keys collapsed in Python.
  private static func merged(_ type: String, swiftCount: Int) -> SwiftPyError {
    SwiftPyError(
      .mergedKeys,
      "a \(type) of \(swiftCount) distinct PythonValue keys has fewer in Python: keys such as 1, 1.0 "
        + "and True, or 0.0 and -0.0, are one key to Python", pythonType: type)
  }

  /// Python → Swift: distinct Python keys that are one PythonValue (two NaN objects).
  private static func merged(_ type: String, pythonKey: PythonValue) -> SwiftPyError {
    SwiftPyError(
      .mergedKeys,
      "a Python \(type) holds two keys that are both \(pythonKey) as PythonValues (for example two NaN "
        + "objects); converting would drop one", pythonType: type)
  }

  private static func tooLarge(_ type: String) -> SwiftPyError {
    SwiftPyError(
      .tooLarge,
      "the result is larger than PythonValue.maximumResultSize (\(maximumResultSize) bytes); "
        + "return less, or raise the limit", pythonType: type)
  }

  private static func tooDeep(_ type: String) -> SwiftPyError {
    SwiftPyError(
      .nestingTooDeep, "containers nest deeper than \(maximumDepth) levels (or a container contains itself)",
      pythonType: type)
  }
}

extension PythonValue {
  /// The bytes an int's magnitude takes (`int.bit_length()` / 8, rounded up); 0 when that cannot
  /// be read (the conversion that follows then says what went wrong).
  static func byteLength(ofInt object: PyObjectPointer) -> Int {
    guard let bits = PythonExecution.callMethod(object, "bit_length") else {
      PyErr_Clear()
      return 0
    }
    defer { Py_DecRef(bits) }
    var overflow: Int32 = 0
    let count = PyLong_AsLongLongAndOverflow(bits, &overflow)
    if overflow != 0 { return Int.max / 2 }
    PyErr_Clear()
    return Int((count + 7) / 8)
  }
}
