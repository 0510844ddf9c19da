import Foundation
import Testing
@testable import PumpSim

/// The severity's closed form on a stretch: S' = λ(D − S) with D(t) = a + b·e^(−kt). Whether S turns
/// inside a stretch is the sign of D − S at its ends; once S has settled onto D's limit, D and S agree
/// to every digit a Double holds, so D − S as their difference is zero or noise, and a peak inside a
/// stretch of several days was missed (0.061 found instead of 0.107 in a random plan). `drive` is
/// S'/λ from its own closed form.
@Suite("Severity closed form: the sign of S' on long stretches")
struct SeverityCurveTests {
    // Hours: a 4.6 h CSF half-life (k = 0.15/h), a 24 h severity time constant; S falls from 0.5 toward
    // a = 0.1 while D decays onto the same limit.
    static let curve = SeverityCurve(s0: 0.5, a: 0.1, b: 0.3, k: 0.15, lambda: 1.0 / 24)

    @Test("D − S keeps its sign and magnitude where S has settled onto D's limit (up to 2,000 h)")
    func driveOnALongStretch() {
        let c = Self.curve
        // For λ < k and large t, e^(−kt) is negligible against e^(−λt):
        // S'/λ → e^(−λt)·(−(S₀ − a) + bλ/(λ − k)).
        let factor = -(c.s0 - c.a) + c.b * c.lambda / (c.lambda - c.k)
        var naiveLost = 0
        for t in stride(from: 500.0, through: 2_000.0, by: 100.0) {
            let expected = exp(-c.lambda * t) * factor
            let d = c.drive(t)
            #expect(d < 0, "S' at \(t) h must be negative (S falls onto a), drive gives \(d)")
            #expect(abs(d - expected) <= 1e-9 * abs(expected), "drive(\(t)) = \(d), expected \(expected)")
            // The difference of D and S, as the closed form once computed it: zero or of either sign.
            let naive = (c.a + c.b * exp(-c.k * t)) - c.value(t)
            if !(naive < 0) || abs(naive - expected) > 1e-3 * abs(expected) { naiveLost += 1 }
        }
        // Not vacuous: here the difference of D and S has lost the sign or the magnitude.
        #expect(naiveLost >= 10, "the difference of D and S resolved \(16 - naiveLost) of 16 instants")
    }

    @Test("D − S agrees with the difference of D and S where that difference is well resolved")
    func driveMatchesTheDifferenceEarly() {
        let c = Self.curve
        for t in stride(from: 0.0, through: 48.0, by: 0.5) {
            let naive = (c.a + c.b * exp(-c.k * t)) - c.value(t)
            #expect(abs(c.drive(t) - naive) <= 1e-12, "t = \(t) h: drive \(c.drive(t)), D − S \(naive)")
        }
    }
}
