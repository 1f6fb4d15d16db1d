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

/// CPython's own tests of things users run every day, run inside SwiftPy contexts of every mode:
/// `test_re` (which used to error in ownGIL contexts, forking through multiprocessing) and the
/// `spawn` cases of `test_concurrent_futures.test_process_pool`. The `fork` and `forkserver`
/// cases are left out on purpose: SwiftPy refuses to fork its process (ARCHITECTURE.md,
/// "Processes started from Python").
@Suite(
  "CPython's own test suites in every mode", .serialized, .timeLimit(.minutes(5)),
  .enabled(
    if: cpythonTestSuiteAvailable, "the discovered Python has no `test` package (CPython's test suite)"))
struct CPythonTestSuiteTests {
  @Test(arguments: ProcessStartTests.modes)
  func testRe(mode: PythonContext.Mode) async throws {
    try await expectPasses("test.test_re", pattern: nil, mode: mode)
  }

  @Test(arguments: ProcessStartTests.modes)
  func processPoolExecutorSpawnCases(mode: PythonContext.Mode) async throws {
    try await expectPasses("test.test_concurrent_futures.test_process_pool", pattern: "*Spawn*", mode: mode)
  }

  private func expectPasses(_ module: String, pattern: String?, mode: PythonContext.Mode) async throws {
    // Their progress dots and timings are not the test's output.
    try await withRuntime(.init(defaultPool: .init(size: 1, mode: mode), output: .discard)) {
      (py) async throws in
      try await py.withContext { lease in
        try await lease.exec(
          """
          import io, unittest
          def run_suite(module, pattern):
              loader = unittest.TestLoader()
              if pattern is not None:
                  loader.testNamePatterns = [pattern]
              report = io.StringIO()
              result = unittest.TextTestRunner(stream=report, verbosity=1).run(
                  loader.loadTestsFromName(module))
              return result.testsRun, len(result.failures) + len(result.errors), report.getvalue()
          """)
        let summary = try await lease.call(
          "__main__", "run_suite", args: [.string(module), pattern.map(PythonValue.string) ?? .none],
          timeout: .seconds(240))
        let ran = summary[0]?.intValue ?? 0
        let failed = summary[1]?.intValue ?? -1
        #expect(ran > 10, "\(module) ran \(ran) tests in \(mode)")
        #expect(failed == 0, "\(module) in \(mode):\n\(summary[2]?.stringValue ?? "")")
      }
    }
  }
}
