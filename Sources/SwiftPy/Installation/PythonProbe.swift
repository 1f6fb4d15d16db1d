import Foundation

#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// What a python executable reports about itself (see ``PythonProbe``).
struct PythonProbeResult: Sendable, Equatable, Decodable {
  var implementation: String
  var major: Int
  var minor: Int
  var micro: Int
  var releaseLevel: String
  var serial: Int
  var executable: String
  var prefix: String
  var basePrefix: String
  var libDir: String?
  var ldLibrary: String?
  var instSoName: String?
  var enableShared: String?
  var gilDisabled: String?
  var multiArch: String?
  var frameworkPrefix: String?
  var sitePackages: [String]

  var version: PythonVersion {
    PythonVersion(major, minor, micro, releaseLevel: releaseLevel, serial: serial)
  }

  var isFreeThreaded: Bool { gilDisabled == "1" }
  var isVirtualEnvironment: Bool { prefix != basePrefix }
}

/// Runs a python executable once to read its version and `sysconfig`.
///
/// A subprocess (not the C API) because the library is not loaded yet: the answer decides
/// which libpython to load, and a Python we pass over must never enter this process.
enum PythonProbe {
  struct Failure: Error, Sendable, Equatable {
    var reason: String
  }

  /// Generous: a starting Python answers in tens of milliseconds, but on a loaded machine (a
  /// CI runner building and testing on two cores) a cold one took more than 15 s; a Python
  /// that never answers is still reported, a minute later.
  static let defaultTimeout: Duration = .seconds(60)

  // The marker lets us ignore anything a sitecustomize or .pth file prints. The script
  // avoids Python 3-only syntax so an old python3 on PATH still answers with its version
  // instead of a SyntaxError.
  static let marker = "SWIFTPY-PROBE:"
  static let script = """
    import json, sys, sysconfig
    def s(v):
        return None if v is None else str(v)
    cv = sysconfig.get_config_var
    base = getattr(sys, 'base_prefix', sys.prefix)
    sp = []
    if sys.prefix != base:
        for k in ('purelib', 'platlib'):
            try:
                sp.append(sysconfig.get_path(k))
            except Exception:
                pass
    try:
        import site
        sp.extend(site.getsitepackages())
    except Exception:
        pass
    v = sys.version_info
    impl = getattr(getattr(sys, 'implementation', None), 'name', 'cpython')
    print('\(marker)' + json.dumps({
        'implementation': impl, 'major': v[0], 'minor': v[1], 'micro': v[2],
        'releaseLevel': v[3], 'serial': v[4],
        'executable': sys.executable or '', 'prefix': sys.prefix, 'basePrefix': base,
        'libDir': s(cv('LIBDIR')), 'ldLibrary': s(cv('LDLIBRARY')),
        'instSoName': s(cv('INSTSONAME')), 'enableShared': s(cv('Py_ENABLE_SHARED')),
        'gilDisabled': s(cv('Py_GIL_DISABLED')), 'multiArch': s(cv('MULTIARCH')),
        'frameworkPrefix': s(cv('PYTHONFRAMEWORKPREFIX')), 'sitePackages': sp}))
    """

  /// Runs `executable -c script` in `environment` and decodes its answer. Kills it after
  /// `timeout`: a hung python (a broken shim, a network home directory) must not hang discovery.
  static func run(
    _ executable: String, environment: [String: String], timeout: Duration = defaultTimeout
  ) throws(Failure) -> PythonProbeResult {
    let output = try runProcess(
      executable, arguments: ["-c", script], environment: environment, timeout: timeout)
    guard output.status == 0 else {
      let detail = firstLines(output.stderr.isEmpty ? output.stdout : output.stderr)
      throw Failure(reason: "it exited with status \(output.status)\(detail.isEmpty ? "" : ": \(detail)")")
    }
    guard
      let line = output.stdout.split(whereSeparator: \.isNewline).last(where: { $0.hasPrefix(marker) }),
      let data = line.dropFirst(marker.count).data(using: .utf8)
    else {
      throw Failure(reason: "it printed no answer to the probe script")
    }
    do {
      var result = try JSONDecoder().decode(PythonProbeResult.self, from: data)
      // Some launchers leave sys.executable empty; the path we ran is the next best thing.
      if result.executable.isEmpty { result.executable = executable }
      return result
    } catch {
      throw Failure(reason: "its answer to the probe script could not be read (\(error))")
    }
  }

  struct Output: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  /// Runs a process to completion, with its output in temporary files rather than pipes:
  /// nothing can fill a pipe buffer, and a grandchild holding the output open can't block us.
  static func runProcess(
    _ executable: String, arguments: [String], environment: [String: String], timeout: Duration
  ) throws(Failure) -> Output {
    let temporary = FileManager.default.temporaryDirectory
    let stdoutURL = temporary.appendingPathComponent("swiftpy-probe-\(UUID().uuidString).out")
    let stderrURL = temporary.appendingPathComponent("swiftpy-probe-\(UUID().uuidString).err")
    defer {
      try? FileManager.default.removeItem(at: stdoutURL)
      try? FileManager.default.removeItem(at: stderrURL)
    }
    guard FileManager.default.createFile(atPath: stdoutURL.path, contents: nil),
      FileManager.default.createFile(atPath: stderrURL.path, contents: nil),
      let stdoutHandle = FileHandle(forWritingAtPath: stdoutURL.path),
      let stderrHandle = FileHandle(forWritingAtPath: stderrURL.path)
    else {
      throw Failure(reason: "could not create temporary files in \(temporary.path)")
    }
    defer {
      try? stdoutHandle.close()
      try? stderrHandle.close()
    }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = environment
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = stdoutHandle
    process.standardError = stderrHandle
    let exited = DispatchSemaphore(value: 0)
    // Set before run(): a handler installed afterwards can miss a fast exit.
    process.terminationHandler = { _ in exited.signal() }
    do {
      try process.run()
    } catch {
      throw Failure(reason: "it could not be started (\(error.localizedDescription))")
    }

    if exited.wait(timeout: .now() + timeout.timeInterval) == .timedOut {
      process.terminate()
      if exited.wait(timeout: .now() + 1) == .timedOut {
        kill(process.processIdentifier, SIGKILL)
        _ = exited.wait(timeout: .now() + 5)
      }
      throw Failure(reason: "it did not answer within \(timeout) and was killed")
    }

    let stdout = (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
    return Output(status: process.terminationStatus, stdout: stdout, stderr: stderr)
  }

  // One line of stderr: enough to say what went wrong, short enough for a list of reasons.
  private static func firstLines(_ text: String) -> String {
    let lines = text.split(whereSeparator: \.isNewline)
      .map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
    // A traceback's useful part is its last line, the exception.
    if lines.first?.hasPrefix("Traceback") == true, let last = lines.last { return last }
    return lines.first ?? ""
  }
}

extension Duration {
  fileprivate var timeInterval: TimeInterval {
    let (seconds, attoseconds) = components
    return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
  }
}
