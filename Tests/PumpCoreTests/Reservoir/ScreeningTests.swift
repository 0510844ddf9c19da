import Testing
@testable import PumpCore

/// Screening at 50 μg/mL on the bench profile: each 250 nL stroke carries 250 × 50 = 12,500 pg, so a
/// test dose of D μg is D × 10⁶ / 12,500 = 80·D strokes = 20·D μL (25 μg: 0.5 mL; 50 μg: 1 mL).
@Suite("Screening: priming and test doses")
struct ScreeningTests {
    /// Bolus time at 16,667 nL/min, rounded up to the ns: ⌈nL × 60 × 10⁹ / 16,667⌉ (1 mL ≈ 59.9988 min).
    static func bolusDuration(_ nanolitres: Int64) -> TimeSpan {
        let n = Int128(nanolitres) * 60_000_000_000
        return ns(Int64((n + 16_666) / 16_667))
    }
    static let t0 = Fixture.therapyStart // 1 h: the primed fixture is past its priming bolus

    static func screening(settings: ControllerSettings = ControllerSettings(), profile: PumpProfile = .bench20) throws -> PumpController {
        try Fixture.primed(c50, profile: profile, settings: settings)
    }

    /// Gives `dose` μg at `t`, runs the bolus to its end, records `response` at the end; returns the end.
    @discardableResult
    static func give(_ c: inout PumpController, _ dose: Int64, at t: Instant, response: TestDoseResponse?) throws -> Instant {
        let volume = nl(20_000 * dose)
        let end = t + bolusDuration(volume.nanolitres)
        let r = c.handle(.testDose(.micrograms(dose)), at: t)
        #expect(try r.accepted() == .bolusStarted(purpose: .testDose, target: .micrograms(dose), volume: volume, endsAt: end))
        _ = c.advance(to: end)
        #expect(c.bolus == nil)
        if let response { try c.handle(.recordTestDoseResponse(response), at: end).accepted() }
        return end
    }

    // MARK: priming

    @Test("priming: the confirmed volume must equal the computed one exactly, and the message says which")
    func primingConfirmation() throws {
        var c = try Fixture.filled(c50)
        // One stroke more than the dead volume: 336,250 nL.
        let r = expectRefusal(&c, .prime(confirmVolume: nl(336_250)), at: .zero)
        #expect(r == .primingVolumeMismatch(confirmed: nl(336_250), computed: nl(336_000)))
        #expect(r?.description == "the confirmed priming volume 0.33625 mL is not the computed 0.336 mL (the pump internal + catheter dead volume not yet primed); confirm 0.336 mL")
        #expect(expectRefusal(&c, .prime(confirmVolume: nl(335_999)), at: .zero) == .primingVolumeMismatch(confirmed: nl(335_999), computed: nl(336_000)))
        try c.handle(.prime(confirmVolume: nl(336_000)), at: .zero).accepted()
        // During the bolus: refused as in progress; after it: refused as already primed.
        let end = at(Self.bolusDuration(336_000))
        #expect(expectRefusal(&c, .prime(confirmVolume: nl(336_000)), at: end - ns(1)) == .bolusInProgress(endsAt: end))
        _ = c.advance(to: end)
        #expect(c.primed)
        #expect(expectRefusal(&c, .prime(confirmVolume: nl(336_000)), at: end) == .alreadyPrimed)
    }

    @Test("the priming volume is the dead volume rounded up to whole strokes")
    func primingVolumeRoundsUp() throws {
        var p = PumpProfile.bench20
        p.catheterVolume = PumpProfile.catheterVolume(lengthCentimetres: 100) // 260,000 nL
        // 50,000 + 260,000 = 310,000 nL = 1,240 strokes exactly; with a 300 nL stroke: ⌈310,000/300⌉ = 1,034
        // strokes = 310,200 nL.
        #expect(try PumpController(profile: p).primingVolume == nl(310_000))
        p.strokeVolume = nl(300)
        #expect(try PumpController(profile: p).primingVolume == nl(310_200))
    }

