import Foundation

/// The SVG chart `swiftpy bench --svg PATH` draws, written by hand (no dependency): same-task
/// throughput per task size (bars), scaling by workers (lines), and the call round trip's latency
/// distribution with 1 and 64 callers (cumulative distributions on a log scale), all from the
/// report's figures, series and distributions.
struct BenchChart {
  let report: BenchReport
  let title: String
  let runners: [String]
  let sizes: [ThroughputBenchmark.TaskSize]
  let modes: [String]

  static let colors: [String: String] = [
    "swiftpy_ownGIL": "#1f77b4", "swiftpy_subinterp": "#2ca02c", "swiftpy_worker": "#9467bd",
    "process_pool": "#d62728", "thread_pool": "#ff7f0e", "interpreter_pool": "#8c564b",
  ]
  static let shortNames: [String: String] = [
    "swiftpy_ownGIL": "SwiftPy ownGIL", "swiftpy_subinterp": "SwiftPy subinterp",
    "swiftpy_worker": "SwiftPy worker", "process_pool": "ProcessPool", "thread_pool": "ThreadPool",
    "interpreter_pool": "InterpreterPool",
  ]

  private static let panelWidth = 300.0
  private static let panelHeight = 250.0
  private static let gap = 20.0

  var svg: String {
    let width = 3 * Self.panelWidth + 4 * Self.gap
    let rowHeight = Self.panelHeight + 60
    let height = 60 + 2 * rowHeight + 20
    var out = Canvas()
    out.add(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" "
        + "viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">"
    )
    out.add("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>")
    out.text(width / 2, 28, title, anchor: "middle", size: 15, weight: "bold")
    for (index, size) in sizes.enumerated() {
      let x = Self.gap + Double(index) * (Self.panelWidth + Self.gap)
      throughputPanel(&out, x: x, y: 60, size: size)
    }
    let rowTwo = 60 + rowHeight
    scalingPanel(&out, x: Self.gap, y: rowTwo)
    for (index, callers) in RoundTripBenchmark.callerCounts.enumerated() {
      let x = Self.gap + Double(index + 1) * (Self.panelWidth + Self.gap)
      latencyPanel(&out, x: x, y: rowTwo, callers: callers)
    }
    legend(&out, y: height - 22, width: width)
    out.add("</svg>")
    return out.lines.joined(separator: "\n") + "\n"
  }

  // MARK: Panels

