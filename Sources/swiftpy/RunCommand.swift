import ArgumentParser
import Foundation
import SwiftPy

/// `swiftpy run -c CODE`: runs Python code in one context of a fresh runtime, as a script.
struct RunCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Run Python code in a SwiftPy context.",
    discussion: """
      Exits with 0 when the code finishes, or prints its traceback to standard error and exits \
      with 1. Python output goes to this process's standard output and error.
      """)

  @Option(name: .customShort("c"), help: "The Python code to run.")
  var code: String

  @Option(help: "The context's mode: worker, subinterp or ownGIL (default: ownGIL where available).")
  var mode: PythonContext.Mode?

  func run() async throws {
    let py = try await PythonRuntime.start(.init(defaultPool: .init(size: 1, mode: mode)))
    do {
      try await py.withContext { lease in try await lease.exec(code) }
    } catch let error as PythonError {
      let report = error.traceback.isEmpty ? "\(error)\n" : error.traceback
      FileHandle.standardError.write(Data(report.utf8))
      throw ExitCode.failure
    }
    // No shutdown on purpose: whatever Python wrote is out already, and the process ends here.
  }
}

extension PythonContext.Mode: ExpressibleByArgument {}
