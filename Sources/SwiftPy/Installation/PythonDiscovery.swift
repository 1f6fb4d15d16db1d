import Foundation
import Synchronization

#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// One python looked at during discovery, and what was decided about it.
public struct PythonCandidate: Sendable, CustomStringConvertible {
  public enum Verdict: Sendable, Equatable {
    /// This is the Python SwiftPy will use.
    case chosen
    /// Examined and rejected (or usable but beaten by a newer one); the reason says which.
    case passedOver(String)
    /// Not examined, for the reason given (for example: the same executable as an earlier one).
    case notConsidered(String)
  }

  public let path: String
  /// Where it came from, as in ``PythonInstallation/foundBy``.
  public let source: String
  /// Known when the python was run, or when its directory name spells a full version.
  public let version: PythonVersion?
  public let verdict: Verdict

  public var description: String {
    let versionText = version.map { " (\($0))" } ?? ""
    switch verdict {
    case .chosen: return "\(source): \(path)\(versionText): chosen"
    case .passedOver(let reason): return "\(source): \(path)\(versionText): passed over: \(reason)"
    case .notConsidered(let reason): return "\(source): \(path)\(versionText): not considered: \(reason)"
    }
  }
}

/// The chosen Python and every candidate looked at on the way, for `swiftpy info` and for
/// explaining a surprising choice.
public struct DiscoveryReport: Sendable, CustomStringConvertible {
  public let installation: PythonInstallation
  public let candidates: [PythonCandidate]

  public var description: String {
    ([installation.description] + candidates.map { "  - \($0)" }).joined(separator: "\n")
  }
}

/// Finds the Python SwiftPy loads.
///
/// Order: the explicit ``PythonChoice`` → `SWIFTPY_PYTHON` (an executable or a libpython)
/// → the active `VIRTUAL_ENV` → `python3` on `PATH` if it is usable → the newest usable
/// Python among `python3.N` on `PATH`, pyenv's versions, Homebrew, `/usr/local/bin` and
/// `/usr/bin` (final releases are preferred over pre-releases).
///
/// Usable means CPython ≥ 3.12, not a free-threaded build, with a shared libpython on
/// disk. Each python is asked for its configuration by running it once (the probe).
/// Nothing is cached: every call searches again, in the environment it is given.
public enum PythonDiscovery {
  /// The oldest `major.minor` SwiftPy runs with (PEP 684 interpreters arrived in 3.12).
  public static let minimumMajorMinor = (major: 3, minor: 12)
  /// `python3.N` names are looked for with `N` in `12...newestMinorSearched`.
  public static let newestMinorSearched = 20

  /// Finds a Python according to `choice`.
  ///
  /// - Parameters:
  ///   - choice: an explicit Python, or `.automatic` for the discovery order.
  ///   - environment: the variables to search with (`SWIFTPY_PYTHON`, `VIRTUAL_ENV`,
  ///     `PATH`, `PYENV_ROOT`, `HOME`); also the environment the probed pythons run in.
  ///     Defaults to this process's environment.
  /// - Throws: ``SwiftPyError/Code/unusablePython`` when an explicit choice or
  ///   `SWIFTPY_PYTHON` cannot be used (there is no fallback), and
  ///   ``SwiftPyError/Code/pythonNotFound`` when the search finds nothing usable; the
  ///   message names every place tried and why each was passed over.
  public static func discover(
    _ choice: PythonChoice = .automatic, environment: [String: String]? = nil
  ) throws(SwiftPyError) -> DiscoveryReport {
    var search = Search(environment: environment ?? ProcessInfo.processInfo.environment)
    return try search.run(choice)
  }
}

// MARK: - Examining one python

/// What examining one python found out.
struct Examination: Sendable {
  var version: PythonVersion?
  /// Two paths with the same identity are the same Python (same real executable and prefix).
  var identity: String?
  var outcome: Result<PythonInstallation, Rejection>

  static func rejected(_ reason: String, version: PythonVersion? = nil) -> Examination {
    Examination(version: version, identity: nil, outcome: .failure(Rejection(reason: reason)))
  }
}

struct Rejection: Error, Sendable {
  var reason: String
}

extension PythonDiscovery {
  static func isRecentEnough(_ major: Int, _ minor: Int) -> Bool {
    (major, minor) >= (minimumMajorMinor.major, minimumMajorMinor.minor)
  }

