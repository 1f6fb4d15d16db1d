import CPythonShim
import OrderedCollections
import Synchronization

/// A Python generator or async generator consumed from Swift, one item at a time: the iterator
/// lives on the thread of the context that made it (in the thread's `swift._streams`, so it goes
/// with the thread's state when the context ends), and each `next()` of the Swift loop is one
/// job there. The generator advances only as Swift asks; when the Swift side lets go of the
/// stream (the loop is left, the task cancelled), the generator is closed on its thread and its
/// `finally` runs.
final class StreamSource: Sendable {
  let key: Int
  let thread: InterpreterThread
  private let timeout: Duration?
  private let grace: Duration
  private let finished = Atomic<Bool>(false)
  private static let serials = Atomic<Int>(0)

  init(key: Int, thread: InterpreterThread, timeout: Duration?, grace: Duration) {
    self.key = key
    self.thread = thread
    self.timeout = timeout
    self.grace = grace
  }

  deinit {
    guard !finished.load(ordering: .acquiring) else { return }
    // Let go of before its end: close the generator where it lives (its `finally` runs).
    thread.submitHousekeeping { [key] in
      _ = try? StreamSource.callModule("_stream_close", key)
    }
  }

  /// A new key for a stream.
  static func nextKey() -> Int { serials.wrappingAdd(1, ordering: .relaxed).newValue }

  /// On a context's thread, inside a job: `module.function(*args, **kwargs)` made into a
  /// stream under `key`. Returns the thread the stream lives on.
  static func open(
    key: Int, _ module: String, _ function: String, args: [PythonValue],
    kwargs: OrderedDictionary<String, PythonValue>, globals: PyObjectPointer
  ) throws -> InterpreterThread {
    guard let thread = InterpreterThread.current else {
      throw SwiftPyError(.invalidArgument, "a stream can only be opened on a context's thread")
    }
    let callable = try PythonExecution.resolve(module, function, globals: globals)
    defer { Py_DecRef(callable) }
    let iterable = try PythonExecution.invoke(callable, args: args, kwargs: kwargs)
    defer { Py_DecRef(iterable) }
    let keyObject = try PythonValue.int(key).makePythonObject()
    defer { Py_DecRef(keyObject) }
    Py_DecRef(try Coroutines.callModule("_stream_open", [keyObject, iterable]))
    return thread
  }

  /// The next item, or nil at the end; on the context's thread, as a job of its own.
  func next() async throws -> PythonValue? {
    guard !finished.load(ordering: .acquiring) else { return nil }
    do {
      let item = try await thread.perform(timeout: timeout, grace: grace, describing: "a stream's next item")
      {
        [key] () throws -> PythonValue? in
        let result = try StreamSource.callModule("_stream_next", key)
        guard case .tuple(let pair) = result, pair.count == 2, pair[0] == .bool(true) else { return nil }
        return pair[1]
      }
      if item == nil { finished.store(true, ordering: .releasing) }
      return item
    } catch {
      // The generator raised (and is gone), or the call was stopped: either way the stream ends;
      // a stopped generator is closed when the stream is let go of.
      if error is PythonError { finished.store(true, ordering: .releasing) }
      throw error
    }
  }

  /// `swift.<function>(key)` converted; on the thread.
  private static func callModule(_ function: String, _ key: Int) throws -> PythonValue {
    let keyObject = try PythonValue.int(key).makePythonObject()
    defer { Py_DecRef(keyObject) }
    let result = try Coroutines.callModule(function, [keyObject])
    defer { Py_DecRef(result) }
    return try PythonValue(pythonObject: result)
  }

  /// The Swift side of the stream: pulls one item per `next()`.
  func makeStream() -> AsyncThrowingStream<PythonValue, Error> {
    AsyncThrowingStream(unfolding: { [self] in try await next() })
  }
}
