import CPythonShim

/// An exception raised by Python code, copied out of its interpreter as plain Swift data.
///
/// Every exception becomes one of these — including `SystemExit` and `KeyboardInterrupt`,
/// which never exit or interrupt the host process.
public struct PythonError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The exception's qualified type name: `ValueError`, `json.decoder.JSONDecodeError`.
  public let type: String
  /// `str(exception)`.
  public let message: String
  /// The formatted traceback, as `traceback.format_exception` prints it (cause chain included).
  public let traceback: String
  /// For `SyntaxError` and its subclasses: where the error is.
  public let lineNumber: Int?
  public let offset: Int?
  public let filename: String?
  /// For `ImportError` and its subclasses: the module that failed to import — the exception's
  /// `name`, or else the first module of the traceback that was being imported.
  public let moduleName: String?
  private let causeBox: Box?

  /// The exception this one was raised from (`__cause__`), or the one being handled when it was
  /// raised (`__context__`) unless that was suppressed.
  public var cause: PythonError? { causeBox?.error }

  public init(
    type: String, message: String, traceback: String = "", lineNumber: Int? = nil,
    offset: Int? = nil, filename: String? = nil, moduleName: String? = nil, cause: PythonError? = nil
  ) {
    self.moduleName = moduleName
    self.type = type
    self.message = message
    self.traceback = traceback
    self.lineNumber = lineNumber
    self.offset = offset
    self.filename = filename
    self.causeBox = cause.map(Box.init)
  }

  public var description: String {
    var text = message.isEmpty ? type : "\(type): \(message)"
    if let lineNumber { text += " (line \(lineNumber)\(offset.map { ", offset \($0)" } ?? ""))" }
    return text
  }

  public static func == (a: PythonError, b: PythonError) -> Bool {
    a.type == b.type && a.message == b.message && a.traceback == b.traceback
      && a.lineNumber == b.lineNumber && a.offset == b.offset && a.filename == b.filename
      && a.moduleName == b.moduleName && a.cause == b.cause
  }

  /// True for the ImportErrors an extension raises when it cannot live in a sub-interpreter:
  /// CPython's for single-phase-init modules in isolated interpreters, and numpy's own when
  /// another interpreter of the process loaded it first.
  var mentionsSubinterpreterImport: Bool {
    type == "ImportError"
      && (message.contains("subinterpreter") || message.contains("more than once per process"))
      || cause?.mentionsSubinterpreterImport == true
  }

  /// The same error with `hint` appended to the message.
  func addingHint(_ hint: String) -> PythonError {
    PythonError(
      type: type, message: "\(message) — \(hint)", traceback: traceback, lineNumber: lineNumber,
      offset: offset, filename: filename, moduleName: moduleName, cause: cause)
  }

  private final class Box: Sendable {
    let error: PythonError
    init(_ error: PythonError) { self.error = error }
  }
}

// MARK: - Reading an exception out of CPython

extension PythonError {
  /// Takes the exception currently raised in the attached interpreter (clearing it).
  /// Call only when a C-API call reported failure.
  /// The exception's own code (`__str__`) runs as the job's code does, interruptible: a
  /// `__str__` that loops is stopped by the caller's timeout. Interrupts are held off only while
  /// the traceback is formatted (it may import, and an interrupt landing inside an import can
  /// leave the import lock held); that formatting is skipped when `__str__` failed, since it
  /// would call it again.
  static func fetch() -> PythonError {
    guard let exception = PyErr_GetRaisedException() else {
      return PythonError(
        type: "SystemError", message: "a Python C-API call failed without setting an exception")
    }
    defer { Py_DecRef(exception) }
    return PythonError(exception: exception, depth: 0)
  }

  /// Copies `exception` (borrowed). Never raises: whatever cannot be read is described instead.
  init(exception: PyObjectPointer, depth: Int) {
    let type = PythonError.qualifiedTypeName(of: exception)
    let readable = PythonError.string(PyObject_Str(exception))
    let message = readable ?? "<str() failed>"
    var lineNumber: Int?
    var offset: Int?
    var filename: String?
    if PyErr_GivenExceptionMatches(exception, spy_objects().pointee.SyntaxError) != 0 {
      lineNumber = PythonError.intAttribute(exception, "lineno")
      offset = PythonError.intAttribute(exception, "offset")
      filename = PythonError.string(PyObject_GetAttrString(exception, "filename"))
    }
    var moduleName: String?
    if PyErr_GivenExceptionMatches(exception, spy_objects().pointee.ImportError) != 0 {
      moduleName =
        PythonError.string(PyObject_GetAttrString(exception, "name")) ?? PythonError.importedModule(exception)
    }
    var cause: PythonError?
    if depth < 32 {  // chains can be cyclic in principle; bound them
      var next = PyException_GetCause(exception)
      if next == nil && !PythonError.boolAttribute(exception, "__suppress_context__") {
        next = PyException_GetContext(exception)
      }
      if let next {
        cause = PythonError(exception: next, depth: depth + 1)
        Py_DecRef(next)
      }
    }
    var traceback = ""
    if depth == 0 && readable != nil && cause?.message != "<str() failed>" {
      let held = spy_hold_interrupts()
      traceback = PythonError.formatTraceback(exception)
      spy_restore_interrupts(held)
    }
    self.init(
      type: type, message: message, traceback: traceback, lineNumber: lineNumber, offset: offset,
      filename: filename, moduleName: moduleName, cause: cause)
  }

