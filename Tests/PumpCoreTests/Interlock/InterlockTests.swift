import Testing
@testable import PumpCore

@Suite("Interlock: dose changes")
struct DoseChangeTests {
    static let start = Fixture.therapyStart

    struct ChangeCase: Sendable, CustomTestStringConvertible {
        var group: PatientGroup; var to: DoseRate; var expected: Refusal?
        var testDescription: String { "\(group) 600 → \(to): \(expected.map { "\($0)" } ?? "accepted")" }
    }
    /// From 600 μg/day, 24 h after the start (increases allowed): decreases to 600 × 0.8 = 480 μg/day;
    /// increases to 600 × 1.3 = 780 (spinal) or 600 × 1.15 = 690 (cerebral, paediatric).
    @Test("decrease and increase limits at their edges", arguments: [
        ChangeCase(group: .spinal, to: ug(480), expected: nil),
        ChangeCase(group: .spinal, to: ngPerDay(479_999), expected: .decreaseTooLarge(requested: ngPerDay(479_999), reference: ug(600), limit: .percent(20), smallestAllowed: ug(480))),
        ChangeCase(group: .spinal, to: ug(780), expected: nil),
        ChangeCase(group: .spinal, to: ngPerDay(780_001), expected: .increaseTooLarge(requested: ngPerDay(780_001), reference: ug(600), limit: .percent(30), largestAllowed: ug(780))),
        ChangeCase(group: .cerebral, to: ug(690), expected: nil),
        ChangeCase(group: .cerebral, to: ngPerDay(690_001), expected: .increaseTooLarge(requested: ngPerDay(690_001), reference: ug(600), limit: .percent(15), largestAllowed: ug(690))),
        ChangeCase(group: .paediatric, to: ug(690), expected: nil),
        ChangeCase(group: .paediatric, to: ngPerDay(690_001), expected: .increaseTooLarge(requested: ngPerDay(690_001), reference: ug(600), limit: .percent(15), largestAllowed: ug(690))),
        ChangeCase(group: .cerebral, to: ug(480), expected: nil),
        ChangeCase(group: .spinal, to: ug(600), expected: nil),
    ])
    func limits(_ k: ChangeCase) throws {
        var c = try Fixture.onTherapy(.continuous(ug(600)), settings: ControllerSettings(patientGroup: k.group))
        let t = Self.start + .hours(24)
        if let expected = k.expected {
            #expect(expectRefusal(&c, .program(.continuous(k.to)), at: t) == expected)
        } else {
            let r = c.handle(.program(.continuous(k.to)), at: t)
            #expect(try r.accepted() == .programmed(ProgramSummary(schedule: .continuous(k.to), dailyDose: k.to, concentration: c500)))
            #expect(c.programmedDose == k.to && c.deliveringDose == k.to)
            #expect(r.events.contains(.scheduleProgrammed(schedule: .continuous(k.to), from: ug(600), to: k.to,
                                                          volumeRate: k.to.volumeRate(at: c500))))
        }
    }

    @Test("the decrease limit is configurable within its cap: 10 % → 540 μg/day")
    func configuredDecrease() throws {
        var s = ControllerSettings()
        s.decreaseLimit = .percent(10)
        var c = try Fixture.onTherapy(settings: s)
        #expect(expectRefusal(&c, .program(.continuous(ngPerDay(539_999))), at: Self.start + .hours(1))
            == .decreaseTooLarge(requested: ngPerDay(539_999), reference: ug(600), limit: .percent(10), smallestAllowed: ug(540)))
        try c.handle(.program(.continuous(ug(540))), at: Self.start + .hours(1)).accepted()
    }

    @Test("chained decreases: 20 % of the highest dose in force over the last 24 h")
    func chainedDecreases() throws {
        var c = try Fixture.onTherapy()
        let t1 = Self.start + .hours(2)
        try c.handle(.program(.continuous(ug(480))), at: t1).accepted()
        // 480 × 0.8 = 384, but 600 was in force within 24 h: the floor of the step is still 480.
        #expect(expectRefusal(&c, .program(.continuous(ug(384))), at: t1 + .hours(1))
            == .decreaseTooLarge(requested: ug(384), reference: ug(600), limit: .percent(20), smallestAllowed: ug(480)))
        #expect(expectRefusal(&c, .program(.continuous(ug(384))), at: t1 + .hours(24) - ns(1))
            == .decreaseTooLarge(requested: ug(384), reference: ug(600), limit: .percent(20), smallestAllowed: ug(480)))
        // 24 h after the first decrease, 600 has left the window.
        try c.handle(.program(.continuous(ug(384))), at: t1 + .hours(24)).accepted()
        #expect(c.programmedDose == ug(384))
    }

    @Test("a flex schedule is judged by its daily dose")
    func flexDecrease() throws {
        var c = try Fixture.onTherapy()
        // (400·12 + 560·12) / 24 = 480: allowed. (400·12 + 559.998·12) / 24 = 479.999: refused.
        let ok = Schedule.flex([step(0, 0, ug(400)), step(12, 0, ug(560))])
        let tooLow = Schedule.flex([step(0, 0, ug(400)), step(12, 0, ngPerDay(559_998))])
        #expect(expectRefusal(&c, .program(tooLow), at: Self.start + .hours(1))
            == .decreaseTooLarge(requested: ngPerDay(479_999), reference: ug(600), limit: .percent(20), smallestAllowed: ug(480)))
        try c.handle(.program(ok), at: Self.start + .hours(1)).accepted()
    }

    @Test("increases: none in the first 24 h, then one per 24 h")
    func increaseCadence() throws {
        var c = try Fixture.onTherapy()
        let day1 = Self.start + .hours(24)
        #expect(expectRefusal(&c, .program(.continuous(ngPerDay(600_001))), at: day1 - ns(1))
            == .increaseDuringFirstDay(requested: ngPerDay(600_001), current: ug(600), allowedFrom: day1))
        try c.handle(.program(.continuous(ug(780))), at: day1).accepted()
        // Next increase from 24 h after the last one; 780 × 1.3 = 1014.
        #expect(expectRefusal(&c, .program(.continuous(ug(800))), at: day1 + .hours(24) - ns(1))
            == .increaseTooSoon(requested: ug(800), current: ug(780), lastIncreaseAt: day1, allowedFrom: day1 + .hours(24)))
        #expect(expectRefusal(&c, .program(.continuous(ngPerDay(1_014_001))), at: day1 + .hours(24))
            == .increaseTooLarge(requested: ngPerDay(1_014_001), reference: ug(780), limit: .percent(30), largestAllowed: ug(1014)))
        try c.handle(.program(.continuous(ug(1014))), at: day1 + .hours(24)).accepted()
        // From 1014, +30 % would be 1318.2: the ceiling (1200) is the bound, and it has no override.
        #expect(expectRefusal(&c, .program(.continuous(ngPerDay(1_200_001))), at: day1 + .hours(48))
            == .invalidSchedule(.rateOutOfRange(step: nil, rate: ngPerDay(1_200_001), allowed: ug(50)...ug(1200))))
        try c.handle(.program(.continuous(ug(1200))), at: day1 + .hours(48)).accepted()
    }

    @Test("an increase after a decrease within 24 h is measured from the lowest dose in the window")
    func increaseAfterDecrease() throws {
        var c = try Fixture.onTherapy()
        let t = Self.start + .hours(25)
        try c.handle(.program(.continuous(ug(480))), at: t).accepted()
        // 480 × 1.3 = 624.
        #expect(expectRefusal(&c, .program(.continuous(ngPerDay(624_001))), at: t + .hours(1))
            == .increaseTooLarge(requested: ngPerDay(624_001), reference: ug(480), limit: .percent(30), largestAllowed: ug(624)))
        try c.handle(.program(.continuous(ug(624))), at: t + .hours(1)).accepted()
    }

    @Test("programming needs running therapy")
    func programNeedsTherapy() throws {
        var c = try Fixture.primed()
        #expect(expectRefusal(&c, .program(.continuous(ug(600))), at: Self.start) == .therapyNotRunning(phase: "not started"))
        #expect(expectRefusal(&c, .stop(taperDays: nil, override: nil), at: Self.start) == .therapyNotRunning(phase: "not started"))
        var running = try Fixture.onTherapy()
        #expect(expectRefusal(&running, .startTherapy(.continuous(ug(600)), basis: .transfer(previousDailyDose: ug(600))), at: Self.start + .hours(1))
            == .therapyAlreadyStarted)
    }
}

