/// A Python version, as `sys.version_info` reports it.
public struct PythonVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
  public let major: Int
  public let minor: Int
  public let micro: Int
  /// `"alpha"`, `"beta"`, `"candidate"` or `"final"`.
  public let releaseLevel: String
  public let serial: Int

  public init(_ major: Int, _ minor: Int, _ micro: Int = 0, releaseLevel: String = "final", serial: Int = 0) {
    self.major = major
    self.minor = minor
    self.micro = micro
    self.releaseLevel = releaseLevel
    self.serial = serial
  }

  /// `true` for final releases, `false` for alphas, betas and release candidates.
  public var isFinal: Bool { releaseLevel == "final" }

  /// `"3.13"`: the part that names the library (`libpython3.13`) and the executable.
  public var majorMinor: String { "\(major).\(minor)" }

  /// `"3.13.0"`, or `"3.14.0b2"` for a pre-release (the spelling `python -V` uses).
  public var description: String {
    let base = "\(major).\(minor).\(micro)"
    switch releaseLevel {
    case "final": return base
    case "alpha": return "\(base)a\(serial)"
    case "beta": return "\(base)b\(serial)"
    case "candidate": return "\(base)rc\(serial)"
    default: return "\(base)-\(releaseLevel)\(serial)"
    }
  }

  // Orders pre-releases before the final release of the same version, as Python does.
  private var levelRank: Int {
    switch releaseLevel {
    case "alpha": return 0
    case "beta": return 1
    case "candidate": return 2
    case "final": return 3
    default: return -1
    }
  }

  public static func < (lhs: PythonVersion, rhs: PythonVersion) -> Bool {
    (lhs.major, lhs.minor, lhs.micro, lhs.levelRank, lhs.serial)
      < (rhs.major, rhs.minor, rhs.micro, rhs.levelRank, rhs.serial)
  }
}

/// The Python that SwiftPy will load: where its library is and what it can do.
public struct PythonInstallation: Sendable, Equatable, CustomStringConvertible {
  /// The python executable that was asked for its configuration (a venv's own `bin/python`
  /// when in a venv).
  public let executable: String
  public let version: PythonVersion
  /// The libpython that will be `dlopen`ed; it exists when discovery returns.
  public let libraryPath: String
  /// `sys.prefix`: the virtual environment when in one.
  public let prefix: String
  /// `sys.base_prefix`: the installation the virtual environment was made from.
  public let basePrefix: String
  /// Directories that must be importable; a venv's own site-packages come first.
  public let sitePackages: [String]
  public let isVirtualEnvironment: Bool
  /// How it was found: `"configuration"`, `"SWIFTPY_PYTHON"`, `"VIRTUAL_ENV"`,
  /// `"python3 on PATH"`, `"python3.13 on PATH"`, `"pyenv versions"`, `"Homebrew"`, ...
  public let foundBy: String

  public init(
    executable: String, version: PythonVersion, libraryPath: String, prefix: String, basePrefix: String,
    sitePackages: [String], isVirtualEnvironment: Bool, foundBy: String
  ) {
    self.executable = executable
    self.version = version
    self.libraryPath = libraryPath
    self.prefix = prefix
    self.basePrefix = basePrefix
    self.sitePackages = sitePackages
    self.isVirtualEnvironment = isVirtualEnvironment
    self.foundBy = foundBy
  }

  /// The first version whose isolated (own-GIL) interpreters don't crash on common imports.
  public static let firstSafeOwnGILVersion = PythonVersion(3, 12, 4)

  /// Whether interpreters with their own GIL (PEP 684, `ownGIL` mode) may be created.
  public var supportsOwnGIL: Bool { ownGILUnavailableReason == nil }

  /// Why `ownGIL` mode is refused with this Python, or `nil` when it is available.
  public var ownGILUnavailableReason: String? {
    // Compare without the release level: 3.12.4 pre-releases already carry the fixes.
    let safe = Self.firstSafeOwnGILVersion
    if (version.major, version.minor, version.micro) >= (safe.major, safe.minor, safe.micro) {
      return nil
    }
    if (version.major, version.minor) < (3, 12) {
      return "Python \(version) has no per-interpreter GIL (PEP 684 arrived in 3.12)."
    }
    return """
      Python \(version) crashes in isolated (own-GIL) interpreters: importing modules such as \
      hashlib or asyncio in one makes the process crash when that interpreter is finalized \
      (fixed in 3.12.4). Use Python 3.12.4 or newer (3.13 recommended) for ownGIL mode; \
      the worker and subinterp modes work with this version.
      """
  }

  public var description: String {
    var text = "Python \(version) at \(executable) (library \(libraryPath); found by \(foundBy))"
    if isVirtualEnvironment { text += ", virtual environment \(prefix) based on \(basePrefix)" }
    return text
  }
}
