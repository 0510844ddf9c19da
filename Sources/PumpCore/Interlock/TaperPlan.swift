/// A planned step-down of the daily dose.
///
/// Level `k` (0-based) is in force from `startedAt + k × 24 h`; each level is at most the decrease
/// limit below the one before. A stop taper reaches its floor on its last level, holds it for 24 h,
/// and delivery ends at `endsAt`. A reserve taper (low reservoir, `reserveTaper` policy) holds the
/// floor until a refill. The floor is `TaperPlan.floor(patencyMinimum:concentration:)`: 50 μg/day, or
/// the catheter patency minimum at the concentration when that is more.
public struct TaperPlan: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable {
        /// A clinician's stop request.
        case stop
        /// The `reserveTaper` policy stretching the last of the drug.
        case reserve
    }
    public let kind: Kind
    public let startedAt: Instant
    /// The daily dose before the taper.
    public let fromDose: DoseRate
    /// Daily dose of each day of the taper, the first in force from `startedAt`.
    public let levels: [DoseRate]
    /// True when an emergency override shortened it below the minimum or past the decrease limit.
    public let emergency: Bool
    /// True when even the first level is delivered evenly over its day, never in the programmed
    /// schedule's shape: a stop following a reserve taper past its first day, which delivers its level
    /// evenly (a flex schedule's shape could put more into a 24 h window than the reserve level in
    /// force). Nil (saved before it existed) or false: the first level may follow the schedule
    /// (`followsSchedule`).
    public var evenFromTheStart: Bool? = nil

    /// When delivery ends (stop tapers only).
    public var endsAt: Instant? {
        kind == .stop ? startedAt + .days(Int64(levels.count)) : nil
    }
    /// The level in force at `t`, or nil once the plan has ended (stop) — a reserve plan holds its
    /// last level.
    public func level(at t: Instant) -> (index: Int, dose: DoseRate)? {
        guard t >= startedAt else { return nil }
        let day = Int((t - startedAt).nanoseconds / TimeConstants.nanosecondsPerDay)
        if day < levels.count { return (day, levels[day]) }
        return kind == .reserve ? (levels.count - 1, levels[levels.count - 1]) : nil
    }
    /// True when the level in force at `t` is the first, the programmed daily dose itself (`fromDose`
    /// equal to `dailyDose`): a taper changes nothing in its first 24 h, so that level delivers the
    /// programmed schedule as it is (a flex schedule keeps its shape), not its daily total evenly.
    public func followsSchedule(at t: Instant, dailyDose: DoseRate) -> Bool {
        guard evenFromTheStart != true, let level = level(at: t) else { return false }
        return level.index == 0 && level.dose == fromDose && fromDose == dailyDose
    }

    /// The next instant the level changes (or delivery ends), after `t`.
    public func nextChange(after t: Instant) -> Instant {
        let day = max(0, (t - startedAt).nanoseconds / TimeConstants.nanosecondsPerDay)
        let next = startedAt + .days(day + 1)
        if kind == .reserve && day + 1 >= Int64(levels.count) { return .distantFuture }
        if kind == .stop && day + 1 > Int64(levels.count) { return .distantFuture }
        return next
    }

    /// The same plan with no level above `dose` (a clinician confirmed `dose` after an interruption
    /// while the plan ran): the taper goes on from there and ends when it would have. Each cut stays
    /// within the plan's: a level below `dose` was at most one cut below the level before it.
    func capped(at dose: DoseRate) -> TaperPlan {
        TaperPlan(kind: kind, startedAt: startedAt, fromDose: min(fromDose, dose), levels: levels.map { min($0, dose) }, emergency: emergency,
                  evenFromTheStart: evenFromTheStart)
    }

    /// A stop taper from `dose` to `floor` over `days` days (first cut after 24 h at `dose`... see
    /// below), each daily cut at most `limit`, lengthened when `days` is too short for the limit.
    ///
    /// Level 0 is `dose` itself (a stop request changes nothing for 24 h, so a mistaken stop can be
    /// resumed with no loss); levels 1… fall geometrically, rounded up to the ng/day, to the floor on
    /// the last level. `limit == nil` (emergency override) removes the per-day cap.
    public static func stop(from dose: DoseRate, days: Int, limit: Fraction?, at t: Instant, emergency: Bool,
                            floor: DoseRate = .floor) -> TaperPlan {
        guard days > 0 else {
            return TaperPlan(kind: .stop, startedAt: t, fromDose: dose, levels: [], emergency: emergency)
        }
        // days levels in all: level 0 = dose, levels 1...(days-1) cut down, last = floor.
        var n = max(1, days - 1) // number of cuts
        var cut = smallestCut(from: dose, to: floor, cuts: n)
        if let limit {
            while cut > limit.partsPerMillion { n += 1; cut = smallestCut(from: dose, to: floor, cuts: n) }
        }
        var levels = [dose]
        var level = dose
        for i in 1...n {
            level = i == n ? floor : max(floor, level.scaled(numerator: 1_000_000 - cut, denominator: 1_000_000))
            levels.append(level)
        }
        if days == 1 { levels = [floor] }
        return TaperPlan(kind: .stop, startedAt: t, fromDose: dose, levels: levels, emergency: emergency)
    }

    /// This stop plan, asked for at `t` while the reserve taper `reserve` runs, made never to deliver
    /// more than the reserve taper would: its days are the reserve's (level 0 is the reserve level in
    /// force at `t`, ending when that level would), each level the lower of this plan's and the
    /// reserve's on that day, and it ends no sooner than this plan would have (a last floor day is
    /// added when the days start before `t`). A stop changes nothing for 24 h over what was in force,
    /// and a reserve taper in force steps down within them: a plan from `t` would hold the reserve's
    /// level a day past its next cut, and cut less after it, running the last of the drug out sooner.
    /// Each level stays within the decrease limit of the one before (both plans' do, on the same days).
    func following(_ reserve: TaperPlan, at t: Instant) -> TaperPlan {
        guard kind == .stop, reserve.kind == .reserve, !levels.isEmpty, t >= reserve.startedAt else { return self }
        let day = (t - reserve.startedAt).nanoseconds / TimeConstants.nanosecondsPerDay
        let start = reserve.startedAt + .days(day)
        var merged: [DoseRate] = []
        for (k, level) in levels.enumerated() {
            let r = reserve.level(at: start + .days(Int64(k)))?.dose ?? level
            merged.append(min(level, r))
        }
        if start < t, let last = merged.last { merged.append(last) }
        // Past the reserve's first day its level is delivered evenly; so is this plan's first level.
        return TaperPlan(kind: .stop, startedAt: start, fromDose: fromDose, levels: merged, emergency: emergency,
                         evenFromTheStart: day > 0 ? true : evenFromTheStart)
    }

    /// The lowest daily dose a taper may hold: the 50 μg/day floor, or the dose whose volume rate at
    /// `concentration` is the catheter patency minimum when that is more (96 μg/day at 2000 μg/mL with a
    /// 0.048 mL/day minimum), rounded up to the ng/day so the volume rate is never below the minimum.
    public static func floor(patencyMinimum: VolumeRate, concentration: Concentration) -> DoseRate {
        // ng/day = nL/day × μg/mL / 1000 (1 nL at 1 μg/mL holds 1 pg).
        let pg = Int128(patencyMinimum.nanolitresPerDay) * Int128(concentration.microgramsPerMillilitre)
        return max(.floor, DoseRate(nanogramsPerDay: Int64((pg + 999) / 1_000)))
    }

    /// A reserve taper: cut by `limit` every 24 h from `dose` down to `floor`, then hold.
    public static func reserve(from dose: DoseRate, limit: Fraction, at t: Instant, floor: DoseRate = .floor) -> TaperPlan {
        var levels = [dose]
        var level = dose
        while level > floor {
            level = max(floor, level.scaled(numerator: 1_000_000 - limit.partsPerMillion, denominator: 1_000_000))
            levels.append(level)
        }
        return TaperPlan(kind: .reserve, startedAt: t, fromDose: dose, levels: levels, emergency: false)
    }

    /// The smallest per-step cut (ppm) that brings `dose` to `floor` or below in `cuts` steps with
    /// ceiling rounding at each step (exact integer search, no floating point).
    static func smallestCut(from dose: DoseRate, to floor: DoseRate, cuts: Int) -> Int64 {
        if dose <= floor { return 0 }
        func reaches(_ ppm: Int64) -> Bool {
            var l = dose
            for _ in 0..<cuts {
                l = l.scaled(numerator: 1_000_000 - ppm, denominator: 1_000_000)
                if l <= floor { return true }
            }
            return l <= floor
        }
        var lo: Int64 = 0, hi: Int64 = 1_000_000
        while lo < hi {
            let mid = (lo + hi) / 2
            if reaches(mid) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}

extension PumpController {
    /// The floor a taper started now holds: 50 μg/day, or the catheter patency minimum at the
    /// reservoir's concentration when that is more.
    public var taperFloor: DoseRate {
        reservoir.concentration.microgramsPerMillilitre > 0
            ? TaperPlan.floor(patencyMinimum: profile.minimumPatencyRate, concentration: reservoir.concentration) : .floor
    }

    /// A refill to `concentration` during a stop taper must keep every remaining level at or above the
    /// patency minimum there: refused otherwise, naming the lowest level and its volume rate.
    func checkTaperFloor(concentration c: Concentration) -> Result<Void, Refusal> {
        guard let plan = taper, plan.kind == .stop, c.microgramsPerMillilitre > 0, let lowest = plan.levels.min() else { return .success(()) }
        let needed = TaperPlan.floor(patencyMinimum: profile.minimumPatencyRate, concentration: c)
        guard lowest < needed else { return .success(()) }
        let exact = Int128(lowest.nanogramsPerDay) * 1_000 / Int128(c.microgramsPerMillilitre)
        return .failure(.invalidSchedule(.belowPatencyRate(step: nil, rate: lowest, volumeRate: VolumeRate(nanolitresPerDay: Int64(exact)),
                                                           concentration: c, minimum: profile.minimumPatencyRate)))
    }
}