@Suite("Interlock: stop, taper and resume")
struct TaperTests {
    static let start = Fixture.therapyStart

    /// Every level after the first is at least 80 % of the one before (ceil to the ng/day allowed),
    /// the first is the dose in force, the last the 50 μg/day floor.
    static func checkTaper(_ plan: TaperPlan, from dose: DoseRate, days: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(plan.levels.count == days, sourceLocation: sourceLocation)
        #expect(plan.levels.first == dose, sourceLocation: sourceLocation)
        #expect(plan.levels.last == .floor, sourceLocation: sourceLocation)
        for (a, b) in zip(plan.levels, plan.levels.dropFirst()) {
            #expect(b <= a, sourceLocation: sourceLocation)
            #expect(b.nanogramsPerDay * 10 >= a.nanogramsPerDay * 8, "\(a) → \(b) cuts more than 20 %", sourceLocation: sourceLocation)
        }
    }

    @Test("stop becomes a 14-day taper to 50 μg/day, stepped automatically, then delivery ends")
    func stopTaper() throws {
        var c = try Fixture.onTherapy()
        let t = Self.start + .hours(5)
        let r = c.handle(.stop(taperDays: nil, override: nil), at: t)
        guard case let .taper(plan)? = try? r.accepted() else { Issue.record("not a taper"); return }
        // 13 cuts from 600 to 50: each about 1 − (50/600)^(1/13) = 17.4 %, within the 20 % cap.
        Self.checkTaper(plan, from: ug(600), days: 14)
        #expect(plan.levels[1] > ug(495) && plan.levels[1] < ug(496))
        #expect(plan.kind == .stop && !plan.emergency && plan.endsAt == t + .days(14))
        #expect(r.events.contains(.taperStarted(plan)))
        // Day 0 still delivers 600 (a mistaken stop can be resumed with no loss).
        #expect(c.deliveringDose == ug(600))
        for day in 1..<14 {
            let effects = c.advance(to: t + .days(Int64(day)))
            #expect(c.deliveringDose == plan.levels[day], "day \(day)")
            #expect(effects.eventKinds.contains(.taperStep(kind: .stop, index: day, dose: plan.levels[day])))
            #expect(c.programmedDose == plan.levels[day])
        }
        let end = c.advance(to: t + .days(14))
        #expect(c.phase == .stopped(at: t + .days(14), .taperCompleted))
        #expect(end.eventKinds.contains(.deliveryHalted(.taperCompleted)))
        #expect(c.deliveringDose == .zero)
        #expect(c.advance(to: t + .days(15)).strokes.isEmpty)
        #expect(expectRefusal(&c, .program(.continuous(ug(50))), at: t + .days(15))
            == .therapyNotRunning(phase: "stopped at \(t + .days(14)) (taperCompleted)"))
    }

    @Test("a 14-day request from 1200 μg/day is lengthened to 16 days to keep each cut ≤ 20 %")
    func lengthened() throws {
        // 1200 × 0.8ⁿ ≤ 50 needs n ≥ ln 24 / ln 1.25 = 14.24, so 15 cuts: 16 levels.
        var c = try Fixture.onTherapy(.continuous(ug(1200)))
        let r = c.handle(.stop(taperDays: nil, override: nil), at: Self.start + .hours(1))
        guard case let .taper(plan)? = try? r.accepted() else { Issue.record("not a taper"); return }
        Self.checkTaper(plan, from: ug(1200), days: 16)
    }

    @Test("longer tapers: requested 20 days, or a 21-day minimum")
    func longer() throws {
        var c = try Fixture.onTherapy()
        guard case let .taper(plan)? = try? c.handle(.stop(taperDays: 20, override: nil), at: Self.start).accepted() else { Issue.record("refused"); return }
        Self.checkTaper(plan, from: ug(600), days: 20)
        var s = ControllerSettings()
        s.minimumTaperDays = 21
        var d = try Fixture.onTherapy(settings: s)
        #expect(expectRefusal(&d, .stop(taperDays: 20, override: nil), at: Self.start) == .taperTooShort(requestedDays: 20, minimumDays: 21))
        guard case let .taper(plan21)? = try? d.handle(.stop(taperDays: nil, override: nil), at: Self.start).accepted() else { Issue.record("refused"); return }
        Self.checkTaper(plan21, from: ug(600), days: 21)
    }

    @Test("resume holds the level in force; a taper blocks programming and a second stop")
    func resume() throws {
        var c = try Fixture.onTherapy()
        let t = Self.start + .hours(5)
        guard case let .taper(plan)? = try? c.handle(.stop(taperDays: nil, override: nil), at: t).accepted() else { Issue.record("refused"); return }
        let during = t + .days(3) + .hours(1)
        #expect(expectRefusal(&c, .program(.continuous(ug(600))), at: during) == .taperInProgress(endsAt: t + .days(14)))
        #expect(expectRefusal(&c, .stop(taperDays: nil, override: nil), at: during) == .taperInProgress(endsAt: t + .days(14)))
        let r = c.handle(.resume, at: during)
        #expect(try r.accepted() == .resumed(holding: plan.levels[3]))
        #expect(r.events.contains(.taperCancelled(holding: plan.levels[3])))
        #expect(c.taper == nil)
        #expect(c.schedule == .continuous(plan.levels[3]))
        _ = c.advance(to: during + .days(5))
        #expect(c.deliveringDose == plan.levels[3])
        #expect(expectRefusal(&c, .resume, at: during + .days(5)) == .noTaperToResume)
    }

    @Test("resume on the first day keeps the original schedule")
    func resumeDayZero() throws {
        let flex = Schedule.flex([step(0, 0, ug(600)), step(12, 0, ug(400))])
        var c = try Fixture.onTherapy(flex)
        try c.handle(.stop(taperDays: nil, override: nil), at: Self.start + .hours(1)).accepted()
        #expect(try c.handle(.resume, at: Self.start + .hours(2)).accepted() == .resumed(holding: ug(500)))
        #expect(c.schedule == flex)
    }

    @Test("a shorter taper needs an emergency override, which is logged as critical")
    func emergencyTaper() throws {
        var c = try Fixture.onTherapy()
        let t = Self.start + .hours(1)
        #expect(expectRefusal(&c, .stop(taperDays: 7, override: nil), at: t) == .taperTooShort(requestedDays: 7, minimumDays: 14))
        #expect(expectRefusal(&c, .stop(taperDays: 7, override: EmergencyOverride(reason: "  ", clinician: "Dr A")), at: t) == .overrideReasonMissing)
        #expect(expectRefusal(&c, .stop(taperDays: 7, override: EmergencyOverride(reason: "infection", clinician: "")), at: t) == .overrideReasonMissing)
        #expect(expectRefusal(&c, .stop(taperDays: -1, override: EmergencyOverride(reason: "infection", clinician: "Dr A")), at: t)
            == .taperTooShort(requestedDays: -1, minimumDays: 14))
        let r = c.handle(.stop(taperDays: 7, override: EmergencyOverride(reason: "pump pocket infection", clinician: "Dr A")), at: t)
        guard case let .taper(plan)? = try? r.accepted() else { Issue.record("refused"); return }
        #expect(plan.emergency && plan.levels.count == 7 && plan.levels.first == ug(600) && plan.levels.last == .floor)
        #expect(plan.endsAt == t + .days(7))
        let override = r.events.first { if case .emergencyOverride = $0 { true } else { false } }
        #expect(override == .emergencyOverride(reason: "pump pocket infection", clinician: "Dr A", detail: "taper of 7 days from 600 μg/day"))
        #expect(override?.isCritical == true)
    }

    @Test("emergency immediate stop")
    func emergencyStop() throws {
        var c = try Fixture.onTherapy()
        let t = Self.start + .hours(1)
        let r = c.handle(.stop(taperDays: 0, override: EmergencyOverride(reason: "overdose", clinician: "Dr B")), at: t)
        try r.accepted()
        #expect(c.phase == .stopped(at: t, .emergencyStop))
        #expect(c.deliveringDose == .zero)
        #expect(r.events.contains(.deliveryHalted(.emergencyStop)))
        #expect(r.events.filter(\.isCritical).count == 2)
        #expect(c.advance(to: t + .days(1)).strokes.isEmpty)
    }
}

