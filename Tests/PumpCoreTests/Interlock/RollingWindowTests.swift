import Testing
@testable import PumpCore

// The titration limits hold on drug delivered in rolling 24 h windows, not on daily totals. Every
// expected amount below is derived by hand from the step rates and the hours they run (μg = μg/day ×
// hours / 24); the fixture's wall clock reads 00:00 at instant zero and therapy starts at 01:00.

/// Drug, exact picograms (rounded down), of `rateUG` μg/day running for `minutes`.
func drugPicograms(_ rateUG: Int64, minutes: Int64) -> Int128 { Int128(rateUG) * 1_000_000 * Int128(minutes) / 1_440 }
private func pg(_ rateUG: Int64, minutes: Int64) -> Int128 { drugPicograms(rateUG, minutes: minutes) }
/// The 24 h window ending at `end` holding `picograms`.
func deliveryWindow(ending end: Instant, _ picograms: Int128) -> DeliveryWindow {
    DeliveryWindow(end: end, picograms: Int64(picograms))
}
private func window(ending end: Instant, _ picograms: Int128) -> DeliveryWindow { deliveryWindow(ending: end, picograms) }

extension Result where Failure == Refusal {
    /// The refusal, if refused.
    var refusal: Refusal? { if case let .failure(r) = self { return r } else { return nil } }
}

@Suite("Interlock: rolling 24 h windows of delivered drug")
struct RollingWindowTests {
    static let start = Fixture.therapyStart
    /// 1200 μg/day 00:00–12:00, 50 μg/day 12:00–24:00: 625 μg/day.
    static let highFirst = Schedule.flex([step(0, 0, ug(1200)), step(12, 0, ug(50))])
    static let highSecond = Schedule.flex([step(0, 0, ug(50)), step(12, 0, ug(1200))])

    @Test("titration limit on rolling windows: swapping flex halves at 2d+12:00 is refused (the window to 3d+00:00 would hold 1200 μg)")
    func swappedFlexHalvesRefused() throws {
        var c = try Fixture.onTherapy(Self.highFirst)
        #expect(Self.highFirst.dailyDose == ug(625) && Self.highSecond.dailyDose == ug(625))
        let t = at(.days(2) + .hours(12))
        // Delivered in (1d+12:00, 2d+12:00]: 12 h at 50 + 12 h at 1200 = 25 + 600 = 625 μg.
        // With the swap, (2d+00:00, 3d+00:00] holds 12 h at 1200 already delivered + 12 h at 1200 = 1200 μg;
        // without it, 600 + 25 = 625 μg. The limit is 625 × 1.3 = 812.5 μg.
        let reference = window(ending: t, pg(50, minutes: 720) + pg(1200, minutes: 720))
        #expect(reference.amount == .micrograms(625))
        let expected = Refusal.windowAboveTitrationLimit(window: window(ending: at(.days(3)), pg(1200, minutes: 1_440)),
                                                         reference: reference, limit: .percent(30),
                                                         largestAllowed: Mass(nanograms: 812_500))
        // The preview refuses exactly as handle does, and changes nothing.
        let before = c
        let preview: Refusal? = c.check(.program(Self.highSecond), at: t).refusal
        #expect(preview == expected)
        #expect(c == before)
        #expect(expectRefusal(&c, .program(Self.highSecond), at: t) == expected)
        #expect("\(expected)".contains("2d+00:00:00–3d+00:00:00 would deliver 1200.000 μg"))
        #expect("\(expected)".contains("at most 812.500 μg"))
    }

