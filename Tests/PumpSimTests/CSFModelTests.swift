import Foundation
import Testing
@testable import PumpCore
@testable import PumpSim

@Suite("CSF pharmacokinetics")
struct CSFModelTests {
    @Test("a constant infusion follows Css·(1 − e^(−kt)) exactly, interval after interval")
    func constantInfusion() {
        var m = CSFModel(parameters: PKParameters(), interval: .minutes(15))
        // 600 μg/day = 25 μg/h: 6.25 μg per 15 min = 6.25 × 10⁹ fg.
        for i in 1...96 {
            _ = m.step(delivered: Femtograms(6_250_000_000), reference: nil)
            let t = Double(i) * 0.25
            let exact = 25_000.0 / 30 * (1 - exp(-30.0 / 65 * t))
            #expect(abs(m.concentration.nanogramsPerMillilitre - exact) < 1e-9 * exact)
        }
    }

    @Test("half-life and steady state from V and CL")
    func parameters() {
        let p = PKParameters()
        #expect(abs(p.halfLife.hours - 65 * Foundation.log(2.0) / 30) < 1e-9)
        #expect(abs(p.steadyState(.microgramsPerDay(1200)).nanogramsPerMillilitre - 50_000.0 / 30) < 1e-9)
    }

    @Test("time below the threshold inside an interval is the exact crossing instant")
    func crossing() {
        var m = CSFModel(parameters: PKParameters(), interval: .hours(6))
        let css = 25_000.0 / 30
        for _ in 0..<20 { _ = m.step(delivered: Femtograms(150_000_000_000), reference: CSFConcentration(nanogramsPerMillilitre: css)) }
        let s = m.step(delivered: .zero, reference: CSFConcentration(nanogramsPerMillilitre: css))
        // From (almost) Css with no input, C halves after one half-life: below for 6 h − t½.
        let expected = 6 * 3_600 - 65 * Foundation.log(2.0) / 30 * 3_600
        #expect(abs(s.belowThreshold.seconds - expected) < 1)
    }
}
