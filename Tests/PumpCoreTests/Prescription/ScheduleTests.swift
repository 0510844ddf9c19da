import Testing
@testable import PumpCore

@Suite("Prescription: schedule")
struct ScheduleTests {
    static let h = TimeConstants.nanosecondsPerHour

    @Test("daily dose of a continuous schedule is its rate")
    func continuousDailyDose() {
        #expect(Schedule.continuous(ug(600)).dailyDose == ug(600))
        #expect(Schedule.continuous(ug(600)).steps == [FlexStep(start: .midnight, rate: ug(600))])
    }

    @Test("daily dose of flex schedules, integrated by hand")
    func flexDailyDose() {
        // 00–08 at 600, 08–20 at 900, 20–24 at 300: (600·8 + 900·12 + 300·4) / 24 = 16,800 / 24 = 700 μg/day.
        #expect(Schedule.flex([step(0, 0, ug(600)), step(8, 0, ug(900)), step(20, 0, ug(300))]).dailyDose == ug(700))
        // First step not at midnight: 06–18 at 400 (12 h), 18–06 at 800 (12 h, wrapping) = 600 μg/day.
        #expect(Schedule.flex([step(6, 0, ug(400)), step(18, 0, ug(800))]).dailyDose == ug(600))
        // A single flex step is the same all day.
        #expect(Schedule.flex([step(13, 30, ug(250))]).dailyDose == ug(250))
        // 00:00–08:00 at 100,000 ng/day and 08:00–24:00 at 100,001 ng/day:
        // (100,000·8 + 100,001·16) / 24 = 100,000 + 16/24 = 100,000.67 → rounds to 100,001 ng/day.
        #expect(Schedule.flex([step(0, 0, ngPerDay(100_000)), step(8, 0, ngPerDay(100_001))]).dailyDose == ngPerDay(100_001))
        // 00:00–16:00 at 100,000 and 16:00–24:00 at 100,001: 100,000 + 8/24 = 100,000.33 → 100,000.
        #expect(Schedule.flex([step(0, 0, ngPerDay(100_000)), step(16, 0, ngPerDay(100_001))]).dailyDose == ngPerDay(100_000))
        // 30-minute steps: 23:30–00:30 at 1200, 00:30–23:30 at 60: (1200·1 + 60·23) / 24 = 2,580 / 24 = 107.5 μg/day.
        #expect(Schedule.flex([step(0, 30, ug(60)), step(23, 30, ug(1200))]).dailyDose == ngPerDay(107_500))
        #expect(Schedule.flex([]).dailyDose == .zero)
    }

    @Test("rate lookup: the step in force and the time to the next step, wrapping at midnight")
    func rateLookup() {
        let s = Schedule.flex([step(6, 0, ug(400)), step(18, 0, ug(800))])
        let h = Self.h
        // 06:00 exactly: the first step, 12 h to 18:00.
        #expect(s.rate(atNanosecondsAfterMidnight: 6 * h) == (ug(400), .hours(12)))
        // 17:59:59.999999999: still the first step, 1 ns to go.
        let a = s.rate(atNanosecondsAfterMidnight: 18 * h - 1)
        #expect(a.rate == ug(400) && a.untilNextStep == ns(1))
        // 18:00: the last step, until 06:00 tomorrow = 12 h.
        #expect(s.rate(atNanosecondsAfterMidnight: 18 * h) == (ug(800), .hours(12)))
        // 23:00: last step, 7 h to 06:00.
        #expect(s.rate(atNanosecondsAfterMidnight: 23 * h) == (ug(800), .hours(7)))
        // 03:00 (before the first step's start): the last step of yesterday is in force, 3 h to go.
        #expect(s.rate(atNanosecondsAfterMidnight: 3 * h) == (ug(800), .hours(3)))
        // 00:00: last step, 6 h.
        #expect(s.rate(atNanosecondsAfterMidnight: 0) == (ug(800), .hours(6)))
        // Continuous: never changes.
        let c = Schedule.continuous(ug(600)).rate(atNanosecondsAfterMidnight: 5 * h)
        #expect(c.rate == ug(600) && c.untilNextStep == nil)
        // A single flex step at 13:30: in force all day; 24 h from its start to the next start.
        let one = Schedule.flex([step(13, 30, ug(250))])
        #expect(one.rate(atNanosecondsAfterMidnight: 13 * h + h / 2) == (ug(250), .hours(24)))
        #expect(one.rate(atNanosecondsAfterMidnight: 12 * h) == (ug(250), .hours(1) + .minutes(30)))
    }

