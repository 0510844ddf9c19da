import Foundation
import PropertyBased
import Testing
@testable import PumpCore
@testable import PumpSim

/// Drug out of the reservoir (true) = CSF + pocket + change of the catheter column, to the femtogram,
/// and every delivered figure (total, daily, series, PK) counts the bolus an occlusion releases.
@Suite("Drug conservation in the simulator")
struct DrugConservationTests {
    static let c2000 = Concentration(microgramsPerMillilitre: 2_000)

    /// bench20 filled with 20 mL at 2000 μg/mL, 1200 μg/day, an occlusion from 1 d to 3 d whose line
    /// takes up 1 mL before strokes stop moving drug; 4 days.
    static func heldMillilitre() -> Scenario {
        var m = PumpMechanics()
        m.occlusionCompliance = .millilitres(1)
        return Scenario(name: "1 mL held at 2000 ug/mL", profile: .bench20, mechanics: m, concentration: c2000,
                        schedule: .continuous(.microgramsPerDay(1_200)), duration: .days(4),
                        faults: FaultPlan([Fault(kind: .occlusion, from: .zero + .days(1), until: .zero + .days(3))]))
    }

    @Test("the bolus released when an occlusion clears is delivered: 1 mL held at 2000 μg/mL is 2000 μg in the total, the day, the series and the PK",
          arguments: Fidelity.allCases)
    func releasedBolusIsDelivered(fidelity: Fidelity) throws {
        let r = try SimulationRunner.run(Self.heldMillilitre(), fidelity: fidelity, keepSeries: true)
        // 1200 μg/day at 2000 μg/mL = 0.6 mL/day: one 0.25 μL stroke (0.5 μg) every 36 s, at 3,600 + 36k s
        // for k = 1 … 9,500 (the last at the end, 4 d = 345,600 s). The occlusion starts after the stroke
        // due at 1 d (k = 2,300) and clears after the one due at 3 d (k = 7,100): 4,800 occluded strokes.
        // The first 4,000 fill the 1 mL the line takes up; the other 800 move nothing. The occlusion
        // lasted 48 h, over the 24 h interruption limit: from 3 d the 50 μg/day floor until a clinician
        // confirms, one stroke every 864 s, 100 on the last day (the last at 4 d).
        #expect(r.controller.ledger.basalStrokes == 7_200)
        let ug: Int64 = 1_000_000_000
        #expect(r.recorder.releases.count == 1)
        let release = try #require(r.recorder.releases.first)
        #expect(release.at == .zero + .days(3))
        #expect(release.volume == Picolitres(.millilitres(1)))
        #expect(release.toCSF == Femtograms(2_000 * ug) && release.toPocket == .zero)
        // Delivered: (7,200 − 800) strokes × 0.5 μg = 3,200 μg, the 2,000 μg bolus included.
        #expect(r.recorder.totalToPatient == Femtograms(3_200 * ug))
        #expect(r.pump.toPatient == r.recorder.totalToPatient)
        // Day 4 ([3 d, 4 d], the run's last day ends with it) holds the bolus and the floor's 100 strokes:
        // 2,000 + 100 × 0.5 μg.
        // Day 1: k = 1 … 2,299; day 2: only the stroke due at 1 d (k = 2,300, before the occlusion); day 3:
        // nothing (the line is filling).
        #expect(r.recorder.dailyFemtograms == [2_299 * ug / 2, ug / 2, 0, 2_050 * ug])
        // The series interval from 3 d holds the bolus and one stroke (3 d + 864 s).
        let row = try #require(r.recorder.series.first { $0.start == .zero + .days(3) })
        #expect(row.released == Femtograms(2_000 * ug))
        #expect(row.delivered == Femtograms(2_000 * ug + ug / 2))
        // PK: two days without drug leave the CSF near zero (e^(−30/65 × 48) ≈ 2·10⁻¹⁰ of Css); the
        // interval's 2,000.5 μg over 0.25 h is a constant input of 8,002 μg/h, whose steady state is
        // 8,002 / 30 μg/mL; after 0.25 h the level is that × (1 − e^(−30/65 × 0.25)).
        let k = 30.0 / 65.0
        let expected = 8_002.0 / 30.0 * 1_000 * (1 - exp(-k * 0.25))   // ng/mL
        #expect(abs(row.concentration.nanogramsPerMillilitre - expected) < 1, "CSF \(row.concentration.nanogramsPerMillilitre) vs \(expected) ng/mL")
        #expect(r.pump.drugAccount.isBalanced)
    }

