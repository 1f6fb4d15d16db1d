import Foundation

/// Samples of one measurement, sorted once, with nearest-rank percentiles: the p-th percentile
/// is the smallest sample such that at least p % of the samples are less than or equal to it
/// (p50 of [1, 2, 3, 4] is 2; p99 of 100 samples is the 99th smallest, never the largest).
struct BenchSamples {
  /// Ascending.
  let sorted: [Double]

  init(_ values: [Double]) {
    precondition(!values.isEmpty, "no samples")
    sorted = values.sorted()
  }

  /// Durations, in microseconds.
  init(micros durations: [Duration]) { self.init(durations.map(\.micros)) }

  var count: Int { sorted.count }
  var min: Double { sorted[0] }
  var max: Double { sorted[sorted.count - 1] }
  var mean: Double { sorted.reduce(0, +) / Double(sorted.count) }
  var median: Double { percentile(50) }

  /// The nearest-rank percentile, `p` in 0...100 (0 is the minimum).
  func percentile(_ p: Double) -> Double {
    precondition((0...100).contains(p), "percentile out of range: \(p)")
    // rank = ceil(p / 100 × n), at least 1; the epsilon keeps 99 % of 100 at rank 99, not 100,
    // where p / 100 × n comes out a hair above the integer.
    let rank = Int((p / 100 * Double(sorted.count) - 1e-9).rounded(.up))
    return sorted[Swift.min(Swift.max(rank, 1), sorted.count) - 1]
  }

  /// p0, p1, …, p100: the distribution, as the JSON report and the chart keep it.
  var percentiles: [Double] { (0...100).map { percentile(Double($0)) } }
}

extension Duration {
  var seconds: Double {
    let (seconds, attoseconds) = components
    return Double(seconds) + Double(attoseconds) / 1e18
  }
  var micros: Double { seconds * 1e6 }
}

/// Numbers as the tables print them: three significant digits or more, thousands grouped.
enum BenchFormat {
  /// `1,234,567`, `12,345`, `123`, `12.3`, `1.23`, `0.123`.
  static func number(_ value: Double) -> String {
    guard value.isFinite else { return "\(value)" }
    let magnitude = abs(value)
    if magnitude >= 1000 { return grouped(Int(value.rounded())) }
    if magnitude >= 100 { return String(format: "%.0f", value) }
    if magnitude >= 10 { return String(format: "%.1f", value) }
    if magnitude >= 1 { return String(format: "%.2f", value) }
    return String(format: "%.3g", value)
  }

  static func grouped(_ value: Int) -> String {
    let digits = String(abs(value))
    var result = ""
    for (index, character) in digits.enumerated() {
      if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
      result.append(character)
    }
    return value < 0 ? "-" + result : result
  }

  /// `2.41x`: a ratio.
  static func ratio(_ value: Double) -> String {
    guard value.isFinite else { return "—" }
    return value >= 100 ? String(format: "%.0fx", value) : String(format: "%.2fx", value)
  }

  /// A duration given in microseconds, in the unit that reads best.
  static func micros(_ value: Double) -> String {
    if value >= 1_000_000 { return number(value / 1_000_000) + " s" }
    if value >= 1000 { return number(value / 1000) + " ms" }
    if value >= 1 { return number(value) + " µs" }
    return number(value * 1000) + " ns"
  }
}

/// A plain-text table: the first column left-aligned, the others right-aligned.
struct BenchTable {
  let title: String
  let header: [String]
  var rows: [[String]] = []
  var notes: [String] = []

  init(_ title: String, _ header: [String]) {
    self.title = title
    self.header = header
  }

  mutating func add(_ row: [String]) { rows.append(row) }

  var text: String {
    let all = [header] + rows
    let columns = all.map(\.count).max() ?? 0
    let widths = (0..<columns).map { column in
      all.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
    }
    func line(_ row: [String]) -> String {
      var cells: [String] = []
      for (column, width) in widths.enumerated() {
        let cell = column < row.count ? row[column] : ""
        let pad = String(repeating: " ", count: width - cell.count)
        cells.append(column == 0 ? cell + pad : pad + cell)
      }
      return "  " + cells.joined(separator: "   ").trimmingTrailingSpaces
    }
    var lines = [title, line(header)]
    lines.append("  " + String(repeating: "-", count: widths.reduce(0, +) + 3 * (widths.count - 1)))
    lines += rows.map(line)
    lines += notes.map { "  " + $0 }
    return lines.joined(separator: "\n") + "\n"
  }
}

extension String {
  fileprivate var trimmingTrailingSpaces: String {
    var text = self
    while text.last == " " { text.removeLast() }
    return text
  }
}
