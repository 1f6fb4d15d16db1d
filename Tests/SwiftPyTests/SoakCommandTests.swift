import Foundation
import Testing

@testable import SwiftPy

/// `swiftpy soak`, run as a user runs it: a short soak with the hostile scenarios must hold every
/// invariant, and a soak told to break two of its checks must fail and say which.
@Suite("swiftpy soak")
struct SoakCommandTests {
  /// A line of the report that starts with `prefix`, if there is one.
  static func line(_ prefix: String, in output: String) -> String? {
    output.split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init)
  }

  @Test func aShortHostileSoakHoldsEveryInvariant() throws {
    // Twice the default slack: with the rest of the suite beside it on two cores (and on 3.12
    // one GIL for every worker and subinterp context), abandoned threads take longer to end than
    // on an idle machine. The 60 s soaks with the default slack are in the closing notes.
    let (status, output) = try CommandLineTests.run([
      "soak", "--duration", "8", "--tasks", "200", "--slack", "4",
    ])
    #expect(output.contains(" hostile lanes ("), "the hostile scenarios did not run:\n\(output)")
    // Every check holds — a lease beside hostile code included: it used to take a context still
    // running another caller's call and fail with contextLost when that call got stuck
    // (SoakFindingsTests.aLeaseTakenBesideAStuckCallIsServedByTheReplacement).
    let wrong = output.split(separator: "\n").filter { $0.hasPrefix("  WRONG: ") }
    #expect(wrong.isEmpty, "\(output)")
    #expect(output.contains("\nsoak passed\n"), "\(output)")
    #expect(status == 0, "\(output)")
    #expect(
      Self.line("  unanswered callers: ", in: output)?.hasPrefix("  unanswered callers: 0 ") == true,
      "\(output)")
    #expect(
      Self.line("  abandoned threads (pools' stats): ", in: output)?.hasSuffix("held at every sample")
        == true,
      "\(output)")
    // Every kind of hostile scenario ran and was answered.
    for kind in ["swallow", "sleep", "read", "wait", "lease stuck", "cancel swallow", "teardown __del__"] {
      #expect(output.contains("    hostile \(kind)"), "no '\(kind)' scenario in the report")
    }
  }

  /// The checks can fail: one result checked against a wrong value, one caller watched for less
  /// time than its call takes, and one caller never answered — the soak counts each, its
  /// watchdog ends the run it cannot finish, and it exits with 1.
  @Test func aSabotagedSoakFails() throws {
    let (status, output) = try CommandLineTests.run([
      "soak", "--duration", "1", "--tasks", "20", "--no-hostile", "--call-timeout", "1",
      "--sabotage", "wrong", "--sabotage", "unanswered", "--sabotage", "never",
    ])
    #expect(status == 1, "\(output)")
    #expect(Self.line("  wrong results: ", in: output) == "  wrong results: 1", "\(output)")
    #expect(
      Self.line("  unanswered callers: ", in: output)?.hasPrefix(
        "  unanswered callers: 2 (answered late 1, still waiting 1;") == true, "\(output)")
    #expect(output.contains("UNANSWERED: sabotage: a caller watched for less than its call"), "\(output)")
    #expect(
      output.contains(
        "soak: stuck in the run; callers still waiting: [\"sabotage: a caller never answered\"]"))
    #expect(
      output.contains(
        "soak FAILED: 1 wrong results; 2 callers unanswered within their limit; "
          + "the soak did not finish: a caller was never answered"), "\(output)")
  }
}
