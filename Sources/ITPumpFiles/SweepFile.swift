import PumpCore
import PumpSim

/// `kind: sweep` files: Monte-Carlo variations of a base scenario for `itpump sweep`.
///
/// ```yaml
/// kind: sweep
/// name: refill lapses
/// scenario: ../scenarios/refill-late-7d.yaml   # pump, mechanics, PK and faults come from here
/// runs: 10000
/// seed: 42
/// duration: 180d
/// refillDelay: {uniform: [-7d, 14d]}           # after the projected empty instant
/// dailyDose: {uniform: [300 ug/day, 800 ug/day]}
/// concentration: {choice: [500 ug/mL, 1000 ug/mL]}
/// reservoir: {choice: [20 mL, 40 mL]}
/// alarmPolicy: {choice: [alarmOnly, reserveTaper]}
/// ```
/// Each distribution is a single value, `{uniform: [low, high]}` or `{choice: [a, b, …]}`.
public enum SweepFile {
    static let keys = ["kind", "name", "scenario", "runs", "seed", "duration", "refillDelay", "dailyDose", "concentration",
                       "reservoir", "alarmPolicy", "description"]

    public static func load(path: String) throws(DiagnosticReport) -> SweepPlan {
        try FileKinds.load(path: path, kind: "sweep", read: read)
    }

    static func distribution<V>(_ f: Field, uniform allowUniform: Bool, lessThan: ((V, V) -> Bool)? = nil, _ read: (Field) -> V?) -> Distribution<V>? {
        if case .scalar = f.node { return read(f).map { .fixed($0) } }
        guard let m = f.mapping(allowedKeys: allowUniform ? ["uniform", "choice"] : ["choice"]) else { return nil }
        if !allowUniform, let u = m.optional("uniform") {
            // A value with only a few allowed settings (a concentration, a reservoir size, a policy) has
            // no range to draw from: say what is allowed rather than "choice is missing".
            u.fail("`uniform` draws from a range; \(f.path) takes one of a few values, so give one value or `{choice: [a, b, …]}`",
                   allowed: "a single value, or {choice: [a, b, …]}")
            m.finish(allowing: ["choice", "uniform"])
            return nil
        }
        defer { m.finish() }
        if let u = m.optional("uniform"), allowUniform, let lessThan {
            guard let items = u.sequence(maximum: 2), items.count == 2 else { u.fail("give [low, high]", allowed: "two values"); return nil }
            guard let lo = read(items[0]), let hi = read(items[1]) else { return nil }
            guard !lessThan(hi, lo) else { u.fail("low is above high", allowed: "low ≤ high"); return nil }
            return .uniform(lower: lo, upper: hi)
        }
        guard let c = m.required("choice", allowed: allowUniform ? "uniform or choice" : "choice") else { return nil }
        guard let items = c.sequence(maximum: 100), !items.isEmpty else { c.fail("no choices", allowed: "1 … 100 values"); return nil }
        let vs = items.compactMap(read)
        return vs.count == items.count ? .choice(vs) : nil
    }

    static func bounds<V>(_ d: Distribution<V>, _ less: (V, V) -> Bool) -> (V, V) {
        switch d {
        case let .fixed(v): return (v, v)
        case let .uniform(lo, hi): return (lo, hi)
        case let .choice(vs): return (vs.min(by: less)!, vs.max(by: less)!)
        }
    }

    public static func read(_ m: MappingField) -> SweepPlan? {
        let name = m.optional("name")?.string() ?? "sweep"
        _ = m.optional("description")?.string(maxLength: 2_000)
        var base: Scenario?
        if let f = m.required("scenario", allowed: "a scenario file") {
            if let path = f.scalar(expecting: "a scenario file (relative path)") {
                base = ScenarioFile.referenced(f, path, kind: "scenario", read: ScenarioFile.read)
            }
        }
        let runs = m.required("runs", allowed: "1 … \(SweepPlan.maximumRuns)")?.integer(in: 1...Int64(SweepPlan.maximumRuns))
        let seed = m.required("seed", allowed: "0 … \(Int64.max)")?.integer(in: 0...Int64.max)
        let duration = m.required("duration", allowed: "1d … 3650d")?.duration(in: TimeSpan.days(1)...Scenario.maximumDuration)
        let delay = m.required("refillDelay", allowed: "-60d … 60d")
            .flatMap { distribution($0, uniform: true, lessThan: { $0 < $1 }) { ScenarioFile.signedDuration($0) } }
        let dose = m.required("dailyDose", allowed: "\(DoseRate.floor) … \(DoseRate.ceiling)")
            .flatMap { distribution($0, uniform: true, lessThan: { $0 < $1 }) { $0.doseRate() } }
        let conc = m.required("concentration", allowed: "500, 1000, 2000 ug/mL")
            .flatMap { distribution($0, uniform: false) { $0.concentration(oneOf: Concentration.therapy) } }
        let reservoir = m.required("reservoir", allowed: "20 mL or 40 mL")
            .flatMap { distribution($0, uniform: false) { f -> Volume? in
                guard let v = f.volume(in: Volume.millilitres(20)...Volume.millilitres(40), rangeText: "20 mL or 40 mL") else { return nil }
                guard PumpProfile.Limits.reservoirCapacities.contains(v) else { f.fail("\(v) is not a reservoir size", allowed: "20 mL or 40 mL"); return nil }
                return v
            } }
        let policy = m.required("alarmPolicy", allowed: "alarmOnly, reserveTaper")
            .flatMap { distribution($0, uniform: false) { $0.choice(ReservoirPolicy.self) } }
        m.finish(allowing: keys)
        guard let base, let runs, let seed, let duration, let delay, let dose, let conc, let reservoir, let policy else { return nil }
        if duration.nanoseconds % base.interval.nanoseconds != 0 {
            m.optional("duration")?.fail("not a whole number of the scenario's intervals (\(base.interval))", allowed: "a multiple of \(base.interval)")
            return nil
        }
        let (dl, dh) = bounds(delay) { $0 < $1 }
        if dl < .days(-60) || dh > .days(60) { m.optional("refillDelay")?.fail("outside -60d … 60d", allowed: "-60d … 60d"); return nil }
        // Every combination must be programmable: the lowest dose at the highest concentration must
        // still keep the catheter patent.
        let (lowDose, _) = bounds(dose) { $0 < $1 }
        let (_, highC) = bounds(conc) { $0 < $1 }
        do throws(ScheduleError) {
            try Schedule.continuous(lowDose).validate(concentration: highC, profile: base.profile)
        } catch {
            m.optional("dailyDose")?.fail("some runs could not be programmed: \(error)", allowed: "doses that suit every concentration")
            return nil
        }
        return SweepPlan(name: name, base: base, runs: Int(runs), seed: UInt64(seed), duration: duration, refillDelay: delay,
                         dailyDose: dose, concentration: conc, reservoir: reservoir, alarmPolicy: policy)
    }
}

extension FileKind {
    /// `kind: sweep`.
    public static let sweep = FileKind(name: "sweep", summary: "Monte-Carlo variations of a scenario for itpump sweep") { m in
        _ = SweepFile.read(m)
    }
}