  private func throughputPanel(_ out: inout Canvas, x: Double, y: Double, size: ThroughputBenchmark.TaskSize)
  {
    let each = report["task.\(size.key).us"].map { " (≈ \(BenchFormat.micros($0)) each)" } ?? ""
    out.text(x, y - 8, "Same tasks: \(size.label)\(each)", size: 12, weight: "bold")
    frame(&out, x: x, y: y)
    let rates = runners.map { report["throughput.\(size.key).\($0)"] }
    let top = rates.compactMap { $0 }.max() ?? 1
    let labelWidth = 110.0
    let barArea = Self.panelWidth - labelWidth - 100
    let rowHeight = min(34, (Self.panelHeight - 20) / Double(max(runners.count, 1)))
    for (index, runner) in runners.enumerated() {
      let rowY = y + 12 + Double(index) * rowHeight
      out.text(
        x + labelWidth - 6, rowY + rowHeight * 0.45 + 4, Self.shortNames[runner] ?? runner, anchor: "end")
      guard let rate = rates[index] else {
        out.text(x + labelWidth + 4, rowY + rowHeight * 0.45 + 4, "n/a", fill: "#888")
        continue
      }
      let length = max(1, barArea * rate / top)
      out.add(
        "<rect x=\"\(f(x + labelWidth))\" y=\"\(f(rowY))\" width=\"\(f(length))\" height=\"\(f(rowHeight * 0.7))\" "
          + "fill=\"\(Self.colors[runner] ?? "#444")\"/>")
      let ratio =
        runner == "process_pool"
        ? ""
        : report["throughput.\(size.key).\(runner).vs_process_pool"].map { " " + BenchFormat.ratio($0) } ?? ""
      out.text(
        x + labelWidth + length + 4, rowY + rowHeight * 0.45 + 4, BenchFormat.number(rate) + ratio, size: 10)
    }
    out.text(
      x + Self.panelWidth / 2, y + Self.panelHeight + 16, "tasks/s, ratio to ProcessPoolExecutor",
      anchor: "middle",
      size: 10, fill: "#555")
  }

  private func scalingPanel(_ out: inout Canvas, x: Double, y: Double) {
    let label = sizes.first { $0.key == "ms1" }?.label ?? "1 ms"
    out.text(x, y - 8, "Scaling: \(label) tasks/s by workers", size: 12, weight: "bold")
    frame(&out, x: x, y: y)
    let series = runners.map { ($0, report.points("scaling.\($0)")) }.filter { !$0.1.isEmpty }
    let xs = series.flatMap { $0.1.map(\.x) }
    let maxX = xs.max() ?? 1
    let maxY = niceCeiling(series.flatMap { $0.1.map(\.y) }.max() ?? 1)
    let plot = Plot(x: x + 50, y: y + 10, width: Self.panelWidth - 65, height: Self.panelHeight - 40)
    let scaleX = { (value: Double) in plot.x + (maxX > 1 ? (value - 1) / (maxX - 1) : 0.5) * plot.width }
    let scaleY = { (value: Double) in plot.y + plot.height - value / maxY * plot.height }
    for tick in 0...4 {
      let value = maxY * Double(tick) / 4
      gridLine(&out, x1: plot.x, y1: scaleY(value), x2: plot.x + plot.width, y2: scaleY(value))
      out.text(plot.x - 4, scaleY(value) + 4, BenchFormat.number(value), anchor: "end", size: 9)
    }
    for value in Set(xs).sorted() {
      out.text(scaleX(value), plot.y + plot.height + 14, "\(Int(value))", anchor: "middle", size: 9)
    }
    out.text(
      plot.x + plot.width / 2, plot.y + plot.height + 28, "workers (contexts, processes, threads)",
      anchor: "middle", size: 10, fill: "#555")
    for (runner, points) in series {
      let color = Self.colors[runner] ?? "#444"
      let sorted = points.sorted { $0.x < $1.x }
      out.add(
        "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\""
          + sorted.map { "\(f(scaleX($0.x))),\(f(scaleY($0.y)))" }.joined(separator: " ") + "\"/>")
      for point in sorted {
        out.add(
          "<circle cx=\"\(f(scaleX(point.x)))\" cy=\"\(f(scaleY(point.y)))\" r=\"3\" fill=\"\(color)\"/>")
      }
    }
  }

  private func latencyPanel(_ out: inout Canvas, x: Double, y: Double, callers: Int) {
    out.text(
      x, y - 8, "py.call round trip, \(callers) caller\(callers == 1 ? "" : "s"): distribution", size: 12,
      weight: "bold")
    frame(&out, x: x, y: y)
    let distributions = modes.compactMap { mode in
      report.distribution("roundtrip.\(mode).callers\(callers)").map { ("swiftpy_\(mode)", $0) }
    }
    let values = distributions.flatMap { $0.1.percentiles }.filter { $0 > 0 }
    let low = floor(log10(values.min() ?? 1))
    let high = max(low + 1, ceil(log10(values.max() ?? 10)))
    let plot = Plot(x: x + 40, y: y + 10, width: Self.panelWidth - 55, height: Self.panelHeight - 40)
    let scaleX = { (micros: Double) in
      plot.x + (log10(max(micros, pow(10, low))) - low) / (high - low) * plot.width
    }
    let scaleY = { (percent: Double) in plot.y + plot.height - percent / 100 * plot.height }
    for percent in [0.0, 25, 50, 75, 90, 99] {
      gridLine(&out, x1: plot.x, y1: scaleY(percent), x2: plot.x + plot.width, y2: scaleY(percent))
      out.text(plot.x - 4, scaleY(percent) + 4, "p\(Int(percent))", anchor: "end", size: 9)
    }
    for decade in Int(low)...Int(high) {
      let micros = pow(10, Double(decade))
      gridLine(&out, x1: scaleX(micros), y1: plot.y, x2: scaleX(micros), y2: plot.y + plot.height)
      out.text(scaleX(micros), plot.y + plot.height + 14, tick(micros), anchor: "middle", size: 9)
    }
    out.text(
      plot.x + plot.width / 2, plot.y + plot.height + 28, "round trip (log scale)", anchor: "middle",
      size: 10,
      fill: "#555")
    for (runner, distribution) in distributions {
      let color = Self.colors[runner] ?? "#444"
      let points = distribution.percentiles.enumerated().map { index, value in
        "\(f(scaleX(value))),\(f(scaleY(Double(index))))"
      }
      out.add(
        "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>"
      )
    }
  }

  private func legend(_ out: inout Canvas, y: Double, width: Double) {
    var x = Self.gap
    for runner in runners {
      out.add(
        "<rect x=\"\(f(x))\" y=\"\(f(y - 9))\" width=\"12\" height=\"12\" fill=\"\(Self.colors[runner] ?? "#444")\"/>"
      )
      let name = Self.shortNames[runner] ?? runner
      out.text(x + 16, y + 1, name)
      x += 16 + Double(name.count) * 6.5 + 18
    }
  }

  // MARK: Drawing helpers

  private struct Plot {
    let x: Double
    let y: Double
    let width: Double
    let height: Double
  }

  private func frame(_ out: inout Canvas, x: Double, y: Double) {
    out.add(
      "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(Self.panelWidth))\" height=\"\(f(Self.panelHeight))\" "
        + "fill=\"none\" stroke=\"#ccc\"/>")
  }

  private func gridLine(_ out: inout Canvas, x1: Double, y1: Double, x2: Double, y2: Double) {
    out.add(
      "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"#e3e3e3\" stroke-width=\"1\"/>"
    )
  }

  /// A power of ten microseconds: `1 µs`, `100 µs`, `10 ms`.
  private func tick(_ micros: Double) -> String {
    switch micros {
    case ..<1: return "\(Int((micros * 1000).rounded())) ns"
    case ..<1000: return "\(Int(micros.rounded())) µs"
    case ..<1_000_000: return "\(Int((micros / 1000).rounded())) ms"
    default: return "\(Int((micros / 1_000_000).rounded())) s"
    }
  }

  /// 1, 2 or 5 times a power of ten, at least `value`.
  private func niceCeiling(_ value: Double) -> Double {
    guard value > 0 else { return 1 }
    let power = pow(10, floor(log10(value)))
    for step in [1.0, 2, 2.5, 5, 10] where step * power >= value { return step * power }
    return 10 * power
  }
}

private struct Canvas {
  var lines: [String] = []

  mutating func add(_ line: String) { lines.append(line) }

  mutating func text(
    _ x: Double, _ y: Double, _ string: String, anchor: String = "start", size: Double = 11,
    weight: String = "normal", fill: String = "#222"
  ) {
    lines.append(
      "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\" font-size=\"\(f(size))\" "
        + "font-weight=\"\(weight)\" fill=\"\(fill)\">\(escape(string))</text>")
  }
}

/// A coordinate with one decimal, as SVG reads it.
private func f(_ value: Double) -> String {
  guard value.isFinite else { return "0" }
  return String(format: "%.1f", value)
}

/// Text made safe inside an SVG element.
private func escape(_ text: String) -> String {
  text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
