import Logging

/// Where the output of a runtime's Python code goes: what `print`, `sys.stdout.write` and
/// tracebacks printed by Python (in threads, for unraisable exceptions) write to `sys.stdout`
/// and `sys.stderr`. Set it in ``PythonRuntime/Configuration/output``.
///
/// Output is line-buffered, as on a terminal, whatever the process's stdout is (a pipe, a file,
/// a CI log) and whether or not `PYTHONUNBUFFERED` is set: a line is passed on as soon as it
/// ends, a partial line when Python flushes the stream (`print(..., flush=True)`), when its
/// context closes and when the process exits. Lines of one stream keep their order, and a line
/// of one context never interleaves with another context's.
///
/// ``PythonRuntime/capturingOutput(isolation:_:)`` captures one call's output instead, whatever
/// the policy.
public enum PythonOutputPolicy: Sendable {
  /// The process's standard output and standard error (file descriptors 1 and 2), the default.
  case inherit
  /// Each line goes to `handler`, labelled with its context and stream, without its line break.
  /// The handler runs on the interpreter's thread with the GIL released (a slow handler holds
  /// up only the code that printed); keep it quick and do not block it on other Python work.
  case handler(@Sendable (PythonOutputLine) -> Void)
  /// Each line is logged: stdout at `.info`, stderr at `.warning`, with the metadata
  /// `python.context` and `python.stream`.
  case logger(Logger)
  /// Output is dropped.
  case discard
}