    @Test("titration limit on rolling windows: a 1-hour 1200 μg/day pulse reprogrammed every hour is refused every time, and no window exceeds 130 % of the last")
    func hourlyPulseRefused() throws {
        // 1200 μg/day 00:00–01:00, 50 μg/day for the other 23 h: (1200 + 23 × 50) / 24 = 97.917 μg/day.
        func pulse(at hour: Int) -> Schedule {
            let next = (hour + 1) % 24
            if hour == 23 { return .flex([step(0, 0, ug(50)), step(23, 0, ug(1200))]) }
            var steps = [step(hour, 0, ug(1200)), step(next, 0, ug(50))]
            if hour > 0 { steps.insert(step(0, 0, ug(50)), at: 0) }
            return .flex(steps)
        }
        var c = try Fixture.onTherapy(pulse(at: 0))
        var rec = StrokeRecorder()
        c.advance(to: at(.days(2)), into: &rec)
        var refused = 0
        for h in 1..<72 {
            let t = at(.days(2) + .hours(Int64(h)))
            c.advance(to: t, into: &rec)
            let r = c.handle(.program(pulse(at: h % 24)), at: t)
            if case .windowAboveTitrationLimit? = r.refusal { refused += 1 } else if h % 24 != 0 {
                Issue.record("pulse at \(t) not refused by the window rule: \(r.refusal.map { "\($0)" } ?? "accepted")")
            }
        }
        // Every hour but the pulse's own (h ≡ 0, the same schedule) is refused.
        #expect(refused == 71 - 2)
        c.advance(to: at(.days(5)), into: &rec)
        // Every window from day 2 holds the programmed 97.917 μg (2350/24) within one stroke (0.125 μg).
        let daily = Int64(2_350_000_000 / 24)
        var w = at(.days(2))
        while w <= at(.days(5)) {
            let m = rec.delivered(after: w - .hours(24), upTo: w)
            #expect(abs(m - daily) <= 125_000, "window ending \(w) holds \(m) pg")
            w = w + .minutes(13)
        }
    }