    @Test("the run is closed at its end: a stroke due at the end instant counts in the last interval and the last day",
          arguments: Fidelity.allCases)
    func strokeAtTheEndIsCounted(fidelity: Fidelity) throws {
        let r = try SimulationRunner.run(TestScenarios.basic(days: 1), fidelity: fidelity, keepSeries: true)
        // Strokes at 3,600 + 18k s for k = 1 … 4,600, the last at the end (86,400 s): 4,600 × 0.125 μg.
        #expect(r.recorder.totalToPatient == Femtograms(575_000_000_000))
        #expect(r.recorder.dailyFemtograms == [575_000_000_000])
        #expect(r.recorder.series.count == 96)
        // The last interval [85,500 s, 86,400 s] holds k = 4,550 … 4,600: 51 strokes, one at each end.
        #expect(r.recorder.series.last?.delivered == Femtograms(51 * 125_000_000))
    }

    @Test("drug conserved in the shipped-style occlusion: 50 μL held at 500 μg/mL reach the patient as 25 μg")
    func occlusionReleasesCompliance() throws {
        var m = PumpMechanics()
        m.occlusionTripStrokes = 40
        let s = TestScenarios.basic(days: 10, faults: [Fault(kind: .occlusion, from: .zero + .days(5), until: .zero + .days(5) + .hours(6))],
                                    mechanics: m)
        let r = try SimulationRunner.run(s, fidelity: .stroke)
        // The default compliance, 50 μL, is 200 strokes (1 h at 18 s); the sensor trips after 40 (10 μL).
        #expect(r.recorder.releases.map(\.volume) == [Picolitres(.microlitres(50))])
        #expect(r.recorder.releases.map(\.toCSF) == [Femtograms(25_000_000_000)])
        #expect(r.recorder.totalToPatient == r.pump.toPatient)
    }

    @Test("a refill during an occlusion does not change the held solution: it is released at the concentration it was pumped at")
    func heldSolutionKeepsItsConcentration() throws {
        var p = try primedPump()
        p.apply(FaultChange(at: .zero + .seconds(2_000), kind: .occlusion, active: true))
        for i in 0..<40 { try p.perform(stroke(2_000 + Int64(i))) }
        // 40 strokes × 250 nL = 10 μL held at 500 μg/mL; the reservoir now holds 1000 μg/mL.
        p.refill(added: .millilitres(20), concentration: Concentration(microgramsPerMillilitre: 1_000), at: .zero + .seconds(2_100))
        #expect(p.columnDrug == Femtograms(336_000_000 * 500 + 10_000_000 * 500))
        p.apply(FaultChange(at: .zero + .seconds(3_000), kind: .occlusion, active: false))
        // The 10 μL push 10 μL of the column's 500 μg/mL out: 5 μg; the column still holds 500 μg/mL only.
        #expect(p.toPatient == Femtograms(5_000_000_000))
        #expect(p.catheter.segments.allSatisfy { $0.concentration == c500 })
        let account = p.drugAccount
        #expect(account.isBalanced, "\(account.problems)")
        // Out of the reservoir: priming 336 μL + 10 μL at 500 μg/mL.
        #expect(account.outOfReservoir == Femtograms(346_000_000 * 500))
        #expect(account.columnChange == Femtograms(336_000_000 * 500))
    }

    @Test("drug conserved: every run's end check passes and the balance holds over random fault plans", .serialized,
          arguments: Fidelity.allCases)
    func conservedOverRandomFaultPlans(fidelity: Fidelity) async {
        await propertyCheck(count: 30, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            let s = randomFaultScenario(seed: seed)
            do {
                let r = try SimulationRunner.run(s, fidelity: fidelity, keepSeries: true)
                let account = r.pump.drugAccount
                #expect(account.isBalanced, "seed \(seed): \(account.problems)")
                #expect(r.recorder.totalToPatient == account.toCSF, "seed \(seed)")
                #expect(r.recorder.conservationProblems(pump: r.pump).isEmpty, "seed \(seed)")
            } catch {
                Issue.record("seed \(seed): \(error)")
            }
        }
    }

