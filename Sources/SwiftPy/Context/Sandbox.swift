import CPythonShim

/// The sandbox of `sandbox: true` pools: a whole sub-interpreter that may not run programs,
/// end or signal the host, reach raw memory, or change what it shares with the host.
///
/// It lives in C (`spy_guard.c`), out of Python's reach: an audit hook (PEP 578) registered
/// from C for the process, a set of sandboxed interpreter IDs in C memory, and guards at the
/// method table entries of the C functions that have no audit event. What it refuses, what it
/// guarantees and where it stops are in the DocC article "Sandbox" and ARCHITECTURE.md,
/// "The sandbox".
enum Sandbox {
  /// Puts the attached interpreter in the sandbox for the rest of its life. Runs on the
  /// context's thread, attached, before any of the context's own code.
  static func enter() throws {
    guard spy_guard_sandbox_current() == 0 else { throw PythonError.fetch() }
  }

  /// Forgets an interpreter that has ended (its ID is never used again).
  static func forget(_ interpreterID: Int64) {
    spy_guard_forget(interpreterID)
  }
}

extension Sandbox {
  /// How many interpreters are in the sandbox now.
  static var count: Int { spy_guard_sandboxed_count() }
}
