import PropertyBased
import Testing
@testable import PumpCore

/// The titration limits on delivered strokes after a change made while the reservoir is empty, the case
/// where the 24 h before the change hold less than the plan in force delivers: the plan without the
/// change then rises through the limit inside the day after, and the bound max(without, limit) turns
/// between rate changes. Each run: a schedule A on a small fill until the reservoir is empty; within 20 h
/// (so no interruption floor) a `program` of B; then a refill at once, in twin controllers with and
/// without the change, 24 h of strokes recorded in each.
struct WindowBoundRun {
    var withChange: PumpController
    var withoutChange: PumpController
    var strokesWith = StrokeRecorder()
    var strokesWithout = StrokeRecorder()
    let at: Instant
    let change: Schedule

    static func schedule(_ g: inout SplitMix64, around daily: Int64?) -> Schedule {
        func rate(_ lo: Int64, _ hi: Int64) -> DoseRate { .microgramsPerDay(Int64.random(in: lo...hi, using: &g)) }
        if let daily, Bool.random(using: &g) {
            return .continuous(DoseRate.microgramsPerDay(min(1_200, max(50, daily * Int64.random(in: 85...115, using: &g) / 100))))
        }
        var steps = [FlexStep(start: .midnight, rate: rate(50, 1_200))]
        var hour = 0
        for _ in 0..<Int.random(in: 0...3, using: &g) {
            hour += Int.random(in: 1...8, using: &g)
            guard hour < 24 else { break }
            steps.append(FlexStep(start: TimeOfDay(hour: hour)!, rate: rate(50, 1_200)))
        }
        return steps.count == 1 ? .continuous(steps[0].rate) : .flex(steps)
    }

    /// nil when the seed gives no run: no empty reservoir within 4 days, or the change refused.
    init?(seed: UInt64) throws {
        var g = SplitMix64(seed: seed)
        let a = Self.schedule(&g, around: nil)
        var c = try Fixture.onTherapy(a, volume: .microlitres(Int64.random(in: 500...3_000, using: &g)))
        var rec = StrokeRecorder()
        var t = Fixture.therapyStart
        while c.haltedSince == nil, t < Fixture.therapyStart + .days(4) {
            t = t + .minutes(30)
            c.advance(to: t, into: &rec)
        }
        guard let halt = c.haltedSince else { return nil }
        let change = max(halt, Fixture.therapyStart + .hours(24)) + .minutes(Int64.random(in: 0...(20 * 60), using: &g))
        guard change - halt <= .hours(20) else { return nil }
        c.advance(to: change, into: &rec)
        let b = Self.schedule(&g, around: a.dailyDose.nanogramsPerDay / 1_000)
        var with = c
        guard case .success = with.handle(.program(b), at: change).result else { return nil }
        try self.init(with: with, without: c, strokes: rec, at: change, change: b)
    }