  static func tooOld(_ version: String) -> String {
    "Python \(version) is too old; SwiftPy needs Python \(minimumMajorMinor.major).\(minimumMajorMinor.minor) or newer"
  }

  /// Runs `path` to read its configuration and decides whether SwiftPy can use it.
  /// `library`, when given, is the libpython the user chose; otherwise it is looked for.
  static func examine(
    executable path: String, source: String, library: String? = nil, environment: [String: String]
  ) -> Examination {
    let fileManager = FileManager.default
    var isDirectory: ObjCBool = false
    guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory) else {
      return .rejected("no such file")
    }
    if isDirectory.boolValue { return .rejected("is a directory, not a python executable") }
    guard fileManager.isExecutableFile(atPath: path) else { return .rejected("is not executable") }

    let probe: PythonProbeResult
    do {
      probe = try PythonProbe.run(path, environment: environment)
    } catch {
      return .rejected("could not ask it for its configuration: \(error.reason)")
    }
    let version = probe.version
    let identity = realPath(probe.executable) + "\u{0}" + probe.prefix
    func reject(_ reason: String) -> Examination {
      Examination(version: version, identity: identity, outcome: .failure(Rejection(reason: reason)))
    }

    guard probe.implementation == "cpython" else {
      return reject("it is \(probe.implementation), not CPython")
    }
    guard isRecentEnough(version.major, version.minor) else { return reject(tooOld(version.description)) }
    guard !probe.isFreeThreaded else {
      return reject("free-threaded builds are not supported yet (Py_GIL_DISABLED=1)")
    }

    let libraryPath: String
    if let library {
      if let named = libraryNameVersion(library), (named.major, named.minor) != (version.major, version.minor)
      {
        return reject(
          "the library is for Python \(named.major).\(named.minor) but \(path) beside it is Python \(version)"
        )
      }
      libraryPath = library
    } else {
      let tried = libraryPaths(for: probe)
      guard let found = tried.first(where: isSharedLibraryFile) else {
        let shared = probe.enableShared == "0" ? " (Py_ENABLE_SHARED=0)" : ""
        return reject(
          "no shared libpython (built without --enable-shared?)\(shared); tried \(tried.joined(separator: ", "))"
        )
      }
      libraryPath = found
    }

    let installation = PythonInstallation(
      executable: path, version: version, libraryPath: libraryPath, prefix: probe.prefix,
      basePrefix: probe.basePrefix, sitePackages: uniqued(probe.sitePackages),
      isVirtualEnvironment: probe.isVirtualEnvironment, foundBy: source)
    return Examination(version: version, identity: identity, outcome: .success(installation))
  }

  /// Where the shared libpython of a probed python may be, most specific first.
  static func libraryPaths(for probe: PythonProbeResult) -> [String] {
    var paths: [String] = []
    func add(_ directory: String?, _ name: String?) {
      guard let directory, !directory.isEmpty, let name, !name.isEmpty else { return }
      let path = name.hasPrefix("/") ? name : (directory as NSString).appendingPathComponent(name)
      if !paths.contains(path) { paths.append(path) }
    }
    add(probe.libDir, probe.instSoName)
    add(probe.libDir, probe.ldLibrary)
    // Framework builds (macOS) name the library relative to the framework prefix.
    add(probe.frameworkPrefix, probe.ldLibrary)
    var directories: [String?] = [probe.libDir, probe.prefix + "/lib", probe.basePrefix + "/lib"]
    if let multiArch = probe.multiArch, !multiArch.isEmpty {
      directories = directories.flatMap { [$0, $0.map { $0 + "/" + multiArch }] }
    }
    let stem = "libpython\(probe.major).\(probe.minor)"
    for directory in directories {
      for suffix in [".so", ".so.1.0", ".dylib"] { add(directory, stem + suffix) }
    }
    return paths
  }

  /// A file that `dlopen` may load: it exists, and it is not a static archive.
  static func isSharedLibraryFile(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return !path.hasSuffix(".a")
      && FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
  }

  /// `libpython3.12.so` → (3, 12, false); `libpython3.13t.so` → (3, 13, true).
  static func libraryNameVersion(_ path: String) -> (major: Int, minor: Int, freeThreaded: Bool)? {
    let name = (path as NSString).lastPathComponent
    guard let range = name.range(of: "libpython") else { return nil }
    let rest = name[range.upperBound...]
    guard let (major, minor, _, remainder) = leadingVersion(rest) else { return nil }
    return (major, minor, remainder.hasPrefix("t"))
  }

  /// Parses `3.13.0…` at the start of `text`: major, minor, micro if present, and what follows.
  static func leadingVersion(_ text: Substring) -> (Int, Int, Int?, Substring)? {
    let numeric = text.prefix { $0.isNumber || $0 == "." }
    let parts = numeric.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count >= 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
    let micro = parts.count >= 3 ? Int(parts[2]) : nil
    // Give back a dot that ended the number ("3.12.so" → ".so") as part of the remainder.
    var consumed = parts[0].count + 1 + parts[1].count
    if let micro { consumed += 1 + String(micro).count }
    return (major, minor, micro, text.dropFirst(consumed))
  }

  static func realPath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  /// The key used to skip a second path to the same file without running it.
  static func fileKey(_ path: String) -> String {
    let directory = (path as NSString).deletingLastPathComponent
    let root = (directory as NSString).deletingLastPathComponent
    // A venv's python is a symlink to its base python; resolving it would merge the two.
    if FileManager.default.fileExists(atPath: root + "/pyvenv.cfg") {
      return realPath(directory) + "/" + (path as NSString).lastPathComponent
    }
    return realPath(path)
  }

  static func uniqued(_ paths: [String]) -> [String] {
    var result: [String] = []
    for path in paths where !result.contains(path) { result.append(path) }
    return result
  }

  static func absolute(_ path: String) -> String {
    let full =
      path.hasPrefix("/")
      ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    // `.` and `..` removed, symbolic links kept: a venv's `bin/python3` links to the base
    // python, and following it would lose the venv (NSString.standardizingPath follows them).
    return URL(fileURLWithPath: full).standardized.path
  }
}

