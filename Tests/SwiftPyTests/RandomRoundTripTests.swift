import OrderedCollections
import Testing

@testable import SwiftPy

/// Property: any PythonValue tree goes to Python and comes back identical. Trees are drawn from
/// a seeded generator, so a failure names the seed that reproduces it.
@Suite("Random PythonValue trees round-trip")
struct RandomRoundTripTests {
  @Test(arguments: 0..<8) func randomTreesRoundTrip(batch: Int) async throws {
    try await ValueRoundTripTests.shared { (ctx) async throws in
      for index in 0..<40 {
        let seed = UInt64(batch * 1_000 + index)
        var generator = SplitMix64(seed: seed)
        let value = PythonValue.random(using: &generator, depth: 0)
        let back: PythonValue
        do {
          back = try await ctx.eval("v", locals: ["v": value])
        } catch let error as SwiftPyError where error.code == .mergedKeys {
          continue  // keys that Python deems equal (0 and False): refused, not silently merged
        }
        #expect(back == value, "seed \(seed): \(value)")
        // And through Python's own copy, so the object really was rebuilt in Python.
        let copied = try await ctx.eval("__import__('copy').deepcopy(v)", locals: ["v": value])
        #expect(copied == value, "seed \(seed)")
      }
    }
  }
}

/// A small, fast, seedable generator (Steele, Lea & Flood's SplitMix64).
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

extension PythonValue {
  /// A random tree: scalars of every kind (edge cases included) and containers up to 4 deep.
  static func random<G: RandomNumberGenerator>(using g: inout G, depth: Int, hashable: Bool = false)
    -> PythonValue
  {
    let containers = depth < 4
    switch Int.random(in: 0..<(containers ? 13 : 8), using: &g) {
    case 0: return .none
    case 1: return .bool(Bool.random(using: &g))
    case 2:
      return .int(
        [0, 1, -1, .max, .min, Int.random(in: -1_000...1_000, using: &g)].randomElement(using: &g)!)
    case 3:
      let digits = (0..<Int.random(in: 19...60, using: &g)).map { _ in
        String(Int.random(in: 0...9, using: &g))
      }
      let big = PythonBigInt((Bool.random(using: &g) ? "-" : "") + "9" + digits.joined())!
      return .integer(big)
    case 4:
      let specials: [Double] = [
        .nan, .infinity, -.infinity, -0.0, 0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1,
      ]
      return .float(
        Bool.random(using: &g) ? specials.randomElement(using: &g)! : Double.random(in: -1e9...1e9, using: &g)
      )
    case 5:
      let alphabet = Array("aZ09 _\u{0}\n\t'\"\\é日本🐍\u{10FFFF}\u{7F}")
      return .string(
        String((0..<Int.random(in: 0...12, using: &g)).map { _ in alphabet.randomElement(using: &g)! }))
    case 6:
      return .bytes((0..<Int.random(in: 0...16, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) })
    case 7: return .tuple([])
    case 8 where !hashable: return .list(children(using: &g, depth: depth))
    case 9: return .tuple(children(using: &g, depth: depth, hashable: hashable))
    case 10 where !hashable:
      var dict = OrderedDictionary<PythonValue, PythonValue>()
      for _ in 0..<Int.random(in: 0...5, using: &g) {
        dict[random(using: &g, depth: depth + 1, hashable: true)] = random(using: &g, depth: depth + 1)
      }
      return .dict(dict)
    case 11:
      return .set(Set(children(using: &g, depth: depth, hashable: true)))
    default:
      return .string("leaf")
    }
  }

  private static func children<G: RandomNumberGenerator>(using g: inout G, depth: Int, hashable: Bool = false)
    -> [PythonValue]
  {
    (0..<Int.random(in: 0...5, using: &g)).map { _ in random(using: &g, depth: depth + 1, hashable: hashable)
    }
  }
}
