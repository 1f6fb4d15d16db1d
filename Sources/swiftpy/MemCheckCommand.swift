import ArgumentParser
import Foundation
import SwiftPy

/// `swiftpy memcheck`: many calls and lease cycles, with the process's resident memory before
/// and after — a leak shows as growth that scales with the work.
struct MemCheckCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "memcheck", abstract: "Run many calls and lease cycles and print RSS before and after.")

  @Option(help: "One-shot calls.") var calls = 200_000
  @Option(help: "Lease cycles (bind, use, unbind).") var leases = 1_000
  @Option(help: "Concurrent callers.") var callers = 64

  func run() async throws {
    let py = try await PythonRuntime.start()
    try await py.startPool("workers", size: 2, mode: .worker)
    // Warm up: first imports, allocator arenas, caches.
    try await drive(py, calls: 5_000, leases: 50)
    let before = Self.residentBytes()
    print(
      "memcheck: Python \(py.installation.version), \(calls) calls and \(leases) lease cycles, \(callers) callers"
    )
    print(String(format: "  RSS before: %.1f MiB", Double(before) / 1_048_576))
    let clock = ContinuousClock()
    let began = clock.now
    try await drive(py, calls: calls, leases: leases)
    let after = Self.residentBytes()
    print(
      String(
        format: "  RSS after:  %.1f MiB (%+.1f MiB) in %@", Double(after) / 1_048_576,
        Double(after - before) / 1_048_576, "\(clock.now - began)"))
    await py.shutdown()
  }

  private func drive(_ py: PythonRuntime, calls: Int, leases: Int) async throws {
    let callers = self.callers
    try await withThrowingTaskGroup(of: Void.self) { group in
      for caller in 0..<callers {
        group.addTask {
          for index in stride(from: caller, to: calls, by: callers) {
            let value =
              try await index % 2 == 0
              ? py.call("operator", "add", args: [.int(index), 1])
              : py.eval("[n] * 3", locals: ["n": .string("v\(index)")])
            guard
              value
                == (index % 2 == 0
                  ? .int(index + 1) : .list(Array(repeating: .string("v\(index)"), count: 3)))
            else {
              throw ValidationError("wrong result for call \(index): \(value)")
            }
          }
        }
      }
      try await group.waitForAll()
    }
    for index in 0..<leases {
      let value = try await py.withContext(pool: index % 2 == 0 ? "default" : "workers") { lease in
        try await lease.exec("data = list(range(100))")
        return try await lease.eval("sum(data)")
      }
      guard value == 4950 else { throw ValidationError("wrong lease result \(value)") }
    }
  }

  /// Resident set size, from /proc/self/statm (pages).
  static func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
  }
}
