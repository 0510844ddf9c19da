import Testing
@testable import PumpCore

@Suite("Alarms")
struct AlarmTests {
    static let start = Fixture.therapyStart

    @Test("priorities", arguments: AlarmKind.allCases)
    func priority(_ kind: AlarmKind) {
        let expected: AlarmPriority
        switch kind {
        case .reservoirEmpty, .occlusion, .motorStall, .refillDiscrepancy, .therapyInterruption, .calculatedEmptySensorDisagrees: expected = .high
        case .lowReservoir, .refillDue, .drugStability: expected = .medium
        case .interlockRefusal: expected = .low
        }
        #expect(kind.priority == expected)
        #expect(kind.clearsOnAcknowledge == (kind == .refillDiscrepancy || kind == .interlockRefusal))
    }

    @Test("active alarms are listed highest priority first, then oldest first")
    func ordering() throws {
        var c = try Fixture.onTherapy()
        _ = expectRefusal(&c, .resume, at: Self.start + .minutes(1))                 // interlockRefusal (low)
        _ = c.sense(.occlusion(true), at: Self.start + .minutes(2))                 // high
        _ = c.sense(.motorStall(true), at: Self.start + .minutes(3))                // high, later
        try c.handle(.setRefillDate(Self.start + .days(30)), at: Self.start + .minutes(4)).accepted() // refillDue (medium) at once
        #expect(c.alarms.active.map(\.kind) == [.occlusion, .motorStall, .refillDue, .interlockRefusal])
        #expect(c.alarms.highestPriority == .high)
    }

    @Test("low reservoir: raised by the stroke that reaches 4 mL; hourly until acknowledged, then daily")
    func lowReservoir() throws {
        // 5 mL fill − 0.336 mL priming = 4,664,000 nL; 664,000 / 250 = 2,656 strokes at 1200 μg/day (9 s
        // each) reach 4 mL at start + 23,904 s.
        var c = try Fixture.onTherapy(.continuous(ug(1200)), volume: .millilitres(5))
        let raised = Self.start + .seconds(23_904)
        _ = c.advance(to: raised - ns(1))
        #expect(!c.alarms.isActive(.lowReservoir))
        var effects = c.advance(to: raised)
        #expect(c.alarms[.lowReservoir]?.raisedAt == raised)
        #expect(effects.eventKinds.contains { if case .alarmRaised(.lowReservoir, .medium, _) = $0 { true } else { false } })
        effects += c.advance(to: raised + .hours(2) + .minutes(30))
        #expect(effects.alertInstants(.lowReservoir) == [raised, raised + .hours(1), raised + .hours(2)])
        let ack = raised + .hours(2) + .minutes(30)
        let r = c.handle(.acknowledge(.lowReservoir), at: ack)
        try r.accepted()
        #expect(r.events.contains(.alarmAcknowledged(.lowReservoir)))
        #expect(c.alarms[.lowReservoir]?.acknowledgedAt == ack)
        // Acknowledged and still low: a reminder 24 h later, none before.
        let later = c.advance(to: ack + .hours(24))
        #expect(later.alertInstants(.lowReservoir) == [ack + .hours(24)])
        #expect(c.alarms[.lowReservoir]?.alertCount == 4)
    }

    @Test("critical alarms re-alert every 10 min until the cause is gone, acknowledged or not")
    func criticalRealert() throws {
        var c = try Fixture.onTherapy()
        let t = Self.start + .hours(2)
        var effects = c.sense(.occlusion(true), at: t)
        #expect(effects.eventKinds.contains(.sensor(.occlusion(true))))
        effects += c.advance(to: t + .minutes(15))
        try c.handle(.acknowledge(.occlusion), at: t + .minutes(15)).accepted()
        #expect(c.alarms.isActive(.occlusion))
        effects += c.advance(to: t + .minutes(35))
        #expect(effects.alertInstants(.occlusion) == [t, t + .minutes(10), t + .minutes(20), t + .minutes(30)])
        let cleared = c.sense(.occlusion(false), at: t + .minutes(35))
        #expect(cleared.eventKinds.contains(.alarmCleared(.occlusion)))
        #expect(c.advance(to: t + .hours(2)).alertInstants(.occlusion).isEmpty)
    }

    @Test("the critical re-alert interval is configurable (1–10 min)")
    func criticalInterval() throws {
        var s = ControllerSettings()
        s.alarms.criticalRealert = .minutes(1)
        var c = try Fixture.onTherapy(settings: s)
        let t = Self.start + .hours(1)
        var effects = c.sense(.motorStall(true), at: t)
        effects += c.advance(to: t + .minutes(3))
        #expect(effects.alertInstants(.motorStall) == [t, t + .minutes(1), t + .minutes(2), t + .minutes(3)])
    }

