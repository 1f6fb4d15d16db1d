import Foundation
import Testing

@testable import SwiftPy

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// `swiftpy bench --quick --json PATH --svg PATH`, run as a user runs it: every figure
/// BENCHMARKS.md reports is in the JSON with a positive, finite value, the latency
/// distributions are ordered, and the chart is well-formed SVG. Nothing about time is asserted:
/// the machine is shared, and the figures are for reading, not for passing.
@Suite("swiftpy bench")
struct BenchCommandTests {
  @Test("bench --quick writes every figure, each positive and finite, and a well-formed chart")
  func quickBenchWritesEveryFigure() async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "swiftpy-bench-test-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let json = directory.appendingPathComponent("bench.json").path
    let svg = directory.appendingPathComponent("bench.svg").path
    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONUNBUFFERED"] = nil  // as users run it: neither variable set
    environment["PYTHONDONTWRITEBYTECODE"] = nil
    let (status, output) = try CommandLineTests.run(
      // Fewer round trips than --quick's 5,000: every figure is still made, and a debug build's
      // run stays short (this test blocks a cooperative thread while it waits).
      ["bench", "--quick", "--calls", "1000", "--json", json, "--svg", svg], environment: environment)
    try #require(status == 0, "swiftpy bench --quick failed:\n\(output.suffix(4000))")

    let document = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
    let figures = try #require(document["figures"] as? [String: [String: Any]])
    let installation = try await DiscoveryCache.discover(.automatic).installation
    let expected = Self.expectedFigures(
      modes: try await availableModes(), version: installation.version,
      cores: ProcessInfo.processInfo.activeProcessorCount)
    for name in expected {
      guard let figure = figures[name] else {
        Issue.record("figure \(name) is missing from the JSON report")
        continue
      }
      guard let value = (figure["value"] as? NSNumber)?.doubleValue else {
        Issue.record("figure \(name) has no number: \(figure)")
        continue
      }
      // Memory per worker-mode context is a thread and a thread state: it may round to 0.
      let floor = name.hasPrefix("rss.context.") ? 0.0 : .leastNonzeroMagnitude
      #expect(value.isFinite && value >= floor, "figure \(name) = \(value)")
      #expect((figure["unit"] as? String)?.isEmpty == false, "figure \(name) has no unit")
      #expect((figure["label"] as? String)?.isEmpty == false, "figure \(name) has no label")
    }
    // Nothing unexpected and nothing left behind: the report names exactly these figures.
    #expect(Set(figures.keys).subtracting(expected).sorted() == [], "figures not in the expected list")

    let run = try #require(document["run"] as? [String: Any])
    #expect(run["pythonVersion"] as? String == "\(installation.version)")
    #expect(run["quick"] as? Bool == true)
    let distributions = try #require(document["distributions"] as? [String: [String: Any]])
    for mode in try await availableModes() {
      for kind in ["callers1", "callers64", "context", "contextExecutor", "executor64", "evalExecutor"] {
        let name = "roundtrip.\(mode.rawValue).\(kind)"
        let percentiles = (distributions[name]?["percentiles"] as? [NSNumber])?.map(\.doubleValue) ?? []
        #expect(percentiles.count == 101, "distribution \(name) has \(percentiles.count) percentiles")
        #expect(percentiles == percentiles.sorted(), "distribution \(name) is not ascending")
        #expect(percentiles.allSatisfy { $0.isFinite && $0 > 0 }, "distribution \(name): \(percentiles)")
      }
    }

    let chart = try String(contentsOfFile: svg, encoding: .utf8)
    #expect(chart.hasPrefix("<svg "))
    #expect(chart.contains("<polyline"))
    let parser = XMLParser(data: Data(chart.utf8))
    #expect(parser.parse(), "the SVG is not well-formed XML: \(String(describing: parser.parserError))")
  }

  /// Every figure name the report must have, built here from the modes this Python runs, its
  /// version (InterpreterPoolExecutor from 3.14) and the cores (the scaling points) — not read
  /// back from the report, so that a figure that goes missing fails the test.
  static func expectedFigures(modes: [PythonContext.Mode], version: PythonVersion, cores: Int) -> Set<String>
  {
    let names = modes.map(\.rawValue)
    let executors =
      ["process_pool", "thread_pool"]
      + (version.major > 3 || version.minor >= 14 ? ["interpreter_pool"] : [])
    let runners = names.map { "swiftpy_\($0)" } + executors
    let sizes = ["tiny", "ms1", "ms100"]
    let scalingWorkers = Set([1, cores, 2 * cores] + [2, 4].filter { $0 < cores })
    var expected: Set<String> = [
      "start.first_runtime_ms", "rss.process_pool.worker_mib", "pss.process_pool.worker_mib",
    ]
    for size in sizes {
      expected.formUnion(["task.\(size).us", "task.\(size).python_process_us"])
      for runner in runners {
        expected.insert("throughput.\(size).\(runner)")
        if runner != "process_pool" { expected.insert("throughput.\(size).\(runner).vs_process_pool") }
      }
    }
    for runner in runners {
      expected.insert("start.pool_ready.\(runner)_ms")
      for workers in scalingWorkers { expected.insert("scaling.\(runner).\(workers)") }
    }
    for mode in names {
      for kind in ["callers1", "callers64", "context", "contextExecutor", "executor64", "evalExecutor"] {
        for figure in ["p50_us", "p99_us", "calls_per_s"] {
          expected.insert("roundtrip.\(mode).\(kind).\(figure)")
        }
      }
      for operation in ["getattr", "call"] {
        for figure in ["withpython_ns", "direct_ns", "ratio"] {
          expected.insert("capi.\(mode).\(operation).\(figure)")
        }
      }
      expected.formUnion([
        "start.context.\(mode)_ms", "rss.context.\(mode)_mib", "interrupt.\(mode).median_us",
      ])
    }
    for payload in ["bytes_1mib", "list_100k", "nested_dict"] {
      for figure in ["to_python_per_s", "to_swift_per_s", "pickle_per_s"] {
        expected.insert("conversion.\(payload).\(figure)")
      }
    }
    for routing in ["pinned", "pool_queue"] {
      for figure in ["short_p50_ms", "short_p99_ms", "total_s"] {
        expected.insert("mixed.\(routing).\(figure)")
      }
    }
    for mode in ["ownGIL", "worker"] where names.contains(mode) {
      for kind in ["sync", "async"] {
        expected.formUnion(["callbacks.\(mode).\(kind).p50_us", "callbacks.\(mode).\(kind).p99_us"])
      }
      expected.insert("stream.\(mode).items_per_s")
    }
    for reload in ["pool4", "pool1", "hotload"] {
      expected.formUnion(["reload.\(reload).p50_ms", "reload.\(reload).p95_ms"])
    }
    return expected
  }
}
