import ArgumentParser
import Foundation
import SwiftPy

/// The exit statuses of every command, as `swiftpy --help` documents them, and the sentences
/// errors are reported with.
enum ExitStatus {
  static let pythonError: Int32 = 1
  static let usage: Int32 = 2
  static let swiftPyError: Int32 = 3
  static let interrupted: Int32 = 130

  /// Writes `line` and a line break to standard error, at once.
  static func printError(_ line: String) {
    FileHandle.standardError.write(Data((line.hasSuffix("\n") ? line : line + "\n").utf8))
  }

  /// Reports `error` on standard error and ends the process with its status.
  static func exit(reporting error: any Error, of command: SwiftPyCommand.Type) -> Never {
    switch error {
    case let error as SwiftPyError:
      printError("swiftpy: \(sentence(for: error))")
      Foundation.exit(swiftPyError)
    case let error as PythonError:
      printError(error.traceback.isEmpty ? "\(error.type): \(error.message)" : error.traceback)
      Foundation.exit(pythonError)
    default:
      let code = command.exitCode(for: error)
      guard code == .validationFailure else { command.exit(withError: error) }
      printError(command.fullMessage(for: error))
      Foundation.exit(usage)
    }
  }

  /// SwiftPy's message, beginning as a sentence after `swiftpy: ` does, with the command-line
  /// way to choose a Python where discovery found none.
  static func sentence(for error: SwiftPyError) -> String {
    let message = error.message.prefix(1).lowercased() + error.message.dropFirst()
    return error.code == .pythonNotFound ? message + "\nOr pass --python PATH." : message
  }
}