// MARK: - The search

/// One discovery run: its environment, and the record of everything looked at.
private struct Search {
  let environment: [String: String]
  var candidates: [PythonCandidate] = []
  /// Lines for the "not found" message, in search order.
  var tried: [String] = []
  /// Identity → the first path that had it.
  var seen: [String: String] = [:]

  init(environment: [String: String]) {
    self.environment = environment
  }

  mutating func run(_ choice: PythonChoice) throws(SwiftPyError) -> DiscoveryReport {
    switch choice {
    case .executable(let path):
      return try explicit(
        path, asLibrary: false, label: "No usable Python at \(path)", source: "configuration",
        hint: "Choose a python 3.12 or newer built with --enable-shared.")
    case .library(let path):
      return try explicit(
        path, asLibrary: true, label: "No usable libpython at \(path)", source: "configuration",
        hint: "Choose the libpython of a Python 3.12 or newer, with its python executable beside it.")
    case .automatic:
      return try automatic()
    }
  }

  // MARK: Steps

  mutating func automatic() throws(SwiftPyError) -> DiscoveryReport {
    if let value = variable("SWIFTPY_PYTHON") {
      return try explicit(
        value, asLibrary: Self.looksLikeLibrary(value), label: "No usable Python at SWIFTPY_PYTHON=\(value)",
        source: "SWIFTPY_PYTHON",
        hint: """
          Point SWIFTPY_PYTHON at a python 3.12 or newer built with --enable-shared (or at its \
          libpython), or unset it to let SwiftPy search.
          """)
    }
    tried.append("SWIFTPY_PYTHON: not set")

    if let venv = variable("VIRTUAL_ENV") {
      let executables = ["\(venv)/bin/python3", "\(venv)/bin/python"]
      if let executable = executables.first(where: FileManager.default.isExecutableFile(atPath:)) {
        if let installation = tryOne(executable, source: "VIRTUAL_ENV") { return report(installation) }
      } else {
        record(venv, source: "VIRTUAL_ENV", version: nil, .passedOver("no bin/python3 or bin/python in it"))
      }
    } else {
      tried.append("VIRTUAL_ENV: not set")
    }

    if let executable = which("python3") {
      if let installation = tryOne(executable, source: "python3 on PATH") { return report(installation) }
    } else {
      tried.append("python3 on PATH: \(variable("PATH") == nil ? "PATH is not set" : "not found")")
    }

    return try newest()
  }

