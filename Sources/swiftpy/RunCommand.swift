import ArgumentParser
import Foundation
import SwiftPy

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `swiftpy run FILE|-c CODE|-m MODULE [ARGS…]`: Python code run in one leased context as the
/// `python` command runs it (``PythonMain``).
struct RunCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Run a Python script, -c code or -m module in a SwiftPy context, as python does.",
    discussion: """
      The code runs as __main__ with sys.argv set as python sets it (FILE, '-c' or the module's \
      path, then ARGS) and the script's directory (for -c: '', for -m: the current directory) \
      first on sys.path; standard input is the script's. Exit status: 0 when it finishes, n for \
      SystemExit(n), 1 with the traceback on standard error for an uncaught exception, 130 for \
      Ctrl-C (KeyboardInterrupt). Options after FILE (or CODE, or MODULE) are the script's.
      """)

  @OptionGroup var options: PythonOptions

  @Option(name: .customShort("c"), help: "Python code to run (sys.argv[0] is '-c').")
  var code: String?

  @Option(name: .customShort("m"), help: "A module to run as __main__ (through runpy).")
  var module: String?

  @Argument(
    parsing: .captureForPassthrough,
    help: ArgumentHelp(
      "The script and its arguments (or, with -c or -m, the arguments).", valueName: "file-and-args"))
  var arguments: [String] = []

  func validate() throws {
    guard (code != nil ? 1 : 0) + (module != nil ? 1 : 0) <= 1 else {
      throw ValidationError("Give -c CODE or -m MODULE, not both.")
    }
    if code == nil && module == nil {
      guard let file = arguments.first else {
        throw ValidationError("Give a script to run: swiftpy run FILE, -c CODE or -m MODULE.")
      }
      guard FileManager.default.isReadableFile(atPath: file) else {
        throw ValidationError("Can't open file '\(file)': no such file, or it cannot be read.")
      }
    }
  }

  func run() async throws {
    let (kind, target, argv): (PythonMain.Kind, String, [String]) =
      if let code { (.code, code, ["-c"] + arguments) } else if let module {
        (.module, module, [module] + arguments)
      } else { (.file, arguments[0], arguments) }
    let status = try await PythonMain.runToEnd(kind, target, argv: argv, options: options)
    // No shutdown on purpose: whatever Python wrote is out already, and the process ends here.
    Foundation.exit(status)
  }
}
