import Foundation
import PumpCore
import PumpSim
import Testing
@testable import TherapyOracle

/// Each invariant of the oracle fails on a deliberately broken implementation: a forged burst of
/// strokes, a controller that stops commanding, a refill recorded but not done, a refused command
/// that changed the state. Without these, a quiet oracle would prove nothing.
@Suite("Therapy oracle: anti-vacuity")
struct OracleAntiVacuityTests {
    static func bench(dose: Int64 = 600, concentration: Int64 = 500) throws -> TherapyBench {
        var p = PumpProfile.bench20
        p.strokeVolume = .microlitres(1)
        return try TherapyBench(profile: p, mechanics: PumpMechanics(), settings: ControllerSettings(),
                                concentration: Concentration(microgramsPerMillilitre: concentration), fill: .millilitres(18),
                                schedule: .continuous(.microgramsPerDay(dose)))
    }

    static func broken(_ b: TherapyBench) -> Set<Invariant> { Set(b.violations.map(\.invariant)) }

    @Test("A correct run breaks nothing (the baseline the forgeries are compared with)")
    func cleanRun() throws {
        var b = try Self.bench()
        b.advance(by: .days(3))
        b.command(.program(.continuous(.microgramsPerDay(700))))
        b.advance(by: .days(2))
        #expect(b.violations.isEmpty, "\(b.violations)")
    }

    @Test("hardCeiling and noCatchUp catch a burst of 200 μg on top of 1200 μg/day")
    func burstAboveCeiling() throws {
        var b = try Self.bench(dose: 1200)
        b.advance(by: .hours(30))
        b.forgeBurst(strokes: 400, over: .minutes(1))   // 400 × 0.5 μg
        b.advance(by: .hours(1))
        #expect(Self.broken(b).isSuperset(of: [.hardCeiling, .noCatchUp]), "\(b.violations)")
    }

    @Test("noCatchUp catches 30 μg of missed drug given in one minute")
    func catchUpBurst() throws {
        var b = try Self.bench(dose: 300)
        b.advance(by: .hours(30))
        b.forgeBurst(strokes: 60, over: .minutes(1))
        #expect(Self.broken(b) == [.noCatchUp], "\(b.violations)")
    }

    @Test("hardFloor catches a controller whose strokes stop while drug remains")
    func strokesStop() throws {
        var b = try Self.bench(dose: 300)
        b.advance(by: .hours(30))
        b.sink.dropStrokes = true
        b.advance(by: .days(2))
        #expect(Self.broken(b).contains(.hardFloor), "\(b.violations)")
    }

