import Testing
@testable import PumpCore

// The bench profile at 600 μg/day and 500 μg/mL: 125 ng a stroke, 4,800 strokes a day, one every 18 s.
// A 3.336 mL fill leaves 3 mL after the 0.336 mL priming: 12,000 strokes, the last at start + 216,000 s
// = start + 60 h, after which the estimate (0 nL) is below one stroke: the calculated empty instant.

@Suite("Interruptions: from the earliest evidence to the first resumed stroke")
struct InterruptionTests {
    static let start = Fixture.therapyStart
    static let calculatedEmpty = start + .hours(60)
    /// The switch of an over-infusing pump trips 2 days before the calculated empty.
    static let switchTrips = calculatedEmpty - .days(2)
    /// The refill 63 h after the switch: 15 h after the calculated empty.
    static let refillAt = switchTrips + .hours(63)

    static var switchProfile: PumpProfile {
        var p = PumpProfile.bench20
        p.name = "bench 20 mL with empty switch"
        p.hasEmptySwitch = true
        return p
    }

    /// Advances `c` to `t`; returns the instant of the basal stroke `n` strokes before the last it gave
    /// by then: where a reading at `t` of a sensor that may need `n` strokes to trip is dated back to
    /// (3 for the stall reading, 40 for the occlusion sensor on bench20). From the strokes the advance
    /// gave, so it must give more than `n`.
    static func advance(_ c: inout PumpController, to t: Instant, datingBack n: Int) -> Instant {
        let strokes = c.advance(to: t).strokes.filter { $0.purpose == .basal }
        precondition(strokes.count > n, "\(strokes.count) strokes by \(t)")
        return strokes[strokes.count - 1 - n].at
    }

