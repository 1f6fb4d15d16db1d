/// One run of a hot reloader's steps, or one ``PythonRuntime/reload(module:strategy:)``: which
/// files changed, which modules ran again in which contexts, and how it went.
public struct ReloadEvent: Sendable, CustomStringConvertible {
  /// What started the run.
  public enum Trigger: Sendable, Equatable {
    /// The hot reloader's first run, when it starts.
    case start
    /// Files in the watched set changed.
    case change
    /// ``PythonRuntime/reload(module:strategy:)``.
    case onDemand
  }

  public let trigger: Trigger
  /// The files that changed (absolute, symbolic links resolved), sorted; empty unless
  /// ``trigger`` is ``Trigger/change``.
  public let files: [String]
  /// True when the watcher found the change by rescanning (after the kernel's event queue
  /// overflowed, or a watched directory came back).
  public let rescan: Bool
  /// The modules run again (or imported for the first time by a `.module` step), in the order
  /// they ran: a module after the modules it imports.
  public let modules: [String]
  /// The names of the contexts the modules were reloaded in (``PythonContext/name``).
  public let contexts: [String]
  /// Why the run failed: a ``PythonError`` (a syntax error, an exception raised by a module's
  /// code or a Python hook; the previous code stays live in every context), or a
  /// ``SwiftPyError`` (``SwiftPyError/Code/reloadStepFailed``, ...). Nil when it succeeded.
  public let error: (any Error & Sendable)?
  /// From the file event the kernel reported (or the call, on demand) to the last context done
  /// with the modules: the time it takes until every context runs the new code.
  public let latency: Duration

  /// True when every step succeeded.
  public var succeeded: Bool { error == nil }

  /// ``error`` when it is a Python exception, with its traceback.
  public var pythonError: PythonError? { error as? PythonError }

  public var description: String {
    let what = modules.isEmpty ? "no module" : modules.joined(separator: ", ")
    let outcome = error.map { "failed: \($0)" } ?? "done"
    return "reload of \(what) in \(contexts.count) context(s) \(outcome) (\(latency))"
  }
}
