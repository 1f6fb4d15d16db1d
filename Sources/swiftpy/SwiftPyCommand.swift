import ArgumentParser
import Foundation
import SwiftPy

@main
struct SwiftPyCommand: AsyncParsableCommand {
  /// The version `swiftpy --version` prints.
  static let version = "0.9.0"

  static let configuration = CommandConfiguration(
    commandName: "swiftpy",
    abstract: "Run Python in many isolated interpreters from Swift.",
    discussion: """
      Exit status: 0 when all went well; 1 when Python raised (its traceback is on standard \
      error) or a script exited with 1; a script's own status for SystemExit(n); 2 for a usage \
      error; 3 when no usable Python was found or SwiftPy itself failed; 130 when interrupted \
      (Ctrl-C).
      """,
    version: version,
    subcommands: [
      RunCommand.self, EvalCommand.self, ReplCommand.self, WatchCommand.self, InfoCommand.self,
      DemoCommand.self, BenchCommand.self, SoakCommand.self, MemCheckCommand.self,
    ])

  /// As ArgumentParser's own `main`, but errors are reported for a person to read (``ExitStatus``):
  /// usage errors exit with 2 as Python's do, SwiftPy's errors with 3, in a sentence.
  static func main() async {
    do {
      var command = try parseAsRoot()
      if var command = command as? any AsyncParsableCommand {
        try await command.run()
      } else {
        try command.run()
      }
    } catch {
      ExitStatus.exit(reporting: error, of: self)
    }
  }
}