    @Test("rate range")
    func rateRange() {
        #expect(Schedule.flex([step(0, 0, ug(600)), step(8, 0, ug(900)), step(20, 0, ug(300))]).rateRange == ug(300)...ug(900))
    }

    // MARK: validation

    struct BoundCase: Sendable, CustomTestStringConvertible {
        var rate: DoseRate; var valid: Bool
        var testDescription: String { "\(rate) \(valid ? "accepted" : "refused")" }
    }
    @Test("50–1200 μg/day exactly at the edges (continuous)", arguments: [
        BoundCase(rate: ngPerDay(49_999), valid: false), BoundCase(rate: ug(50), valid: true),
        BoundCase(rate: ug(1200), valid: true), BoundCase(rate: ngPerDay(1_200_001), valid: false),
        BoundCase(rate: .zero, valid: false), BoundCase(rate: ngPerDay(-1), valid: false),
    ])
    func continuousBounds(_ k: BoundCase) {
        // At 500 μg/mL even 49.999 μg/day is ~0.1 mL/day, above the 0.048 mL/day patency minimum.
        do throws(ScheduleError) {
            try Schedule.continuous(k.rate).validate(concentration: c500, profile: .bench20)
            #expect(k.valid)
        } catch {
            #expect(!k.valid)
            #expect(error == .rateOutOfRange(step: nil, rate: k.rate, allowed: ug(50)...ug(1200)))
            #expect(error.description == "rate \(k.rate) is outside 50 μg/day … 1200 μg/day; this bound has no override")
        }
    }

    @Test("50–1200 μg/day at the edges for a flex step: the error names the 1-based step", arguments: [
        BoundCase(rate: ngPerDay(49_999), valid: false), BoundCase(rate: ug(50), valid: true),
        BoundCase(rate: ug(1200), valid: true), BoundCase(rate: ngPerDay(1_200_001), valid: false),
    ])
    func flexBounds(_ k: BoundCase) {
        let s = Schedule.flex([step(0, 0, ug(600)), step(8, 0, ug(600)), step(20, 0, k.rate)])
        do throws(ScheduleError) {
            try s.validate(concentration: c500, profile: .bench20)
            #expect(k.valid)
        } catch {
            #expect(!k.valid)
            #expect(error == .rateOutOfRange(step: 3, rate: k.rate, allowed: ug(50)...ug(1200)))
            #expect(error.description.hasPrefix("step 3: rate \(k.rate) is outside 50 μg/day … 1200 μg/day"))
        }
    }