    @Test("once-per-24 h increase rule on windows: a reshaped flex that raises a window within 24 h of an increase is refused, whatever the daily dose")
    func reshapeRaisingWindowIsAnIncrease() throws {
        var c = try Fixture.onTherapy()
        let day1 = Self.start + .hours(24)
        try c.handle(.program(.continuous(ug(700))), at: day1).accepted()
        // Same 700 μg/day, but 800 from 00:00 to 12:00: at 1d+03:00 it raises the window ending at
        // 1d+12:00 (the first instant a window's amount can turn): (0d+12:00, 1d+12:00] holds 13 h at
        // 600 + 2 h at 700 + 9 h at 800 = 683.333 μg, against 645.833 μg with 700 for those 9 h.
        let reshaped = Schedule.flex([step(0, 0, ug(800)), step(12, 0, ug(600))])
        #expect(reshaped.dailyDose == ug(700))
        let t = day1 + .hours(2)
        let end = at(.days(1) + .hours(12))
        let with = pg(600, minutes: 13 * 60) + pg(700, minutes: 120) + pg(800, minutes: 9 * 60)
        let without = pg(600, minutes: 13 * 60) + pg(700, minutes: 120) + pg(700, minutes: 9 * 60)
        #expect(expectRefusal(&c, .program(reshaped), at: t)
            == .windowIncreaseTooSoon(window: window(ending: end, with), without: window(ending: end, without),
                                      lastIncreaseAt: day1, allowedFrom: day1 + .hours(24)))
        // 24 h after the last increase it is an increase like any other, and is allowed (800 ≤ 700 × 1.3).
        let plan = try #require(try? c.check(.program(reshaped), at: day1 + .hours(24)).get())
        #expect(plan.countsAsIncrease)
        try c.handle(.program(reshaped), at: day1 + .hours(24)).accepted()
        #expect(c.doseHistory.lastIncreaseAt == day1 + .hours(24))
    }

    @Test("no increase during the first 24 h, on windows: a reshape that raises a window on the first day is refused")
    func reshapeOnFirstDayRefused() throws {
        var c = try Fixture.onTherapy()
        // At 03:00, 800 until 12:00 raises (12:00 − 24 h, 12:00]: 2 h at 600 (01:00–03:00) + 9 h at 800
        // = 350 μg against 2 h at 600 + 9 h at 600 = 275 μg (nothing was delivered before 01:00).
        let reshaped = Schedule.flex([step(0, 0, ug(800)), step(12, 0, ug(400))])
        let end = at(.hours(12))
        #expect(expectRefusal(&c, .program(reshaped), at: at(.hours(3)))
            == .windowIncreaseDuringFirstDay(window: window(ending: end, pg(600, minutes: 120) + pg(800, minutes: 540)),
                                             without: window(ending: end, pg(600, minutes: 120) + pg(600, minutes: 540)),
                                             allowedFrom: Self.start + .hours(24)))
    }

    @Test("decrease limit on rolling windows: a flex that empties a window below 80 % of the last 24 h is refused, whatever the daily dose")
    func windowBelowDecreaseLimitRefused() throws {
        var c = try Fixture.onTherapy()
        // 50 μg/day until 12:00 and 1150 after: still 600 μg/day, but programmed at 2d+00:00 the window
        // (1d+12:00, 2d+12:00] holds 12 h at 600 + 12 h at 50 = 325 μg < 600 × 0.8 = 480 μg.
        let lopsided = Schedule.flex([step(0, 0, ug(50)), step(12, 0, ug(1150))])
        #expect(lopsided.dailyDose == ug(600))
        let t = at(.days(2))
        let end = at(.days(2) + .hours(12))
        #expect(expectRefusal(&c, .program(lopsided), at: t)
            == .windowBelowDecreaseLimit(window: window(ending: end, pg(600, minutes: 720) + pg(50, minutes: 720)),
                                         reference: window(ending: t, pg(600, minutes: 1_440)), limit: .percent(20),
                                         smallestAllowed: .micrograms(480)))
    }

    @Test("a reshape that raises no window is not an increase: accepted in the first day, and the next increase is not delayed")
    func reshapeLoweringWindowsIsNotAnIncrease() throws {
        var c = try Fixture.onTherapy()
        let lower = Schedule.flex([step(0, 0, ug(600)), step(12, 0, ug(480))])
        let plan = try #require(try? c.check(.program(lower), at: at(.hours(3))).get())
        #expect(!plan.countsAsIncrease)
        try c.handle(.program(lower), at: at(.hours(3))).accepted()
        #expect(c.doseHistory.lastIncreaseAt == nil)
        // At 1d+02:00 (past the first day, no increase yet): 624 ≤ 540 × 1.3 = 702 by the daily rule, and
        // the 24 h before delivered 1 h at 600, 9 h at 600, 12 h at 480, 2 h at 600 = 540 μg, so no
        // window may exceed 702 μg either; 624 is allowed at once.
        try c.handle(.program(.continuous(ug(624))), at: Self.start + .hours(25)).accepted()
    }

    @Test("check previews a change without making it: μg/day and mL/day side by side and the windows it creates")
    func checkPreviewsWithoutChanging() throws {
        var c = try Fixture.onTherapy()
        let t = Self.start + .hours(24)
        let before = c
        let plan = try c.check(.program(.continuous(ug(780))), at: t).get()
        #expect(c == before)
        #expect(plan.doseBefore == ug(600) && plan.doseAfter == ug(780))
        // 780 μg/day at 500 μg/mL = 1.56 mL/day.
        #expect(plan.doseAfterDescription == "780 μg/day = 1.5600 mL/day")
        #expect(plan.lines.contains("daily dose: 600 μg/day = 1.2000 mL/day → 780 μg/day = 1.5600 mL/day"))
        let windows = try #require(plan.windows)
        #expect(windows.reference == window(ending: t, pg(600, minutes: 1_440)))
        #expect(windows.highest == window(ending: t + .hours(24), pg(780, minutes: 1_440)))
        #expect(plan.countsAsIncrease)
        // handle does exactly what check said.
        #expect(try c.handle(.program(.continuous(ug(780))), at: t).accepted() == plan.acceptance)
        let viaStatic: Refusal? = PumpController.check(.program(.continuous(ug(781))), c, at: t + .hours(1)).refusal
        let viaInstance: Refusal? = c.check(.program(.continuous(ug(781))), at: t + .hours(1)).refusal
        #expect(viaStatic != nil && viaStatic == viaInstance)
    }

    @Test("check of a flex schedule lists each step in μg/day and mL/day")
    func checkListsFlexSteps() throws {
        let c = try Fixture.onTherapy()
        let flex = Schedule.flex([step(0, 0, ug(600)), step(12, 0, ug(500))])
        let plan = try c.check(.program(flex), at: Self.start + .hours(2)).get()
        #expect(plan.lines.contains("  from 12:00: 500 μg/day = 1.0000 mL/day"))
        #expect(plan.lines.contains("  from 00:00: 600 μg/day = 1.2000 mL/day"))
    }

    /// Between two instants where a rate changes, every window's amount is linear in its end, but the
    /// bound max(without, limit) turns where "without" crosses the limit: a change can breach it there
    /// only, and be judged clean at every rate change on either side.
    @Test("titration limit on rolling windows: a breach between two rate changes, where the plan without the change crosses the limit, is refused")
    func breachWhereThePlanCrossesTheLimit() throws {
        // 300 μg/day 00:00–06:00, 600 μg/day 06:00–24:00: (6 × 300 + 18 × 600) / 24 = 525 μg/day. 2 mL hold
        // 1.664 mL past the catheter's dead volume, 832 μg: 62.5 (0d 01:00–06:00) + 450 + 75 (1d 00:00–06:00)
        // + 244.5 at 600 (9 h 46 min 48 s), so the reservoir is empty at 1d+15:46:48.
        let a = Schedule.flex([step(0, 0, ug(300)), step(6, 0, ug(600))])
        #expect(a.dailyDose == ug(525))
        var c = try Fixture.onTherapy(a, volume: .millilitres(2))
        let halt = at(.days(1) + .hours(15) + .minutes(46) + .seconds(48))
        _ = c.advance(to: halt + .minutes(1))
        #expect(c.haltedSince == halt)
        // At 2d+00:00 the 24 h before hold 75 + 244.5 = 319.5 μg: the limit is 1.3 × 319.5 = 415.35 μg.
        // 520 μg/day (1 % below the daily dose) is judged as if the pump were refilled at once. Its windows
        // where a rate changes are clean: to 2d+06:00 244.5 + 130 = 374.5 μg; to 2d+15:46:48 520 × 15.78 h
        // = 341.9 μg; to 3d+00:00 520 μg (A: 525). But between the last two, A's windows cross 415.35 μg,
        // where 75 + 600 × (w − 2d+06:00) = 415.35, w − 2d+00:00 = 70 610.4 s: there 520 μg/day's window
        // holds 520 × 70 610.4 s = 424.970 μg, above both the limit and A's window.
        let t = at(.days(2))
        let r = try #require(expectRefusal(&c, .program(.continuous(ug(520))), at: t))
        guard case let .windowAboveTitrationLimit(breach, reference, limit, largestAllowed) = r else {
            Issue.record("refused otherwise: \(r)"); return
        }
        #expect(reference == window(ending: t, pg(300, minutes: 360) + Int128(600_000_000) * 35_208 / 86_400))
        #expect(reference.amount == Mass(nanograms: 319_500))
        #expect(limit == .percent(30) && largestAllowed == Mass(nanograms: 415_350))
        let crossing = t + TimeSpan(nanoseconds: 70_610_400_000_000)
        let ns = TimeSpan(nanoseconds: 1_000)
        #expect(breach.end >= crossing - ns && breach.end <= crossing + ns)
        #expect(breach.picograms == 424_970_000)
        // 505 μg/day holds more than A's windows only before w − 2d+00:00 = 18.94 h, and more than
        // 415.35 μg only after 19.74 h: accepted.
        try c.handle(.program(.continuous(ug(505))), at: t).accepted()
    }

    @Test("delivered drug in a window is read from the stroke clock's rate history, zero while the reservoir is empty")
    func deliveredWindowCountsHalts() throws {
        var c = try FaultTests.emptied()
        let halt = FaultTests.haltAt
        _ = c.advance(to: halt + .hours(12))
        // (halt − 12 h, halt + 12 h]: 12 h at 600, then nothing.
        #expect(c.deliveredWindow(endingAt: halt + .hours(12)) == window(ending: halt + .hours(12), pg(600, minutes: 720)))
    }
}

