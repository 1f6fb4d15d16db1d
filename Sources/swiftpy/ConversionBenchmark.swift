import Foundation
import SwiftPy

/// Conversion throughput each way — a `PythonValue` made into a Python object
/// (`python.object(value)`) and a Python object copied into a `PythonValue` (`object.value`) —
/// timed on the context's thread inside `withPython`, so the call's hop is not counted: 1 MiB of
/// bytes, a list of 100,000 ints, and a nested dict (100 records of 7 fields, JSON-like).
/// Beside them, the same objects through `pickle.loads(pickle.dumps(obj, 5))` in the same
/// interpreter: what `ProcessPoolExecutor` pays per argument or result on each side of its pipe.
enum ConversionBenchmark {
  struct Payload {
    let key: String
    let label: String
    let expression: String
    let iterations: Int
    /// Bytes or elements per object, for a second unit (MiB/s, elements/s).
    let amount: Double
    let amountUnit: String
  }

  static func payloads(quick: Bool) -> [Payload] {
    let scale = quick ? 10 : 1
    return [
      Payload(
        key: "bytes_1mib", label: "1 MiB bytes", expression: "bytes(range(256)) * 4096",
        iterations: 500 / scale, amount: 1, amountUnit: "MiB/s"),
      Payload(
        key: "list_100k", label: "list of 100k ints", expression: "list(range(100_000))",
        iterations: 60 / scale, amount: 100_000, amountUnit: "ints/s"),
      Payload(
        key: "nested_dict", label: "nested dict (100 records)",
        expression: """
          {"count": 100, "page": {"number": 1, "size": 100, "next": None}, "records": [
              {"id": i, "name": f"user{i}", "email": f"user{i}@example.com", "score": i * 1.5,
               "active": i % 2 == 0, "tags": ["a", "b", "c"],
               "address": {"street": f"{i} Main St", "city": "Springfield", "zip": f"{10000 + i}"}}
              for i in range(100)]}
          """,
        iterations: 2_000 / scale, amount: 100, amountUnit: "records/s"),
    ]
  }

  static let pickleCode = """
    import pickle, time
    def pickle_round_trip(obj, n):
        dumps, loads, clock = pickle.dumps, pickle.loads, time.perf_counter
        began = clock()
        for _ in range(n):
            loads(dumps(obj, 5))
        return (clock() - began) / n
    """

  static func run(
    _ py: PythonRuntime, mode: PythonContext.Mode, quick: Bool, report: BenchReport, progress: BenchProgress
  ) async throws {
    let context = try await py.newContext(mode: mode)
    try await context.exec(pickleCode)
    for payload in payloads(quick: quick) {
      progress.say("conversions: \(payload.label)")
      try await context.exec("payload = \(payload.expression)")
      let value = try await context.eval("payload")
      let iterations = payload.iterations
      let (toPython, toSwift) = try await context.withPython { python -> (Double, Double) in
        let clock = ContinuousClock()
        let object = try python.eval("payload")
        var began = clock.now
        for _ in 0..<iterations { _ = try python.object(value) }
        let toPython = (clock.now - began).seconds / Double(iterations)
        guard try object.value == value, try python.object(value).value == value else {
          throw BenchError("a conversion changed the value")
        }
        began = clock.now
        for _ in 0..<iterations { _ = try object.value }
        let toSwift = (clock.now - began).seconds / Double(iterations)
        return (toPython, toSwift)
      }
      let pickle =
        try await context.eval(
          "pickle_round_trip(payload, n)", locals: ["n": .int(iterations)]
        ).doubleValue ?? .nan
      let key = "conversion.\(payload.key)"
      report.add(
        key + ".to_python_per_s", 1 / toPython, unit: "objects/s",
        "\(payload.label), Swift → Python (PythonValue → object)")
      report.add(
        key + ".to_swift_per_s", 1 / toSwift, unit: "objects/s",
        "\(payload.label), Python → Swift (object → PythonValue)")
      report.add(
        key + ".pickle_per_s", 1 / pickle, unit: "objects/s",
        "\(payload.label), pickle.dumps + pickle.loads in Python (one crossing of ProcessPoolExecutor)")
      report.parameters[key + ".amount"] = payload.amount
      report.notes[key + ".amount_unit"] = payload.amountUnit
    }
    await context.close()
  }

  static func table(_ report: BenchReport, quick: Bool) -> BenchTable {
    var table = BenchTable(
      "Conversions per second, on the context's thread (ratio: SwiftPy / pickle dumps+loads)",
      [
        "object", "Swift → Python", "Python → Swift", "pickle round trip", "to Py / pickle",
        "to Swift / pickle",
      ])
    for payload in payloads(quick: quick) {
      let key = "conversion.\(payload.key)"
      let toPython = report[key + ".to_python_per_s"] ?? .nan
      let toSwift = report[key + ".to_swift_per_s"] ?? .nan
      let pickle = report[key + ".pickle_per_s"] ?? .nan
      func cell(_ rate: Double) -> String {
        "\(BenchFormat.number(rate))/s (\(BenchFormat.number(rate * payload.amount)) \(payload.amountUnit))"
      }
      table.add([
        payload.label, cell(toPython), cell(toSwift), cell(pickle), BenchFormat.ratio(toPython / pickle),
        BenchFormat.ratio(toSwift / pickle),
      ])
    }
    return table
  }
}
