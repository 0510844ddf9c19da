import PumpCore

/// A distribution a sweep draws one parameter from: uniform over a closed integer range (in the
/// parameter's base unit) or a choice among values, equally likely.
public enum Distribution<Value: Hashable & Sendable>: Hashable, Sendable {
    case fixed(Value)
    case choice([Value])
    /// Uniform between two values, drawn on the integer `step` grid from `lower`.
    case uniform(lower: Value, upper: Value)
}

/// A Monte-Carlo sweep: `runs` variations of a base scenario, each drawn from the sweep's seed and
/// the run's index only (so the results never depend on how runs are split between jobs or shards).
///
/// Each run takes the base scenario's pump, mechanics (with a seed of its own), PK and faults, a
/// continuous schedule at the drawn daily dose and concentration, a full reservoir of the drawn size,
/// the drawn alarm policy, and refills a drawn delay after the projected empty instant
/// (`AutoRefill`), confirming full-dose delivery at the same visit.
public struct SweepPlan: Hashable, Sendable {
    public var name: String
    public var base: Scenario
    public var runs: Int
    public var seed: UInt64
    public var duration: TimeSpan
    public var refillDelay: Distribution<TimeSpan>
    public var dailyDose: Distribution<DoseRate>
    public var concentration: Distribution<Concentration>
    public var reservoir: Distribution<Volume>
    public var alarmPolicy: Distribution<ReservoirPolicy>

    public init(name: String, base: Scenario, runs: Int, seed: UInt64, duration: TimeSpan,
                refillDelay: Distribution<TimeSpan>, dailyDose: Distribution<DoseRate>, concentration: Distribution<Concentration>,
                reservoir: Distribution<Volume>, alarmPolicy: Distribution<ReservoirPolicy>) {
        self.name = name
        self.base = base
        self.runs = runs
        self.seed = seed
        self.duration = duration
        self.refillDelay = refillDelay
        self.dailyDose = dailyDose
        self.concentration = concentration
        self.reservoir = reservoir
        self.alarmPolicy = alarmPolicy
    }

    /// Most runs a sweep may ask for.
    public static let maximumRuns = 10_000_000

    /// The parameters drawn for run `index`.
    public struct Draw: Hashable, Sendable {
        public var index: Int
        public var refillDelay: TimeSpan
        public var dailyDose: DoseRate
        public var concentration: Concentration
        public var reservoir: Volume
        public var policy: ReservoirPolicy
        public var pumpSeed: UInt64
    }

    /// Draws run `index`'s parameters (always in the same order from the run's own stream).
    public func draw(_ index: Int) -> Draw {
        var g = SplitMix64.stream(seed: seed, index: UInt64(index))
        let delay: TimeSpan = pick(refillDelay, &g) { lo, hi, g in
            .minutes(g.integer(in: lo.nanoseconds / TimeConstants.nanosecondsPerMinute...hi.nanoseconds / TimeConstants.nanosecondsPerMinute))
        }
        let dose: DoseRate = pick(dailyDose, &g) { lo, hi, g in .microgramsPerDay(g.integer(in: lo.nanogramsPerDay / 1_000...hi.nanogramsPerDay / 1_000)) }
        let c: Concentration = pick(concentration, &g) { lo, _, _ in lo }
        let v: Volume = pick(reservoir, &g) { lo, _, _ in lo }
        let p: ReservoirPolicy = pick(alarmPolicy, &g) { lo, _, _ in lo }
        return Draw(index: index, refillDelay: delay, dailyDose: dose, concentration: c, reservoir: v, policy: p, pumpSeed: g.next())
    }

    func pick<V>(_ d: Distribution<V>, _ g: inout SplitMix64, uniform: (V, V, inout SplitMix64) -> V) -> V {
        switch d {
        case let .fixed(v): return v
        case let .choice(vs): return vs[Int(g.below(UInt64(vs.count)))]
        case let .uniform(lo, hi): return uniform(lo, hi, &g)
        }
    }

    /// The scenario of run `index`.
    public func scenario(_ d: Draw) -> Scenario {
        var s = base
        s.name = "\(name) #\(d.index)"
        s.timeline = []
        s.duration = duration
        s.schedule = .continuous(d.dailyDose)
        s.concentration = d.concentration
        s.profile.reservoirCapacity = d.reservoir
        s.initialFill = d.reservoir
        s.settings.reservoirPolicy = d.policy
        s.mechanics.seed = d.pumpSeed
        s.autoRefill = AutoRefill(offsetFromProjectedEmpty: d.refillDelay, volume: d.reservoir, confirmResumption: true)
        return s
    }

    /// Replays run `index` alone with its time series kept, for the full report of `itpump simulate`:
    /// the row it gives is the one the sweep wrote for that run, bit for bit (the series only adds
    /// records, binned per interval; the measures stay the event model's, as in the sweep).
    public func replay(_ index: Int, fidelity: Fidelity = .fast) throws(ScenarioError) -> (result: SimulationResult, row: SweepRow) {
        let d = draw(index)
        // The row's run exactly as the sweep ran it (a kept series stops the runner at every interval
        // boundary, which splits stroke batches and so the event model's stretches: its floating
        // point would differ in the last bits). The report's run adds the series and takes the
        // measures of the row's run.
        let row = try SimulationRunner.run(scenario(d), fidelity: fidelity, pk: .events)
        var r = try SimulationRunner.run(scenario(d), fidelity: fidelity, keepSeries: true, pk: .events)
        r.recorder.takeMeasures(of: row.recorder)
        return (r, SweepRow(draw: d, result: row))
    }

    /// Runs `index` and summarises it as one row.
    public func run(_ index: Int, fidelity: Fidelity = .fast) -> SweepRow {
        let d = draw(index)
        let s = scenario(d)
        do {
            let r = try SimulationRunner.run(s, fidelity: fidelity, pk: .events)
            return SweepRow(draw: d, result: r)
        } catch {
            return SweepRow(draw: d, error: error.description)
        }
    }
}