  /// The `__name__` of the first traceback frame that runs a real file: for an import that
  /// failed inside a package's own code, that package.
  private static func importedModule(_ exception: PyObjectPointer) -> String? {
    var traceback = PyException_GetTraceback(exception)
    while let current = traceback {
      defer { Py_DecRef(current) }
      if let frame = PyObject_GetAttrString(current, "tb_frame") {
        defer { Py_DecRef(frame) }
        let code = PyObject_GetAttrString(frame, "f_code")
        let file = string(code.flatMap { PyObject_GetAttrString($0, "co_filename") }) ?? "<"
        code.map(Py_DecRef)
        if !file.hasPrefix("<"), let globals = PyObject_GetAttrString(frame, "f_globals") {
          defer { Py_DecRef(globals) }
          if let name = PyDict_GetItemString(globals, "__name__").flatMap(borrowedString) { return name }
        }
      }
      PyErr_Clear()
      traceback = PyObject_GetAttrString(current, "tb_next")
      if traceback == spy_objects().pointee.None {
        Py_DecRef(traceback!)
        traceback = nil
      }
    }
    PyErr_Clear()
    return nil
  }

  /// `module.QualName`, without the module for builtins.
  static func qualifiedTypeName(of object: PyObjectPointer) -> String {
    let type = spy_type_as_object(spy_type(object))
    let name = string(PyObject_GetAttrString(type, "__qualname__")) ?? "<unknown>"
    let module = string(PyObject_GetAttrString(type, "__module__"))
    guard let module, module != "builtins" else { return name }
    return "\(module).\(name)"
  }

  /// `traceback.format_exception(exception)`, joined; empty when unavailable.
  private static func formatTraceback(_ exception: PyObjectPointer) -> String {
    // Only a job an interrupt was aimed at can have leaked the lock (ARCHITECTURE.md,
    // "Interrupts"); other errors pay nothing.
    if InterpreterThread.current?.stopRequested == true { ImportLocks.releaseImportLockHeldHere() }
    guard let module = PyImport_ImportModule("traceback") else {
      PyErr_Clear()
      return ""
    }
    defer { Py_DecRef(module) }
    guard let format = PyObject_GetAttrString(module, "format_exception") else {
      PyErr_Clear()
      return ""
    }
    defer { Py_DecRef(format) }
    let args = PyTuple_New(1)!
    Py_IncRef(exception)
    PyTuple_SetItem(args, 0, exception)
    defer { Py_DecRef(args) }
    guard let lines = PyObject_Call(format, args, nil) else {
      PyErr_Clear()
      return ""
    }
    defer { Py_DecRef(lines) }
    var text = ""
    let count = PyList_Size(lines)
    for index in 0..<max(count, 0) {
      if let line = PyList_GetItem(lines, index), let piece = borrowedString(line) { text += piece }
    }
    return text
  }

  /// Converts and releases a new reference to a str; nil (error cleared) on failure.
  static func string(_ object: PyObjectPointer?) -> String? {
    guard let object else {
      PyErr_Clear()
      return nil
    }
    defer { Py_DecRef(object) }
    return borrowedString(object)
  }

  /// UTF-8 of a str, with lone surrogates replaced rather than failing.
  static func borrowedString(_ object: PyObjectPointer) -> String? {
    guard spy_has_flag(object, UInt(SPY_TPFLAGS_UNICODE_SUBCLASS)) else { return nil }
    var size: Py_ssize_t = 0
    if let utf8 = PyUnicode_AsUTF8AndSize(object, &size) {
      return String(
        decoding: UnsafeRawBufferPointer(start: utf8, count: size), as: UTF8.self)
    }
    PyErr_Clear()
    guard let repr = PyObject_Repr(object) else {
      PyErr_Clear()
      return nil
    }
    defer { Py_DecRef(repr) }
    guard let utf8 = PyUnicode_AsUTF8AndSize(repr, &size) else {
      PyErr_Clear()
      return nil
    }
    return String(decoding: UnsafeRawBufferPointer(start: utf8, count: size), as: UTF8.self)
  }

  private static func intAttribute(_ object: PyObjectPointer, _ name: String) -> Int? {
    guard let value = PyObject_GetAttrString(object, name) else {
      PyErr_Clear()
      return nil
    }
    defer { Py_DecRef(value) }
    guard spy_has_flag(value, UInt(SPY_TPFLAGS_LONG_SUBCLASS)) else { return nil }
    var overflow: Int32 = 0
    let number = PyLong_AsLongLongAndOverflow(value, &overflow)
    if number == -1, PyErr_Occurred() != nil { PyErr_Clear() }
    return overflow == 0 ? Int(number) : nil
  }

  private static func boolAttribute(_ object: PyObjectPointer, _ name: String) -> Bool {
    guard let value = PyObject_GetAttrString(object, name) else {
      PyErr_Clear()
      return false
    }
    defer { Py_DecRef(value) }
    let truth = PyObject_IsTrue(value)
    if truth < 0 { PyErr_Clear() }
    return truth == 1
  }
}