    @Test("sensor alarms are raised by their cause and cleared when it is gone", arguments: [
        (SensorReading.occlusion(true), SensorReading.occlusion(false), AlarmKind.occlusion),
        (.motorStall(true), .motorStall(false), .motorStall),
        (.reservoirEmpty(true), .reservoirEmpty(false), .reservoirEmpty),
    ])
    func sensors(_ on: SensorReading, _ off: SensorReading, _ kind: AlarmKind) throws {
        var c = try Fixture.onTherapy()
        let t = Self.start + .hours(1)
        _ = c.sense(on, at: t)
        #expect(c.alarms.isActive(kind))
        #expect(c.alarms[kind]?.priority == .high)
        // A repeated reading changes nothing.
        #expect(c.sense(on, at: t + .minutes(1)).eventKinds.isEmpty)
        #expect(c.alarms[kind]?.raisedAt == t)
        _ = c.sense(off, at: t + .minutes(2))
        #expect(!c.alarms.isActive(kind))
    }

    @Test("the empty switch turning off does not clear the alarm while the estimate is below one stroke")
    func emptySwitchWithEmptyEstimate() throws {
        // 1 mL fill, 1200 μg/day: the estimate reaches zero and delivery halts at start + 23,913 s.
        var c = try Fixture.onTherapy(.continuous(ug(1200)), volume: .millilitres(1))
        let t = Self.start + .hours(7)
        _ = c.advance(to: t)
        #expect(c.alarms.isActive(.reservoirEmpty))
        _ = c.sense(.reservoirEmpty(true), at: t)
        _ = c.sense(.reservoirEmpty(false), at: t + .minutes(1))
        #expect(c.alarms.isActive(.reservoirEmpty))
    }

