import Foundation
import Testing

@testable import SwiftPy

/// `swiftpy demo`, README's first command: every section shows what it is about, and it exits
/// with 0. Nothing is asserted about time (the speedup depends on the machine).
@Suite("swiftpy demo")
struct DemoCommandTests {
  @Test func everySectionShowsItsResult() throws {
    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONUNBUFFERED"] = nil  // as users run it
    let (status, output) = try CommandLineTests.run(["demo"], environment: environment)
    #expect(status == 0, "\(output)")
    let markers = [
      "SwiftPy demo: Python ",
      "1. Parallel speedup: CPU-bound Python on 1 context, then on ",
      "   warming up",
      "   round 1/3: 1 context ",
      "   round 3/3: 1 context ",
      "   speedup: ",
      "(median of 3)",
      "2. A pool with a route",
      "json.dumps(['route', 2]) = '[\"route\", 2]', run by pool 'io'",
      "unrouted math.sqrt runs on 'default'",
      "3. A lease keeps state",
      "built basket = ['apple', 'pear', 'fig']",
      "'basket' in globals() = False",
      "4. Preload",
      "with_tax(10) = 12.0 on pool 'default', 12.0 on pool 'io'",
      "5. A timeout interrupts runaway Python",
      "→ .timeout after ",
      "the interrupted context carries on, its state kept: count = ",
      "6. An error with its traceback",
      "threw PythonError ValueError: could not convert string to float: '2,25'",
      "   | Traceback (most recent call last):",
      "   |     return float(text)",
      "7. Hot reload",
      "   before: 'Hello, Ada!'",
      "   saved greeting.py: reloaded greeting in ",
      "   after:  'Bonjour, Ada! (reloaded 1 time)'",
      "saved a syntax error: SyntaxError reported, the old code stays live: 'Bonjour, Ada! (reloaded 1 time)'",
      "\ndemo done in ",
    ]
    for marker in markers { #expect(output.contains(marker), "missing: \(marker)\n\(output)") }
    // In order, each section after the one before.
    let sections = (1...7).map { "\n\($0). " }
    let positions = sections.compactMap { output.range(of: $0)?.lowerBound }
    #expect(positions.count == 7 && positions == positions.sorted(), "\(output)")
  }
}
