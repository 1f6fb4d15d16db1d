import Synchronization

/// Key/value state shared by Swift and every interpreter of a runtime: `py.state` in Swift,
/// `swift.state` in Python. Values are ``PythonValue`` copies; every operation is atomic, so
/// increments made at once from many interpreters add up exactly.
///
/// ```swift
/// py.state.set("limit", 10)
/// try await py.exec("swift.state.incr('hits')")      // from any context, in any mode
/// let hits = py.state.get("hits")                      // .int(1)
/// ```
///
/// In Python: `swift.state.get(key, default=None)`, `set(key, value)`, `remove(key)` (returns the
/// value removed, or None), `keys()`, `incr(key, by=1)` (returns the new value) and
/// `compare_and_set(key, expected, new)`.
public final class PythonState: Sendable {
  private let values = Mutex<[String: PythonValue]>([:])

  public init() {}

  /// The value under `key`, or nil.
  public func get(_ key: String) -> PythonValue? { values.withLock { $0[key] } }

  /// Stores a copy of `value` under `key`.
  public func set(_ key: String, _ value: PythonValue) { values.withLock { $0[key] = value } }

  /// Removes `key`; returns the value it had.
  @discardableResult
  public func remove(_ key: String) -> PythonValue? { values.withLock { $0.removeValue(forKey: key) } }

  /// The keys, sorted.
  public var keys: [String] { values.withLock { $0.keys.sorted() } }

  /// Adds `by` to the integer under `key` (a missing key counts as 0) and returns the new value,
  /// atomically. Throws ``SwiftPyError/Code/invalidArgument`` when the value is not an integer
  /// or the sum does not fit in 64 bits.
  @discardableResult
  public func increment(_ key: String, by delta: Int = 1) throws(SwiftPyError) -> Int {
    try values.withLock { (values) throws(SwiftPyError) -> Int in
      let current: Int
      switch values[key] {
      case nil: current = 0
      case .int(let value): current = value
      case let other?:
        throw SwiftPyError(
          .invalidArgument, "state '\(key)' holds a \(other.typeName), not an int: it cannot be incremented",
          pythonType: other.typeName)
      }
      let (sum, overflow) = current.addingReportingOverflow(delta)
      guard !overflow else {
        throw SwiftPyError(.invalidArgument, "incrementing state '\(key)' by \(delta) overflows 64 bits")
      }
      values[key] = .int(sum)
      return sum
    }
  }

  /// Stores `new` under `key` only if the value there now equals `expected` (nil: absent), and
  /// says whether it did, atomically. A `new` of nil removes the key.
  @discardableResult
  public func compareAndSet(_ key: String, expected: PythonValue?, new: PythonValue?) -> Bool {
    values.withLock { values in
      guard values[key] == expected else { return false }
      values[key] = new
      return true
    }
  }
}
