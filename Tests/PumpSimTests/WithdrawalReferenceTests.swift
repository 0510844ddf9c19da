import Foundation
import Testing
@testable import PumpCore
@testable import PumpSim

/// The withdrawal-risk reference is the last therapeutic dose: an emergency stop does not take it
/// away, a proper stop taper moves it down step by step.
///
/// By hand: bench20, 600 μg/day at 500 μg/mL, one 0.125 μg stroke every 18 s from 1 h, so each
/// 15-min interval holds 50 strokes and the CSF sits at the dose's steady state. With no drug the
/// level halves in one half-life, ln 2 / (30/65 h⁻¹) = 1.502 h.
@Suite("Withdrawal-risk reference")
struct WithdrawalReferenceTests {
    static let stopAt = Instant.zero + .days(2)
    static let emergency = EmergencyOverride(reason: "suspected overdose", clinician: "Dr. Test")

    @Test("after an emergency stop the withdrawal-risk window runs from one half-life after the stop to the end",
          arguments: Fidelity.allCases)
    func emergencyStopKeepsTheReference(fidelity: Fidelity) throws {
        let s = TestScenarios.basic(days: 5, timeline: [ScenarioEvent(at: Self.stopAt, action: .stop(taperDays: 0, override: Self.emergency))])
        let r = try SimulationRunner.run(s, fidelity: fidelity)
        #expect(r.recorder.reference == .microgramsPerDay(600))
        let halfLife = log(2.0) / (30.0 / 65.0) * 3_600
        // 3 days without drug, less the half-life it takes to fall below half the steady state. The
        // stroke due at the stop instant (0.125 μg, 0.2 % of the 54 μg in the CSF) shifts it by ~10 s.
        let expected = 3 * 86_400 - halfLife
        #expect(abs(r.recorder.withdrawal.seconds - expected) < 60, "got \(r.recorder.withdrawal.seconds) s, expected \(expected) s")
        #expect(r.recorder.episodes.count == 1)
        #expect(r.recorder.zeroDelivery == .days(3))
        // Severity after 72 h of complete deficit: 1 − e^(−72/24).
        #expect(abs(r.recorder.peakSeverity - (1 - exp(-3.0))) < 0.02)
    }

    @Test("a stop taper an override shortens past the limits keeps the reference at the dose before it")
    func emergencyTaperKeepsTheReference() throws {
        let s = TestScenarios.basic(days: 8, timeline: [ScenarioEvent(at: Self.stopAt, action: .stop(taperDays: 2, override: Self.emergency))])
        let r = try SimulationRunner.run(s, fidelity: .fast)
        #expect(r.recorder.reference == .microgramsPerDay(600))
        // The taper is over within 2 days of the stop (day 4 at the latest), so from one half-life
        // after it ends to the end at day 8 the CSF is below half of 600 μg/day's steady state.
        #expect(r.recorder.withdrawal >= .days(4) - .hours(2))
    }

    @Test("a stop taper within the decrease limit moves the reference down with it: no withdrawal risk")
    func properTaperCarriesNoRisk() throws {
        let s = TestScenarios.basic(days: 16, timeline: [ScenarioEvent(at: .zero + .days(1), action: .stop(taperDays: 14, override: nil))])
        let r = try SimulationRunner.run(s, fidelity: .fast)
        #expect(r.recorder.withdrawal == .zero)
        #expect(r.recorder.zeroDelivery == .zero)
    }
}
