import Testing
@testable import PumpCore

/// 600 μg/day at 500 μg/mL is 1.2 mL/day: 1 nL every 86,400 s / 1,200,000 = 72 ms. 1200 μg/day is
/// 2.4 mL/day: 1 nL every 36 ms.
@Suite("Reservoir and refill")
struct ReservoirTests {
    static let start = Fixture.therapyStart

    @Test("the estimate falls by one stroke volume per basal, priming and bolus stroke")
    func estimate() throws {
        var c = try Fixture.onTherapy(.continuous(ug(600)))
        // After priming: 20 mL − 336,000 nL = 19,664,000 nL.
        #expect(c.reservoir.estimate == nl(19_664_000))
        // One day at 600 μg/day: 4,800 strokes × 250 nL = 1.2 mL.
        _ = c.advance(to: Self.start + .days(1))
        #expect(c.reservoir.estimate == nl(18_464_000))
        #expect(c.reservoir.pumpedSinceFill == nl(336_000 + 1_200_000))
        #expect(c.ledger.pumpedVolume(.basal, strokeVolume: nl(250)) == nl(1_200_000))
    }

    @Test("projected instants under a continuous rate, in closed form")
    func projectionContinuous() throws {
        var c = try Fixture.onTherapy(.continuous(ug(600)))
        // Low (4 mL): (19,664,000 − 4,000,000) nL × 72 ms = 1,127,808 s.
        let low = Self.start + .seconds(1_127_808)
        #expect(c.projectedInstant(whenVolumeReaches: .millilitres(4)) == low)
        // Empty (below one 250 nL stroke, i.e. 249 nL): (19,664,000 − 249) × 72 ms = 1,415,790.072 s.
        let empty = Self.start + .milliseconds(1_415_790_072)
        #expect(c.projectedEmpty == empty)
        // A day later the projections are unchanged (exactly 4,800 strokes were given).
        _ = c.advance(to: Self.start + .days(1))
        #expect(c.projectedEmpty == empty)
        #expect(c.projectedInstant(whenVolumeReaches: .millilitres(4)) == low)
        // Already below the level: now.
        #expect(c.projectedInstant(whenVolumeReaches: .millilitres(19)) == Self.start + .days(1))
        // No projection before therapy delivers.
        #expect(try Fixture.primed().projectedEmpty == nil)
    }

    @Test("projected instant under a flex schedule, walked step by step by hand")
    func projectionFlex() throws {
        // 00–12 at 1200, 12–24 at 600 μg/day: 900 μg/day. Therapy starts at 01:00 with 19.664 mL at
        // 500 μg/mL; down to 4 mL is 15.664 mL = 7,832 μg. Eight whole days = 7,200 μg (back at 01:00),
        // then 01:00–12:00 at 1200 (50 μg/h) = 550 μg, then 82 μg at 600 μg/day = 82/600 day = 11,808 s.
        let c = try Fixture.onTherapy(.flex([step(0, 0, ug(1200)), step(12, 0, ug(600))]))
        let low = at(.days(8) + .hours(12) + .seconds(11_808))
        #expect(c.projectedInstant(whenVolumeReaches: .millilitres(4)) == low)
        // The refill-due alarm is set 7 days before.
        #expect(c.refillDueAt == low - .days(7))
    }

