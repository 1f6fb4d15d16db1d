import Foundation

/// Everything one `swiftpy bench` run measured: named figures (what the tables print and the
/// JSON report lists), latency distributions and series (what the chart draws), and the
/// parameters that make the run reproducible. Filled in order by one task, so not `Sendable`.
final class BenchReport {
  struct Figure: Codable {
    var value: Double
    var unit: String
    var label: String
  }

  /// A distribution as p0, p1, …, p100 (nearest rank), in `unit`.
  struct Distribution: Codable {
    var unit: String
    var count: Int
    var mean: Double
    var percentiles: [Double]
  }

  struct Point: Codable {
    var x: Double
    var y: Double
  }

  /// A figure published elsewhere or measured earlier, printed beside ours for comparison;
  /// never measured by this run.
  struct Anchor: Codable {
    var value: Double
    var unit: String
    var source: String
  }

  private(set) var figures: [String: Figure] = [:]
  private(set) var distributions: [String: Distribution] = [:]
  private(set) var series: [String: [Point]] = [:]
  var parameters: [String: Double] = [:]
  var notes: [String: String] = [:]

  /// Records a figure; names are dotted paths (`roundtrip.ownGIL.callers1.p50_us`).
  func add(_ name: String, _ value: Double, unit: String, _ label: String) {
    figures[name] = Figure(value: value, unit: unit, label: label)
  }

  subscript(_ name: String) -> Double? { figures[name]?.value }

  func addDistribution(_ name: String, _ samples: BenchSamples, unit: String) {
    distributions[name] = Distribution(
      unit: unit, count: samples.count, mean: samples.mean, percentiles: samples.percentiles)
  }

  func addPoint(_ series: String, x: Double, y: Double) {
    self.series[series, default: []].append(Point(x: x, y: y))
  }

  func distribution(_ name: String) -> Distribution? { distributions[name] }
  func points(_ name: String) -> [Point] { series[name] ?? [] }

  /// Figures published or measured before, not by this run (DESIGN.md's anchors and the
  /// erlang_python runs on this machine).
  static let anchors: [String: Anchor] = [
    "erlang_python.call_us.published": Anchor(
      value: 3, unit: "µs",
      source: "erlang_python, own-GIL, Python 3.14, its published figure (faster hardware)"),
    "erlang_python.calls_per_s.published": Anchor(
      value: 394_000, unit: "calls/s", source: "erlang_python, own-GIL, Python 3.14, published"),
    "erlang_python.call_us.here_low": Anchor(
      value: 17, unit: "µs", source: "erlang_python py:call measured on this machine (17–24 µs)"),
    "erlang_python.call_us.here_high": Anchor(
      value: 24, unit: "µs", source: "erlang_python py:call measured on this machine (17–24 µs)"),
    "erlang_python.calls_per_s.here_low": Anchor(
      value: 42_000, unit: "calls/s", source: "erlang_python measured on this machine (42–58K calls/s)"),
    "erlang_python.calls_per_s.here_high": Anchor(
      value: 58_000, unit: "calls/s", source: "erlang_python measured on this machine (42–58K calls/s)"),
    "capi.raw_ns": Anchor(value: 26, unit: "ns", source: "a raw C-API call (DESIGN.md)"),
    "capi.pythonkit_ns.low": Anchor(
      value: 180, unit: "ns", source: "PythonKit, 180–400 ns per call (DESIGN.md)"),
    "capi.pythonkit_ns.high": Anchor(
      value: 400, unit: "ns", source: "PythonKit, 180–400 ns per call (DESIGN.md)"),
    "capi.pybind11_ns": Anchor(value: 470, unit: "ns", source: "pybind11 (DESIGN.md)"),
    "trivial_tasks_20000.process_pool_s": Anchor(
      value: 1.34, unit: "s",
      source: "20,000 trivial tasks, ProcessPoolExecutor, Python 3.14, this machine (DESIGN.md)"),
    "trivial_tasks_20000.interpreter_pool_s": Anchor(
      value: 0.67, unit: "s",
      source: "20,000 trivial tasks, InterpreterPoolExecutor, Python 3.14, this machine (DESIGN.md)"),
  ]

  struct Header: Codable {
    var command: [String]
    var date: String
    var quick: Bool
    var pythonVersion: String
    var pythonExecutable: String
    var pythonLibrary: String
    var cores: Int
    var loadAverageBefore: [Double]
    var loadAverageAfter: [Double]
    var modes: [String]
    var executors: [String]
    var seconds: Double
  }

  private struct Document: Encodable {
    var schema = 1
    var run: Header
    var figures: [String: Figure]
    var distributions: [String: Distribution]
    var series: [String: [Point]]
    var parameters: [String: Double]
    var notes: [String: String]
    var anchors: [String: Anchor]
  }

  /// The report as JSON, keys sorted. A figure that is not finite (a division by a zero time)
  /// is written as a string, so that a reader sees it instead of a missing file.
  func json(_ header: Header) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try encoder.encode(
      Document(
        run: header, figures: figures, distributions: distributions, series: series, parameters: parameters,
        notes: notes, anchors: Self.anchors))
  }
}

/// `/proc/loadavg`'s three load averages (1, 5 and 15 minutes); empty where there is none.
func loadAverages() -> [Double] {
  guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else {
    var loads = [Double](repeating: 0, count: 3)
    return getloadavg(&loads, 3) == 3 ? loads : []
  }
  return text.split(separator: " ").prefix(3).compactMap { Double($0) }
}

/// Progress lines on standard error, with the time since the run began, so that a long run
/// shows where it is; standard output keeps the tables alone.
struct BenchProgress: Sendable {
  let began = ContinuousClock.now

  func say(_ message: String) {
    let elapsed = (ContinuousClock.now - began).seconds
    FileHandle.standardError.write(Data(String(format: "[bench %6.1f s] %@\n", elapsed, message).utf8))
  }
}
