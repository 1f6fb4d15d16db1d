/// How the user selects the Python that SwiftPy loads.
///
/// ``automatic`` searches in the documented order (see ``PythonDiscovery``). The explicit
/// cases never fall back to another Python: when the chosen one cannot be used, discovery
/// throws ``SwiftPyError/Code/unusablePython`` naming it and the reason.
public enum PythonChoice: Sendable, Equatable, CustomStringConvertible {
  /// `SWIFTPY_PYTHON`, then `VIRTUAL_ENV`, then `python3` on `PATH`, then the newest
  /// Python ≥ 3.12 among `python3.N` on `PATH`, pyenv, Homebrew, `/usr/local` and `/usr`.
  case automatic
  /// A python executable (or a virtual environment's `bin/python`). A bare name such as
  /// `python3.13` is looked up on `PATH`; a directory is taken as a prefix or a venv.
  case executable(String)
  /// A libpython path. Its sysconfig is read from the python executable beside it
  /// (`prefix/bin/python3.N`), which must exist.
  case library(String)

  public var description: String {
    switch self {
    case .automatic: return "automatic"
    case .executable(let path): return ".executable(\(path))"
    case .library(let path): return ".library(\(path))"
    }
  }
}
