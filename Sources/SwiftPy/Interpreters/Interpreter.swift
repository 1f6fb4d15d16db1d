import OrderedCollections

/// One interpreter in this process, as in CPython's `concurrent.interpreters.Interpreter`.
///
/// Code runs in the interpreter's `__main__` module, whose state persists between calls, on the
/// interpreter's own pinned thread (``callInThread(_:_:args:kwargs:)`` uses a new thread).
/// Errors are ``SwiftPyError``s with the codes of CPython's exceptions (``SwiftPyError/Code/executionFailed``, ``SwiftPyError/Code/interpreterNotFound``, ``SwiftPyError/Code/notShareable``).
public final class Interpreter: Sendable, Identifiable, CustomStringConvertible {
  /// The interpreter's CPython id.
  public let id: Int64
  /// Where the interpreter came from, as CPython's `whence`.
  public let whence: String
  let context: PythonContext
  let isMain: Bool
  private let lifecycle: RuntimeLifecycle

  init(context: PythonContext, whence: String, isMain: Bool, lifecycle: RuntimeLifecycle) {
    self.lifecycle = lifecycle
    self.context = context
    self.id = context.interpreterID
    self.whence = whence
    self.isMain = isMain
  }

  /// True while the interpreter is executing code.
  public var isRunning: Bool { context.thread.isBusy }

  /// False once the interpreter has been closed.
  public var isAlive: Bool { context.isOpen }

  public var description: String { "Interpreter(\(id), whence: \(whence))" }

  /// Runs source code in `__main__`. With `dedent`, common leading indentation is removed first
  /// so that indented literals work (`"""\n    print('spam!')\n"""`).
  public func exec(_ code: String, dedent: Bool = true, timeout: Duration? = nil)
    async throws(SwiftPyError)
  {
    try await translate { try await context.exec(dedent ? Interpreter.dedent(code) : code, timeout: timeout) }
  }

  /// Calls `module.function(*args, **kwargs)` in this interpreter and returns the result.
  /// `module` `"__main__"` finds functions defined by ``exec(_:dedent:timeout:)``.
  public func call(
    _ module: String, _ function: String, args: [PythonValue] = [],
    kwargs: OrderedDictionary<String, PythonValue> = [:], timeout: Duration? = nil
  ) async throws(SwiftPyError) -> PythonValue {
    try await translate {
      try await context.call(module, function, args: args, kwargs: kwargs, timeout: timeout)
    }
  }

  /// Starts the call on a new OS thread of this interpreter and returns at once; await the
  /// task's `value` to join it.
  public func callInThread(
    _ module: String, _ function: String, args: [PythonValue] = [],
    kwargs: OrderedDictionary<String, PythonValue> = [:]
  ) -> Task<PythonValue, Error> {
    let context = context
    return Task { [lifecycle] in
      try lifecycle.check()
      return try await Interpreter.translate(id: id) {
        try await context.runOnNewThread { globals in
          try PythonExecution.call(module, function, args: args, kwargs: kwargs, globals: globals)
        }
      }
    }
  }

  /// Binds values in `__main__` (CPython's `prepare_main`).
  public func prepareMain(_ namespace: [String: PythonValue]) async throws(SwiftPyError) {
    try await translate {
      try await context.setGlobals(namespace)
    }
  }

  /// Finalizes and destroys the interpreter on its thread. Later calls throw
  /// ``SwiftPyError/Code/interpreterNotFound``. At `deadline`, code still running is interrupted
  /// and its caller answered; an interpreter that still does not stop is abandoned, so this
  /// returns by `deadline` plus the interrupt grace (see ``PythonContext/close(deadline:)``).
  public func close(deadline: Duration = .seconds(10)) async throws(SwiftPyError) {
    guard !isMain else { throw SwiftPyError(.interpreterFailed, "the main interpreter cannot be closed") }
    await context.close(deadline: deadline)
  }

  /// Runs `body` unless the runtime has shut down (the main interpreter outlives it, but this
  /// runtime's handle on it does not), with its errors as CPython's interpreter errors.
  private func translate<T>(_ body: () async throws -> T) async throws(SwiftPyError) -> T {
    try lifecycle.check()
    return try await Interpreter.translate(id: id, body)
  }

  static func translate<T>(id: Int64, _ body: () async throws -> T) async throws(SwiftPyError) -> T {
    do {
      return try await body()
    } catch let error as PythonError {
      throw SwiftPyError(.executionFailed, "execution failed: \(error)", underlying: error)
    } catch let error as SwiftPyError where error.pythonType != nil {
      throw SwiftPyError(.notShareable, "not shareable: \(error.message)", pythonType: error.pythonType)
    } catch let error as SwiftPyError where error.code == .closed {
      throw SwiftPyError(.interpreterNotFound, "interpreter \(id) not found (it has been closed)")
    } catch let error as SwiftPyError {
      throw error
    } catch is CancellationError {
      throw SwiftPyError(.cancelled, "the call was cancelled")
    } catch {
      throw SwiftPyError(.interpreterFailed, String(describing: error))
    }
  }

  /// Removes the common leading whitespace of the non-blank lines (like `textwrap.dedent`).
  static func dedent(_ code: String) -> String {
    let lines = code.split(separator: "\n", omittingEmptySubsequences: false)
    let indents = lines.filter { !$0.allSatisfy(\.isWhitespace) }.map {
      $0.prefix(while: { $0 == " " || $0 == "\t" })
    }
    guard var common = indents.first else { return code }
    for indent in indents.dropFirst() {
      common = common.prefix(zip(common, indent).prefix(while: { $0 == $1 }).count)
    }
    guard !common.isEmpty else { return code }
    return lines.map { $0.allSatisfy(\.isWhitespace) ? "" : String($0.dropFirst(common.count)) }
      .joined(separator: "\n")
  }
}
