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

    /// bench20 filled with 20 mL at 2000 μg/mL, 1200 μg/day, an occlusion from 1 d to 1 d 22 h whose
    /// line takes up 0.5 mL before strokes stop moving drug; 4 days. (Shorter than the 24 h limit, so
    /// the programmed dose goes on after it: an interruption past 24 h would put delivery at the floor.)
    static func heldMillilitre() -> Scenario {
        var m = PumpMechanics()
        m.occlusionCompliance = .microlitres(500)
        return Scenario(name: "0.5 mL held at 2000 ug/mL", profile: .bench20, mechanics: m, concentration: c2000,
                        schedule: .continuous(.microgramsPerDay(1_200)), duration: .days(4),
                        faults: FaultPlan([Fault(kind: .occlusion, from: .zero + .days(1), until: .zero + .days(1) + .hours(22))]))
    }

    @Test("the bolus released when an occlusion clears is delivered: 0.5 mL held at 2000 μg/mL is 1000 μg in the total, the day, the series and the PK",
          arguments: Fidelity.allCases)
    func releasedBolusIsDelivered(fidelity: Fidelity) throws {
        let r = try SimulationRunner.run(Self.heldMillilitre(), fidelity: fidelity, keepSeries: true)
        // 1200 μg/day at 2000 μg/mL = 0.6 mL/day: one 0.25 μL stroke (0.5 μg) every 36 s, at 3,600 + 36k s
        // for k = 1 … 9,500 (the last at the end, 4 d = 345,600 s). The occlusion starts after the stroke
        // due at 1 d (k = 2,300) and clears after the one due at 1 d 22 h = 165,600 s (k = 4,500): 2,200
        // occluded strokes. The first 2,000 fill the 0.5 mL the line takes up; the other 200 move
        // nothing. The occlusion lasted under 24 h: the programmed dose goes on, no floor.
        #expect(r.controller.ledger.basalStrokes == 9_500)
        #expect(r.controller.awaitingConfirmationSince == nil)
        let ug: Int64 = 1_000_000_000
        let cleared = Instant.zero + .days(1) + .hours(22)
        #expect(r.recorder.releases.count == 1)
        let release = try #require(r.recorder.releases.first)
        #expect(release.at == cleared)
        #expect(release.volume == Picolitres(.microlitres(500)))
        #expect(release.toCSF == Femtograms(1_000 * ug) && release.toPocket == .zero)
        // Delivered: (9,500 − 200) strokes × 0.5 μg = 4,650 μg, the 1,000 μg bolus included.
        #expect(r.recorder.totalToPatient == Femtograms(4_650 * ug))
        #expect(r.pump.toPatient == r.recorder.totalToPatient)
        // Day 1 [0, 1 d): k = 1 … 2,299. Day 2 [1 d, 2 d): the stroke due at 1 d (k = 2,300, before the
        // occlusion), the bolus, and k = 4,501 … 4,699 (199 strokes): 0.5 + 1,000 + 99.5 μg. Day 3:
        // k = 4,700 … 7,099 (2,400 strokes). Day 4 ([3 d, 4 d], the run's last day ends with it):
        // k = 7,100 … 9,500 (2,401 strokes).
        #expect(r.recorder.dailyFemtograms == [2_299 * ug / 2, 1_100 * ug, 1_200 * ug, 2_401 * ug / 2])
        // The series interval from 1 d 22 h holds the bolus and the 24 strokes k = 4,501 … 4,524
        // (165,636 … 166,464 s; k = 4,525 falls at its end, 166,500 s).
        let row = try #require(r.recorder.series.first { $0.start == cleared })
        #expect(row.released == Femtograms(1_000 * ug))
        #expect(row.delivered == Femtograms(1_012 * ug))
        // PK: 22 h without drug leave the CSF near zero (e^(−30/65 × 22) ≈ 4·10⁻⁵ of the 1,667 ng/mL
        // steady state: under 0.07 ng/mL); the interval's 1,012 μg over 0.25 h is a constant input of
        // 4,048 μg/h, whose steady state is 4,048 / 30 μg/mL; after 0.25 h the level is that ×
        // (1 − e^(−30/65 × 0.25)).
        let k = 30.0 / 65.0
        let expected = 4_048.0 / 30.0 * 1_000 * (1 - exp(-k * 0.25))   // ng/mL
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
        // The 1,000 μg bolus is missing from the recorder's total.
        #expect(problems.contains { $0.contains("1000000000000 fg missing") }, "\(problems)")
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
    s.profile.occlusionDetectionStrokes = s.mechanics.occlusionTripStrokes   // the sensor as labelled
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
