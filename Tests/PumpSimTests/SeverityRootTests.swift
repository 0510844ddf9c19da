import Foundation
import PropertyBased
import Testing
@testable import PumpSim

/// `CSFEvents.root(of:…)`, the bracketed root finder of the severity's turn and severe-level crossings:
/// within 1e-10 h of the root, as the bisection it replaced, in fewer evaluations.
@Suite("Event PK: the severity's root finder", .shrinking(false))
struct SeverityRootTests {
    /// The bisection it replaced.
    static func bisect(_ f: (Double) -> Double, _ lo0: Double, _ hi0: Double, up: (Double) -> Bool) -> Double {
        var lo = lo0, hi = hi0
        let loUp = up(f(lo0))
        for _ in 0..<64 {
            let mid = (lo + hi) / 2
            if up(f(mid)) == loUp { lo = mid } else { hi = mid }
            if hi - lo < 1e-10 { break }
        }
        return (lo + hi) / 2
    }

    @Test("hand-derived roots: √2 of t² − 2, ln 2 / 50 of e^(−50t) − ½ (steep), a root at the bracket's end")
    func handDerived() {
        var calls = 0
        let r2 = CSFEvents.root(of: { calls += 1; return $0 * $0 - 2 }, from: 0, -2, to: 2, 2) { $0 >= 0 }
        #expect(abs(r2 - 2.0.squareRoot()) < 1e-10)
        #expect(calls < 20, "\(calls) evaluations")
        let steep = CSFEvents.root(of: { exp(-50 * $0) - 0.5 }, from: 0, 0.5, to: 1_000, exp(-50_000) - 0.5) { $0 > 0 }
        #expect(abs(steep - log(2) / 50) < 1e-10)
        // f reaches zero only at the end (an exponential underflowed): the root is the end.
        let end = CSFEvents.root(of: { $0 >= 10 ? 0 : 10 - $0 }, from: 0, 10, to: 10, 0) { $0 > 0 }
        #expect(abs(end - 10) < 1e-10)
    }

    @Test("random severity curves: the turn and the severe-level crossing within 2e-10 h of the bisection's")
    func matchesBisection() async {
        var found = 0
        await propertyCheck(count: 500, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var g = SplitMix64(seed: seed)
            func u() -> Double { Double(g.next() >> 11) / Double(1 << 53) }
            let curve = SeverityCurve(s0: u(), a: u() * 1.2 - 0.1, b: u() * 2 - 1, k: 0.01 + u() * 2, lambda: 1.0 / 24)
            let T = [1.0, 50, 2_000][Int(g.below(3))] * (0.1 + u())
            let g0 = curve.drive(0), g1 = curve.drive(T)
            if (g0 > 0) != (g1 > 0) {
                let want = Self.bisect({ curve.drive($0) }, 0, T) { $0 > 0 }
                let got = CSFEvents.root(of: { curve.drive($0) }, from: 0, g0, to: T, g1) { $0 > 0 }
                #expect(abs(got - want) <= 2e-10, "seed \(seed): turn \(got) vs \(want)")
                found += 1
            }
            let L = 1 - exp(-1.0)
            let v0 = curve.value(0) - L, v1 = curve.value(T) - L
            if (v0 >= 0) != (v1 >= 0) {
                let want = Self.bisect({ curve.value($0) - L }, 0, T) { $0 >= 0 }
                let got = CSFEvents.root(of: { curve.value($0) - L }, from: 0, v0, to: T, v1) { $0 >= 0 }
                #expect(abs(got - want) <= 2e-10, "seed \(seed): crossing \(got) vs \(want)")
                found += 1
            }
        }
        #expect(found > 100)
    }
}
