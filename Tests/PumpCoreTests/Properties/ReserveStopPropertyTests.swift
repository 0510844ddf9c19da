import PropertyBased
import Testing
@testable import PumpCore

/// A `stop` during a reserve taper, judged on delivered strokes against a twin controller that got no
/// stop: the stop never delivers more than the reserve taper it replaced would have, lasts at least the
/// days asked, and cuts each day by at most the decrease limit (an emergency override aside).
struct ReserveStop {
    /// 600 μg/day (or a flex of the same daily dose) at 2000 μg/mL, 5 mL, `reserveTaper`: the reserve
    /// taper starts at the 4 mL low-reservoir alarm, 600 → 480 → 384 → … → 96 μg/day (the patency floor).
    static func onReserveTaper(_ schedule: Schedule) throws -> PumpController {
        var s = ControllerSettings()
        s.reservoirPolicy = .reserveTaper
        var c = try Fixture.onTherapy(schedule, concentration: c2000, volume: .millilitres(5), settings: s)
        var t = Fixture.therapyStart + .hours(40)
        while c.taper == nil, t < Fixture.therapyStart + .days(4) {
            t = t + .minutes(10)
            _ = c.advance(to: t)
        }
        guard c.taper?.kind == .reserve else { throw FixtureError(description: "no reserve taper by \(t)") }
        return c
    }

    /// The stop at `reserve start + after`; `brokenFromNow` replaces the plan with one of the same days
    /// from the stop's instant (the controller as it was), for the anti-vacuity test. Returns what broke.
    static func run(_ schedule: Schedule, after: TimeSpan, days: Int?, override: Bool, brokenFromNow: Bool = false) throws -> [String] {
        var twin = try onReserveTaper(schedule)
        let reserve = try #require(twin.taper)
        let t = max(twin.now, reserve.startedAt + after)
        _ = twin.advance(to: t)
        var c = twin
        let o = override ? EmergencyOverride(reason: "test", clinician: "test") : nil
        let r = c.handle(.stop(taperDays: days, override: o), at: t)
        guard case let .success(.taper(plan)) = r.result else { return ["stop at \(t) refused: \(String(describing: r.refusal))"] }
        if brokenFromNow, !plan.levels.isEmpty {
            c.taper = TaperPlan.stop(from: plan.fromDose, days: days ?? c.settings.minimumTaperDays,
                                     limit: plan.emergency ? nil : c.settings.decreaseLimit, at: t, emergency: plan.emergency, floor: c.taperFloor)
            c.taperLevelIndex = -1
            var log = EffectLog()
            c.applyRate(at: t, log: &log)
        }
        var failures: [String] = []
        let asked = days ?? c.settings.minimumTaperDays
        let end = c.taper?.endsAt ?? t
        if !plan.levels.isEmpty, end < t + .days(Int64(asked)) { failures.append("the taper ends at \(end), before the \(asked) days asked from \(t)") }
        if !plan.emergency, let levels = c.taper?.levels {
            for k in levels.indices.dropFirst() where levels[k] < levels[k - 1].scaled(numerator: 1_000_000 - c.settings.decreaseLimit.partsPerMillion, denominator: 1_000_000) {
                failures.append("level \(k) \(levels[k]) is more than the decrease limit below \(levels[k - 1])")
            }
        }
        // Delivered from the stop on, against the reserve taper's twin, on a 37 min grid for 20 days.
        var a = CountingSink(), b = CountingSink()
        var w = t
        let stroke = Int64(c.profile.strokeVolume.nanolitres) * Int64(c.reservoir.concentration.microgramsPerMillilitre)
        while w < t + .days(20) {
            w = w + .minutes(37)
            c.advance(to: w, into: &a)
            twin.advance(to: w, into: &b)
            if a.picograms > b.picograms + stroke {
                failures.append("from the stop at \(t) to \(w): \(a.picograms) pg delivered, the reserve taper would have delivered \(b.picograms) pg")
                break
            }
        }
        return failures
    }

    static let flex = Schedule.flex([FlexStep(start: .midnight, rate: ug(1000)), FlexStep(start: TimeOfDay(hour: 12)!, rate: ug(200))])
}

@Suite("Interlock properties: a stop during a reserve taper")
struct ReserveStopPropertyTests {
    @Test("a stop at any instant of a reserve taper never delivers more than the reserve taper would have, lasts the days asked and cuts within the limit")
    func neverAboveTheReserveTaper() async {
        await propertyCheck(count: 24, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            let after = TimeSpan.minutes(Int64(seed % (15 * 24 * 60)))
            let kind = (seed >> 20) % 4
            let days: Int? = kind == 0 ? nil : kind == 3 ? Int((seed >> 24) % 14) : Int(14 + (seed >> 24) % 17)
            let schedule = (seed >> 40) % 2 == 0 ? Schedule.continuous(ug(600)) : ReserveStop.flex
            let failures = (try? ReserveStop.run(schedule, after: after, days: days, override: kind == 3)) ?? ["setup failed"]
            #expect(failures.isEmpty, "stop \(after) into the reserve taper, \(days.map(String.init) ?? "default") days, \(schedule): \(failures.joined(separator: "\n"))")
        }
    }

    @Test("anti-vacuity: a stop that tapers from its own instant (the controller as it was) delivers more than the reserve taper")
    func fromNowFails() throws {
        let failures = try ReserveStop.run(.continuous(ug(600)), after: .days(2) + .hours(9), days: nil, override: false, brokenFromNow: true)
        #expect(failures.contains { $0.contains("the reserve taper would have delivered") }, "\(failures)")
        let flex = try ReserveStop.run(ReserveStop.flex, after: .hours(5), days: nil, override: false, brokenFromNow: true)
        #expect(flex.contains { $0.contains("the reserve taper would have delivered") }, "\(flex)")
    }
}