    static func emptyRefill(_ c: inout PumpController, at t: Instant) throws {
        try c.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: c500)), at: t).accepted()
    }

    @Test("the interruption runs from the empty switch, not the calculated empty: 63 h without drug resumes at the floor until confirmResumption", arguments: [false, true])
    func interruptionFromEmptySwitch(hasSwitch: Bool) throws {
        var c = try Fixture.onTherapy(volume: nl(3_336_000), profile: hasSwitch ? Self.switchProfile : .bench20)
        _ = c.sense(.reservoirEmpty(true), at: Self.switchTrips)
        #expect(c.interruption?.since == Self.switchTrips && c.interruption?.firstEvidence == .emptySwitch)
        let meanwhile = c.advance(to: Self.refillAt).strokes
        if hasSwitch {
            // The switch governs: delivery stopped when it closed.
            #expect(c.haltedSince == Self.switchTrips && meanwhile.isEmpty)
        } else {
            // Without a switch in the profile the estimate governs (strokes go on), but the reading is
            // evidence all the same: 24 h after it, with no sign that drug flows again, strokes go on
            // at the floor. 24 h at 600 μg/day (one stroke every 18 s: 4,800), then 39 h at 50 μg/day
            // (one every 216 s: 650); the estimate never reaches empty.
            #expect(c.haltedSince == nil && c.awaitingConfirmationSince == Self.switchTrips)
            #expect(meanwhile.count == 4_800 + 650)
        }
        try Self.emptyRefill(&c, at: Self.refillAt)
        _ = c.sense(.reservoirEmpty(false), at: Self.refillAt)
        // 63 h > 24 h: the floor from the first resumed stroke, whatever the estimate said.
        #expect(c.awaitingConfirmationSince == Self.switchTrips)
        #expect(c.deliveringDose == .floor && c.alarms.isActive(.therapyInterruption))
        #expect(c.alarms[.therapyInterruption]?.detail.contains("first evidence: reservoir-empty switch") == true)
        #expect(c.interruption == nil)
        // 50 μg/day = 400 strokes of 125 ng a day (one every 216 s) until a clinician confirms.
        #expect(c.advance(to: Self.refillAt + .days(1)).strokes.count == 400)
        #expect(expectRefusal(&c, .program(.continuous(ug(600))), at: Self.refillAt + .days(1)) == .deliveryAwaitsConfirmation(since: Self.switchTrips))
        try c.handle(.confirmResumption(.continuous(ug(600))), at: Self.refillAt + .days(1)).accepted()
        #expect(c.deliveringDose == ug(600) && !c.alarms.isActive(.therapyInterruption))
    }

    @Test("without any earlier evidence the same refill, 15 h after the calculated empty, resumes the programmed dose")
    func calculatedEmptyAloneShortInterruption() throws {
        var c = try Fixture.onTherapy(volume: nl(3_336_000))
        _ = c.advance(to: Self.refillAt)
        #expect(c.haltedSince == Self.calculatedEmpty && c.interruption?.firstEvidence == .calculatedEmpty)
        try Self.emptyRefill(&c, at: Self.refillAt)
        #expect(c.awaitingConfirmationSince == nil && c.deliveringDose == ug(600) && c.interruption == nil)
    }

    /// Sensor evidence (on, off) offsets from the start, in hours, and whether the union is longer than
    /// 24 h.
    struct SensorSpan: Sendable, CustomTestStringConvertible {
        var name: String
        var spans: [(SensorReading, SensorReading, Int64, Int64)]
        var long: Bool
        var testDescription: String { name }
    }

    static let spans: [SensorSpan] = [
        SensorSpan(name: "motor stall 48 h", spans: [(.motorStall(true), .motorStall(false), 2, 50)], long: true),
        SensorSpan(name: "occlusion 72 h", spans: [(.occlusion(true), .occlusion(false), 2, 74)], long: true),
        SensorSpan(name: "occlusion 2–22 h then stall 12–32 h: one 30 h interruption",
                   spans: [(.occlusion(true), .occlusion(false), 2, 22), (.motorStall(true), .motorStall(false), 12, 32)], long: true),
        SensorSpan(name: "motor stall 23 h", spans: [(.motorStall(true), .motorStall(false), 2, 25)], long: false),
    ]

    @Test("a stall or occlusion longer than 24 h resumes at the floor until confirmResumption; a shorter one resumes the programmed dose", arguments: spans)
    func sensorInterruptions(_ k: SensorSpan) throws {
        var c = try Fixture.onTherapy()
        var events: [(Instant, SensorReading)] = []
        for (on, off, a, b) in k.spans { events += [(Self.start + .hours(a), on), (Self.start + .hours(b), off)] }
        events.sort { $0.0 < $1.0 }
        var since: Instant?
        for (t, r) in events {
            // Sensor faults never stop the commanded strokes while they last.
            #expect(c.deliveringDose == ug(600))
            // The first reading is dated back over the strokes its sensor may have needed.
            let n: Int = { if case .occlusion = r { return 40 } else { return 3 } }()
            let dated = Self.advance(&c, to: t, datingBack: n)
            if since == nil { since = dated }
            _ = c.sense(r, at: t)
        }
        let resumed = events.last!.0
        #expect(c.interruption == nil)
        if k.long {
            #expect(c.awaitingConfirmationSince == since && c.deliveringDose == .floor)
            #expect(c.advance(to: resumed + .days(1)).strokes.count == 400)
            try c.handle(.confirmResumption(.continuous(ug(600))), at: resumed + .days(1)).accepted()
            #expect(c.deliveringDose == ug(600))
        } else {
            #expect(c.awaitingConfirmationSince == nil && c.deliveringDose == ug(600))
            #expect(!c.alarms.isActive(.therapyInterruption))
        }
    }

    @Test("controller downtime during a stall: the interruption counts from the stall, not from the last instant seen")
    func downtimeAddsToEarlierEvidence() throws {
        var c = try Fixture.onTherapy()
        // The stall read at 2 h dates from 3 strokes before (54 s at one stroke every 18 s).
        let stall = Self.advance(&c, to: Self.start + .hours(2), datingBack: 3)
        #expect(stall == Self.start + .hours(2) - .seconds(54))
        _ = c.sense(.motorStall(true), at: Self.start + .hours(2))
        _ = c.advance(to: Self.start + .hours(20))
        // Down 10 h: short alone, but delivery had stopped 18 h before: 28 h in all.
        let report = c.recoverAfterDowntime(until: Self.start + .hours(30))
        #expect(report.requiresConfirmation && c.awaitingConfirmationSince == stall)
        #expect(c.deliveringDose == .floor)
        #expect(c.alarms[.therapyInterruption]?.detail.contains("delivery had stopped since \(stall) (motor stall)") == true)
        // The stall goes on; when it clears delivery stays at the floor.
        #expect(c.interruption?.since == stall)
        _ = c.sense(.motorStall(false), at: Self.start + .hours(31))
        #expect(c.interruption == nil && c.deliveringDose == .floor && c.awaitingConfirmationSince == stall)
    }

    /// Fuzzer finding (seed `stop-at-the-floor-then-resume`): after more than 24 h without drug, a
    /// `stop` tapered from the programmed dose, so the taper (and `resume`, which holds its level)
    /// raised delivery from the floor to the full dose, past the clinician's confirmed lower dose.
    @Test("a stop at the floor awaiting confirmation tapers from the floor: confirm and resume never raise delivery above it")
    func stopAtTheFloorTapersFromTheFloor() throws {
        var c = try Fixture.onTherapy()
        let stall = Self.start + .hours(2)
        _ = c.sense(.motorStall(true), at: stall)
        _ = c.advance(to: Self.start + .hours(20))
        #expect(c.recoverAfterDowntime(until: Self.start + .hours(30)).requiresConfirmation)
        _ = c.sense(.motorStall(false), at: Self.start + .hours(30))
        #expect(c.deliveringDose == .floor)
        let t = Self.start + .hours(31)
        try c.handle(.stop(taperDays: 18, override: nil), at: t).accepted()
        #expect(c.taper?.fromDose == .floor && c.taper?.levels.allSatisfy { $0 == .floor } == true && c.deliveringDose == .floor,
                "\(String(describing: c.taper))")
        try c.handle(.confirmResumption(.continuous(ug(500))), at: t).accepted()
        #expect(c.deliveringDose == .floor)
        try c.handle(.resume, at: t).accepted()
        #expect(c.deliveringDose == .floor && c.schedule == .continuous(.floor), "resume holds the taper's level: \(c.deliveringDose)")
        let later = c.advance(to: t + .days(2)).strokes
        // 50 μg/day at 125 ng a stroke: 400 strokes a day.
        #expect(c.deliveringDose == .floor && later.count == 800)
    }

    /// The same rule from the other side: a taper already running when the floor came. The clinician's
    /// confirmed dose caps it; `resume` then holds no more than that.
    @Test("a clinician's confirmation during a stop taper caps the taper at the confirmed dose: resume never raises delivery above it")
    func confirmationCapsAStopTaper() throws {
        var c = try Fixture.onTherapy()
        let stopAt = Self.start + .hours(25)
        try c.handle(.stop(taperDays: 14, override: nil), at: stopAt).accepted()
        let stall = Self.advance(&c, to: Self.start + .hours(26), datingBack: 3)
        _ = c.sense(.motorStall(true), at: Self.start + .hours(26))
        _ = c.advance(to: Self.start + .hours(51))
        #expect(c.awaitingConfirmationSince == stall && c.deliveringDose == .floor)
        _ = c.sense(.motorStall(false), at: Self.start + .hours(52))
        let level = try #require(c.taper?.level(at: Self.start + .hours(53))?.dose)
        #expect(level > ug(300) && c.programmedDose == level)
        let t = Self.start + .hours(53)
        try c.handle(.confirmResumption(.continuous(ug(300))), at: t).accepted()
        #expect(c.deliveringDose == ug(300) && c.taper?.levels.allSatisfy { $0 <= ug(300) } == true, "\(String(describing: c.taper))")
        #expect(c.taper?.endsAt == stopAt + .days(14))
        try c.handle(.resume, at: t + .hours(1)).accepted()
        #expect(c.deliveringDose == ug(300) && c.schedule == .continuous(ug(300)))
    }

    /// Priming pumps the 0.336 mL dead volume, but a pump 14.5 % slow (within its label) leaves
    /// 48.72 μL of saline at the tip, which strokes moving 85.5 % of their 0.25 μL push out in 228
    /// strokes (227 × 213.75 nL = 48.52 μL < 48.72 μL ≤ 228 × 213.75 nL): at 600 μg/day, one every
    /// 18 s, the 228th comes 68 min 24 s after the start.
    /// The same 228 strokes, none counted while a stall reading stands: a stroke during an
    /// interruption may move nothing (an emptied reservoir, a stalled motor), so it pushes no saline
    /// out as far as the controller can know.
    @Test("strokes given during an interruption do not push the priming's saline out: drug is certainly at the tip 228 strokes after it ends")
    func strokesUnderEvidencePushNoSaline() throws {
        var c = try Fixture.onTherapy()
        _ = c.sense(.motorStall(true), at: Self.start)
        _ = c.advance(to: Self.start + .hours(1))
        #expect(c.ledger.basalStrokes == 200 && c.basalStrokesUnderEvidence == 200 && !c.drugCertainlyAtTip)
        _ = c.sense(.motorStall(false), at: Self.start + .hours(1))
        _ = c.advance(to: Self.start + .hours(1) + .seconds(227 * 18))
        #expect(c.ledger.basalStrokes == 427 && !c.drugCertainlyAtTip)
        _ = c.advance(to: Self.start + .hours(1) + .seconds(228 * 18))
        #expect(c.ledger.basalStrokes == 428 && c.drugCertainlyAtTip)
    }

    /// The same after evidence that cleared and came back before delivery was proved resumed: the 30
    /// strokes between (fewer than bench20's 41 proof strokes) belong to the interruption the new
    /// reading continues, and may have gone into the blockage it reports, so they push no saline out.
    @Test("strokes between evidence clearing and new evidence that continues the interruption push no saline out either")
    func strokesBeforeContinuedEvidencePushNoSaline() throws {
        var c = try Fixture.onTherapy()
        #expect(c.profile.resumptionProofStrokes == 41)
        _ = c.sense(.motorStall(true), at: Self.start)
        _ = c.advance(to: Self.start + .hours(1))
        _ = c.sense(.motorStall(false), at: Self.start + .hours(1))
        let back = Self.start + .hours(1) + .seconds(30 * 18)
        _ = c.advance(to: back)
        #expect(c.ledger.basalStrokes == 230 && c.basalStrokesUnderEvidence == 200 && c.interruption == nil)
        _ = c.sense(.occlusion(true), at: back)
        #expect(c.interruption?.since == Self.start && c.basalStrokesUnderEvidence == 230)
        _ = c.sense(.occlusion(false), at: back)
        _ = c.advance(to: back + .seconds(227 * 18))
        #expect(c.ledger.basalStrokes == 457 && !c.drugCertainlyAtTip)
        _ = c.advance(to: back + .seconds(228 * 18))
        #expect(c.ledger.basalStrokes == 458 && c.drugCertainlyAtTip)
    }

    /// A clinician's confirmation after a downtime, before any stroke has pushed the priming's saline
    /// out: the interruption is over by its evidence but not proved resumed, so it counts afresh from
    /// the confirmation. At 2000 μg/mL a 0.25 μL stroke carries 500 ng; 100 μg/day is one stroke every
    /// 432 s, and the 228 strokes that push the 48.72 μL out take 228 × 432 s = 27 h 21 min 36 s, past
    /// the 24 h limit: no drug is known to reach the patient for 24 h after the confirmation, so the
    /// floor comes back then (before the fix the confirmation discharged the interruption and 100
    /// μg/day went on; the fuzz seed `confirmation-before-drug-reached-the-tip` is the same case).
    @Test("a confirmation before drug is certainly at the tip counts the interruption afresh: the floor comes back 24 h later when the saline takes longer to push out")
    func confirmationBeforeDrugIsAtTheTip() throws {
        var c = try Fixture.onTherapy(concentration: Concentration(microgramsPerMillilitre: 2000))
        #expect(c.recoverAfterDowntime(until: Self.start + .hours(25)).requiresConfirmation)
        #expect(c.deliveringDose == .floor && !c.drugCertainlyAtTip && c.ledger.basalStrokes == 0)
        let t0 = Self.start + .hours(25)
        try c.handle(.confirmResumption(.continuous(ug(100))), at: t0).accepted()
        #expect(c.awaitingConfirmationSince == nil && c.deliveringDose == ug(100))
        _ = c.advance(to: t0 + .hours(24))
        #expect(c.ledger.basalStrokes == 200 && !c.drugCertainlyAtTip)
        #expect(c.awaitingConfirmationSince == nil && c.deliveringDose == ug(100))
        _ = c.advance(to: t0 + .hours(24) + .seconds(1))
        #expect(c.awaitingConfirmationSince != nil && c.deliveringDose == .floor)
        #expect(c.alarms.isActive(.therapyInterruption))

        // The same confirmation at 600 μg/day (one stroke every 72 s): the saline is out after
        // 228 × 72 s = 4 h 33 min 36 s, well within 24 h, and the confirmed dose goes on.
        var quick = try Fixture.onTherapy(concentration: Concentration(microgramsPerMillilitre: 2000))
        _ = quick.recoverAfterDowntime(until: t0)
        try quick.handle(.confirmResumption(.continuous(ug(600))), at: t0).accepted()
        _ = quick.advance(to: t0 + .seconds(227 * 72))
        #expect(quick.ledger.basalStrokes == 227 && !quick.drugCertainlyAtTip)
        _ = quick.advance(to: t0 + .seconds(228 * 72))
        #expect(quick.ledger.basalStrokes == 228 && quick.drugCertainlyAtTip)
        _ = quick.advance(to: t0 + .days(2))
        #expect(quick.awaitingConfirmationSince == nil && quick.deliveringDose == ug(600))
    }

    @Test("an interruption ends at the first stroke that certainly delivers drug: after priming, not before the saline a slow pump may leave is pushed out")
    func interruptionEndsAtTheFirstStrokeThatDeliversDrug() throws {
        var c = try Fixture.onTherapy()
        _ = c.advance(to: Self.start + .seconds(227 * 18))
        #expect(c.ledger.basalStrokes == 227 && !c.drugCertainlyAtTip)
        _ = c.advance(to: Self.start + .seconds(228 * 18))
        #expect(c.ledger.basalStrokes == 228 && c.drugCertainlyAtTip)

        // A 23 h 30 min downtime from the start of the course: within the limit as the controller
        // times it, but the strokes after it may push only saline for 68 min, past 24 h from the start.
        var early = try Fixture.onTherapy()
        #expect(!early.recoverAfterDowntime(until: Self.start + .hours(23) + .minutes(30)).requiresConfirmation)
        #expect(early.deliveringDose == ug(600))
        let strokes = early.advance(to: Self.start + .hours(25)).strokes
        #expect(early.awaitingConfirmationSince == Self.start && early.deliveringDose == .floor)
        #expect(early.alarms[.therapyInterruption]?.detail.contains("saline a short priming may leave at the catheter tip") == true)
        // 30 min at 600 μg/day (100 strokes), then 1 h at the floor (50 μg/day: one stroke every 216 s, 16).
        #expect(strokes.count == 100 + 16, "\(strokes.count)")

        // The same downtime once drug certainly reaches the tip: the programmed dose goes on.
        var later = try Fixture.onTherapy()
        _ = later.advance(to: Self.start + .hours(2))
        #expect(!later.recoverAfterDowntime(until: Self.start + .hours(25) + .minutes(30)).requiresConfirmation)
        _ = later.advance(to: Self.start + .hours(27))
        #expect(later.awaitingConfirmationSince == nil && later.deliveringDose == ug(600))
    }

    @Test("a downtime within the limit with no earlier evidence still resumes the programmed dose")
    func shortDowntimeAlone() throws {
        var c = try Fixture.onTherapy()
        _ = c.advance(to: Self.start + .hours(20))
        let report = c.recoverAfterDowntime(until: Self.start + .hours(30))
        #expect(!report.requiresConfirmation && c.deliveringDose == ug(600) && c.interruption == nil)
    }

    // MARK: - Until the first resumed stroke

    /// What comes before the second downtime: nothing, a wait, or a motor stall that cleared.
    struct BeforeSecondDowntime: Sendable, CustomTestStringConvertible {
        var name: String
        /// Time after the first downtime ends before the second starts (the first stroke is due 18 s
        /// after a resumption).
        var wait: TimeSpan
        var stallFirst: Bool
        var oneInterruption: Bool
        var testDescription: String { name }
    }

    static let secondDowntimes: [BeforeSecondDowntime] = [
        BeforeSecondDowntime(name: "downtime 6 h 33 min, then at once 19 h 21 min: one interruption of 25 h 54 min", wait: .zero, stallFirst: false, oneInterruption: true),
        BeforeSecondDowntime(name: "17 s between, no stroke yet: still one interruption", wait: .seconds(17), stallFirst: false, oneInterruption: true),
        BeforeSecondDowntime(name: "18 s between, one stroke given but not the proof strokes: still one interruption", wait: .seconds(18), stallFirst: false, oneInterruption: true),
        BeforeSecondDowntime(name: "12 min between, 40 strokes: still one interruption", wait: .seconds(18 * 40), stallFirst: false, oneInterruption: true),
        BeforeSecondDowntime(name: "12 min 18 s between, the 41 proof strokes given: two short interruptions", wait: .seconds(18 * 41), stallFirst: false, oneInterruption: false),
        BeforeSecondDowntime(name: "a stall that cleared, then a downtime before any stroke: one interruption", wait: .zero, stallFirst: true, oneInterruption: true),
    ]

    @Test("an interruption runs to the first resumed stroke: evidence before that stroke (a second downtime) continues it from its earliest evidence", arguments: secondDowntimes)
    func interruptionRunsToFirstResumedStroke(_ k: BeforeSecondDowntime) throws {
        var c = try Fixture.onTherapy()
        let first = Self.start + .hours(20)
        let resumed = first + .hours(6) + .minutes(33)
        // A downtime counts from the last instant seen; a stall reading from 3 strokes before it.
        var since = first
        if k.stallFirst {
            since = Self.advance(&c, to: first, datingBack: 3)
            _ = c.sense(.motorStall(true), at: first)
            _ = c.sense(.motorStall(false), at: resumed)
        } else {
            _ = c.advance(to: first)
            let report = c.recoverAfterDowntime(until: resumed)
            #expect(!report.requiresConfirmation && c.deliveringDose == ug(600))
        }
        #expect(c.interruption == nil && c.awaitingConfirmationSince == nil)
        let before = c.ledger.basalStrokes
        _ = c.advance(to: resumed + k.wait)
        #expect(c.ledger.basalStrokes - before == k.wait.nanoseconds / TimeSpan.seconds(18).nanoseconds)
        let secondStart = c.now
        let report = c.recoverAfterDowntime(until: secondStart + .hours(19) + .minutes(21))
        if k.oneInterruption {
            // 6 h 33 min + 19 h 21 min (+ less than a stroke interval) > 24 h: the floor until confirmed.
            #expect(report.requiresConfirmation && c.awaitingConfirmationSince == since)
            #expect(c.deliveringDose == .floor)
            #expect(c.alarms[.therapyInterruption]?.detail.contains("delivery had stopped since \(since)") == true)
            #expect(expectRefusal(&c, .program(.continuous(ug(600))), at: c.now) == .deliveryAwaitsConfirmation(since: since))
        } else {
            #expect(!report.requiresConfirmation && c.awaitingConfirmationSince == nil && c.deliveringDose == ug(600))
        }
        #expect(c.interruption == nil)
    }

    /// An occlusion sensor trips only after some strokes into the blockage (the profile's labelled
    /// `occlusionDetectionStrokes`, 40 on bench20). A reading within that many basal strokes after an
    /// interruption ended cannot tell whether any of them reached the patient: it continues that
    /// interruption, timed from its earliest evidence. After more strokes it starts a new one.
    @Test("an occlusion read within the sensor's labelled trip strokes after an interruption ended continues that interruption; later, a new one", arguments: [(Int64(1), true), (40, true), (41, false)])
    func occlusionWithinTripStrokesContinuesInterruption(strokes: Int64, continues: Bool) throws {
        var c = try Fixture.onTherapy()
        #expect(c.profile.occlusionDetectionStrokes == 40)
        let stall = Self.advance(&c, to: Self.start + .hours(2), datingBack: 3)
        _ = c.sense(.motorStall(true), at: Self.start + .hours(2))
        _ = c.sense(.motorStall(false), at: Self.start + .hours(22))
        // 20 h: short, the programmed dose resumes.
        #expect(c.interruption == nil && c.awaitingConfirmationSince == nil && c.deliveringDose == ug(600))
        let before = c.ledger.basalStrokes
        var after: [Stroke] = []
        while c.ledger.basalStrokes - before < strokes { after += c.advance(to: c.now + .seconds(1)).strokes.filter { $0.purpose == .basal } }
        let reading = c.now
        _ = c.sense(.occlusion(true), at: reading)
        // After 41 strokes the reading dates back to the first of them (40 may have gone into the
        // blockage): a new interruption from there.
        #expect(c.interruption?.since == (continues ? stall : after.first?.at))
        // The occlusion clears 5 h later: 25 h without drug since the stall if the reading continued it.
        _ = c.advance(to: Self.start + .hours(27))
        _ = c.sense(.occlusion(false), at: Self.start + .hours(27))
        #expect(c.interruption == nil)
        if continues {
            #expect(c.awaitingConfirmationSince == stall && c.deliveringDose == .floor)
            #expect(c.alarms.isActive(.therapyInterruption))
        } else {
            #expect(c.awaitingConfirmationSince == nil && c.deliveringDose == ug(600))
        }
    }

    /// 41 strokes (the proof strokes: one more than the occlusion sensor's 40) take 12 min 18 s at
    /// 600 μg/day. A stall of 23 h 55 min leaves 5 min of the 24 h: 16 strokes, too few to prove drug
    /// flows (an occlusion that began with the stall's end would not have tripped yet), so the
    /// interruption passes the limit at the stall + 24 h. The twin ends 20 min before: 66 strokes prove it.
    @Test("an interruption not yet proved resumed by the sensors' proof strokes passes the limit 24 h after its earliest evidence", arguments: [(TimeSpan.minutes(5), true), (.minutes(20), false)])
    func unprovedResumptionPassesTheLimit(left: TimeSpan, floor: Bool) throws {
        var c = try Fixture.onTherapy()
        #expect(c.profile.resumptionProofStrokes == 41)
        // Read at 2 h, dated 3 strokes (54 s) back.
        let stall = Self.advance(&c, to: Self.start + .hours(2), datingBack: 3)
        _ = c.sense(.motorStall(true), at: Self.start + .hours(2))
        let cleared = stall + .hours(24) - left
        _ = c.advance(to: cleared)
        _ = c.sense(.motorStall(false), at: cleared)
        #expect(c.interruption == nil && c.awaitingConfirmationSince == nil && c.deliveringDose == ug(600))
        _ = c.advance(to: stall + .hours(25))
        if floor {
            #expect(c.awaitingConfirmationSince == stall && c.deliveringDose == .floor)
            #expect(c.alarms[.therapyInterruption]?.detail.contains("strokes that prove delivery resumed have come since") == true)
        } else {
            #expect(c.awaitingConfirmationSince == nil && c.deliveringDose == ug(600))
            #expect(!c.alarms.isActive(.therapyInterruption))
        }
    }

    @Test("a halt over the limit that ends while a stall or occlusion reading persists resumes strokes at the floor until confirmResumption")
    func haltEndingUnderPersistingEvidence() throws {
        var c = try Fixture.onTherapy(profile: Self.switchProfile)
        // Read at 2 h, dated 40 strokes (12 min) back.
        let occluded = Self.advance(&c, to: Self.start + .hours(2), datingBack: 40)
        #expect(occluded == Self.start + .hours(2) - .minutes(12))
        _ = c.sense(.occlusion(true), at: Self.start + .hours(2))
        _ = c.sense(.reservoirEmpty(true), at: Self.start + .hours(4))
        #expect(c.haltedSince == Self.start + .hours(4))
        let refill = Self.start + .hours(40)
        try Self.emptyRefill(&c, at: refill)
        _ = c.sense(.reservoirEmpty(false), at: refill)
        // The occlusion reading goes on (the interruption is not over) but 38 h passed without a stroke.
        #expect(c.haltedSince == nil && c.interruption?.since == occluded)
        #expect(c.awaitingConfirmationSince == occluded && c.deliveringDose == .floor)
        #expect(c.alarms.isActive(.therapyInterruption))
    }

    /// A pump whose profile has no switch: the switch's reading is evidence until the switch opens. A
    /// refill entered 18 h after it while the switch still reads empty (entered but not done, or done
    /// with a few microlitres the switch cannot see) is a record, not the act: the interruption goes on
    /// from the switch and passes 24 h at the floor. The twin: the switch opening with the refill (it
    /// was done) ends the 18 h interruption and the programmed dose goes on.
    @Test("a refill entry does not answer an empty-switch reading that persists: the interruption goes on and passes 24 h at the floor", arguments: [false, true])
    func refillEntryDoesNotAnswerAPersistingSwitchReading(switchOpens: Bool) throws {
        var c = try Fixture.onTherapy()
        let trip = Self.start + .hours(40)
        _ = c.sense(.reservoirEmpty(true), at: trip)
        let entry = trip + .hours(18)
        try c.handle(.refill(RefillRequest(withdrawn: .zero, added: nl(5_609_000), concentration: c500)), at: entry).accepted()
        // Withdrawn nothing against an estimate near 19 mL: the discrepancy check says so too.
        #expect(c.alarms.isActive(.refillDiscrepancy))
        if switchOpens { _ = c.sense(.reservoirEmpty(false), at: entry) }
        #expect(c.deliveringDose == ug(600) && c.awaitingConfirmationSince == nil)
        let after = trip + .hours(24) + .minutes(1)
        _ = c.advance(to: after)
        if switchOpens {
            #expect(c.interruption == nil && c.deliveringDose == ug(600) && !c.alarms.isActive(.therapyInterruption))
        } else {
            #expect(c.stoppageEvidence == [.emptySwitch] && c.interruption?.since == trip)
            #expect(c.awaitingConfirmationSince == trip && c.deliveringDose == .floor)
            #expect(c.alarms[.therapyInterruption]?.detail.contains("its evidence persists") == true)
            // Strokes go on at the floor (never zero), until the switch opens and a clinician confirms.
            #expect(c.advance(to: after + .days(1)).strokes.count == 400)
            _ = c.sense(.reservoirEmpty(false), at: after + .days(1))
            #expect(c.deliveringDose == .floor)
            try c.handle(.confirmResumption(.continuous(ug(600))), at: after + .days(1)).accepted()
            #expect(c.deliveringDose == ug(600))
        }
    }

    // MARK: - The empty switch governs when the profile has one

    @Test("with an empty switch the calculated empty alone does not stop delivery: programmed rate, critical alarm, stop on the switch")
    func calculatedEmptyWithSwitchKeepsDelivering() throws {
        var c = try Fixture.onTherapy(volume: nl(3_336_000), profile: Self.switchProfile)
        _ = c.advance(to: Self.calculatedEmpty)
        #expect(c.haltedSince == nil && c.deliveringDose == ug(600) && c.reservoir.estimate == .zero)
        #expect(c.alarms.isActive(.calculatedEmptySensorDisagrees))
        #expect(c.alarms[.calculatedEmptySensorDisagrees]?.priority == .high)
        #expect(c.interruption == nil)
        // An under-infusing pump: drug remains, so the strokes go on (12 h = 2,400 strokes).
        let strokes = c.advance(to: Self.calculatedEmpty + .hours(12)).strokes
        #expect(strokes.count == 2_400 && c.reservoir.estimate == .zero)
        // The switch trips: delivery stops there, the estimate's disagreement is resolved.
        let trip = Self.calculatedEmpty + .hours(12)
        _ = c.sense(.reservoirEmpty(true), at: trip)
        #expect(c.haltedSince == trip && c.deliveringDose == .zero)
        #expect(!c.alarms.isActive(.calculatedEmptySensorDisagrees) && c.alarms.isActive(.reservoirEmpty))
        #expect(c.advance(to: trip + .hours(2)).strokes.isEmpty)
        // The refill and the switch opening: 2 h without drug, the programmed dose resumes.
        try c.handle(.refill(RefillRequest(withdrawn: nl(100_000), added: .millilitres(20), concentration: c500)), at: trip + .hours(2)).accepted()
        #expect(c.haltedSince == trip) // the switch still says empty
        _ = c.sense(.reservoirEmpty(false), at: trip + .hours(2))
        #expect(c.haltedSince == nil && c.deliveringDose == ug(600) && c.awaitingConfirmationSince == nil)
    }

    @Test("a failed switch: the estimate said empty, the switch never tripped, the residual withdrawn is nothing — the interruption runs from the calculated empty", arguments: [(Int64(0), true), (Int64(500_000), false)])
    func failedSwitchShownByResidual(withdrawnNL: Int64, floor: Bool) throws {
        var c = try Fixture.onTherapy(volume: nl(3_336_000), profile: Self.switchProfile)
        _ = c.advance(to: Self.calculatedEmpty + .hours(40))
        #expect(c.interruption == nil && c.alarms.isActive(.calculatedEmptySensorDisagrees))
        let t = Self.calculatedEmpty + .hours(40)
        try c.handle(.refill(RefillRequest(withdrawn: nl(withdrawnNL), added: .millilitres(20), concentration: c500)), at: t).accepted()
        #expect(!c.alarms.isActive(.calculatedEmptySensorDisagrees))
        if floor {
            // 40 h since the calculated empty, confirmed by an empty reservoir: over 24 h.
            #expect(c.awaitingConfirmationSince == Self.calculatedEmpty && c.deliveringDose == .floor)
        } else {
            // 0.5 mL remained: the switch was right, the pump under-infused, the drug kept flowing.
            #expect(c.awaitingConfirmationSince == nil && c.deliveringDose == ug(600))
        }
    }

    @Test("without an empty switch the calculated empty stops delivery, as before")
    func calculatedEmptyWithoutSwitchStops() throws {
        var c = try Fixture.onTherapy(volume: nl(3_336_000))
        _ = c.advance(to: Self.calculatedEmpty)
        #expect(c.haltedSince == Self.calculatedEmpty && c.deliveringDose == .zero)
        #expect(!c.alarms.isActive(.calculatedEmptySensorDisagrees) && c.alarms.isActive(.reservoirEmpty))
    }

    // MARK: - Reserve taper

    /// 600 μg/day at 2000 μg/mL: 500 ng a stroke, one every 72 s. A 5 mL fill leaves 4.664 mL after
    /// priming; 0.664 mL = 2,656 strokes to the 4 mL low-reservoir alarm, at start + 191,232 s, which
    /// starts the reserve taper: 600, then from +1 d 480, 384, 307.2, … down to its floor, max(50 μg/day,
    /// the patency minimum 0.048 mL/day × 2000 μg/mL = 96 μg/day) = 96 μg/day (100.7 → 96 on day 9).
    static let reserveFrom = start + .seconds(191_232)

    static let reserveRefills: [(hours: Int64, held: Int64?)] = [(48, nil), (49, 384_000), (12 * 24, 96_000)]

    /// A reserve taper in its second day, a 26 h stall in it (the floor, awaiting a clinician), cleared;
    /// returns the controller and the instant 1 h after the stall cleared.
    static func awaitingConfirmationInAReserveTaper() throws -> (PumpController, Instant) {
        var s = ControllerSettings()
        s.reservoirPolicy = .reserveTaper
        var c = try Fixture.onTherapy(concentration: c2000, volume: .millilitres(5), settings: s)
        let read = Self.reserveFrom + .hours(1)
        let stall = Self.advance(&c, to: read, datingBack: 3)
        _ = c.sense(.motorStall(true), at: read)
        _ = c.advance(to: read + .hours(26))
        #expect(c.taper?.kind == .reserve && c.awaitingConfirmationSince == stall && c.deliveringDose == .floor)
        _ = c.sense(.motorStall(false), at: read + .hours(27))
        return (c, read + .hours(28))
    }

    @Test("a confirmation during a reserve taper caps it at the confirmed dose: the taper from the programmed dose never delivers above it")
    func confirmationCapsAReserveTaper() throws {
        var (c, t) = try Self.awaitingConfirmationInAReserveTaper()
        try c.handle(.confirmResumption(.continuous(ug(300))), at: t).accepted()
        #expect(c.taper?.levels.allSatisfy { $0 <= ug(300) } == true, "\(String(describing: c.taper))")
        #expect(c.deliveringDose == ug(300))
        _ = c.advance(to: t + .days(3))
        #expect(c.deliveringDose <= ug(300))
    }

    /// Fuzzer finding `stop-after-a-capped-reserve-level`: a confirmation of a flex schedule caps a
    /// reserve taper past its first day at the schedule's daily total, which the reserve delivers
    /// evenly. A stop then followed the reserve's days at that level, and, its first level being the
    /// programmed daily dose, delivered it in the flex schedule's shape: 500 μg/day in the morning
    /// where the reserve level in force was 300 evenly, more in a 24 h window than without the stop.
    @Test("a stop following a reserve taper past its first day delivers its first level evenly, as the reserve does, never in the schedule's shape")
    func stopAfterACappedReserveLevelIsEven() throws {
        var (c, t) = try Self.awaitingConfirmationInAReserveTaper()
        let flex = Schedule.flex([FlexStep(start: .midnight, rate: ug(500)), FlexStep(start: TimeOfDay(hour: 12)!, rate: ug(100))])
        try c.handle(.confirmResumption(flex), at: t).accepted()
        #expect(c.taper?.kind == .reserve && c.deliveringDose == ug(300), "\(String(describing: c.taper)) \(c.deliveringDose)")
        try c.handle(.stop(taperDays: nil, override: nil), at: t).accepted()
        #expect(c.taper?.kind == .stop && c.taper?.evenFromTheStart == true)
        #expect(c.deliveringDose == ug(300))
        // 300 μg/day in 500 ng strokes: 600 a day, 300 in the next 12 h whatever the hour.
        let strokes = c.advance(to: t + .hours(12)).strokes
        #expect(abs(strokes.count - 300) <= 1, "\(strokes.count)")
    }

    /// Fuzzer finding `resume-of-a-capped-stop-level`: a confirmation of a flex schedule caps a stop
    /// taper past its first day at the schedule's daily total (delivered evenly, as every level past
    /// the first is). A `resume` then held that level as the schedule itself, in the flex shape, which
    /// put more into a 24 h window than the even level it replaced.
    @Test("a resume holds the level in force as it was delivered: evenly past a taper's first day, even when a confirmation capped it at the schedule's daily total")
    func resumeOfACappedStopLevelIsEven() throws {
        var c = try Fixture.onTherapy()
        let stopAt = Self.start + .hours(1)
        try c.handle(.stop(taperDays: 29, override: nil), at: stopAt).accepted()
        let read = stopAt + .hours(1)
        let stall = Self.advance(&c, to: read, datingBack: 3)
        _ = c.sense(.motorStall(true), at: read)
        _ = c.advance(to: read + .hours(26))
        _ = c.sense(.motorStall(false), at: read + .hours(26))
        #expect(c.awaitingConfirmationSince == stall && c.deliveringDose == .floor)
        let t = stopAt + .days(2) + .hours(1)
        _ = c.advance(to: t)
        let level = try #require(c.taper?.level(at: t))
        #expect(level.index == 2 && level.dose > ug(450), "\(level)")
        // 800 μg/day for 12 h, 100 μg/day for 12 h: 450 μg/day, below the taper's level, which it caps.
        let flex = Schedule.flex([FlexStep(start: .midnight, rate: ug(800)), FlexStep(start: TimeOfDay(hour: 12)!, rate: ug(100))])
        try c.handle(.confirmResumption(flex), at: t).accepted()
        #expect(c.taper?.level(at: t)?.dose == ug(450) && c.deliveringDose == ug(450))
        try c.handle(.resume, at: t).accepted()
        #expect(c.taper == nil && c.schedule == .continuous(ug(450)) && c.deliveringDose == ug(450))
    }

    @Test("a stop taper's first day delivers the programmed flex schedule as it is; a resume that day keeps it")
    func stopTaperFirstDayKeepsTheFlexShape() throws {
        // 1200 μg/day from midnight, 50 μg/day from noon (625 μg/day); the wall clock reads 00:00 at zero.
        let flex = Schedule.flex([FlexStep(start: .midnight, rate: .ceiling), FlexStep(start: TimeOfDay(hour: 12)!, rate: .floor)])
        var c = try Fixture.onTherapy(flex)
        let stopAt = Self.start + .hours(12) // 13:00, in the 50 μg/day half
        try c.handle(.stop(taperDays: nil, override: nil), at: stopAt).accepted()
        #expect(c.taper?.fromDose == ug(625) && c.deliveringDose == .floor)
        _ = c.advance(to: at(.days(1) + .hours(1)))
        #expect(c.deliveringDose == .ceiling)
        _ = c.advance(to: stopAt + .days(1))
        let level1 = try #require(c.taper?.levels[1])
        #expect(c.deliveringDose == level1 && level1 < ug(625))

        var r = try Fixture.onTherapy(flex)
        try r.handle(.stop(taperDays: nil, override: nil), at: stopAt).accepted()
        try r.handle(.resume, at: stopAt + .hours(2)).accepted()
        #expect(r.schedule == flex && r.taper == nil && r.deliveringDose == .floor)
    }

    @Test("a stop during a reserve taper tapers from the reserve level in force, not the programmed dose above it")
    func stopDuringReserveTaperTapersFromItsLevel() throws {
        var s = ControllerSettings()
        s.reservoirPolicy = .reserveTaper
        var c = try Fixture.onTherapy(concentration: c2000, volume: .millilitres(5), settings: s)
        let t = Self.reserveFrom + .days(2) + .hours(1)
        _ = c.advance(to: t)
        #expect(c.taper?.kind == .reserve && c.deliveringDose == ug(384))
        try c.handle(.stop(taperDays: nil, override: nil), at: t).accepted()
        #expect(c.taper?.kind == .stop && c.taper?.fromDose == ug(384) && c.deliveringDose == ug(384), "\(String(describing: c.taper))")
        try c.handle(.resume, at: t + .hours(1)).accepted()
        #expect(c.deliveringDose == ug(384))
    }

    /// The reserve level 384 μg/day is in force from reserveFrom + 2 d and cut to 307.2 at reserveFrom + 3 d.
    /// A stop 1 h into it keeps those days: 384 for the 23 h left (368 μg = 736 strokes of 500 ng), then
    /// 307.2 (614.4 strokes a day), not 384 for 24 h from the stop and 328.265 after. Fuzzer finding
    /// `stop-after-short-downtime`: after a downtime the 24 h before the stop held little, and the stop
    /// delivered above both the titration limit over it and the reserve taper it replaced.
    @Test("a stop during a reserve taper never delivers more than the reserve taper would have: its days, each the lower level, at least the days asked")
    func stopDuringReserveTaperNeverDeliversAboveIt() throws {
        var s = ControllerSettings()
        s.reservoirPolicy = .reserveTaper
        var c = try Fixture.onTherapy(concentration: c2000, volume: .millilitres(5), settings: s)
        let t = Self.reserveFrom + .days(2) + .hours(1)
        _ = c.advance(to: t)
        try c.handle(.stop(taperDays: nil, override: nil), at: t).accepted()
        let plan = try #require(c.taper)
        #expect(plan.kind == .stop && plan.startedAt == Self.reserveFrom + .days(2) && plan.levels.prefix(2) == [ug(384), ngPerDay(307_200)])
        #expect(try #require(plan.endsAt) >= t + .days(14), "\(plan)")
        let rest = c.advance(to: Self.reserveFrom + .days(3)).strokes
        let next = c.advance(to: Self.reserveFrom + .days(4)).strokes
        #expect(abs(rest.count - 736) <= 1 && rest.allSatisfy { $0.picograms == 500_000 })
        #expect(abs(next.count - 614) <= 1)
    }

    /// A controller on the reserve-taper policy refilled 49 h into the reserve taper: the reached
    /// 384 μg/day is held until a clinician confirms. Returns it and the refill's instant.
    static func holdingAReserveLevel() throws -> (PumpController, Instant) {
        var s = ControllerSettings()
        s.reservoirPolicy = .reserveTaper
        var c = try Fixture.onTherapy(concentration: c2000, volume: .millilitres(5), settings: s)
        _ = c.advance(to: Self.reserveFrom)
        let t = Self.reserveFrom + .hours(49)
        try c.handle(.refill(RefillRequest(withdrawn: c.reservoir.estimate, added: .millilitres(20), concentration: c2000)), at: t).accepted()
        #expect(c.confirmationHold == ug(384) && c.deliveringDose == ug(384))
        return (c, t)
    }

    /// A refill 49 h into the reserve taper holds 384 μg/day until a clinician confirms. A stop then
    /// (an emergency override, one day: the 96 μg/day taper floor) and a resume of it must lower what is
    /// delivered: the held level is never above the plan in force. It stayed at 384 μg/day (768
    /// strokes of 500 ng a day) over the stop's 96 and the resumed 96 (fuzzer finding
    /// `stop-and-resume-below-a-held-reserve-level`); and a 14-day stop held 384 for its 14 days, then
    /// ended delivery at once from 384.
    @Test("while a reserve level is held awaiting confirmation, a stop and a resume lower delivery to their level: the hold is never above the plan in force")
    func heldReserveLevelNeverAboveAStopOrResume() throws {
        let (held, t) = try Self.holdingAReserveLevel()
        var c = held
        var taper = c
        try c.handle(.stop(taperDays: 1, override: EmergencyOverride(reason: "test", clinician: "test")), at: t).accepted()
        #expect(c.deliveringDose == ug(96))
        try c.handle(.resume, at: t + .hours(1)).accepted()
        #expect(c.deliveringDose == ug(96) && c.schedule == .continuous(ug(96)))
        #expect(abs(c.advance(to: t + .days(1) + .hours(1)).strokes.count - 192) <= 1)

        try taper.handle(.stop(taperDays: nil, override: nil), at: t).accepted()
        let plan = try #require(taper.taper)
        #expect(plan.fromDose == ug(384) && taper.deliveringDose == ug(384))
        _ = taper.advance(to: t + .days(1))
        #expect(taper.deliveringDose == plan.levels[1] && plan.levels[1] < ug(384))
        _ = taper.advance(to: t + .days(13) + .hours(23))
        #expect(taper.deliveringDose == ug(96))
    }

    /// Awaiting confirmation at a reserve taper's held 384 μg/day, an emergency-override stop with a
    /// one-day taper (the taper floor: 96 μg/day, the patency minimum at 2000 μg/mL) and a `resume`
    /// (holding it) deliver 96 μg/day: the held level caps delivery, it never lifts it above what the
    /// stop or the resume set.
    @Test("the held level caps delivery while a confirmation is awaited: a stop's lower taper and a resume at it are delivered as set")
    func heldLevelNeverLiftsAStop() throws {
        let (held, t) = try Self.holdingAReserveLevel()
        var c = held
        try c.handle(.stop(taperDays: 1, override: EmergencyOverride(reason: "test", clinician: "test")), at: t + .hours(1)).accepted()
        #expect(c.taper?.levels == [ug(96)] && c.deliveringDose == ug(96), "\(String(describing: c.taper))")
        try c.handle(.resume, at: t + .hours(11)).accepted()
        #expect(c.schedule == .continuous(ug(96)) && c.deliveringDose == ug(96) && c.awaitingConfirmationSince != nil)
        // 96 μg/day in strokes of 500 ng: 192 a day.
        #expect(c.advance(to: t + .hours(35)).strokes.count == 192)
    }

    @Test("more than 24 h at a reserve taper's reduced dose holds that level after the refill until a clinician confirms", arguments: reserveRefills)
    func reserveTaperHoldsAfterRefill(hours: Int64, held: Int64?) throws {
        var s = ControllerSettings()
        s.reservoirPolicy = .reserveTaper
        var c = try Fixture.onTherapy(concentration: c2000, volume: .millilitres(5), settings: s)
        _ = c.advance(to: Self.reserveFrom)
        #expect(c.taper?.kind == .reserve && c.taper?.startedAt == Self.reserveFrom)
        let t = Self.reserveFrom + .hours(hours)
        let r = c.handle(.refill(RefillRequest(withdrawn: c.reservoir.estimate, added: .millilitres(20), concentration: c2000)), at: t)
        try r.accepted()
        #expect(c.taper == nil)
        if let held {
            #expect(c.awaitingConfirmationSince == Self.reserveFrom + .days(1))
            #expect(c.deliveringDose == ngPerDay(held) && c.alarms.isActive(.therapyInterruption))
            #expect(r.events.contains(.taperCancelled(holding: ngPerDay(held))))
            // Held level, in strokes of 500 ng: 384 μg/day = 768 a day; 96 μg/day = 192 a day.
            #expect(c.advance(to: t + .days(1)).strokes.count == Int(held / 500))
            #expect(expectRefusal(&c, .program(.continuous(ug(600))), at: t + .days(1)) == .deliveryAwaitsConfirmation(since: Self.reserveFrom + .days(1)))
            try c.handle(.confirmResumption(.continuous(ug(600))), at: t + .days(1)).accepted()
            #expect(c.deliveringDose == ug(600))
        } else {
            // Exactly 24 h at the reduced level: not more than the limit, the schedule resumes.
            #expect(c.awaitingConfirmationSince == nil && c.deliveringDose == ug(600))
        }
    }
}