  /// An explicit choice: usable, or an error naming it. Never a fallback, so that a typo
  /// in a path can't silently run a different Python.
  mutating func explicit(
    _ value: String, asLibrary: Bool, label: String, source: String, hint: String
  ) throws(SwiftPyError) -> DiscoveryReport {
    let (path, examination) =
      asLibrary ? examineLibrary(value, source: source) : examineExecutable(value, source: source)
    switch examination.outcome {
    case .success(let installation):
      record(path, source: source, version: examination.version, .chosen)
      return report(installation)
    case .failure(let rejection):
      throw SwiftPyError(.unusablePython, "\(label) (\(rejection.reason)). \(hint)")
    }
  }

  /// One candidate of a step that ends the search when it is usable.
  mutating func tryOne(_ executable: String, source: String) -> PythonInstallation? {
    let examination = PythonDiscovery.examine(
      executable: executable, source: source, environment: environment)
    if let identity = examination.identity, seen[identity] == nil { seen[identity] = executable }
    switch examination.outcome {
    case .success(let installation):
      record(executable, source: source, version: examination.version, .chosen)
      return installation
    case .failure(let rejection):
      record(executable, source: source, version: examination.version, .passedOver(rejection.reason))
      return nil
    }
  }

  /// A python found during the last step, before it is examined.
  struct Lead {
    var path: String
    var source: String
    /// From the file or directory name; lets old versions be skipped without running them.
    var nameVersion: (major: Int, minor: Int)?
    var fullNameVersion: PythonVersion?
  }

  /// The last step: every usable python found, and the newest one wins.
  mutating func newest() throws(SwiftPyError) -> DiscoveryReport {
    let leads = gatherLeads()

    // Decide what needs running; verdicts are recorded afterwards, in lead order.
    var verdicts: [PythonCandidate.Verdict?] = Array(repeating: nil, count: leads.count)
    var versions: [PythonVersion?] = leads.map(\.fullNameVersion)
    var toExamine: [Int] = []
    var fileKeys: [String: String] = [:]
    for (index, lead) in leads.enumerated() {
      if let named = lead.nameVersion, !PythonDiscovery.isRecentEnough(named.major, named.minor) {
        let spelled = lead.fullNameVersion?.description ?? "\(named.major).\(named.minor)"
        verdicts[index] = .passedOver(PythonDiscovery.tooOld(spelled) + " (from its name; not run)")
      } else if !FileManager.default.fileExists(atPath: lead.path) {
        verdicts[index] = .passedOver("no such file")
      } else {
        let key = PythonDiscovery.fileKey(lead.path)
        if let first = fileKeys[key] {
          verdicts[index] = .notConsidered("the same file as \(first)")
        } else {
          fileKeys[key] = lead.path
          toExamine.append(index)
        }
      }
    }

    let examinations = Self.examineConcurrently(toExamine.map { leads[$0] }, environment: environment)
    var usable: [(index: Int, installation: PythonInstallation)] = []
    for (index, examination) in zip(toExamine, examinations) {
      versions[index] = examination.version ?? versions[index]
      if let identity = examination.identity {
        if let first = seen[identity] {
          verdicts[index] = .notConsidered("the same Python as \(first)")
          continue
        }
        seen[identity] = leads[index].path
      }
      switch examination.outcome {
      case .success(let installation): usable.append((index, installation))
      case .failure(let rejection): verdicts[index] = .passedOver(rejection.reason)
      }
    }

    // Prefer final releases: a beta that happens to be installed should not win by default.
    let finals = usable.filter { $0.installation.version.isFinal }
    let pool = finals.isEmpty ? usable : finals
    var best = pool.first
    for entry in pool.dropFirst() where entry.installation.version > best!.installation.version {
      best = entry
    }
    if let best {
      let winner = best.installation
      for (index, installation) in usable where index != best.index {
        if !installation.version.isFinal && winner.version.isFinal {
          verdicts[index] = .passedOver("usable, but final releases are preferred over pre-releases")
        } else if installation.version == winner.version {
          verdicts[index] = .passedOver(
            "usable, but \(winner.executable) has the same version and comes first")
        } else {
          verdicts[index] = .passedOver(
            "usable, but Python \(winner.version) (\(winner.executable)) is newer")
        }
      }
      verdicts[best.index] = .chosen
    }
    for (index, lead) in leads.enumerated() {
      record(lead.path, source: lead.source, version: versions[index], verdicts[index]!)
    }

    if let best { return report(best.installation) }
    throw SwiftPyError(.pythonNotFound, notFoundMessage())
  }

