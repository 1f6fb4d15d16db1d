import Foundation
import SwiftPy

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A C-API operation through SwiftPy's `PythonObject` inside `withPython`, against the same
/// C-API functions called directly — on the same thread, in the same closure, with the same
/// interpreter attached: the floor.
///
/// The executable target cannot reach SwiftPy's C shim, so the direct calls go through
/// libpython's own exported functions, looked up with `dlsym` (libpython is loaded with
/// `RTLD_GLOBAL`) and called through C function pointers — what a program linked against
/// libpython does, one indirect call each, exactly as SwiftPy's shim calls them.
///
/// Two operations, each the same C work both ways:
/// - `getattr(12345, "real")`: `object.attribute("real")` vs `PyObject_GetAttrString` and
///   `Py_DecRef` of the result;
/// - `abs(-12345)`: `abs.call([object])` vs `PyTuple_New(1)`, `PyTuple_SetItem`, `PyObject_Call`
///   and `Py_DecRef` of the result and the tuple.
///
/// Each is timed in batches alternating the two ways; a figure is the fastest batch's time per
/// operation (the usual floor of a micro-benchmark: slower batches are the machine's noise).
enum CAPIBenchmark {
  private typealias GetAttrString = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> OpaquePointer?
  private typealias RefCount = @convention(c) (OpaquePointer?) -> Void
  private typealias FromLongLong = @convention(c) (Int64) -> OpaquePointer?
  private typealias ImportModule = @convention(c) (UnsafePointer<CChar>?) -> OpaquePointer?
  private typealias TupleNew = @convention(c) (Int) -> OpaquePointer?
  private typealias TupleSetItem = @convention(c) (OpaquePointer?, Int, OpaquePointer?) -> Int32
  private typealias Call = @convention(c) (OpaquePointer?, OpaquePointer?, OpaquePointer?) -> OpaquePointer?

  struct Result: Sendable {
    var getattrWrapped: Double
    var getattrDirect: Double
    var callWrapped: Double
    var callDirect: Double
  }

  static func run(
    _ py: PythonRuntime, modes: [PythonContext.Mode], iterations: Int, batches: Int, report: BenchReport,
    progress: BenchProgress
  ) async throws {
    for mode in modes {
      progress.say("C-API inside withPython vs direct: \(mode)")
      let context = try await py.newContext(mode: mode)
      let result = try await context.withPython { python in
        try measure(python, iterations: iterations, batches: batches)
      }
      await context.close()
      let key = "capi.\(mode)"
      report.add(
        key + ".getattr.withpython_ns", result.getattrWrapped, unit: "ns",
        "getattr(12345, 'real') through PythonObject.attribute inside withPython, \(mode)")
      report.add(
        key + ".getattr.direct_ns", result.getattrDirect, unit: "ns",
        "getattr(12345, 'real') as PyObject_GetAttrString + Py_DecRef called directly, same thread, \(mode)")
      report.add(
        key + ".getattr.ratio", result.getattrWrapped / result.getattrDirect, unit: "x",
        "withPython / direct, getattr, \(mode)")
      report.add(
        key + ".call.withpython_ns", result.callWrapped, unit: "ns",
        "abs(-12345) through PythonObject.call inside withPython, \(mode)")
      report.add(
        key + ".call.direct_ns", result.callDirect, unit: "ns",
        "abs(-12345) as PyTuple_New + PyTuple_SetItem + PyObject_Call called directly, same thread, \(mode)")
      report.add(
        key + ".call.ratio", result.callWrapped / result.callDirect, unit: "x",
        "withPython / direct, call, \(mode)")
    }
  }

  /// Runs on the context's thread, inside `withPython`: the interpreter is attached.
  private static func measure(_ python: Python, iterations: Int, batches: Int) throws -> Result {
    let getAttr: GetAttrString = try symbol("PyObject_GetAttrString")
    let decRef: RefCount = try symbol("Py_DecRef")
    let incRef: RefCount = try symbol("Py_IncRef")
    let fromLongLong: FromLongLong = try symbol("PyLong_FromLongLong")
    let importModule: ImportModule = try symbol("PyImport_ImportModule")
    let tupleNew: TupleNew = try symbol("PyTuple_New")
    let tupleSetItem: TupleSetItem = try symbol("PyTuple_SetItem")
    let call: Call = try symbol("PyObject_Call")

    // The same objects both ways: made directly, and again through SwiftPy.
    guard let number = fromLongLong(12345), let negative = fromLongLong(-12345),
      let builtins = importModule("builtins"), let absFunction = getAttr(builtins, "abs")
    else { throw BenchError("could not make the objects for the C-API benchmark") }
    defer { [number, negative, builtins, absFunction].forEach { decRef($0) } }
    let wrappedNumber = try python.eval("12345")
    let wrappedNegative = try python.eval("-12345")
    let wrappedAbs = try python.builtins.abs

    let clock = ContinuousClock()
    func perOperation(_ body: () throws -> Void) rethrows -> Double {
      let began = clock.now
      try body()
      return (clock.now - began).seconds * 1e9 / Double(iterations)
    }
    var best = Result(
      getattrWrapped: .infinity, getattrDirect: .infinity, callWrapped: .infinity, callDirect: .infinity)
    for _ in 0..<batches {
      best.getattrWrapped = min(
        best.getattrWrapped,
        try perOperation {
          for _ in 0..<iterations { _ = try wrappedNumber.attribute("real") }
        })
      best.getattrDirect = min(
        best.getattrDirect,
        try perOperation {
          for _ in 0..<iterations {
            guard let real = getAttr(number, "real") else { throw BenchError("getattr failed") }
            decRef(real)
          }
        })
      best.callWrapped = min(
        best.callWrapped,
        try perOperation {
          for _ in 0..<iterations { _ = try wrappedAbs.call([wrappedNegative]) }
        })
      best.callDirect = min(
        best.callDirect,
        try perOperation {
          for _ in 0..<iterations {
            guard let arguments = tupleNew(1) else { throw BenchError("PyTuple_New failed") }
            incRef(negative)
            _ = tupleSetItem(arguments, 0, negative)  // steals the reference
            guard let result = call(absFunction, arguments, nil) else { throw BenchError("abs failed") }
            decRef(result)
            decRef(arguments)
          }
        })
    }
    return best
  }

  private static func symbol<T>(_ name: String) throws -> T {
    #if canImport(Darwin)
      let everywhere = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT
    #else
      let everywhere: UnsafeMutableRawPointer? = nil  // RTLD_DEFAULT
    #endif
    guard let address = dlsym(everywhere, name) else {
      throw BenchError("libpython's \(name) is not loaded")
    }
    return unsafeBitCast(address, to: T.self)
  }

  static func table(_ report: BenchReport, modes: [PythonContext.Mode]) -> BenchTable {
    var table = BenchTable(
      "C-API operation inside withPython vs called directly on the same thread (fastest batch per operation)",
      ["mode / operation", "through withPython", "direct (floor)", "ratio"])
    for mode in modes {
      for (operation, label) in [("getattr", "getattr(12345, 'real')"), ("call", "abs(-12345)")] {
        let key = "capi.\(mode).\(operation)"
        table.add([
          "\(mode): \(label)", String(format: "%.0f ns", report[key + ".withpython_ns"] ?? .nan),
          String(format: "%.0f ns", report[key + ".direct_ns"] ?? .nan),
          BenchFormat.ratio(report[key + ".ratio"] ?? .nan),
        ])
      }
    }
    table.notes = [
      "anchors (not measured by this run): raw C-API call ~26 ns; PythonKit 180–400 ns; pybind11 ~470 ns"
    ]
    return table
  }
}