    @Test("priming needs a filled reservoir holding the priming volume")
    func primingPreconditions() throws {
        var empty = try Fixture.controller()
        #expect(expectRefusal(&empty, .prime(confirmVolume: nl(336_000)), at: .zero) == .reservoirNotFilled)
        // 0.3 mL fill < 0.336 mL priming volume.
        var small = try Fixture.filled(c500, volume: nl(300_000))
        #expect(expectRefusal(&small, .prime(confirmVolume: nl(336_000)), at: .zero)
            == .insufficientDrug(needed: nl(336_000), available: nl(300_000)))
    }

    // MARK: test doses

    @Test("test doses need a primed catheter")
    func testDoseNeedsPriming() throws {
        var c = try Fixture.filled(c50)
        #expect(expectRefusal(&c, .testDose(.micrograms(50)), at: .zero) == .notPrimed(primingVolume: nl(336_000)))
    }

    @Test("only 25 or 50 μg first; never other amounts", arguments: [Int64(75), 100, 30, 0, 125])
    func firstDoseAmounts(_ dose: Int64) throws {
        var c = try Self.screening()
        let r = expectRefusal(&c, .testDose(.micrograms(dose)), at: Self.t0)
        #expect(r == .testDoseNotAllowed(requested: .micrograms(dose), allowed: [.micrograms(25), .micrograms(50)]))
    }

    @Test("a 50 μg test dose delivers exactly 50 μg as 4,000 strokes over the bolus time, logged with its response")
    func fiftyMicrograms() throws {
        var c = try Self.screening()
        let end = try Self.give(&c, 50, at: Self.t0, response: nil)
        #expect(end == Self.t0 + ns(3_599_928_001_440))
        #expect(c.ledger.deliveredPicograms(.testDose) == 50_000_000)
        #expect(c.ledger.strokeCount(.testDose, strokeVolume: nl(250)) == 4_000)
        // 20 mL − 0.336 mL priming − 1 mL test dose = 18.664 mL.
        #expect(c.reservoir.estimate == nl(18_664_000))
        let r = c.handle(.recordTestDoseResponse(.noResponse), at: end)
        #expect(try r.accepted() == .responseRecorded(offeredStartingDose: nil))
        #expect(r.events == [.testDoseResponse(dose: .micrograms(50), response: .noResponse)])
        #expect(c.screening.doses.map(\.response) == [.noResponse])
    }

    @Test("a bolus lasts at least one minute, its strokes evenly spread")
    func bolusAtLeastOneMinute() throws {
        var c = try Self.screening(profile: Fixture.fastBolusProfile)
        // 25 μg = 2,000 strokes = 0.5 mL; at 1 mL/min that is 30 s, so the bolus is stretched to 60 s:
        // stroke k at t0 + ⌈k × 60 s / 2,000⌉ = t0 + k × 30 ms.
        let r = c.handle(.testDose(.micrograms(25)), at: Self.t0)
        #expect(try r.accepted() == .bolusStarted(purpose: .testDose, target: .micrograms(25), volume: nl(500_000), endsAt: Self.t0 + .minutes(1)))
        let strokes = c.advance(to: Self.t0 + .minutes(1)).strokes
        #expect(strokes.count == 2_000)
        #expect(strokes.first?.at == Self.t0 + .milliseconds(30))
        #expect(strokes.last?.at == Self.t0 + .minutes(1))
        #expect(strokes.enumerated().allSatisfy { $0.element.at == Self.t0 + .milliseconds(30 * Int64($0.offset + 1)) })
    }

    @Test("bolus in progress: no second test dose, no response yet")
    func bolusInProgress() throws {
        var c = try Self.screening()
        try c.handle(.testDose(.micrograms(25)), at: Self.t0).accepted()
        let end = Self.t0 + Self.bolusDuration(500_000)
        let mid = Self.t0 + .minutes(10)
        #expect(expectRefusal(&c, .testDose(.micrograms(25)), at: mid) == .bolusInProgress(endsAt: end))
        #expect(expectRefusal(&c, .recordTestDoseResponse(.noResponse), at: mid) == .bolusInProgress(endsAt: end))
    }

    @Test("observation lockout (8 h by default, 4 h when set) refuses a bolus until it ends", arguments: [Int64(8), 4])
    func observationLockout(_ hours: Int64) throws {
        var s = ControllerSettings()
        s.observationLockout = .hours(hours)
        var c = try Self.screening(settings: s)
        let end = try Self.give(&c, 25, at: Self.t0, response: nil)
        let until = end + .hours(hours)
        #expect(expectRefusal(&c, .testDose(.micrograms(25)), at: until - ns(1)) == .observationLockout(until: until))
        // At the end of the lockout the next rule speaks: the response is still pending.
        #expect(expectRefusal(&c, .testDose(.micrograms(25)), at: until) == .testDoseResponsePending(dose: .micrograms(25)))
    }

    @Test("escalation: 24 h apart, one step up only after a recorded non-response")
    func escalation() throws {
        var c = try Self.screening()
        try Self.give(&c, 50, at: Self.t0, response: .noResponse)
        // After no response at 50 μg: 50 or 75 μg, not 100 or 25.
        let next = Self.t0 + .hours(24)
        // 1 ns short of 24 h after the previous start: too soon.
        #expect(expectRefusal(&c, .testDose(.micrograms(75)), at: next - ns(1))
            == .testDoseTooSoon(previousAt: Self.t0, allowedFrom: next))
        #expect(expectRefusal(&c, .testDose(.micrograms(100)), at: next)
            == .testDoseNotAllowed(requested: .micrograms(100), allowed: [.micrograms(50), .micrograms(75)]))
        #expect(expectRefusal(&c, .testDose(.micrograms(25)), at: next)
            == .testDoseNotAllowed(requested: .micrograms(25), allowed: [.micrograms(50), .micrograms(75)]))
        try Self.give(&c, 75, at: next, response: .noResponse)
        try Self.give(&c, 100, at: next + .hours(24), response: .noResponse)
        // No response at 100 μg: not a candidate, whatever is asked.
        for dose: Int64 in [25, 50, 75, 100] {
            #expect(expectRefusal(&c, .testDose(.micrograms(dose)), at: next + .hours(48)) == .notACandidate)
        }
        #expect(c.screening.doses.map(\.dose) == [.micrograms(50), .micrograms(75), .micrograms(100)])
        // 50 + 75 + 100 μg delivered exactly.
        #expect(c.ledger.deliveredPicograms(.testDose) == 225_000_000)
    }

    struct OfferCase: Sendable, CustomTestStringConvertible {
        var dose: Int64; var long: Bool; var offered: DoseRate
        var testDescription: String { "\(dose) μg effective\(long ? " > 8 h" : "") → \(offered)" }
    }
    @Test("the offered starting dose is twice the effective test dose, or the dose itself if it lasted > 8 h", arguments: [
        OfferCase(dose: 50, long: false, offered: ug(100)),
        OfferCase(dose: 50, long: true, offered: ug(50)),
        OfferCase(dose: 25, long: false, offered: ug(50)),
        OfferCase(dose: 25, long: true, offered: ug(25)),
    ])
    func offer(_ k: OfferCase) throws {
        var c = try Self.screening()
        let end = try Self.give(&c, k.dose, at: Self.t0, response: nil)
        let r = c.handle(.recordTestDoseResponse(.effective(lastedOverEightHours: k.long)), at: end)
        #expect(try r.accepted() == .responseRecorded(offeredStartingDose: k.offered))
        #expect(c.screening.offeredStartingDose == k.offered)
        // Screening is complete: no further test dose.
        #expect(expectRefusal(&c, .testDose(.micrograms(k.dose)), at: Self.t0 + .days(2))
            == .screeningComplete(effectiveDose: .micrograms(k.dose)))
    }

    @Test("the offer after escalation uses the effective dose: 75 μg → 150 μg/day")
    func offerAfterEscalation() throws {
        var c = try Self.screening()
        try Self.give(&c, 50, at: Self.t0, response: .noResponse)
        try Self.give(&c, 75, at: Self.t0 + .hours(24), response: .effective(lastedOverEightHours: false))
        #expect(c.screening.offeredStartingDose == ug(150))
    }

    @Test("responses: none to record without a dose, none twice")
    func responses() throws {
        var c = try Self.screening()
        #expect(expectRefusal(&c, .recordTestDoseResponse(.noResponse), at: Self.t0) == .noTestDoseToRecord)
        let end = try Self.give(&c, 25, at: Self.t0, response: .noResponse)
        #expect(expectRefusal(&c, .recordTestDoseResponse(.noResponse), at: end) == .noTestDoseToRecord)
    }

    @Test("a test dose larger than the reservoir holds is refused")
    func insufficientDrug() throws {
        // 1 mL fill less 0.336 mL priming = 664,000 nL; 50 μg needs 1 mL.
        var c = try Fixture.primed(c50, volume: .millilitres(1))
        #expect(expectRefusal(&c, .testDose(.micrograms(50)), at: Self.t0)
            == .insufficientDrug(needed: .millilitres(1), available: nl(664_000)))
    }

    // MARK: from screening to therapy

    /// Screening at 50 μg/mL with an effective 50 μg dose (offer 100 μg/day), then a confirmed refill
    /// with 500 μg/mL at the end of the test dose. Returns the controller and the end of the test dose.
    static func screenedAndRefilled(settings: ControllerSettings = ControllerSettings()) throws -> (PumpController, Instant) {
        var c = try screening(settings: settings)
        let end = try give(&c, 50, at: t0, response: .effective(lastedOverEightHours: false))
        try c.handle(.refill(RefillRequest(withdrawn: c.reservoir.estimate, added: .millilitres(20), concentration: c500,
                                           confirmConcentrationChange: true)), at: end).accepted()
        return (c, end)
    }

    @Test("therapy cannot start during the observation lockout, nor above the offer")
    func startAfterScreening() throws {
        var (c, end) = try Self.screenedAndRefilled()
        let until = end + .hours(8)
        #expect(expectRefusal(&c, .startTherapy(.continuous(ug(100)), basis: .testDose), at: until - ns(1)) == .observationLockout(until: until))
        #expect(expectRefusal(&c, .startTherapy(.continuous(ngPerDay(100_001)), basis: .testDose), at: until)
            == .startDoseAboveOffer(requested: ngPerDay(100_001), offered: ug(100)))
        // A flex schedule whose daily dose is above the offer is refused too: (120·12 + 90·12)/24 = 105.
        let flex = Schedule.flex([step(0, 0, ug(120)), step(12, 0, ug(90))])
        #expect(expectRefusal(&c, .startTherapy(flex, basis: .testDose), at: until)
            == .startDoseAboveOffer(requested: ug(105), offered: ug(100)))
        let r = c.handle(.startTherapy(.continuous(ug(100)), basis: .testDose), at: until)
        #expect(try r.accepted() == .programmed(ProgramSummary(schedule: .continuous(ug(100)), dailyDose: ug(100), concentration: c500)))
        #expect(c.phase == .running(since: until))
        // 100,000 ng/day × 1000 / 500 = 200,000 nL/day.
        #expect(r.events.contains(.therapyStarted(schedule: .continuous(ug(100)), dailyDose: ug(100), volumeRate: VolumeRate(nanolitresPerDay: 200_000))))
        // No more test doses once therapy runs.
        #expect(expectRefusal(&c, .testDose(.micrograms(25)), at: until + .days(2)) == .therapyAlreadyStarted)
    }

    @Test("no increase during the first 24 h of therapy, then up to the titration limit")
    func noIncreaseFirstDay() throws {
        var (c, end) = try Self.screenedAndRefilled()
        let start = end + .hours(8)
        try c.handle(.startTherapy(.continuous(ug(100)), basis: .testDose), at: start).accepted()
        let day = start + .hours(24)
        #expect(expectRefusal(&c, .program(.continuous(ngPerDay(100_001))), at: day - ns(1))
            == .increaseDuringFirstDay(requested: ngPerDay(100_001), current: ug(100), allowedFrom: day))
        // A decrease is allowed in the first day (20 %: down to 80).
        var d = c
        try d.handle(.program(.continuous(ug(80))), at: day - ns(1)).accepted()
        // From 24 h: +30 % → 130 μg/day.
        try c.handle(.program(.continuous(ug(130))), at: day).accepted()
        #expect(c.programmedDose == ug(130))
    }

    @Test("therapy start needs an effective test dose (or a transfer), a primed catheter and a therapy concentration")
    func startPreconditions() throws {
        var fresh = try Fixture.primed(c500)
        #expect(expectRefusal(&fresh, .startTherapy(.continuous(ug(100)), basis: .testDose), at: Self.t0) == .noEffectiveTestDose)
        #expect(expectRefusal(&fresh, .startTherapy(.continuous(ngPerDay(600_001)), basis: .transfer(previousDailyDose: ug(600))), at: Self.t0)
            == .startDoseAbovePreviousPump(requested: ngPerDay(600_001), previous: ug(600)))
        var screeningOnly = try Self.screening()
        #expect(expectRefusal(&screeningOnly, .startTherapy(.continuous(ug(100)), basis: .transfer(previousDailyDose: ug(100))), at: Self.t0)
            == .screeningConcentrationForTherapy)
        var unprimed = try Fixture.filled(c500)
        #expect(expectRefusal(&unprimed, .startTherapy(.continuous(ug(100)), basis: .transfer(previousDailyDose: ug(100))), at: .zero)
            == .notPrimed(primingVolume: nl(336_000)))
    }
}

