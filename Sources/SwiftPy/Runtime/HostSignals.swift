import CPythonShim
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The host's signal dispositions belong to the host (ARCHITECTURE.md, "One CPython"). CPython
/// is initialized without its signal handlers, but the first import of `signal` in the main
/// interpreter still installs Python's SIGINT handler — after which Ctrl-C no longer stops the
/// host and a stale `KeyboardInterrupt` surfaces in some later call — and Python code running in
/// the main interpreter's first thread (`interpreters.main`) could make the host ignore SIGTERM.
/// So `signal` is imported once at process start and whatever it changed is put back, and the
/// functions that change dispositions refuse — guarded in C, in every interpreter — unless the
/// host opts in (``PythonRuntime/Configuration/pythonSignalHandlers``).
enum HostSignals {
  /// Runs on the main interpreter's thread, attached, once per process.
  static func protect(allowingPythonHandlers allowed: Bool) throws {
    // Only the signals CPython's `signal` module may take over at import. Not every signal:
    // the host may change others meanwhile (Foundation's `Process` installs its SIGCHLD
    // handler on first use, perhaps on another thread right now), and putting back an older
    // disposition would undo that — children would never be reaped.
    let touched = [SIGINT, SIGPIPE, SIGXFSZ]
    let before = touched.map { disposition($0) }
    try ContextSetup.run("import _signal, signal", with: [:])
    for (signal, saved) in zip(touched, before) {
      var current = sigaction()
      sigaction(signal, nil, &current)
      if !sameHandler(current, saved) {
        var restore = saved
        sigaction(signal, &restore, nil)
      }
    }
    ignoreBrokenPipesUnlessHandled()
    // The functions that change dispositions refuse from C (spy_guard.c), where Python code
    // cannot undo it; the same guard keeps the sandbox.
    var unguarded = [CChar](repeating: 0, count: 512)
    guard spy_guard_install(allowed ? 0 : 1, &unguarded, unguarded.count) == 0 else {
      throw PythonError.fetch()
    }
    let names = String(decoding: unguarded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    if !names.isEmpty {
      SwiftPyLog.logger.warning(
        "[SwiftPy] these functions could not be guarded, so the sandbox and the host's signal handlers do not cover them: \(names)"
      )
    }
  }

  /// The one disposition SwiftPy sets: SIGPIPE ignored, when the host left it at its default.
  /// By default a write to a pipe or socket whose reader is gone ends the process, and Python
  /// code does such writes all the time (a `ProcessPoolExecutor` whose worker died, a client
  /// that hung up); ignored, the write fails with EPIPE and Python raises `BrokenPipeError`.
  /// CPython sets the same for itself, and its `subprocess` puts the default back in the
  /// processes it starts. A host that installed its own SIGPIPE handler, or ignores it already,
  /// keeps what it has; a host that sets it back to the default after starting SwiftPy accepts
  /// that such a write ends the process (ARCHITECTURE.md, "One CPython").
  private static func ignoreBrokenPipesUnlessHandled() {
    var current = disposition(SIGPIPE)
    guard sameHandler(current, sigaction()) else { return }  // a zeroed sigaction is SIG_DFL
    #if canImport(Glibc)
      current.__sigaction_handler.sa_handler = SIG_IGN
    #else
      current.__sigaction_u.__sa_handler = SIG_IGN
    #endif
    sigaction(SIGPIPE, &current, nil)
  }

  private static func disposition(_ signal: Int32) -> sigaction {
    var current = sigaction()
    sigaction(signal, nil, &current)
    return current
  }

  private static func sameHandler(_ a: sigaction, _ b: sigaction) -> Bool {
    #if canImport(Glibc)
      unsafeBitCast(a.__sigaction_handler.sa_handler, to: Int.self)
        == unsafeBitCast(b.__sigaction_handler.sa_handler, to: Int.self)
    #else
      unsafeBitCast(a.__sigaction_u.__sa_handler, to: Int.self)
        == unsafeBitCast(b.__sigaction_u.__sa_handler, to: Int.self)
    #endif
  }
}

extension HostSignals {
  /// The signal mask the host's main thread had when SwiftPy first looked, which every thread
  /// that runs Python adopts (``adoptHostMask()``). SwiftPy's threads are started from Swift's
  /// thread pool, whose threads block almost every signal (libdispatch's choice, not the
  /// host's), and every process Python starts inherits the mask of the thread that starts it:
  /// `Popen.terminate()` did nothing to a child with SIGTERM blocked, and multiprocessing's
  /// forkserver waited for ever for a SIGCHLD it had blocked. The main thread's mask is what the
  /// host meant — empty in most programs; a host that blocks a signal everywhere to `sigwait`
  /// for it keeps it blocked in SwiftPy's threads too (ARCHITECTURE.md, "Processes started from
  /// Python").
  static let hostMask: sigset_t = {
    var mask = sigset_t()
    sigemptyset(&mask)
    #if os(Linux)
      // The main thread's mask, from /proc (no API reads another thread's mask).
      let path = "/proc/self/task/\(getpid())/status"
      guard let file = fopen(path, "r") else { return mask }
      defer { fclose(file) }
      var line: UnsafeMutablePointer<CChar>? = nil
      var capacity = 0
      defer { free(line) }
      while getline(&line, &capacity, file) > 0, let line {
        let text = String(cString: line)
        guard text.hasPrefix("SigBlk:") else { continue }
        let bits = UInt64(text.dropFirst(7).trimmingCharacters(in: .whitespacesAndNewlines), radix: 16) ?? 0
        for signal in 1...64 where bits & (1 << UInt64(signal - 1)) != 0 { sigaddset(&mask, Int32(signal)) }
        break
      }
    #endif
    return mask
  }()

  /// Gives the calling thread the host's mask; at the start of every thread SwiftPy creates.
  static func adoptHostMask() {
    var mask = hostMask
    pthread_sigmask(SIG_SETMASK, &mask, nil)
  }
}