  /// The pythons of the last step, in tie-breaking order: PATH, pyenv, Homebrew, /usr/local, /usr.
  mutating func gatherLeads() -> [Lead] {
    let minors = Array(PythonDiscovery.minimumMajorMinor.minor...PythonDiscovery.newestMinorSearched)
    let range = "python3.\(minors.first!) … python3.\(minors.last!)"
    var leads: [Lead] = []

    let onPath = minors.compactMap { minor in
      which("python3.\(minor)").map {
        Lead(path: $0, source: "python3.\(minor) on PATH", nameVersion: (3, minor))
      }
    }
    if onPath.isEmpty { tried.append("\(range) on PATH: none found") }
    leads += onPath

    leads += pyenvLeads()

    let fixedPlaces: [(source: String, pattern: String)] = [
      ("Homebrew", "/opt/homebrew/bin/python3.N"),
      ("Homebrew", "/usr/local/opt/python@3.N/bin/python3.N"),
      ("Homebrew", "/home/linuxbrew/.linuxbrew/bin/python3.N"),
      ("/usr/local/bin", "/usr/local/bin/python3.N"),
      ("/usr/bin", "/usr/bin/python3.N"),
    ]
    for place in fixedPlaces {
      let found = minors.compactMap { minor -> Lead? in
        let path = place.pattern.replacingOccurrences(of: "N", with: String(minor))
        guard FileManager.default.isExecutableFile(atPath: path) else { return nil }
        return Lead(path: path, source: place.source, nameVersion: (3, minor))
      }
      if found.isEmpty {
        tried.append("\(place.source): \(place.pattern) (N = \(minors.first!)…\(minors.last!)): none found")
      }
      leads += found
    }
    return leads
  }