    @Test("a flex step of 60 μg/h (1440 μg/day) is refused even though the daily dose looks ordinary")
    func sixtyPerHourFlexEntry() {
        // 00–01 at 1440, 01–24 at 60: daily (1440 + 60·23)/24 = 117.5 μg/day is in range; step 1 is not.
        let s = Schedule.flex([step(0, 0, ug(1440)), step(1, 0, ug(60))])
        #expect(s.dailyDose == ngPerDay(117_500))
        #expect(throws: ScheduleError.rateOutOfRange(step: 1, rate: ug(1440), allowed: ug(50)...ug(1200))) {
            try s.validate(concentration: c500, profile: .bench20)
        }
    }

    @Test("no steps")
    func noSteps() {
        #expect(throws: ScheduleError.noSteps) { try Schedule.flex([]).validate(concentration: c500, profile: .bench20) }
        #expect(ScheduleError.noSteps.description.contains("no steps"))
    }

    @Test("too many steps: 24 allowed, 25 refused; a profile limit of 13 refuses 14")
    func tooManySteps() throws {
        func steps(_ n: Int) -> Schedule { .flex((0..<n).map { FlexStep(start: tod(0, 0, 0).adding(minutes: $0 * 50), rate: ug(600)) }) }
        try steps(24).validate(concentration: c500, profile: .bench20)
        #expect(throws: ScheduleError.tooManySteps(count: 25, maximum: 24)) { try steps(25).validate(concentration: c500, profile: .bench20) }
        try steps(13).validate(concentration: c500, profile: .bench20, maximumSteps: 13)
        #expect(throws: ScheduleError.tooManySteps(count: 14, maximum: 13)) {
            try steps(14).validate(concentration: c500, profile: .bench20, maximumSteps: 13)
        }
        #expect(ScheduleError.tooManySteps(count: 14, maximum: 13).description == "the flex schedule has 14 steps; at most 13 are allowed per 24 h")
    }

    @Test("start times must strictly increase: the error names the later step (1-based) and both times")
    func startsIncreasing() {
        let equal = Schedule.flex([step(0, 0, ug(600)), step(8, 0, ug(600)), step(8, 0, ug(700))])
        #expect(throws: ScheduleError.stepStartNotIncreasing(step: 3, start: tod(8), previous: tod(8))) {
            try equal.validate(concentration: c500, profile: .bench20)
        }
        let backwards = Schedule.flex([step(9, 0, ug(600)), step(8, 0, ug(600))])
        #expect(throws: ScheduleError.stepStartNotIncreasing(step: 2, start: tod(8), previous: tod(9))) {
            try backwards.validate(concentration: c500, profile: .bench20)
        }
        #expect(ScheduleError.stepStartNotIncreasing(step: 2, start: tod(8), previous: tod(9)).description
            == "step 2: starts at 08:00, not after the previous step's 09:00; list steps in time order")
    }

    @Test("patency minimum: 50 μg/day at 2000 μg/mL is 0.025 mL/day < 0.048 mL/day")
    func patencyMinimum() {
        // 50,000 ng/day × 1000 / 2000 = 25,000 nL/day.
        let e = ScheduleError.belowPatencyRate(step: nil, rate: ug(50), volumeRate: VolumeRate(nanolitresPerDay: 25_000),
                                               concentration: c2000, minimum: VolumeRate(nanolitresPerDay: 48_000))
        #expect(throws: e) { try Schedule.continuous(ug(50)).validate(concentration: c2000, profile: .bench20) }
        #expect(e.description == "rate 50 μg/day at 2000 μg/mL is 0.0250 mL/day, below the catheter patency minimum 0.0480 mL/day; use a lower concentration or a higher dose")
        // The same dose at 1000 μg/mL is 0.05 mL/day: accepted.
        #expect(throws: Never.self) { try Schedule.continuous(ug(50)).validate(concentration: c1000, profile: .bench20) }
    }

    struct PatencyCase: Sendable, CustomTestStringConvertible {
        var rate: DoseRate; var valid: Bool
        var testDescription: String { "\(rate) at 2000 μg/mL \(valid ? "accepted" : "refused")" }
    }
    /// At 2000 μg/mL the smallest dose meeting 48,000 nL/day is 48,000 × 2000 / 1000 = 96,000 ng/day. One
    /// ng/day less is 95,999 × 1000 / 2000 = 47,999.5 nL/day, below the minimum (the exact value, not the
    /// display rounding, decides).
    @Test("patency minimum at its edge", arguments: [
        PatencyCase(rate: ngPerDay(96_000), valid: true),
        PatencyCase(rate: ngPerDay(95_999), valid: false),
        PatencyCase(rate: ngPerDay(95_998), valid: false),
    ])
    func patencyEdge(_ k: PatencyCase) {
        let s = Schedule.flex([step(0, 0, ug(600)), step(12, 0, k.rate)])
        do throws(ScheduleError) {
            try s.validate(concentration: c2000, profile: .bench20)
            #expect(k.valid)
        } catch {
            #expect(!k.valid)
            guard case let .belowPatencyRate(step, rate, _, c, minimum) = error else {
                Issue.record("unexpected \(error)"); return
            }
            #expect(step == 2 && rate == k.rate && c == c2000 && minimum == VolumeRate(nanolitresPerDay: 48_000))
            #expect(error.description.hasPrefix("step 2: rate \(k.rate) at 2000 μg/mL"))
        }
    }

    @Test("no drug: a schedule cannot be validated against an empty reservoir")
    func noDrug() {
        #expect(throws: ScheduleError.noDrugConcentration) {
            try Schedule.continuous(ug(600)).validate(concentration: .none, profile: .bench20)
        }
        #expect(ScheduleError.noDrugConcentration.description.contains("fill it"))
    }

    @Test("description shows the daily dose of a flex schedule")
    func description() {
        #expect(Schedule.continuous(ug(600)).description == "continuous 600 μg/day")
        #expect(Schedule.flex([step(6, 0, ug(400)), step(18, 0, ug(800))]).description
            == "flex [06:00 400 μg/day, 18:00 800 μg/day] = 600 μg/day")
    }
}

extension TimeOfDay {
    func adding(minutes: Int) -> TimeOfDay {
        TimeOfDay(nanosecondsAfterMidnight: nanosecondsAfterMidnight + Int64(minutes) * TimeConstants.nanosecondsPerMinute)!
    }
}
