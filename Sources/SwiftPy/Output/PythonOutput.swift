/// What Python wrote to `sys.stdout` and `sys.stderr` during a call, as
/// ``PythonRuntime/capturingOutput(isolation:_:)`` returns it.
public struct PythonOutput: Sendable, Equatable {
  public var stdout: String
  public var stderr: String

  public init(stdout: String = "", stderr: String = "") {
    self.stdout = stdout
    self.stderr = stderr
  }
}