    @Test("anti-vacuity: a run that drops the released bolus fails the runner's conservation check loudly")
    func brokenRunFailsConservation() throws {
        #expect(throws: ScenarioError.self) {
            _ = try SimulationRunner.run(Self.heldMillilitre(), fidelity: .fast, keepSeries: false, perBinPK: false, dropsReleasedDrug: true)
        }
        let result = Result { () throws(ScenarioError) in
            try SimulationRunner.run(Self.heldMillilitre(), fidelity: .stroke, keepSeries: false, perBinPK: false, dropsReleasedDrug: true)
        }
        guard case let .failure(error) = result else { Issue.record("the broken run passed the conservation check"); return }
        guard case let .drugNotConserved(problems) = error else { Issue.record("unexpected error \(error)"); return }
        // The 2,000 μg bolus is missing from the recorder's total.
        #expect(problems.contains { $0.contains("2000000000000 fg missing") }, "\(problems)")
    }

    @Test("anti-vacuity: the property over random fault plans fails for a run that drops released boluses")
    func brokenRunFailsTheProperty() throws {
        var failed = 0, released = 0
        for seed in UInt64(1)...40 {
            let s = randomFaultScenario(seed: seed)
            guard let good = try? SimulationRunner.run(s, fidelity: .fast) else { continue }
            if good.recorder.releases.contains(where: { $0.toCSF > .zero }) { released += 1 } else { continue }
            let broken = Result { () throws(ScenarioError) in
                try SimulationRunner.run(s, fidelity: .fast, keepSeries: false, perBinPK: false, dropsReleasedDrug: true)
            }
            if case .failure(.drugNotConserved) = broken { failed += 1 }
        }
        #expect(released > 5, "the random plans release too few boluses to test anything")
        #expect(failed == released)
    }

    @Test("the account's balance is not vacuous: drug missing from any place is reported")
    func accountReportsAMissingFemtogram() {
        let fg = Femtograms(1_000)
        let good = DrugAccount(outOfReservoir: fg, reservoirLedger: fg, toCSF: Femtograms(600), toPocket: Femtograms(300), columnChange: Femtograms(100))
        #expect(good.isBalanced && good.problems.isEmpty)
        var lost = good
        lost.toCSF = Femtograms(599)
        #expect(!lost.isBalanced && lost.unaccounted == Femtograms(1))
        var ledger = good
        ledger.reservoirLedger = Femtograms(1_001)
        #expect(!ledger.isBalanced && ledger.problems.count == 1)
    }
}

/// A random run with several faults of every kind (occlusions with random compliance, stalls, leaks,
/// disconnections, possibly open-ended and overlapping across families) and refills, some changing
/// the concentration during a fault, some entered wrongly, not entered, or entered without an act.
func randomFaultScenario(seed: UInt64) -> Scenario {
    var g = SplitMix64(seed: seed)
    var s = randomScenario(seed: g.next())
    let days = s.duration.nanoseconds / TimeConstants.nanosecondsPerDay
    let minutes = days * 1_440
    s.mechanics.occlusionCompliance = Volume(nanolitres: g.integer(in: 0...1_000_000))
    s.mechanics.occlusionTripStrokes = g.integer(in: 1...400)
    var faults: [Fault] = []
    for _ in 0..<g.integer(in: 1...6) {
        let kind: FaultKind
        switch g.below(5) {
        case 0, 1: kind = .occlusion
        case 2: kind = .motorStall
        case 3: kind = .leak(fraction: Fraction(partsPerMillion: g.integer(in: 1...999_999)))
        default: kind = .disconnection
        }
        let from = Instant.zero + .minutes(g.integer(in: 61...(minutes - 2)))
        let until: Instant? = g.below(4) == 0 ? nil : min(from + .minutes(g.integer(in: 1...4_000)), .zero + .minutes(minutes))
        let candidate = Fault(kind: kind, from: from, until: until == from ? nil : until)
        if (try? FaultPlan(faults + [candidate]).validate()) != nil { faults.append(candidate) }
    }
    s.faults = FaultPlan(faults)
    for _ in 0..<g.integer(in: 0...3) {
        let c = Concentration.therapy[Int(g.below(3))], entered = Concentration.therapy[Int(g.below(3))]
        let v = Volume(nanolitres: g.integer(in: 1_000_000...20_000_000))
        let at = Instant.zero + .minutes(g.integer(in: 120...(minutes - 1)))
        let entry = RefillEntry(added: g.below(2) == 0 ? v : .millilitres(20), concentration: entered, confirmConcentrationChange: g.below(2) == 0)
        let action: ScenarioAction
        switch g.below(4) {
        case 0: action = .refill(added: v, concentration: c, confirmConcentrationChange: true, withdrawn: nil)
        case 1: action = .refillDone(RefillAct(added: v, concentration: c), entered: entry)   // entered wrongly, maybe refused
        case 2: action = .refillDone(RefillAct(added: v, concentration: c), entered: nil)     // not entered
        default: action = .refillEntered(entry)                                             // entered, not done
        }
        s.timeline.append(ScenarioEvent(at: at, action: action))
    }
    s.timeline.sort { $0.at < $1.at }
    return s
}
