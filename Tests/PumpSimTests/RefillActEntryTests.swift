import Testing
@testable import PumpCore
@testable import PumpSim

/// A refill is a physical act; the programmer entry is a record. The simulated pump's true reservoir
/// follows the act, the controller sees only the entry (and the pump's sensors).
///
/// By hand, as in `RefillLapseGoldenTests`: bench20, 20 mL at 500 μg/mL, 600 μg/day: one 0.25 μL
/// stroke (0.125 μg) every 18 s at 3,600 + 18k s; priming leaves an estimate of 19.664 mL. Every
/// instant below is a multiple of 18 s, so a stroke is due at it; it comes before the time line's
/// action at that instant.
@Suite("Refill: the act and the entry")
struct RefillActEntryTests {
    static let c1000 = Concentration(microgramsPerMillilitre: 1_000)
    static let refillAt = Instant.zero + .days(12)
    static let ug: Int64 = 1_000_000_000

    static func run(_ timeline: [ScenarioEvent], days: Int64 = 14) throws -> SimulationResult {
        try SimulationRunner.run(TestScenarios.basic(days: days, timeline: timeline), fidelity: .stroke)
    }

    @Test("a new concentration entered as the old one: the patient gets twice the dose once the dead volume is through")
    func newConcentrationEnteredAsOld() throws {
        let r = try Self.run([ScenarioEvent(at: Self.refillAt, action: .refillDone(RefillAct(added: .millilitres(20), concentration: Self.c1000),
                                                                                   entered: RefillEntry(added: .millilitres(20), concentration: c500)))])
        #expect(r.recorder.refusals.isEmpty)
        #expect(r.controller.reservoir.concentration == c500)
        #expect(r.pump.reservoirConcentration == Self.c1000)
        // Day 12 ([12 d, 13 d)): 4,800 strokes. The one due at 12 d pushes old drug in; from the next
        // one on 1000 μg/mL goes in, and reaches the tip 1,344 strokes (the 336 μL dead volume) later:
        // strokes 0 … 1,344 give 0.125 μg, strokes 1,345 … 4,799 give 0.25 μg.
        #expect(r.recorder.dailyFemtograms[11] == 4_800 * Self.ug / 8)
        #expect(r.recorder.dailyFemtograms[12] == 1_345 * Self.ug / 8 + 3_455 * Self.ug / 4)
        // Day 14, the run's last, closed at both ends: 4,800 strokes and the one due at 14 d, 0.25 μg each,
        // twice the prescription, while the controller believes it gives 600 μg/day.
        #expect(r.recorder.dailyFemtograms[13] == 4_801 * Self.ug / 4)
        #expect(r.controller.schedule?.dailyDose == .microgramsPerDay(600))
        // The volumes agree: both sides count 0.25 μL a stroke from the same 20 mL.
        #expect(r.pump.reservoir == Picolitres(r.controller.reservoir.estimate))
    }

    @Test("a refused refill entry does not undo the act: the pump holds what was put in, the controller its old estimate")
    func refusedEntryKeepsTheAct() throws {
        // The shorthand `refill` with an unconfirmed concentration change: the entry is refused.
        let r = try Self.run([ScenarioEvent(at: Self.refillAt, action: .refill(added: .millilitres(20), concentration: Self.c1000,
                                                                                  confirmConcentrationChange: false, withdrawn: nil))])
        #expect(r.recorder.refusals.count == 1)
        #expect(r.pump.reservoirConcentration == Self.c1000)
        #expect(r.controller.reservoir.concentration == c500)
        // True: 20 mL less the 9,600 strokes after the act (12 d + 18 s … 14 d) = 20 − 2.4 = 17.6 mL.
        #expect(r.pump.reservoir == Picolitres(.microlitres(17_600)))
        // Estimate: 19.664 mL less the 67,000 strokes from 1 h + 18 s to 14 d = 19.664 − 16.75 = 2.914 mL.
        #expect(r.controller.reservoir.estimate == .microlitres(2_914))
    }

    @Test("a refill entered wrongly (an overfilled volume) is refused and the act stands")
    func overfilledEntryRefused() throws {
        let r = try Self.run([ScenarioEvent(at: Self.refillAt, action: .refillDone(RefillAct(added: .millilitres(20), concentration: c500),
                                                                                   entered: RefillEntry(added: .millilitres(25), concentration: c500)))])
        #expect(r.recorder.refusals.count == 1 && r.recorder.refusals[0].at == Self.refillAt)
        #expect(r.pump.reservoir == Picolitres(.microlitres(17_600)))
        #expect(r.controller.reservoir.estimate == .microlitres(2_914))
        // The controller raises the low-reservoir alarm for a pump holding 17.6 mL: 4 mL left after
        // (19.664 − 4) / 0.00025 = 62,656 strokes, at 3,600 + 1,127,808 s.
        #expect(r.recorder.alarms.contains { $0.kind == .lowReservoir && $0.raisedAt == .zero + .seconds(1_131_408) })
    }

    @Test("a refill done but not entered: the controller sees nothing of it")
    func refillNotEntered() throws {
        let r = try Self.run([ScenarioEvent(at: Self.refillAt, action: .refillDone(RefillAct(added: .millilitres(20), concentration: c500), entered: nil))])
        #expect(r.recorder.refusals.isEmpty)
        #expect(r.controller.reservoir.filledAt == .zero)
        #expect(r.pump.reservoir == Picolitres(.microlitres(17_600)))
        #expect(r.controller.reservoir.estimate == .microlitres(2_914))
    }

    @Test("an entry without an act changes the controller's estimate, not the pump")
    func entryWithoutAct() throws {
        let r = try Self.run([
            ScenarioEvent(at: Self.refillAt, action: .refillDone(RefillAct(added: .millilitres(20), concentration: c500), entered: nil)),
            ScenarioEvent(at: Self.refillAt + .days(1), action: .refillEntered(RefillEntry(added: .millilitres(20), concentration: c500,
                                                                                           withdrawn: .microlitres(5_314)))),
        ])
        #expect(r.recorder.refusals.isEmpty)
        // Estimate: 20 mL at 13 d less 4,800 strokes (13 d + 18 s … 14 d) = 18.8 mL; the pump: 17.6 mL.
        #expect(r.controller.reservoir.estimate == .microlitres(18_800))
        #expect(r.pump.reservoir == Picolitres(.microlitres(17_600)))
    }

    @Test("an act larger than the reservoir is refused before the run, naming the entry")
    func actOverCapacity() {
        #expect(throws: ScenarioError.refillOverCapacity(index: 0, added: .millilitres(25), capacity: .millilitres(20))) {
            _ = try Self.run([ScenarioEvent(at: Self.refillAt, action: .refillDone(RefillAct(added: .millilitres(25), concentration: c500), entered: nil))])
        }
    }
}