@Suite("Interlock: taper floor")
struct TaperFloorTests {
    static let start = Fixture.therapyStart

    @Test("stop taper floor is max(50 μg/day, the patency minimum at the concentration): 96 μg/day at 2000 μg/mL")
    func stopTaperFloorAtPatency() throws {
        // 0.048 mL/day × 2000 μg/mL = 96 μg/day; at 500 μg/mL it is 24, so 50 stands.
        #expect(TaperPlan.floor(patencyMinimum: VolumeRate(nanolitresPerDay: 48_000), concentration: c2000) == ug(96))
        #expect(TaperPlan.floor(patencyMinimum: VolumeRate(nanolitresPerDay: 48_000), concentration: c1000) == ug(50))
        // Rounded up to the ng/day: 48,001 nL/day × 2000 = 96.002 μg/day; 100,001 × 500 = 50.0005 → 50.001.
        #expect(TaperPlan.floor(patencyMinimum: VolumeRate(nanolitresPerDay: 48_001), concentration: c2000) == ngPerDay(96_002))
        #expect(TaperPlan.floor(patencyMinimum: VolumeRate(nanolitresPerDay: 100_001), concentration: c500) == ngPerDay(50_001))
        var c = try Fixture.onTherapy(concentration: c2000)
        #expect(c.taperFloor == ug(96))
        guard case let .taper(plan)? = try? c.handle(.stop(taperDays: nil, override: nil), at: Self.start + .hours(1)).accepted() else {
            Issue.record("stop refused"); return
        }
        #expect(plan.levels.count == 14 && plan.levels.first == ug(600) && plan.levels.last == ug(96))
        for level in plan.levels { #expect(level.volumeRate(at: c2000) >= VolumeRate(nanolitresPerDay: 48_000), "\(level)") }
        for (a, b) in zip(plan.levels, plan.levels.dropFirst()) { #expect(b.nanogramsPerDay * 10 >= a.nanogramsPerDay * 8) }
        // The last day delivers 96 μg/day = 0.048 mL/day, then delivery ends.
        _ = c.advance(to: plan.startedAt + .days(13))
        #expect(c.deliveringDose == ug(96))
        let emergency = TaperPlan.stop(from: ug(600), days: 3, limit: nil, at: .zero, emergency: true, floor: ug(96))
        #expect(emergency.levels.last == ug(96))
    }

    @Test("stop taper floor: a refill during a taper to a concentration whose patency minimum is above its floor is refused")
    func refillDuringTaperBelowPatencyRefused() throws {
        var c = try Fixture.onTherapy()
        try c.handle(.stop(taperDays: nil, override: nil), at: Self.start + .hours(1)).accepted()
        // The taper (at 500 μg/mL) ends at 50 μg/day, which at 2000 μg/mL is 0.025 mL/day < 0.048.
        let refill = RefillRequest(withdrawn: c.reservoir.estimate, added: .millilitres(20), concentration: c2000, confirmConcentrationChange: true)
        #expect(expectRefusal(&c, .refill(refill), at: Self.start + .days(2))
            == .invalidSchedule(.belowPatencyRate(step: nil, rate: ug(50), volumeRate: VolumeRate(nanolitresPerDay: 25_000),
                                                  concentration: c2000, minimum: VolumeRate(nanolitresPerDay: 48_000))))
        var same = refill
        same.concentration = c500
        try c.handle(.refill(same), at: Self.start + .days(2)).accepted()
    }
}
