import Testing
@testable import PumpCore

/// `recoverAfterDowntime`: the gap is missed (no burst), raised as a therapy interruption, and a gap
/// over the 24 h limit (or an unknown one) needs a clinician's confirmation before full dose.
@Suite("Downtime recovery")
struct DowntimeTests {
    /// 600 μg/day at 500 μg/mL with 0.25 μL strokes: 125 ng per stroke, 4,800 strokes/day, one every 18 s.
    static let strokeInterval = TimeSpan.seconds(18)

    @Test("a short gap: no strokes for the gap, no burst after it, alarm raised, programmed dose resumes")
    func shortGap() throws {
        var c = try Fixture.onTherapy(.continuous(ug(600)))
        _ = c.advance(to: Fixture.therapyStart + .hours(2))
        let before = c.ledger.basalStrokes
        let down = c.now
        let report = c.recoverAfterDowntime(until: down + .hours(3))
        #expect(report.gap == .hours(3))
        // 600 μg/day × 3 h = 75 μg = 75,000,000 pg missed.
        #expect(report.missedPicograms == 75_000_000)
        #expect(!report.requiresConfirmation)
        #expect(report.effects.strokes.isEmpty)
        #expect(c.ledger.basalStrokes == before)
        #expect(c.alarms.isActive(.therapyInterruption))
        #expect(c.awaitingConfirmationSince == nil)
        #expect(c.deliveringDose == ug(600))
        #expect(report.effects.eventKinds.contains(.deliveryResumed(dose: ug(600))))
        // Alerts that fell due while down are not replayed; the interruption sounds at the resume instant.
        #expect(report.effects.alerts.allSatisfy { $0.1 == down + .hours(3) })
        // The first stroke comes one full interval after resuming (credit reset), then the normal pace.
        let next = c.advance(to: down + .hours(3) + Self.strokeInterval)
        #expect(next.strokes.count == 1)
        #expect(next.strokes.first?.at == down + .hours(3) + Self.strokeInterval)
        // Acknowledging a short interruption resolves it.
        let ack = c.handle(.acknowledge(.therapyInterruption), at: c.now)
        #expect(ack.isAccepted)
        #expect(!c.alarms.isActive(.therapyInterruption))
    }

    @Test("a gap over the 24 h limit delivers the floor until confirmResumption", arguments: [TimeSpan.hours(24) + ns(1), .days(3)])
    func longGap(gap: TimeSpan) throws {
        var c = try Fixture.onTherapy(.continuous(ug(600)))
        _ = c.advance(to: Fixture.therapyStart + .hours(2))
        let down = c.now
        let report = c.recoverAfterDowntime(until: down + gap)
        #expect(report.requiresConfirmation)
        #expect(c.awaitingConfirmationSince == down)
        #expect(c.deliveringDose == .floor)
        #expect(c.alarms.isActive(.therapyInterruption))
        #expect(report.effects.strokes.isEmpty)
        // Acknowledging does not clear it; the programmed dose is not accepted as a new program either.
        _ = c.handle(.acknowledge(.therapyInterruption), at: c.now)
        #expect(c.alarms.isActive(.therapyInterruption))
        #expect(c.handle(.program(.continuous(ug(600))), at: c.now).refusal == .deliveryAwaitsConfirmation(since: down))
        try c.handle(.confirmResumption(.continuous(ug(600))), at: c.now).accepted()
        #expect(c.deliveringDose == ug(600))
        #expect(!c.alarms.isActive(.therapyInterruption))
    }

    @Test("exactly the limit resumes the programmed dose")
    func gapAtLimit() throws {
        var c = try Fixture.onTherapy()
        let report = c.recoverAfterDowntime(until: c.now + .hours(24))
        #expect(!report.requiresConfirmation)
        #expect(c.awaitingConfirmationSince == nil)
    }

    @Test("an unknown downtime (wall clock went backwards) is treated as over the limit")
    func unknownGap() throws {
        var c = try Fixture.onTherapy()
        let report = c.recoverAfterDowntime(until: c.now, durationKnown: false)
        #expect(report.requiresConfirmation)
        #expect(c.deliveringDose == .floor)
    }

