import Foundation
import Testing

@testable import SwiftPy

/// Starts a runtime for one test and always shuts it down, so no interpreter outlives its test.
func withRuntime<T>(
  _ configuration: PythonRuntime.Configuration = .init(defaultPool: .init(size: 2)),
  isolation: isolated (any Actor)? = #isolation,
  _ body: (PythonRuntime) async throws -> T
) async throws -> T {
  let py = try await PythonRuntime.start(configuration)
  do {
    let result = try await body(py)
    await py.shutdown()
    return result
  } catch {
    await py.shutdown()
    throw error
  }
}

/// Test processes start one at a time. Foundation's `Process` on Linux keeps a child's end of
/// its pipes and of the socket it learns the child's exit from open only in that child, by
/// closing every other descriptor it finds open just before it spawns; a pipe another test
/// creates on another thread in between is inherited by the wrong child. When that child lives
/// on (a tmux server), the other test never sees its own child exit or its output end. Every
/// test that starts a process creates its descriptors and spawns under this lock.
let processLaunches = NSLock()

/// Runs `executable` to its end and returns its exit status and output (stdout and stderr).
func runProgram(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (
  status: Int32, output: String
) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  if let environment { process.environment = environment }
  let pipe = try processLaunches.withLock {
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    return pipe
  }
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The modes the loaded Python can run (ownGIL is refused on 3.12.0–3.12.3).
func availableModes() async throws -> [PythonContext.Mode] {
  let installation = try await DiscoveryCache.discover(.automatic).installation
  return PythonContext.Mode.allCases.filter {
    (try? PythonContext.checkAvailable($0, in: installation)) != nil
  }
}

/// Expects `body` to throw a PythonError and returns it.
func expectPythonError(
  _ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
) async -> PythonError? {
  do {
    try await body()
    Issue.record("expected a PythonError, got none", sourceLocation: sourceLocation)
  } catch let error as PythonError {
    return error
  } catch {
    Issue.record("expected a PythonError, got \(error)", sourceLocation: sourceLocation)
  }
  return nil
}

/// True when the Python SwiftPy discovers can run ownGIL contexts (for `.enabled(if:)`).
let ownGILAvailable: Bool = {
  guard let installation = try? PythonDiscovery.discover().installation else { return false }
  return (try? PythonContext.checkAvailable(.ownGIL, in: installation)) != nil
}()

/// Open bug: the KeyboardInterrupt of a Ctrl-C in `swiftpy run` or `repl` is sometimes shown
/// without its traceback (bare, or as CPython's "lost sys.stderr" dump on 3.12) — seen on a
/// loaded machine on 3.13 and often on 3.12. Expectations about that display are recorded as an
/// intermittent known issue until it is fixed; the exit status and the prompt are still checked.
func ctrlCTracebackExpectations(_ body: () async throws -> Void) async {
  await withKnownIssue(
    "the KeyboardInterrupt traceback of a Ctrl-C is sometimes lost (bare, or \"lost sys.stderr\" on 3.12)",
    isIntermittent: true
  ) { try await body() }
}
