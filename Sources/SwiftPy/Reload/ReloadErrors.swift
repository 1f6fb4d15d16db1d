extension SwiftPyError.Code {
  /// A hot-reload step that is not Python failed: a shell command exited with a failure status
  /// or could not start, a Swift hook or step threw (the error is the ``SwiftPyError/underlying``).
  public static let reloadStepFailed = Self("reloadStepFailed")
  /// Worker contexts share one interpreter, so a reload waits until all of them are between
  /// two jobs; one did not get there in time (a call that runs very long), and the reload was
  /// not run in that interpreter.
  public static let reloadNotReached = Self("reloadNotReached")
}
