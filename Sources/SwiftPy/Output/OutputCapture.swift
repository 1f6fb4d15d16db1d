import CPythonShim
import Synchronization

/// Captures the output of the calls a task makes, instead of the runtime's policy.
///
/// The sink is a task-local value, read in the caller's task when a job is submitted and
/// installed on the interpreter thread (a C thread-local) only while that job runs: the
/// capture then sees exactly what the job's thread writes, and no other call's output.
enum OutputCapture {
  @TaskLocal static var sink: OutputSink?

  /// `body`, made to send what its OS thread writes to `sys.stdout`/`sys.stderr` while it
  /// runs to `sink`; `body` itself when there is no sink. Read the sink in the caller's task
  /// (``sink``), before the job is submitted: the interpreter thread has no task-locals.
  static func capturing<T>(
    into sink: OutputSink?, _ body: @escaping @Sendable (_ globals: PyObjectPointer) throws -> T
  ) -> @Sendable (_ globals: PyObjectPointer) throws -> T {
    guard let sink else { return body }
    return { globals in
      let previous = spy_output_thread_sink()
      spy_output_set_thread_sink(Unmanaged.passUnretained(sink).toOpaque())
      defer { spy_output_set_thread_sink(previous) }
      return try body(globals)
    }
  }
}

/// The bytes one capture has received, per stream.
final class OutputSink: Sendable {
  private let buffers = Mutex<(stdout: [UInt8], stderr: [UInt8])>(([], []))

  func append(_ bytes: UnsafeRawBufferPointer, to stream: PythonOutputStream) {
    buffers.withLock { buffers in
      switch stream {
      case .stdout: buffers.stdout.append(contentsOf: bytes)
      case .stderr: buffers.stderr.append(contentsOf: bytes)
      }
    }
  }

  var output: PythonOutput {
    buffers.withLock {
      PythonOutput(
        stdout: String(decoding: $0.stdout, as: UTF8.self), stderr: String(decoding: $0.stderr, as: UTF8.self)
      )
    }
  }
}

extension PythonRuntime {
  /// Runs `body` and returns its result with what Python wrote to `sys.stdout` and `sys.stderr`
  /// during the calls it made — on any context of any runtime, including calls made by its
  /// child tasks — instead of sending that output where ``Configuration/output`` says.
  ///
  /// ```swift
  /// let (value, output) = try await py.capturingOutput {
  ///   try await py.eval("print('hello') or 42")
  /// }
  /// // value == .int(42), output.stdout == "hello\n"
  /// ```
  ///
  /// Only what each call's own thread writes while the call runs is captured; other calls,
  /// Python threads and anything written after the call returns follow the runtime's policy.
  /// An inner capture takes the output of its own calls.
  public func capturingOutput<T>(
    isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
  ) async rethrows -> (result: T, output: PythonOutput) {
    let sink = OutputSink()
    let result = try await OutputCapture.$sink.withValue(sink, operation: body, isolation: isolation)
    return (result, sink.output)
  }
}