/// A 25 μg responder whose effect lasted more than 8 h is offered 25 μg/day, below the floor no
/// schedule may go under; therapy may then start at the floor and no higher.
@Suite("Screening offer below the floor")
struct OfferBelowFloorTests {
    @Test("offer 25 μg/day: start at 50 μg/day accepted, 51 μg/day refused")
    func offerBelowFloor() throws {
        var c = try Fixture.primed(.screening)
        let t0 = c.now + .hours(1)
        try c.handle(.testDose(.micrograms(25)), at: t0).accepted()
        let recordAt = t0 + .hours(9)
        _ = c.advance(to: recordAt)
        try c.handle(.recordTestDoseResponse(.effective(lastedOverEightHours: true)), at: recordAt).accepted()
        #expect(c.screening.offeredStartingDose == ug(25))
        #expect(c.screening.permittedStartingDose == .floor)
        let refillAt = recordAt + .hours(1)
        try c.handle(.refill(RefillRequest(withdrawn: c.reservoir.estimate, added: .millilitres(20), concentration: c500,
                                           confirmConcentrationChange: true)), at: refillAt).accepted()
        let tooHigh = c.handle(.startTherapy(.continuous(ug(51)), basis: .testDose), at: refillAt)
        #expect(tooHigh.refusal == .startDoseAboveOffer(requested: ug(51), offered: ug(25)))
        #expect(tooHigh.refusal?.description.contains("floor") == true)
        try c.handle(.startTherapy(.continuous(ug(50)), basis: .testDose), at: refillAt).accepted()
        #expect(c.deliveringDose == ug(50))
    }
}