    @Test("a bolus in progress is ended, not resumed; screening and priming are kept")
    func interruptedTestDose() throws {
        var c = try Fixture.primed(c50)
        try c.handle(.testDose(.micrograms(50)), at: at(.hours(1))).accepted()
        _ = c.advance(to: at(.hours(1)) + .seconds(30))
        let given = try #require(c.bolus).given
        #expect(given > 0)
        let report = c.recoverAfterDowntime(until: at(.hours(5)))
        #expect(report.interruptedBolus?.given == given)
        #expect(c.bolus == nil)
        #expect(report.effects.strokes.isEmpty)
        #expect(c.primed)
        #expect(c.screening.doses.count == 1)
        // Not in therapy: no interruption alarm; the test dose cannot be repeated within 24 h.
        #expect(!c.alarms.isActive(.therapyInterruption))
        #expect(c.handle(.prime(confirmVolume: c.primingVolume), at: c.now).refusal == .alreadyPrimed)
        #expect(c.handle(.testDose(.micrograms(50)), at: c.now).refusal != nil)
    }

    @Test("an interrupted priming is completed with what it had left: never restarted, never skipped")
    func interruptedPriming() throws {
        var c = try Fixture.filled()
        try c.handle(.prime(confirmVolume: nl(Bench.deadNL)), at: .zero).accepted()
        // 5 of the bolus's ~20.2 minutes: 16,667 nL/min × 5 min ≈ 333 strokes.
        _ = c.advance(to: at(.minutes(5)))
        let given = try #require(c.bolus).given
        #expect(given > 300 && given < Bench.primingStrokes)
        let report = c.recoverAfterDowntime(until: at(.hours(2)))
        #expect(report.interruptedBolus?.given == given && c.bolus == nil && !c.primed)
        // The column keeps the drug the bolus pushed; the priming volume is what is left.
        let left = nl((Bench.primingStrokes - given) * Bench.strokeNL)
        #expect(c.primingVolume == left)
        // A second full priming (which would push `given` strokes of drug out to the patient) is refused…
        #expect(c.handle(.prime(confirmVolume: nl(Bench.deadNL)), at: c.now).refusal
                == .primingVolumeMismatch(confirmed: nl(Bench.deadNL), computed: left))
        // …therapy cannot start on a partly primed catheter…
        #expect(c.handle(.startTherapy(.continuous(ug(600)), basis: .transfer(previousDailyDose: ug(600))), at: c.now).refusal
                == .notPrimed(primingVolume: left))
        // …and confirming the remainder completes the priming exactly.
        try c.handle(.prime(confirmVolume: left), at: c.now).accepted()
        _ = c.advance(to: c.now + .hours(1))
        #expect(c.primed && c.primingVolume == .zero)
        #expect(c.ledger.priming.strokes == Bench.primingStrokes)
        #expect(c.ledger.priming.picograms == 0, "priming delivers no drug at the tip")
        #expect(c.catheter.isUniform(c500))
        #expect(c.handle(.prime(confirmVolume: .zero), at: c.now).refusal == .alreadyPrimed)
    }

    @Test("taper steps and therapy days that fell in the gap are processed at their instants, without strokes")
    func deadlinesInGap() throws {
        var c = try Fixture.onTherapy(.continuous(ug(600)))
        try c.handle(.stop(taperDays: nil, override: nil), at: Fixture.therapyStart + .hours(1)).accepted()
        let report = c.recoverAfterDowntime(until: Fixture.therapyStart + .days(3) + .hours(1))
        #expect(report.effects.strokes.isEmpty)
        let days = report.effects.eventKinds.compactMap { if case let .dailyDelivery(d, _, _) = $0 { return d } else { return nil } }
        #expect(days == [1, 2, 3])
        #expect(report.effects.eventKinds.contains { if case .taperStep = $0 { return true } else { return false } })
        #expect(report.requiresConfirmation)
    }

    @Test("a halted pump stays halted; the refill then measures the interruption from the halt")
    func haltedStaysHalted() throws {
        var c = try Fixture.onTherapy(.continuous(ug(1200)), volume: .millilitres(1))
        _ = c.advance(to: Fixture.therapyStart + .days(1))
        let halted = try #require(c.haltedSince)
        let report = c.recoverAfterDowntime(until: c.now + .hours(2))
        #expect(c.haltedSince == halted)
        #expect(!c.alarms.isActive(.therapyInterruption))
        #expect(report.missedPicograms == 0)
    }

    @Test("an instant before now changes nothing")
    func backwards() throws {
        var c = try Fixture.onTherapy()
        _ = c.advance(to: Fixture.therapyStart + .hours(1))
        let before = c
        let report = c.recoverAfterDowntime(until: Fixture.therapyStart)
        #expect(report.gap == .zero)
        #expect(c == before)
    }
}