    @Test("noSoftwareZero catches a running controller that is not delivering with drug in the pump")
    func notDelivering() throws {
        var b = try Self.bench()
        b.advance(by: .hours(30))
        // A controller state with its delivering dose forced to zero.
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(b.controller)) as! [String: Any]
        json["deliveringDose"] = ["nanogramsPerDay": 0]
        let halted = try JSONDecoder().decode(PumpController.self, from: JSONSerialization.data(withJSONObject: json))
        var oracle = b.oracle
        oracle.stepEnded(from: halted.now, controller: halted, pump: b.pump, envelope: DoseRate.ceiling.picogramsPerDay)
        #expect(Set(oracle.violations.map(\.invariant)) == [.noSoftwareZero], "\(oracle.violations)")
    }

    @Test("noSoftwareZero catches a halt at the calculated empty with drug left where the profile has an empty switch, and lets it stand without one",
          arguments: [true, false])
    func haltOnEstimate(hasEmptySwitch: Bool) throws {
        var p = PumpProfile.bench20
        p.strokeVolume = .microlitres(1)
        p.hasEmptySwitch = hasEmptySwitch
        var b = try TherapyBench(profile: p, mechanics: PumpMechanics(), settings: ControllerSettings(),
                                 concentration: Concentration(microgramsPerMillilitre: 500), fill: .millilitres(18),
                                 schedule: .continuous(.microgramsPerDay(600)))
        b.advance(by: .hours(30))
        // A controller halted on its estimate (the empty-reservoir halt) while the pump holds 17 mL.
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(b.controller)) as! [String: Any]
        json["deliveringDose"] = ["nanogramsPerDay": 0]
        json["haltedSince"] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(b.controller.now))
        let halted = try JSONDecoder().decode(PumpController.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(halted.haltedSince == b.controller.now && halted.profile.hasEmptySwitch == hasEmptySwitch)
        var oracle = b.oracle
        oracle.stepEnded(from: halted.now, controller: halted, pump: b.pump, envelope: DoseRate.ceiling.picogramsPerDay)
        #expect(Set(oracle.violations.map(\.invariant)) == (hasEmptySwitch ? [.noSoftwareZero] : []), "\(oracle.violations)")
    }

    @Test("refusalChangesNothing catches a refusal that changed the schedule")
    func refusalThatChanges() throws {
        var b = try Self.bench()
        b.advance(by: .hours(30))
        var after = b.controller
        _ = after.handle(.program(.continuous(.microgramsPerDay(650))), at: after.now)
        var oracle = b.oracle
        oracle.refused(.program(.continuous(.microgramsPerDay(650))), at: b.controller.now, before: b.controller, after: after, effects: [])
        #expect(oracle.violations.map(\.invariant) == [.refusalChangesNothing])
        #expect(oracle.violations.first?.detail.contains("schedule") == true, "\(oracle.violations)")
    }

    @Test("rollingTitration catches a window 60 % above the 24 h before a change")
    func titrationWindow() throws {
        var b = try Self.bench(dose: 600)
        b.advance(by: .hours(50))
        b.command(.program(.continuous(.microgramsPerDay(600))))
        b.forgeBurst(strokes: 720, over: .hours(1))     // +360 μg within the next 24 h
        b.advance(by: .hours(2))
        #expect(Self.broken(b).contains(.rollingTitration), "\(b.violations)")
    }

    /// The decrease bound set aside only where a window holds what it would without the change: a
    /// controller whose strokes are lost after a change (half a day of them) is below both.
    @Test("rollingTitration catches a window 25 % below the 24 h before a change and below the plan it kept")
    func decreaseWindow() throws {
        var b = try Self.bench(dose: 600)
        b.advance(by: .hours(50))
        b.command(.program(.continuous(.microgramsPerDay(600))))
        b.sink.dropStrokes = true
        b.advance(by: .hours(6))
        b.sink.dropStrokes = false
        b.advance(by: .hours(19))
        #expect(b.violations.contains { $0.invariant == .rollingTitration && $0.detail.contains("below the") }, "\(b.violations)")
    }

    /// A resume is judged on what it adds over the taper it cancelled: a controller whose resume went
    /// back to the programmed 600 μg/day from the taper's third level (forged as the strokes that
    /// adds) is above both the titration limit over the 24 h before and the taper's own windows.
    @Test("rollingTitration catches a resume that lifts delivery above the taper it cancelled and the limit")
    func resumeAboveTheTaper() throws {
        var b = try Self.bench(dose: 600)
        b.advance(by: .hours(50))
        b.command(.stop(taperDays: 14, override: nil))
        b.advance(by: .days(3) + .hours(1))
        b.command(.resume)
        #expect(b.violations.isEmpty && b.controller.taper == nil && b.controller.deliveringDose < .microgramsPerDay(400),
                "\(b.violations) \(b.controller.deliveringDose)")
        // 600 μg/day back over a level under 400 μg/day: 200 μg more a day, 400 strokes of 0.5 μg.
        b.forgeBurst(strokes: 400, over: .hours(12))
        b.advance(by: .hours(13))
        #expect(Self.broken(b).contains(.rollingTitration), "\(b.violations)")
        #expect(b.violations.contains { $0.detail.contains("without the change") }, "\(b.violations)")
    }

    /// A controller whose confirmed lower dose gave way to the programmed one (as a taper from the
    /// programmed dose did after a stop at the floor): forged as the strokes 600 μg/day adds over the
    /// confirmed 300 μg/day.
    @Test("interruptionFloor catches delivery above the schedule a clinician confirmed after an interruption")
    func aboveTheConfirmedDose() throws {
        var b = try Self.bench(dose: 600)
        b.advance(by: .hours(30))
        b.fault(.motorStall, active: true)
        b.advance(by: .hours(30))
        b.fault(.motorStall, active: false)
        b.advance(by: .hours(1))
        #expect(b.controller.awaitingConfirmationSince != nil)
        b.command(.confirmResumption(.continuous(.microgramsPerDay(300))))
        b.advance(by: .hours(12))
        #expect(b.violations.isEmpty, "\(b.violations)")
        // 300 μg/day more for 12 h: 150 μg, 300 strokes of 0.5 μg.
        b.forgeBurst(strokes: 300, over: .hours(12))
        #expect(b.violations.contains { $0.invariant == .interruptionFloor && $0.detail.contains("a clinician confirmed") }, "\(b.violations)")
    }

    @Test("interruptionFloor catches the full dose resumed after 30 h without delivery")
    func fullDoseAfterInterruption() throws {
        var b = try Self.bench(dose: 600)
        b.advance(by: .hours(30))
        b.sink.oracle.evidence(at: b.controller.now)
        b.sink.dropStrokes = true
        b.advance(by: .hours(30))
        b.sink.dropStrokes = false
        b.advance(by: .hours(12))
        #expect(Self.broken(b).contains(.interruptionFloor), "\(b.violations)")
    }

    /// The oracle exempts a cessation hidden by a lying sensor ("clear" over a true occlusion or stall);
    /// a "clear" that agrees with the pump's truth hides nothing and exempts nothing.
    @Test("interruptionFloor still catches the forged resumption when a spurious 'clear' agrees with the truth")
    func truthfulClearExemptsNothing() throws {
        var b = try Self.bench(dose: 600)
        b.advance(by: .hours(30))
        b.sink.oracle.evidence(at: b.controller.now)
        b.sink.dropStrokes = true
        b.advance(by: .hours(10))
        b.spurious(.occlusion(false))
        b.spurious(.motorStall(false))
        b.advance(by: .hours(20))
        b.sink.dropStrokes = false
        b.advance(by: .hours(12))
        #expect(!b.sink.pump.occluded && !b.sink.pump.stalled)
        #expect(Self.broken(b).contains(.interruptionFloor), "\(b.violations)")
    }

    @Test("estimateNotAboveTruth catches a refill entered as 18 mL that put in 2 mL")
    func estimateAboveTruth() throws {
        var b = try Self.bench()
        b.advance(by: .hours(30))
        b.step("refill recorded as exact, done short") { b in
            let entry = RefillRequest(withdrawn: b.pump.measurableResidual, added: .millilitres(18), concentration: Concentration(microgramsPerMillilitre: 500))
            _ = b.handle(.refill(entry))
            b.sink.oracle.physicalRefill(pump: b.sink.pump, added: .millilitres(2), concentration: Concentration(microgramsPerMillilitre: 500), enteredExactly: true)
            b.sink.pump.refill(added: .millilitres(2), concentration: Concentration(microgramsPerMillilitre: 500), at: b.controller.now)
        }
        #expect(Self.broken(b) == [.estimateNotAboveTruth], "\(b.violations)")
    }

    @Test("drugConserved catches drug recorded as put in that never reached the pump")
    func drugNotConserved() throws {
        var b = try Self.bench()
        b.advance(by: .hours(30))
        b.step("refill recorded, not done") { b in
            b.sink.oracle.physicalRefill(pump: b.sink.pump, added: .millilitres(1), concentration: Concentration(microgramsPerMillilitre: 500), enteredExactly: false)
        }
        #expect(Self.broken(b) == [.drugConserved], "\(b.violations)")
    }
}

extension TherapyBench {
    /// Runs `span` normally, then adds `strokes` basal strokes of one stroke's drug at its end, as a
    /// broken controller giving missed drug in a burst would.
    mutating func forgeBurst(strokes n: Int64, over span: TimeSpan) {
        step("forged burst of \(n) strokes") { b in
            b.run(to: b.controller.now + span)
            let pg = b.controller.profile.strokeVolume.nanolitres * b.controller.reservoir.concentration.microgramsPerMillilitre
            b.sink.oracle.strokes(first: b.controller.now, last: b.controller.now, count: n, picogramsEach: pg, delivered: true,
                                  evidenceActive: false, interruptionLimit: .hours(24))
        }
    }
}