    /// Twins at `at`, before the refill: `with` has the change, `without` has not.
    init(with: PumpController, without: PumpController, strokes: StrokeRecorder, at: Instant, change: Schedule) throws {
        withChange = with
        withoutChange = without
        strokesWith = strokes
        strokesWithout = strokes
        self.at = at
        self.change = change
        let refill = Command.refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: c500))
        for c in [\WindowBoundRun.withChange, \.withoutChange] {
            guard case .success = self[keyPath: c].handle(refill, at: at).result else {
                throw FixtureError(description: "the refill at \(at) was refused")
            }
        }
        withChange.advance(to: at + .hours(24), into: &strokesWith)
        withoutChange.advance(to: at + .hours(24), into: &strokesWithout)
    }

    /// Every 24 h window ending in (at, at + 24 h] holds at most max(R × 1.3, what it holds without
    /// the change) and at least min(R × 0.8, what it holds without it), R the drug of the 24 h before;
    /// four strokes allowed (each amount is within a stroke of the exact integral). Judged at every
    /// instant where either twin's window can turn: a stroke at its end, or leaving at its start.
    func breaches() -> [String] {
        let day = TimeSpan.hours(24)
        let stroke = 4 * Int128(withChange.profile.strokeVolume.nanolitres) * 2_000
        let r = Int128(strokesWith.delivered(after: at - day, upTo: at))
        let upper = r * 13 / 10, lower = r * 8 / 10
        var ends = Set<Int64>([(at + day).nanoseconds])
        for rec in [strokesWith, strokesWithout] {
            for x in rec.times[rec.firstIndex(after: at - day)...] {
                if x > at.nanoseconds { ends.insert(x); ends.insert(x - 1) } else { ends.insert(x + day.nanoseconds) }
            }
        }
        var found: [String] = []
        for e in ends.sorted() where e > at.nanoseconds && e <= (at + day).nanoseconds {
            let w = Instant(nanoseconds: e)
            let held = Int128(strokesWith.delivered(after: w - day, upTo: w))
            let without = Int128(strokesWithout.delivered(after: w - day, upTo: w))
            if held > max(upper, without) + stroke {
                found.append("\(change) at \(at): the window ending \(w) holds \(held) pg, above \(upper) pg (+30 % over \(r) pg) and \(without) pg without the change")
            }
            if held + stroke < min(lower, without) {
                found.append("\(change) at \(at): the window ending \(w) holds \(held) pg, below \(lower) pg (−20 % under \(r) pg) and \(without) pg without the change")
            }
            if found.count >= 3 { break }
        }
        return found
    }
}

@Suite("Interlock properties: the titration bound between rate changes", .shrinking(false))
struct WindowBoundPropertyTests {
    @Test("titration limits on delivered windows after a change over an empty reservoir: no window above max(limit, without the change) or below min(limit, without it), wherever the bound turns")
    func limitsHoldAfterAChangeOverAnEmptyReservoir() async {
        await propertyCheck(count: 150, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            guard let run = try? WindowBoundRun(seed: seed) else { return }
            let found = run.breaches()
            #expect(found.isEmpty, "seed \(seed):\n\(found.joined(separator: "\n"))")
        }
    }

    /// Anti-vacuity: the case of `breachWhereThePlanCrossesTheLimit` (300 μg/day 00:00–06:00 and 600
    /// μg/day after, empty at 1d+15:46:48; continuous 520 μg/day at 2d+00:00). An interlock that judged
    /// only the windows where an amount turns (the preview's) finds every one within its bound and would
    /// accept 520 μg/day; made so, the delivered windows break the property.
    @Test("anti-vacuity: a change an interlock judging only where amounts turn would accept breaks the property")
    func kinkBlindInterlockFails() throws {
        let a = Schedule.flex([step(0, 0, ug(300)), step(6, 0, ug(600))])
        var c = try Fixture.onTherapy(a, volume: .millilitres(2))
        var rec = StrokeRecorder()
        let t = at(.days(2))
        c.advance(to: t, into: &rec)
        let b = Schedule.continuous(ug(520))
        // The real interlock refuses it; every window of its preview (where amounts turn) is within max(limit, without).
        guard case let .failure(refusal) = c.check(.program(b), at: t) else { Issue.record("520 μg/day accepted"); return }
        guard case .windowAboveTitrationLimit = refusal else { Issue.record("refused otherwise: \(refusal)"); return }
        var preview = c
        preview.settings.titrationIncreaseLimit = .percent(100)
        let plan = try preview.check(.program(b), at: t).get()
        let windows = try #require(plan.windows)
        let upper = Int64(Int128(windows.reference.picograms) * 13 / 10)
        #expect(windows.windows.allSatisfy { $0.with.picograms <= max(upper, $0.without.picograms) })
        // Accepted as such an interlock would (the schedule put in force at t).
        var broken = c
        broken.schedule = b
        var log = EffectLog()
        broken.applyRate(at: t, log: &log)
        let run = try WindowBoundRun(with: broken, without: c, strokes: rec, at: t, change: b)
        #expect(!run.breaches().isEmpty)
    }
}