    @Test("a refill clears the reservoir alarms (and the empty alarm only when the switch is off)")
    func refillClears() throws {
        var s = ControllerSettings()
        s.alarms.drugStabilityLimit = .days(1)
        // 1 mL fill at 600 μg/day: empty after about 13.3 h; a 20 mL refill then lasts long enough that
        // the refill-due alarm is not due again at once (low at 16 mL / 1.2 mL/day = 13.3 days).
        var c = try Fixture.onTherapy(.continuous(ug(600)), volume: .millilitres(1), settings: s)
        let t = Self.start + .days(1)
        _ = c.advance(to: t)
        for kind in [AlarmKind.lowReservoir, .refillDue, .drugStability, .reservoirEmpty] { #expect(c.alarms.isActive(kind), "\(kind)") }
        _ = c.sense(.reservoirEmpty(true), at: t)
        let r = c.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: c500)), at: t + .minutes(5))
        try r.accepted()
        for kind in [AlarmKind.lowReservoir, .refillDue, .drugStability] {
            #expect(!c.alarms.isActive(kind), "\(kind)")
            #expect(r.events.contains(.alarmCleared(kind)))
        }
        // The switch still reads empty: that alarm stays until the switch clears.
        #expect(c.alarms.isActive(.reservoirEmpty))
        _ = c.sense(.reservoirEmpty(false), at: t + .minutes(6))
        #expect(!c.alarms.isActive(.reservoirEmpty))
    }

    @Test("refill due: a lead time (7 days) before the projected low-reservoir instant")
    func refillDueLeadTime() throws {
        // Low at start + (19,664,000 − 4,000,000) nL × 72 ms = start + 1,127,808 s; minus 7 days (604,800 s).
        var c = try Fixture.onTherapy(.continuous(ug(600)))
        let due = Self.start + .seconds(1_127_808 - 604_800)
        #expect(c.refillDueAt == due)
        _ = c.advance(to: due - ns(1))
        #expect(!c.alarms.isActive(.refillDue))
        let effects = c.advance(to: due)
        #expect(c.alarms[.refillDue]?.raisedAt == due)
        #expect(effects.alertInstants(.refillDue) == [due])
    }

    @Test("refill due with a configured lead time of 3 days")
    func refillDueConfiguredLead() throws {
        var s = ControllerSettings()
        s.alarms.refillLeadTime = .days(3)
        let c = try Fixture.onTherapy(.continuous(ug(600)), settings: s)
        // 1,127,808 s − 259,200 s.
        #expect(c.refillDueAt == Self.start + .seconds(868_608))
    }

    @Test("refill due at a clinician-set refill date before the projection")
    func refillDueClinicianDate() throws {
        var c = try Fixture.onTherapy(.continuous(ug(600)))
        let date = Self.start + .days(3)
        let r = c.handle(.setRefillDate(date), at: Self.start + .hours(1))
        try r.accepted()
        #expect(r.events.contains(.refillDateSet(date)))
        #expect(c.refillDueAt == date)
        _ = c.advance(to: date - ns(1))
        #expect(!c.alarms.isActive(.refillDue))
        _ = c.advance(to: date)
        #expect(c.alarms[.refillDue]?.raisedAt == date)
        // A date later than the projection leaves the projection in charge: 1,127,808 s − 7 days.
        var d = try Fixture.onTherapy(.continuous(ug(600)))
        try d.handle(.setRefillDate(Self.start + .days(10)), at: Self.start).accepted()
        #expect(d.refillDueAt == Self.start + .seconds(523_008))
        // Clearing the date restores the projection.
        try c.handle(.setRefillDate(nil), at: date + .hours(1)).accepted()
        #expect(!c.alarms.isActive(.refillDue))
    }

    @Test("a refill date after the projected empty instant raises the alarm at once")
    func refillDateAfterEmpty() throws {
        // Projected empty at start + 1,415,790.072 s ≈ 16.39 days.
        var c = try Fixture.onTherapy(.continuous(ug(600)))
        let now = Self.start + .hours(1)
        let r = c.handle(.setRefillDate(Self.start + .days(17)), at: now)
        try r.accepted()
        #expect(c.alarms[.refillDue]?.raisedAt == now)
        #expect(c.alarms[.refillDue]?.detail.contains("AFTER the projected empty instant") == true)
        // Just before the projected empty instant is not "after" it: the projection's lead time rules.
        var d = try Fixture.onTherapy(.continuous(ug(600)))
        try d.handle(.setRefillDate(Self.start + .milliseconds(1_415_790_072)), at: now).accepted()
        #expect(!d.alarms.isActive(.refillDue))
    }

    @Test("a refill made after the clinician's refill date clears the refill-due alarm for good")
    func refillAfterRefillDate() throws {
        var c = try Fixture.onTherapy(.continuous(ug(600)))
        let date = Self.start + .days(3)
        try c.handle(.setRefillDate(date), at: Self.start).accepted()
        _ = c.advance(to: date)
        #expect(c.alarms.isActive(.refillDue))
        let refillAt = date + .hours(1)
        let r = c.handle(.refill(RefillRequest(withdrawn: c.reservoir.estimate, added: .millilitres(20), concentration: c500)), at: refillAt)
        try r.accepted()
        #expect(!c.alarms.isActive(.refillDue))
        // The date has been met: it is consumed, and the log says so.
        #expect(c.refillDate == nil)
        #expect(r.events.contains(.refillDateSet(nil)))
        // The next refill is due a lead time before the new projection: 16 mL × 72 ms = 1,152,000 s, less 7 days.
        #expect(c.refillDueAt == refillAt + .seconds(1_152_000 - 604_800))
        _ = c.advance(to: refillAt + .days(1))
        #expect(!c.alarms.isActive(.refillDue))
    }

    @Test("drug stability: alarm 180 days after the fill, even with drug left; a refill restarts the clock")
    func drugStability() throws {
        var c = try Fixture.filled(c500)
        _ = c.advance(to: at(.days(180) - ns(1)))
        #expect(!c.alarms.isActive(.drugStability))
        _ = c.advance(to: at(.days(180)))
        #expect(c.alarms[.drugStability]?.raisedAt == at(.days(180)))
        #expect(c.alarms[.drugStability]?.priority == .medium)
        let refill = at(.days(181))
        try c.handle(.refill(RefillRequest(withdrawn: .millilitres(20), added: .millilitres(20), concentration: c500)), at: refill).accepted()
        #expect(!c.alarms.isActive(.drugStability))
        _ = c.advance(to: refill + .days(180) - ns(1))
        #expect(!c.alarms.isActive(.drugStability))
        _ = c.advance(to: refill + .days(180))
        #expect(c.alarms.isActive(.drugStability))
    }

    @Test("acknowledging an inactive alarm is refused; the interlock-refusal alarm clears on acknowledgement")
    func acknowledgeInactive() throws {
        var c = try Fixture.onTherapy()
        #expect(expectRefusal(&c, .acknowledge(.occlusion), at: Self.start) == .alarmNotActive(.occlusion))
        #expect(c.alarms[.interlockRefusal]?.priority == .low)
        try c.handle(.acknowledge(.interlockRefusal), at: Self.start + .minutes(1)).accepted()
        #expect(!c.alarms.isActive(.interlockRefusal))
    }
}