    @Test("overfill and impossible residuals are refused; a full fill is accepted", arguments: [Int64(20_000_000), 40_000_000])
    func overfill(_ capacity: Int64) throws {
        let profile: PumpProfile = capacity == 20_000_000 ? .bench20 : .bench40
        var c = try Fixture.onTherapy(volume: .millilitres(20), profile: profile)
        let t = Self.start + .days(1)
        let est = nl(18_464_000)
        #expect(expectRefusal(&c, .refill(RefillRequest(withdrawn: est, added: nl(capacity + 1), concentration: c500)), at: t)
            == .overfill(volume: nl(capacity + 1), capacity: nl(capacity)))
        #expect(expectRefusal(&c, .refill(RefillRequest(withdrawn: est, added: nl(-1), concentration: c500)), at: t)
            == .overfill(volume: nl(-1), capacity: nl(capacity)))
        #expect(expectRefusal(&c, .refill(RefillRequest(withdrawn: nl(capacity + 1), added: .millilitres(20), concentration: c500)), at: t)
            == .residualOutOfRange(withdrawn: nl(capacity + 1), capacity: nl(capacity)))
        #expect(expectRefusal(&c, .refill(RefillRequest(withdrawn: nl(-1), added: .millilitres(20), concentration: c500)), at: t)
            == .residualOutOfRange(withdrawn: nl(-1), capacity: nl(capacity)))
        try c.handle(.refill(RefillRequest(withdrawn: est, added: nl(capacity), concentration: c500)), at: t).accepted()
        #expect(c.reservoir.estimate == nl(capacity))
        #expect(c.reservoir.pumpedSinceFill == .zero)
        #expect(c.reservoir.filledAt == t)
    }

    struct DiscrepancyCase: Sendable, CustomTestStringConvertible {
        var withdrawn: Int64; var discrepant: Bool; var note: String
        var testDescription: String { "\(note): withdrawn \(withdrawn) nL → \(discrepant ? "alarm" : "no alarm")" }
    }
    /// Filled with 20 mL and primed: 336,000 nL pumped, estimate 19,664,000 nL. 14.5 % of 336,000 =
    /// 48,720 nL exactly.
    @Test("discrepancy alarm beyond exactly 14.5 % of the volume pumped since the previous refill", arguments: [
        DiscrepancyCase(withdrawn: 19_664_000, discrepant: false, note: "as estimated"),
        DiscrepancyCase(withdrawn: 19_615_280, discrepant: false, note: "48,720 short (exactly 14.5 %)"),
        DiscrepancyCase(withdrawn: 19_615_279, discrepant: true, note: "48,721 short"),
        DiscrepancyCase(withdrawn: 19_712_720, discrepant: false, note: "48,720 over (exactly 14.5 %)"),
        DiscrepancyCase(withdrawn: 19_712_721, discrepant: true, note: "48,721 over"),
        DiscrepancyCase(withdrawn: 0, discrepant: true, note: "nothing withdrawn (pocket fill sign)"),
    ])
    func discrepancyAfterPriming(_ k: DiscrepancyCase) throws {
        var c = try Fixture.primed()
        let t = at(.hours(2))
        let r = c.handle(.refill(RefillRequest(withdrawn: nl(k.withdrawn), added: .millilitres(20), concentration: c500)), at: t)
        let record = RefillRecord(withdrawn: nl(k.withdrawn), estimated: nl(19_664_000), added: .millilitres(20), concentration: c500,
                                  previousConcentration: c500, deliveredSincePrevious: nl(336_000), discrepancy: k.discrepant)
        #expect(try r.accepted() == .refilled(record))
        #expect(r.events.contains(.refilled(record)))
        #expect(c.alarms.isActive(.refillDiscrepancy) == k.discrepant)
        if k.discrepant {
            #expect(c.alarms[.refillDiscrepancy]?.priority == .high)
            // Acknowledging resolves it (its cause is an event, not a condition).
            try c.handle(.acknowledge(.refillDiscrepancy), at: t + .minutes(1)).accepted()
            #expect(!c.alarms.isActive(.refillDiscrepancy))
        }
    }

    @Test("discrepancy during therapy: 2 mL pumped gives a 290 μL tolerance", arguments: [
        (Int64(17_710_000), false), (Int64(17_709_999), true), (Int64(18_290_000), false), (Int64(18_290_001), true),
    ])
    func discrepancyDuringTherapy(_ withdrawn: Int64, _ discrepant: Bool) throws {
        // 1200 μg/day: a stroke every 9 s. Priming 336,000 nL + 6,656 strokes × 250 nL = 2,000,000 nL at
        // start + 6,656 × 9 s = 59,904 s; estimate 18 mL; 14.5 % of 2 mL = 290,000 nL.
        var c = try Fixture.onTherapy(.continuous(ug(1200)))
        let t = Self.start + .seconds(59_904)
        _ = c.advance(to: t)
        #expect(c.reservoir.pumpedSinceFill == .millilitres(2))
        #expect(c.reservoir.estimate == .millilitres(18))
        try c.handle(.refill(RefillRequest(withdrawn: nl(withdrawn), added: .millilitres(20), concentration: c500)), at: t).accepted()
        #expect(c.alarms.isActive(.refillDiscrepancy) == discrepant)
    }

    @Test("the first fill is never discrepant")
    func firstFill() throws {
        var c = try Fixture.controller()
        let r = c.handle(.refill(RefillRequest(withdrawn: .millilitres(5), added: .millilitres(20), concentration: c500)), at: .zero)
        guard case let .refilled(record)? = try? r.accepted() else { Issue.record("refused"); return }
        #expect(!record.discrepancy)
        #expect(record.previousConcentration == .none)
        #expect(!c.alarms.isActive(.refillDiscrepancy))
    }

    @Test("a concentration change is refused unless confirmed; confirmed, μg/day is kept and mL/day recomputed")
    func concentrationChange() throws {
        var c = try Fixture.onTherapy(.continuous(ug(600)))
        let t = Self.start + .days(1)
        let unconfirmed = RefillRequest(withdrawn: nl(18_464_000), added: .millilitres(20), concentration: c2000)
        let r = expectRefusal(&c, .refill(unconfirmed), at: t)
        #expect(r == .concentrationChangeNotConfirmed(from: c500, to: c2000))
        #expect(r?.description == "the concentration changes from 500 μg/mL to 2000 μg/mL; confirm the new concentration explicitly")
        var confirmed = unconfirmed
        confirmed.confirmConcentrationChange = true
        let ok = c.handle(.refill(confirmed), at: t)
        try ok.accepted()
        // 600,000 ng/day × 1000 / 2000 = 300,000 nL/day.
        #expect(ok.events.contains(.concentrationChanged(from: c500, to: c2000, volumeRate: VolumeRate(nanolitresPerDay: 300_000))))
        #expect(c.schedule == .continuous(ug(600)))
        #expect(c.programmedDose == ug(600))
        #expect(c.deliveringDose == ug(600))
        #expect(c.reservoir.concentration == c2000)
        // The same concentration needs no confirmation.
        try c.handle(.refill(RefillRequest(withdrawn: c.reservoir.estimate, added: .millilitres(20), concentration: c2000)), at: t + .hours(1)).accepted()
    }

    @Test("a concentration change that would put the schedule below the patency minimum is refused")
    func concentrationChangeBelowPatency() throws {
        // 50 μg/day at 1000 μg/mL is 0.05 mL/day (≥ 0.048); at 2000 it would be 0.025 mL/day.
        var c = try Fixture.onTherapy(.continuous(ug(50)), concentration: c1000)
        let r = expectRefusal(&c, .refill(RefillRequest(withdrawn: c.reservoir.estimate, added: .millilitres(20), concentration: c2000,
                                                        confirmConcentrationChange: true)), at: Self.start + .hours(1))
        #expect(r == .invalidSchedule(.belowPatencyRate(step: nil, rate: ug(50), volumeRate: VolumeRate(nanolitresPerDay: 25_000),
                                                        concentration: c2000, minimum: VolumeRate(nanolitresPerDay: 48_000))))
    }

    @Test("screening concentration is refused for therapy; other concentrations are refused always", arguments: [Int64(50), 750, 0, 5000])
    func concentrations(_ ugPerML: Int64) throws {
        var c = try Fixture.onTherapy()
        let conc = Concentration(microgramsPerMillilitre: ugPerML)
        let r = expectRefusal(&c, .refill(RefillRequest(withdrawn: nl(19_664_000), added: .millilitres(20), concentration: conc,
                                                        confirmConcentrationChange: true)), at: Self.start)
        #expect(r == (ugPerML == 50 ? .screeningConcentrationForTherapy : .concentrationNotAllowed(conc)))
    }

    @Test("a refill is refused during a bolus")
    func refillDuringBolus() throws {
        var c = try Fixture.filled(c50)
        try c.handle(.prime(confirmVolume: nl(336_000)), at: .zero).accepted()
        let end = at(ScreeningTests.bolusDuration(336_000))
        #expect(expectRefusal(&c, .refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: c50)), at: at(.minutes(1)))
            == .bolusInProgress(endsAt: end))
    }
}
