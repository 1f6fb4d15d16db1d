import CPythonShim
import DequeModule

/// The code objects of recently run source text, per interpreter thread: a loop of
/// `eval("n * 2", locals: …)` compiles its expression once, not on every call. Code objects are
/// immutable and belong to their interpreter, and this cache lives on the one thread that runs
/// that interpreter's jobs (ARCHITECTURE.md, "Calls on the context's own thread"); it is emptied,
/// attached, before the interpreter ends.
struct CodeCache {
  private struct Key: Hashable {
    let source: String
    let start: Int32
  }

  /// Source longer than this is compiled each time: scripts run once, and a cache of them would
  /// only hold memory.
  static let longestSource = 4_096
  static let capacity = 256

  private var entries: [Key: PyObjectPointer] = [:]
  /// Keys in the order they were added, the oldest first, for eviction.
  private var order = Deque<Key>()

  /// A new reference to the code object of `source`, compiled now if it is not cached.
  mutating func code(for source: String, start: Int32, compile: () throws -> PyObjectPointer) rethrows
    -> PyObjectPointer
  {
    guard source.utf8.count <= CodeCache.longestSource else { return try compile() }
    let key = Key(source: source, start: start)
    if let cached = entries[key] {
      Py_IncRef(cached)
      return cached
    }
    let compiled = try compile()
    if order.count == CodeCache.capacity, let oldest = order.popFirst() {
      entries.removeValue(forKey: oldest).map(Py_DecRef)
    }
    Py_IncRef(compiled)
    entries[key] = compiled
    order.append(key)
    return compiled
  }

  /// Releases every cached code object; with the interpreter attached.
  mutating func removeAll() {
    for code in entries.values { Py_DecRef(code) }
    entries.removeAll()
    order.removeAll()
  }
}
