import Foundation
import Testing
@testable import PumpCore
@testable import PumpSim

/// A refill three days late, derived by hand.
///
/// bench20 (0.25 μL strokes, 336 μL dead volume), 20 mL at 500 μg/mL, 600 μg/day = 1.2 mL/day:
/// one stroke of 0.125 μg every 18 s exactly. Priming takes 1,344 strokes (336,000 nL) at t = 0,
/// leaving an estimate of 19,664,000 nL; therapy starts at 1 h and stroke k comes at 3,600 + 18k s.
/// - 4 mL left after (19,664,000 − 4,000,000) / 250 = 62,656 strokes: low reservoir at 3,600 + 1,127,808 s.
/// - refill due 7 days before that: 3,600 + 1,127,808 − 604,800 = 526,608 s.
/// - empty after 19,664,000 / 250 = 78,656 strokes: halt at 3,600 + 1,415,808 = 1,419,408 s.
/// - the empty switch (0.1 mL = 400 strokes) closes 400 strokes earlier: 3,600 + 78,256 × 18 = 1,412,208 s.
@Suite("Golden: refill three days late")
struct RefillLapseGoldenTests {
    static let halt: Int64 = 1_419_408
    static let refill: Int64 = 1_419_408 + 3 * 86_400
    static let confirm: Int64 = refill + 7_200

    static func scenario() -> Scenario {
        TestScenarios.basic(days: 20, timeline: [
            ScenarioEvent(at: .zero + .seconds(refill), action: .refill(added: .millilitres(20), concentration: c500,
                                                                         confirmConcentrationChange: false, withdrawn: nil)),
            ScenarioEvent(at: .zero + .seconds(confirm), action: .confirmResumption(nil)),
        ])
    }

    func raised(_ r: SimulationResult, _ k: AlarmKind) -> [Int64] {
        r.recorder.alarms.filter { $0.kind == k }.map { $0.raisedAt.nanoseconds / 1_000_000_000 }
    }

    @Test("alarm instants, lead times, the empty instant and hours at zero delivery", arguments: Fidelity.allCases)
    func alarmsAndTimes(fidelity: Fidelity) throws {
        let r = try SimulationRunner.run(Self.scenario(), fidelity: fidelity)
        #expect(raised(r, .refillDue) == [526_608])
        #expect(raised(r, .lowReservoir) == [3_600 + 1_127_808])
        #expect(raised(r, .reservoirEmpty) == [1_412_208])
        // The switch is the interruption's first evidence: 24 h (+ 1 ns) after it closed, with no stroke
        // since, the interruption passes the limit and the alarm is raised (the floor holds from then).
        #expect(raised(r, .therapyInterruption) == [1_412_208 + 86_400])
        #expect(r.recorder.emptyOnsets == [.zero + .seconds(Self.halt)])
        let low = r.recorder.alarms.first { $0.kind == .lowReservoir }
        #expect(low?.leadTimeBeforeEmpty == .seconds(288_000))           // 4 mL / 1.2 mL/day = 80 h
        #expect(r.recorder.alarms.first { $0.kind == .refillDue }?.leadTimeBeforeEmpty == .seconds(892_800)) // 7 d + 80 h
        #expect(low?.clearedAt == .zero + .seconds(Self.refill))
        #expect(r.recorder.zeroDelivery == .hours(72))
    }

    @Test("delivered drug: every stroke counted by hand", arguments: Fidelity.allCases)
    func delivered(fidelity: Fidelity) throws {
        let r = try SimulationRunner.run(Self.scenario(), fidelity: fidelity)
        // 78,656 strokes to empty; after the refill 50 μg/day (one stroke per 216 s) for 2 h: 33 strokes
        // and 72 s of credit (1/3 stroke); at 600 μg/day the next comes 12 s after confirming, then every
        // 18 s to the end at 20 d = 1,728,000 s: ⌊(42,192 − 12) / 18⌋ + 1 = 2,344 strokes.
        let strokes: Int64 = 78_656 + 33 + 2_344
        #expect(r.recorder.totalToPatient == Femtograms(strokes * 125_000_000))
        #expect(r.controller.ledger.basalStrokes == strokes)
        // No bias: the true reservoir and the estimate agree to the nanolitre.
        #expect(r.pump.reservoir == Picolitres(r.controller.reservoir.estimate))
        // Day 1 is [0, 86,400 s): strokes at 3,600 + 18k s for k = 1 … 4,599 (the 4,600th falls at
        // 86,400 s, the first instant of day 2).
        #expect(r.recorder.dailyFemtograms[0] == 4_599 * 125_000_000)
    }

    @Test("withdrawal-risk window: from one half-life after the halt to the rise after confirmation")
    func withdrawalWindow() throws {
        let r = try SimulationRunner.run(Self.scenario(), fidelity: .fast)
        let pk = PKParameters()
        let k = 30.0 / 65.0                                  // per hour
        let fall = Foundation.log(2.0) / k * 3_600                         // Css → Css/2: one half-life (s)
        // After confirming, from the floor's steady state (50/600 of Css) up to Css/2:
        // 1 − (1 − 1/12)·e^(−kt) = 1/2 → t = ln(11/6) / k.
        let rise = Foundation.log(11.0 / 6.0) / k * 3_600
        let expected = Double(Self.confirm - Self.halt) - fall + rise
        #expect(abs(r.recorder.withdrawal.seconds - expected) < 900, "got \(r.recorder.withdrawal.seconds), expected \(expected)")
        #expect(r.recorder.episodes.count == 1)
        #expect(abs(pk.withdrawalThreshold(.microgramsPerDay(600)).nanogramsPerMillilitre - 600_000.0 / 24 / 30 / 2) < 1e-9)
        // Three days without drug: the severity state reaches 1 − e^(−72/24) ≈ 0.95 within an interval's error.
        #expect(abs(r.recorder.peakSeverity - (1 - exp(-3.0))) < 0.02)
    }
}
