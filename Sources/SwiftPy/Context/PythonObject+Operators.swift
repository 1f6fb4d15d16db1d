import CPythonShim

// Python's operators on live objects, through the `operator` module so that every dunder method,
// reflected operand and `NotImplemented` rule applies as in Python. They throw (`try a + b`) where
// PythonKit's crash: a TypeError, a ZeroDivisionError or an object used off its thread is an error
// to handle, not a reason to stop the host. The right operand may be any PythonConvertible, so
// `try a * 2` works; `PythonObject` is not `Equatable` because Python's `==` can fail.

extension PythonObject {
  public static func + (lhs: PythonObject, rhs: any PythonConvertible) throws -> PythonObject {
    try lhs.apply("add", rhs)
  }

  public static func - (lhs: PythonObject, rhs: any PythonConvertible) throws -> PythonObject {
    try lhs.apply("sub", rhs)
  }

  public static func * (lhs: PythonObject, rhs: any PythonConvertible) throws -> PythonObject {
    try lhs.apply("mul", rhs)
  }

  /// Python's true division: `try seven / 2` is `3.5`.
  public static func / (lhs: PythonObject, rhs: any PythonConvertible) throws -> PythonObject {
    try lhs.apply("truediv", rhs)
  }

  /// Python's modulo (the sign of the divisor), or `str` formatting.
  public static func % (lhs: PythonObject, rhs: any PythonConvertible) throws -> PythonObject {
    try lhs.apply("mod", rhs)
  }

  public static prefix func - (operand: PythonObject) throws -> PythonObject {
    try operand.apply("neg")
  }

  public static func == (lhs: PythonObject, rhs: any PythonConvertible) throws -> Bool {
    try lhs.apply("eq", rhs).isTruthy()
  }

  public static func != (lhs: PythonObject, rhs: any PythonConvertible) throws -> Bool {
    try lhs.apply("ne", rhs).isTruthy()
  }

  public static func < (lhs: PythonObject, rhs: any PythonConvertible) throws -> Bool {
    try lhs.apply("lt", rhs).isTruthy()
  }

  public static func <= (lhs: PythonObject, rhs: any PythonConvertible) throws -> Bool {
    try lhs.apply("le", rhs).isTruthy()
  }

  public static func > (lhs: PythonObject, rhs: any PythonConvertible) throws -> Bool {
    try lhs.apply("gt", rhs).isTruthy()
  }

  public static func >= (lhs: PythonObject, rhs: any PythonConvertible) throws -> Bool {
    try lhs.apply("ge", rhs).isTruthy()
  }

  /// `operator.<name>(self, *operands)`.
  private func apply(_ name: String, _ operands: any PythonConvertible...) throws -> PythonObject {
    try checkThread()
    let function = try wrap(PyImport_ImportModule("operator")).attribute(name)
    return try function.call([self] + operands)
  }
}