@Suite("Interlock: faults, reservoir policy and interruption")
struct FaultTests {
    static let start = Fixture.therapyStart

    @Test("occlusion and motor stall never change the commanded strokes")
    func sensorFaultsKeepRate() throws {
        let base = try Fixture.onTherapy(.flex([step(0, 0, ug(600)), step(12, 0, ug(900))]))
        var clean = base, faulty = base
        let cleanStrokes = clean.advance(to: Self.start + .days(1)).strokes
        var faultyEffects = faulty.sense(.occlusion(true), at: Self.start + .hours(2))
        faultyEffects += faulty.sense(.motorStall(true), at: Self.start + .hours(3))
        #expect(faulty.deliveringDose == ug(600))
        faultyEffects += faulty.advance(to: Self.start + .days(1))
        let same = faultyEffects.strokes == cleanStrokes
        #expect(same && cleanStrokes.count > 5_000)
        #expect(faulty.deliveringDose == clean.deliveringDose)
        #expect(faulty.alarms.isActive(.occlusion) && faulty.alarms.isActive(.motorStall))
    }

    /// 5 mL fill at 600 μg/day (a stroke every 18 s): 664,000 nL to 4 mL = 2,656 strokes, so the low
    /// alarm comes at start + 47,808 s.
    static let lowAt = start + .seconds(47_808)

