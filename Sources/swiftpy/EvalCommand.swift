import ArgumentParser
import Foundation
import SwiftPy

/// `swiftpy eval EXPR`: the repr of an expression's value, as `python -c 'print(repr(EXPR))'`.
struct EvalCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval",
    abstract: "Print the repr of a Python expression's value.",
    discussion: """
      As python -c 'print(repr(EXPR))': the value's repr on standard output and exit status 0, \
      or the traceback on standard error and exit status 1.
      """)

  @OptionGroup var options: PythonOptions

  @Argument(help: "The Python expression.")
  var expression: String

  func run() async throws {
    let status = try await PythonMain.runToEnd(.eval, expression, argv: ["-c"], options: options)
    Foundation.exit(status)
  }
}
