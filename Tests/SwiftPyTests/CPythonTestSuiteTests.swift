import Foundation
import Testing

@testable import SwiftPy

/// Whether the discovered Python carries CPython's own test suite (`test` package: pyenv and
/// python.org builds do; Debian ships it as `libpython3.N-testsuite`).
let cpythonTestSuiteAvailable: Bool = {
  guard let installation = try? PythonDiscovery.discover().installation,
    let run = try? runProgram(
      installation.executable, ["-c", "import test.test_re, test.test_concurrent_futures.test_process_pool"])
  else { return false }
  return run.status == 0
}()

/// CPython's own tests of things users run every day, run in SwiftPy contexts of every mode
/// through `swiftpy run -m unittest`: `test_re` (which used to error in ownGIL contexts, forking
/// through multiprocessing) and the `spawn` cases of `test_concurrent_futures.test_process_pool`.
/// The `fork` and `forkserver` cases are left out on purpose: SwiftPy refuses to fork its
/// process (ARCHITECTURE.md, "Processes started from Python"). Each runs in a process of its
/// own: CPython's test helpers reap every child of their process (`waitpid(-1)`), which would
/// take the exit statuses of other tests' children here.
@Suite(
  "CPython's own test suites in every mode", .timeLimit(.minutes(5)),
  .enabled(
    if: cpythonTestSuiteAvailable, "the discovered Python has no `test` package (CPython's test suite)"))
struct CPythonTestSuiteTests {
  @Test(arguments: ProcessStartTests.modes)
  func testRe(mode: PythonContext.Mode) throws {
    try expectPasses(["test.test_re"], mode: mode)
  }

  @Test(arguments: ProcessStartTests.modes)
  func processPoolExecutorSpawnCases(mode: PythonContext.Mode) throws {
    try expectPasses(["-k", "*Spawn*", "test.test_concurrent_futures.test_process_pool"], mode: mode)
  }

  private func expectPasses(_ arguments: [String], mode: PythonContext.Mode) throws {
    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONUNBUFFERED"] = nil
    let (status, output) = try runProgram(
      CommandLineTests.executable.path, ["run", "--mode", mode.rawValue, "-m", "unittest"] + arguments,
      environment: environment)
    #expect(status == 0, "\(arguments) in \(mode):\n\(output.suffix(3000))")
    #expect(output.contains("\nOK"), "\(arguments) in \(mode):\n\(output.suffix(3000))")
  }
}