    @Test("alarmOnly (default): the dose stays until the drug runs out")
    func alarmOnly() throws {
        var c = try Fixture.onTherapy(volume: .millilitres(5))
        _ = c.advance(to: Self.lowAt)
        #expect(c.alarms.isActive(.lowReservoir))
        _ = c.advance(to: Self.lowAt + .days(3))
        #expect(c.deliveringDose == ug(600) && c.taper == nil)
        // 4 mL = 16,000 strokes more; the 16,000th, at lowAt + 16,000 × 18 s, leaves less than one
        // stroke, so delivery halts (and the empty alarm sounds) right after it.
        let halt = Self.lowAt + .seconds(16_000 * 18)
        _ = c.advance(to: halt)
        #expect(c.haltedSince == halt)
    }

    @Test("reserveTaper: from the low alarm, −20 % a day to the floor; a refill restores the schedule")
    func reserveTaper() throws {
        var s = ControllerSettings()
        s.reservoirPolicy = .reserveTaper
        var c = try Fixture.onTherapy(volume: .millilitres(5), settings: s)
        let effects = c.advance(to: Self.lowAt)
        guard let plan = c.taper else { Issue.record("no reserve taper"); return }
        #expect(plan.kind == .reserve && plan.startedAt == Self.lowAt)
        #expect(effects.eventKinds.contains(.taperStarted(plan)))
        // 600 → 480 → 384 → 307.2 → 245.76 → 196.608 → 157.2864 (↑157.287) → 125.8296 (↑125.830) →
        // 100.664 → 80.5312 (↑80.532) → 64.4256 (↑64.426) → 51.5408 (↑51.541) → 41.2328, held at 50.
        let expected: [Int64] = [600_000, 480_000, 384_000, 307_200, 245_760, 196_608, 157_287, 125_830, 100_664, 80_532, 64_426, 51_541, 50_000]
        #expect(plan.levels == expected.map(ngPerDay))
        _ = c.advance(to: Self.lowAt + .days(1))
        #expect(c.deliveringDose == ug(480))
        _ = c.advance(to: Self.lowAt + .days(2))
        #expect(c.deliveringDose == ug(384))
        #expect(expectRefusal(&c, .program(.continuous(ug(384))), at: Self.lowAt + .days(2)) == .reserveTaperInProgress(level: ug(384)))
        // The reduced levels began at lowAt + 1 d: a refill exactly 24 h later (not more than the
        // limit) restores the schedule at once.
        let r = c.handle(.refill(RefillRequest(withdrawn: c.reservoir.estimate, added: .millilitres(20), concentration: c500)), at: Self.lowAt + .days(2))
        try r.accepted()
        #expect(r.events.contains(.taperCancelled(holding: ug(600))))
        #expect(c.taper == nil && c.deliveringDose == ug(600))
    }

