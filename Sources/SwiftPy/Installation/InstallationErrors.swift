extension SwiftPyError.Code {
  /// No Python ≥ 3.12 with a shared libpython was found; the message lists every place tried.
  public static let pythonNotFound = Self("pythonNotFound")
  /// A Python was chosen (explicitly or through `SWIFTPY_PYTHON`) but cannot be used.
  public static let unusablePython = Self("unusablePython")
  /// libpython could not be loaded or lacks a symbol SwiftPy needs.
  public static let libraryLoadFailed = Self("libraryLoadFailed")
  /// This process already runs another Python; one libpython per process.
  public static let differentPythonAlreadyLoaded = Self("differentPythonAlreadyLoaded")
}
