extension SwiftPyError.Code {
  /// The requested interpreter mode is not available with this Python.
  public static let modeUnavailable = Self("modeUnavailable")
  /// CPython refused to create an interpreter (or a thread state for one).
  public static let interpreterCreationFailed = Self("interpreterCreationFailed")
}