    @Test("reserve taper holds the floor, not stopping delivery")
    func reserveHoldsFloor() {
        let plan = TaperPlan.reserve(from: ug(600), limit: .percent(20), at: .zero)
        #expect(plan.level(at: at(.days(100)))?.dose == .floor)
        #expect(plan.endsAt == nil)
        #expect(plan.nextChange(after: at(.days(100))) == .distantFuture)
        #expect(TaperPlan.reserve(from: .floor, limit: .percent(20), at: .zero).levels == [.floor])
    }

    /// 1 mL fill at 600 μg/day: 664,000 nL = 2,656 strokes of 18 s; the last, at start + 47,808 s,
    /// leaves less than one stroke, so delivery halts right after it.
    static let haltAt = start + .seconds(47_808)

    static func emptied(settings: ControllerSettings = ControllerSettings()) throws -> PumpController {
        var c = try Fixture.onTherapy(volume: .millilitres(1), settings: settings)
        _ = c.advance(to: haltAt)
        #expect(c.haltedSince == haltAt)
        return c
    }

    @Test("a refill within the interruption limit (24 h) resumes full dose at once")
    func shortInterruption() throws {
        var c = try Self.emptied()
        let r = c.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: c500)), at: Self.haltAt + .hours(24))
        try r.accepted()
        #expect(r.events.contains(.deliveryResumed(dose: ug(600))))
        #expect(c.deliveringDose == ug(600) && c.awaitingConfirmationSince == nil)
        #expect(!c.alarms.isActive(.therapyInterruption))
    }

    @Test("after more than 24 h empty: the floor until a clinician confirms the dose", arguments: [Int64(24), 1])
    func longInterruption(_ limitHours: Int64) throws {
        var s = ControllerSettings()
        s.interruptionLimit = .hours(limitHours)
        var c = try Self.emptied(settings: s)
        let t = Self.haltAt + .hours(limitHours) + ns(1)
        let r = c.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: c500)), at: t)
        try r.accepted()
        #expect(r.events.contains(.deliveryResumed(dose: .floor)))
        #expect(c.awaitingConfirmationSince == Self.haltAt)
        #expect(c.alarms[.therapyInterruption]?.priority == .high)
        #expect(c.deliveringDose == .floor)
        // 50 μg/day = 400 strokes/day, one every 216 s: 16 in the first hour (16 × 216 = 3,456 s).
        #expect(c.advance(to: t + .hours(1)).strokes.count == 16)
        let t2 = t + .hours(1)
        #expect(expectRefusal(&c, .program(.continuous(ug(600))), at: t2) == .deliveryAwaitsConfirmation(since: Self.haltAt))
        #expect(expectRefusal(&c, .confirmResumption(.continuous(ngPerDay(600_001))), at: t2)
            == .confirmedDoseMismatch(confirmed: ngPerDay(600_001), current: ug(600)))
        let ok = c.handle(.confirmResumption(.continuous(ug(600))), at: t2)
        try ok.accepted()
        #expect(ok.events.contains(.fullDoseConfirmed(dose: ug(600))))
        #expect(!c.alarms.isActive(.therapyInterruption))
        #expect(c.deliveringDose == ug(600))
        #expect(expectRefusal(&c, .confirmResumption(.continuous(ug(600))), at: t2) == .noInterruptionToConfirm)
    }

    @Test("confirming a lower dose after an interruption is allowed")
    func confirmLower() throws {
        var c = try Self.emptied()
        let t = Self.haltAt + .hours(30)
        try c.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: c500)), at: t).accepted()
        try c.handle(.confirmResumption(.continuous(ug(300))), at: t + .hours(1)).accepted()
        #expect(c.programmedDose == ug(300) && c.deliveringDose == ug(300))
    }
}