  /// `$PYENV_ROOT/versions/*` (else `~/.pyenv/versions/*`), each as its `bin/python3`.
  mutating func pyenvLeads() -> [Lead] {
    guard let root = variable("PYENV_ROOT") ?? variable("HOME").map({ $0 + "/.pyenv" }) else {
      tried.append("pyenv versions: neither PYENV_ROOT nor HOME is set")
      return []
    }
    let versionsDirectory = root + "/versions"
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: versionsDirectory) else {
      tried.append("pyenv versions: \(versionsDirectory): no such directory")
      return []
    }
    let leads = names.filter { !$0.hasPrefix(".") }.sorted {
      $0.compare($1, options: .numeric) == .orderedAscending
    }
    .map { name -> Lead in
      let bin = "\(versionsDirectory)/\(name)/bin"
      // Python 2 installs (and some others) have only bin/python.
      let path =
        FileManager.default.fileExists(atPath: bin + "/python3")
          || !FileManager.default.fileExists(atPath: bin + "/python")
        ? bin + "/python3" : bin + "/python"
      var lead = Lead(path: path, source: "pyenv versions")
      if let (major, minor, micro, rest) = PythonDiscovery.leadingVersion(Substring(name)) {
        lead.nameVersion = (major, minor)
        if let micro, rest.isEmpty { lead.fullNameVersion = PythonVersion(major, minor, micro) }
      }
      return lead
    }
    if leads.isEmpty { tried.append("pyenv versions: \(versionsDirectory) is empty") }
    return leads
  }

  // MARK: Explicit choices

  /// An executable given by the user: a path, a bare name on PATH, or a prefix/venv directory.
  func examineExecutable(_ value: String, source: String) -> (String, Examination) {
    var path: String
    if value.contains("/") {
      path = PythonDiscovery.absolute(value)
    } else {
      guard let found = which(value) else { return (value, .rejected("not found on PATH")) }
      path = found
    }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
      guard
        let inside = ["\(path)/bin/python3", "\(path)/bin/python"].first(
          where: FileManager.default.isExecutableFile(atPath:))
      else { return (path, .rejected("is a directory without bin/python3 or bin/python")) }
      path = inside
    }
    return (path, PythonDiscovery.examine(executable: path, source: source, environment: environment))
  }

  /// A libpython given by the user; its python executable beside it supplies the configuration.
  func examineLibrary(_ value: String, source: String) -> (String, Examination) {
    let path = PythonDiscovery.absolute(value)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      return (path, .rejected("no such file"))
    }
    if isDirectory.boolValue { return (path, .rejected("is a directory, not a libpython")) }
    if path.hasSuffix(".a") {
      return (path, .rejected("is a static library; SwiftPy needs a shared libpython"))
    }

    let named = PythonDiscovery.libraryNameVersion(path)
    if let named {
      if !PythonDiscovery.isRecentEnough(named.major, named.minor) {
        return (path, .rejected(PythonDiscovery.tooOld("\(named.major).\(named.minor)")))
      }
      if named.freeThreaded {
        return (path, .rejected("free-threaded builds are not supported yet"))
      }
    }

    // The library lives in prefix/lib (or prefix/lib/<multiarch>, or a framework's version
    // directory); the executable in prefix/bin. Try the path as given and symlinks resolved.
    var looked: [String] = []
    for libraryPath in PythonDiscovery.uniqued([path, PythonDiscovery.realPath(path)]) {
      var directory = (libraryPath as NSString).deletingLastPathComponent
      for _ in 0..<3 {
        if let named { looked.append("\(directory)/bin/python\(named.major).\(named.minor)") }
        looked.append("\(directory)/bin/python3")
        directory = (directory as NSString).deletingLastPathComponent
      }
    }
    looked = PythonDiscovery.uniqued(looked)
    guard let executable = looked.first(where: FileManager.default.isExecutableFile(atPath:)) else {
      return (
        path,
        .rejected(
          "found no python executable beside it to read its configuration from; looked for \(looked.joined(separator: ", "))"
        )
      )
    }
    return (
      path,
      PythonDiscovery.examine(executable: executable, source: source, library: path, environment: environment)
    )
  }

  // MARK: Helpers

  func variable(_ name: String) -> String? {
    guard let value = environment[name], !value.isEmpty else { return nil }
    return value
  }

  /// The first executable `name` in the environment's PATH.
  func which(_ name: String) -> String? {
    guard let path = variable("PATH") else { return nil }
    // Relative entries would make the answer depend on the working directory; skip them.
    for directory in path.split(separator: ":") where directory.hasPrefix("/") {
      let candidate = "\(directory)/\(name)"
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
        FileManager.default.isExecutableFile(atPath: candidate)
      {
        return candidate
      }
    }
    return nil
  }

  static func looksLikeLibrary(_ value: String) -> Bool {
    let name = (value as NSString).lastPathComponent
    return name.contains("libpython") || name.hasSuffix(".so") || name.contains(".so.")
      || name.hasSuffix(".dylib")
  }

  /// Examines several pythons at once, one thread each: every examination is a subprocess
  /// (a pyenv shim takes ~0.3 s) spent waiting, so the core count is no limit worth keeping.
  static func examineConcurrently(_ leads: [Lead], environment: [String: String]) -> [Examination] {
    let results = Results(count: leads.count)
    let group = DispatchGroup()
    for (index, lead) in leads.enumerated() {
      let (path, source) = (lead.path, lead.source)
      group.enter()
      let thread = Thread {
        let examination = PythonDiscovery.examine(executable: path, source: source, environment: environment)
        results.slots.withLock { $0[index] = examination }
        group.leave()
      }
      thread.start()
    }
    group.wait()
    return results.slots.withLock { $0.map { $0! } }
  }

  // A class so the threads can share the (non-copyable) mutex.
  private final class Results: Sendable {
    let slots: Mutex<[Examination?]>
    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }
  }

  mutating func record(
    _ path: String, source: String, version: PythonVersion?, _ verdict: PythonCandidate.Verdict
  ) {
    candidates.append(PythonCandidate(path: path, source: source, version: version, verdict: verdict))
    switch verdict {
    case .chosen: break
    case .passedOver(let reason), .notConsidered(let reason):
      let versionText = version.map { " (\($0))" } ?? ""
      tried.append("\(source): \(path)\(versionText): \(reason)")
    }
  }

  func report(_ installation: PythonInstallation) -> DiscoveryReport {
    DiscoveryReport(installation: installation, candidates: candidates)
  }

  func notFoundMessage() -> String {
    """
    No usable Python found: SwiftPy needs CPython 3.12 or newer with a shared libpython.
    Places tried:
    \(tried.map { "  - \($0)" }.joined(separator: "\n"))
    To fix: install Python 3.12 or newer built with --enable-shared (Homebrew, python.org and \
    most Linux distributions' libpython3.N packages are; with pyenv: \
    PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install 3.13), or set SWIFTPY_PYTHON to a \
    python executable or a libpython path.
    """
  }
}
