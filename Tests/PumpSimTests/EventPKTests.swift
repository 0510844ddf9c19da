import Foundation
import PropertyBased
import Testing
@testable import PumpCore
@testable import PumpSim

/// The event-to-event CSF model (`PKMethod.events`, what sweeps use) against the per-interval
/// reference (`PKMethod.intervals`, one `CSFModel.step` per interval).
///
/// Tolerances, from the reference's discretisation: the reference spreads the drug of an interval Δ
/// evenly over it (up to Δ early or late), the event model spreads each stroke's drug over the gap g
/// before it (up to g early), so the same drug is placed at most W = Δ + g apart in time (g the longest
/// stroke gap: the heaviest stroke at the 50 μg/day floor), and the reference applies a change of
/// the withdrawal reference from the start of its interval (again within Δ).
/// - Exact: the delivered total and every daily figure, every alarm, the empty onsets, refusals,
///   time at zero delivery, the alarm leads (none of them depends on the PK).
/// - CSF level: at every interval boundary t the reference lies within the event model's range over
///   [t − W, t + W] (a shift of the input by at most W), ± two strokes' drug over V (the reference's
///   intervals hold whole strokes: one more or less than the mean).
/// - Withdrawal-risk time: each episode boundary moves by at most W, and the level by the ripple δ
///   (two strokes over V): the reference's time lies between the event model's times below thr − δ
///   and below thr + δ, ± 2W × episodes (where the level runs along the threshold, δ moves a
///   crossing by hours); every reference episode has one below thr + δ within W and every episode
///   below thr − δ one of the reference's, unless it is shorter than W (a dip that narrow can vanish
///   in the reference's averaging over an interval).
/// - Peak severity: |S'| = λ|D − S| ≤ λ, so shifting the input by W moves S by at most λW per change of
///   the deficit (one down, one up per episode): |Δ| ≤ 2λW × max(1, episodes).
@Suite("Event-to-event PK matches the per-interval reference", .shrinking(false))
struct EventPKTests {
    // MARK: The comparison

    /// Where the event model's run of `s` departs from the reference's beyond the tolerances above
    /// (empty when it agrees). `rateConstantFactor`: a deliberately wrong closed form.
    static func problems(_ s: Scenario, rateConstantFactor: Double = 1) -> [String] {
        let iv = s.interval.nanoseconds
        let step = iv / 4
        let ref: SimulationResult, ev: SimulationResult
        do {
            ref = try SimulationRunner.run(s, fidelity: .fast, keepSeries: true, perBinPK: false, pk: .intervals)
            ev = try SimulationRunner.run(s, fidelity: .fast, keepSeries: false, perBinPK: false, pk: .events) { rec in
                rec.events = CSFEvents(parameters: s.pk, severeLevel: Recorder.severeLevel, rateConstantFactor: rateConstantFactor)
                rec.events?.samples = CSFEvents.Samples(step: step, next: 0)
            }
        } catch {
            // A drawn scenario the runner refuses (e.g. a dose below the catheter's patency minimum
            // at the concentration drawn): both methods must refuse it alike.
            let a = Result { try SimulationRunner.run(s, fidelity: .fast, pk: .intervals) }
            let b = Result { try SimulationRunner.run(s, fidelity: .fast, pk: .events) }
            if case let .failure(ea) = a, case let .failure(eb) = b, "\(ea)" == "\(eb)" { return [] }
            return ["\(s.name): did not run: \(error)"]
        }
        var out: [String] = []
        func check(_ ok: Bool, _ what: @autoclosure () -> String) { if !ok { out.append("\(s.name): \(what())") } }
        let x = ref.recorder, y = ev.recorder
        // The daily figures against the reference without a series: a kept series stops the runner
        // at every interval boundary, so no batch spans a day there, and a stroke a nanosecond from
        // midnight (the batch's split assumes exactly even spacing) may fall on the other day.
        if let plain = try? SimulationRunner.run(s, fidelity: .fast, keepSeries: false, perBinPK: false, pk: .intervals).recorder {
            check(plain.dailyFemtograms == y.dailyFemtograms, "daily figures differ")
        } else {
            check(false, "the reference without a series did not run")
        }
        check(x.totalToPatient == y.totalToPatient, "delivered \(x.totalToPatient) vs \(y.totalToPatient)")
        check(x.alarms == y.alarms, "alarms differ")
        check(x.emptyOnsets == y.emptyOnsets, "empty onsets differ")
        check(x.refusals == y.refusals, "refusals differ")
        check(x.zeroDelivery == y.zeroDelivery, "zero delivery \(x.zeroDelivery) vs \(y.zeroDelivery)")
        check(ref.alerts == ev.alerts, "alerts")
        check(ref.controller == ev.controller, "controllers differ")

        let strokeNg = Self.heaviestStroke(s)
        let w = Self.window(s) + step
        let v = Double(s.pk.distributionVolume.nanolitres) / 1e6
        let ripple = 2 * strokeNg / v
        // The withdrawal window is judged in time (a shift of W) and in level (the ripple δ): where
        // the level runs along the threshold for hours (a reserve-taper step or a biased delivery at
        // the threshold's fraction), a level difference of δ moves a crossing by hours. So the
        // event model also measures the time below thr − δ and below thr + δ (the same run with the
        // fraction moved by δ/C_ref), and the reference must lie between them, ± 2W per episode.
        let referenceLevel = s.pk.steadyState(s.schedule.dailyDose).nanogramsPerMillilitre
        let dppm = Int64((ripple / referenceLevel * 1e6).rounded(.up))
        func eventRun(fractionShift: Int64) -> Recorder? {
            var t = s
            t.pk.withdrawalFraction = Fraction(partsPerMillion: min(990_000, max(10_000, s.pk.withdrawalFraction.partsPerMillion + fractionShift)))
            return try? SimulationRunner.run(t, fidelity: .fast, keepSeries: false, perBinPK: false, pk: .events) { rec in
                rec.events = CSFEvents(parameters: t.pk, severeLevel: Recorder.severeLevel, rateConstantFactor: rateConstantFactor)
            }.recorder
        }
        guard let lower = eventRun(fractionShift: -dppm), let upper = eventRun(fractionShift: dppm) else {
            return out + ["\(s.name): the event model with the threshold moved by ±δ did not run"]
        }
        let episodes = Int64([x.episodes.count, y.episodes.count, lower.episodes.count, upper.episodes.count].max() ?? 0)
        check(x.withdrawal.nanoseconds >= lower.withdrawal.nanoseconds - 2 * w * episodes
              && x.withdrawal.nanoseconds <= upper.withdrawal.nanoseconds + 2 * w * episodes,
              "withdrawal \(x.withdrawal) outside \(lower.withdrawal) … \(upper.withdrawal) (below thr ∓ δ) ± 2W × \(episodes)")
        // And with nothing near the threshold, within 2W per episode of the event model's own.
        let dw = abs(x.withdrawal.nanoseconds - y.withdrawal.nanoseconds)
        check(lower.withdrawal != upper.withdrawal || dw <= 2 * w * episodes,
              "withdrawal \(x.withdrawal) vs \(y.withdrawal): \(dw / 1_000_000_000) s apart, allowed \(2 * w * episodes / 1_000_000_000) s")
        // Every episode of the reference has an episode below thr + δ within W, and every episode
        // below thr − δ has one of the reference's within W (where the level grazes the threshold,
        // a shift can split or join episodes, so their numbers may differ).
        for (mine, other, name) in [(x.episodes, upper.episodes, "reference"), (lower.episodes, x.episodes, "event model (thr − δ)")] {
            for e in mine {
                let near = other.contains { $0.start.nanoseconds <= e.end.nanoseconds + w && $0.end.nanoseconds >= e.start.nanoseconds - w }
                // A dip narrower than W can vanish in the reference's averaging over an interval.
                check(near || e.length.nanoseconds <= w, "the \(name)'s episode \(e.start)–\(e.end) has no counterpart within W")
            }
        }
        let lambda = 3.6e12 / Double(s.pk.severityTimeConstant.nanoseconds)
        let wHours = Double(w) / 3.6e12
        let dp = abs(x.peakSeverity - y.peakSeverity)
        check(dp <= 2 * lambda * wHours * Double(max(1, episodes)), "peak severity \(x.peakSeverity) vs \(y.peakSeverity)")

        // The trajectory: the reference's level at every interval boundary.
        let samples = y.events?.samples?.values ?? []
        check(samples.count >= Int(ref.end.nanoseconds / step), "\(samples.count) samples of the event model")
        let reach = Int((w + step - 1) / step)
        var worst = 0.0
        // Where an interval's drug differs from the last one's (the drug front reaching the tip after
        // a course's saline, a halt, a refill), the reference's even spread of it moves drug within the
        // interval: a level error of up to the change's drug over V times (1 − e^(−kΔ)), which is not a
        // shift in time and decays only with the level (e^(−kΔ) an interval). Steady input adds
        // nothing (its intervals hold the same drug within a stroke).
        let intervalDecay = exp(-s.pk.eliminationPerHour * Double(iv) / 3.6e12)
        var offset = 0.0
        var lastDrug: Double?
        for (i, row) in x.series.enumerated() where !samples.isEmpty {
            let drug = Double(row.delivered.value + row.released.value) / 1e6 / v
            if let last = lastDrug { offset = offset * intervalDecay + abs(drug - last) * (1 - intervalDecay) }
            lastDrug = drug
            let j = Int((Int64(i + 1) * iv) / step)
            let lo = max(0, j - reach), hi = min(samples.count - 1, j + reach)
            guard lo <= hi else { continue }
            var mn = Double.infinity, mx = -Double.infinity
            for q in lo...hi { mn = min(mn, samples[q]); mx = max(mx, samples[q]) }
            let c = row.concentration.nanogramsPerMillilitre
            let slack = ripple + 1e-9 * mx + offset
            let off = max(mn - slack - c, c - mx - slack)
            if off > 0 {
                if off > worst { worst = off }
            }
        }
        check(worst == 0, "CSF level outside the event model's range by up to \(worst) ng/mL")
        return out
    }

    /// The heaviest stroke's drug (ng): the stroke volume with the bias at the highest concentration
    /// the scenario puts in the reservoir.
    static func heaviestStroke(_ s: Scenario) -> Double {
        var c = s.concentration.microgramsPerMillilitre
        for e in s.timeline {
            switch e.action {
            case let .refill(_, x, _, _): c = max(c, x.microgramsPerMillilitre)
            case let .refillDone(act, _): c = max(c, act.concentration.microgramsPerMillilitre)
            default: break
            }
        }
        let maxConcentration = Double(c)
        return Double(s.profile.strokeVolume.nanolitres) / 1e6 * maxConcentration * 1_000
            * (1 + Double(s.mechanics.calibrationBias.partsPerMillion) / 1e6)
    }

    /// W (ns): the interval plus the longest stroke gap (the heaviest stroke at the 50 μg/day floor).
    static func window(_ s: Scenario) -> Int64 {
        let gapNs = Int64(heaviestStroke(s) / (Double(DoseRate.floor.nanogramsPerDay) / Double(TimeConstants.nanosecondsPerDay)))
        return s.interval.nanoseconds + gapNs
    }

    static let c500 = Concentration(microgramsPerMillilitre: 500)
    /// `itpump bench sweep`'s plan.
    static func benchPlan(runs: Int, days: Int64) -> SweepPlan {
        let base = Scenario(name: "bench", profile: .bench20, concentration: c500, schedule: .continuous(.microgramsPerDay(600)), duration: .days(1))
        return SweepPlan(name: "bench sweep", base: base, runs: runs, seed: 1, duration: .days(days),
                         refillDelay: .uniform(lower: .days(-7), upper: .days(14)),
                         dailyDose: .uniform(lower: .microgramsPerDay(300), upper: .microgramsPerDay(800)),
                         concentration: .choice([c500, Concentration(microgramsPerMillilitre: 1000)]),
                         reservoir: .choice([.millilitres(20), .millilitres(40)]), alarmPolicy: .choice([.alarmOnly, .reserveTaper]))
    }

    // MARK: Sweep runs

    @Test("fixed sweep runs of 180 days (`bench sweep`'s plan): measures within the stated tolerances")
    func fixedSweepRuns() {
        let plan = Self.benchPlan(runs: 12, days: 180)
        var withEpisodes = 0
        for i in 0..<plan.runs {
            let s = plan.scenario(plan.draw(i))
            let p = Self.problems(s)
            #expect(p.isEmpty, "\(p.prefix(5).joined(separator: "\n"))")
            let r = plan.run(i)
            if r.withdrawalRiskSeconds > 0 { withEpisodes += 1 }
        }
        // The comparison must have had withdrawal episodes to judge.
        #expect(withEpisodes >= 3)
    }

    @Test("random sweep rows: random plans, PK parameters, intervals and biases")
    func randomSweepRows() async {
        await propertyCheck(count: 40, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            let p = Self.problems(Self.randomRow(seed: seed))
            #expect(p.isEmpty, "seed \(seed): \(p.prefix(5).joined(separator: "\n"))")
        }
    }

    /// Rows the random property met, about 3 in 1,000, before the level check allowed for the
    /// reference's spread of a changed interval's drug (1 h intervals, 500 μg/mL: the drug front
    /// reaching the tip about 0.4 h into the course left the reference 1–5 ng/mL low for hours).
    @Test("random sweep rows met: the drug front in a 1 h interval", arguments: [UInt64(4821970665781841314), 4857574363401263557,
                                                                              17098560579458163681, 18092157148997788998, 16638890855166891653])
    func frontInAnHourInterval(seed: UInt64) {
        let p = Self.problems(Self.randomRow(seed: seed))
        #expect(p.isEmpty, "seed \(seed): \(p.prefix(5).joined(separator: "\n"))")
    }

    /// A random sweep row: random plan, PK parameters, interval (unless `randomInterval` is false: the
    /// plan's) and bias, from one seed.
    static func randomRow(seed: UInt64, randomInterval: Bool = true) -> Scenario {
        var g = SplitMix64(seed: seed)
        var plan = Self.benchPlan(runs: 1_000, days: g.integer(in: 20...120))
        plan.seed = g.next()
        plan.dailyDose = .uniform(lower: .microgramsPerDay(g.integer(in: 50...400)), upper: .microgramsPerDay(g.integer(in: 400...1200)))
        plan.concentration = .choice(Concentration.therapy)
        plan.base.pk.distributionVolume = .millilitres(g.integer(in: 22...157))
        plan.base.pk.clearance = VolumeRate(nanolitresPerDay: g.integer(in: 13...80) * 24_000_000)
        plan.base.pk.withdrawalFraction = .percent(g.integer(in: 10...90))
        plan.base.pk.severityTimeConstant = .hours(g.integer(in: 6...72))
        if randomInterval { plan.base.interval = [.minutes(5), .minutes(15), .minutes(30), .hours(1)][Int(g.below(4))] }
        plan.base.mechanics.calibrationBias = Fraction(partsPerMillion: g.integer(in: -150_000...150_000))
        return plan.scenario(plan.draw(Int(g.below(1_000))))
    }

    @Test("a sweep row (`SweepPlan.run`, the event model) equals the reference's row in every exact field")
    func rowsAgree() throws {
        let plan = Self.benchPlan(runs: 8, days: 180)
        for i in 0..<plan.runs {
            let d = plan.draw(i)
            let s = plan.scenario(d)
            let ref = try SimulationRunner.run(s, fidelity: .fast, pk: .intervals)
            let a = SweepRow(draw: d, result: ref)
            var b = plan.run(i)
            #expect(b.error == nil)
            // Episodes as the reference counts them (the full comparison checks that both agree).
            let episodes = Int64(max(1, ref.recorder.episodes.count))
            let w = Double(Self.window(s)) / 1e9
            #expect(Double(abs(a.withdrawalRiskSeconds - b.withdrawalRiskSeconds)) <= 2 * w * Double(episodes) + 1, "run \(i)")
            let lambda = 3.6e12 / Double(s.pk.severityTimeConstant.nanoseconds)
            #expect(abs(Double(a.peakSeverity)! - Double(b.peakSeverity)!) <= 2 * lambda * w / 3_600 * Double(episodes) + 0.0001, "run \(i)")
            b.withdrawalRiskSeconds = a.withdrawalRiskSeconds
            b.peakSeverity = a.peakSeverity
            #expect(a == b, "run \(i): \(a.csv) vs \(b.csv)")
        }
    }

    @Test("anti-vacuity: a wrong rate constant in the closed form fails the comparison")
    func wrongRateConstantIsCaught() {
        let plan = Self.benchPlan(runs: 12, days: 180)
        for factor in [1.25, 0.8] {
            var caught = 0, judged = 0
            for i in 0..<plan.runs {
                let s = plan.scenario(plan.draw(i))
                guard plan.run(i).withdrawalRiskSeconds > 0 else { continue }
                judged += 1
                if !Self.problems(s, rateConstantFactor: factor).isEmpty { caught += 1 }
            }
            #expect(judged >= 3)
            #expect(caught == judged, "k × \(factor): caught in \(caught) of \(judged) runs with a withdrawal episode")
        }
    }

    // MARK: The closed form against hand-derived values and an independent integration

    static let pk = PKParameters()
    static let k = 30.0 / 65                   // per hour
    static let hourNs: Int64 = 3_600_000_000_000
    static let css600 = 25_000.0 / 30          // 600 μg/day = 25,000 ng/h over 30 mL/h

    @Test("a constant infusion follows Css·(1 − e^(−kt)) exactly, one stretch of a day")
    func constantInfusion() {
        var m = CSFEvents(parameters: Self.pk, severeLevel: Recorder.severeLevel)
        m.infuse(nanograms: 600_000, from: 0, to: 24 * Self.hourNs)
        for h in 1...24 {
            m.advance(to: Int64(h) * Self.hourNs)
            let exact = Self.css600 * (1 - exp(-Self.k * Double(h)))
            #expect(abs(m.concentration - exact) < 1e-9 * exact, "at \(h) h")
        }
    }

    @Test("decay from the steady state: below 50 % from one half-life on, one episode")
    func decayCrossing() {
        var m = CSFEvents(parameters: Self.pk, severeLevel: Recorder.severeLevel)
        m.start(at: 0, level: Self.css600)
        m.setReference(steadyState: Self.css600, threshold: Self.css600 / 2, at: 0)
        m.finish(at: 10 * Self.hourNs)
        // t½ = ln 2 / k = 65 ln 2 / 30 h.
        let halfLifeNs = 65 * log(2.0) / 30 * 3.6e12
        #expect(abs(Double(m.belowNs) - (10 * 3.6e12 - halfLifeNs)) < 1_000)
        #expect(m.episodes.count == 1)
        #expect(abs(Double(m.episodes[0].start.nanoseconds) - halfLifeNs) < 1_000)
        #expect(m.episodes[0].end == Instant(nanoseconds: 10 * Self.hourNs))
    }

    @Test("complete deficit: S = 1 − e^(−t/τ), at or above 1 − 1/e from t = τ on")
    func completeDeficit() {
        var m = CSFEvents(parameters: Self.pk, severeLevel: Recorder.severeLevel)
        m.setReference(steadyState: Self.css600, threshold: Self.css600 / 2, at: 0)
        m.finish(at: 72 * Self.hourNs)
        // C = 0 throughout, so D = 1: S(72 h) = 1 − e^(−3) with τ = 24 h; severe from 24 h to 72 h.
        #expect(abs(m.severity - (1 - exp(-3.0))) < 1e-12)
        #expect(abs(m.peak - (1 - exp(-3.0))) < 1e-12)
        #expect(abs(m.severeNs - 48 * Self.hourNs) < 1_000_000)
        #expect(m.belowNs == 72 * Self.hourNs)
    }

    /// The ODEs dC/dt = R/V − kC, dS/dt = λ(max(0, 1 − C/C_ref) − S) integrated with RK4 in 1 s steps:
    /// an oracle independent of the closed form.
    static func rk4(c0: Double, s0: Double, rate: (Double) -> Double, ref: Double, hours: Double) -> (c: Double, s: Double, peak: Double, severeHours: Double, belowHours: Double) {
        let lambda = 1.0 / 24, v = 65.0, thr = ref / 2
        let dt = 1.0 / 3_600
        var c = c0, s = s0, t = 0.0, peak = s0, severe = 0.0, below = 0.0
        func f(_ t: Double, _ c: Double, _ s: Double) -> (Double, Double) {
            (rate(t) / v - Self.k * c, lambda * (max(0, 1 - c / ref) - s))
        }
        for _ in 0..<Int((hours / dt).rounded()) {
            let (a1, b1) = f(t, c, s)
            let (a2, b2) = f(t + dt / 2, c + dt / 2 * a1, s + dt / 2 * b1)
            let (a3, b3) = f(t + dt / 2, c + dt / 2 * a2, s + dt / 2 * b2)
            let (a4, b4) = f(t + dt, c + dt * a3, s + dt * b3)
            let cn = c + dt / 6 * (a1 + 2 * a2 + 2 * a3 + a4), sn = s + dt / 6 * (b1 + 2 * b2 + 2 * b3 + b4)
            if (c + cn) / 2 < thr { below += dt }
            if (s + sn) / 2 >= Recorder.severeLevel { severe += dt }
            c = cn; s = sn; t += dt
            peak = max(peak, s)
        }
        return (c, s, peak, severe, below)
    }

    @Test("delivery stops for 60 h then resumes: level, severity, its peak after resumption and the severe time match RK4")
    func stopAndResume() {
        var m = CSFEvents(parameters: Self.pk, severeLevel: Recorder.severeLevel)
        m.start(at: 0, level: Self.css600)
        m.setReference(steadyState: Self.css600, threshold: Self.css600 / 2, at: 0)
        // Nothing for 60 h, then 600 μg/day for 36 h (the severity peaks after delivery resumes).
        m.infuse(nanograms: 900_000, from: 60 * Self.hourNs, to: 96 * Self.hourNs)
        m.finish(at: 96 * Self.hourNs)
        let o = Self.rk4(c0: Self.css600, s0: 0, rate: { $0 < 60 ? 0 : 25_000 }, ref: Self.css600, hours: 96)
        #expect(abs(m.concentration - o.c) < 1e-6 * o.c)
        #expect(abs(m.severity - o.s) < 1e-6)
        #expect(abs(m.peak - o.peak) < 1e-6)
        #expect(m.peak > m.severity + 0.01, "the peak is inside the last stretch, not at an end")
        #expect(abs(Double(m.severeNs) / 3.6e12 - o.severeHours) < 2.0 / 3_600)
        #expect(abs(Double(m.belowNs) / 3.6e12 - o.belowHours) < 2.0 / 3_600)
    }

    // MARK: Joined stretches against one stretch per stroke batch

    /// Runs `s` with the event model joining contiguous batches of one rate (what sweeps do) or
    /// integrating every batch on its own (`joins` false, the model as it was before joining).
    static func eventRun(_ s: Scenario, joins: Bool, fractionShift: Int64 = 0) throws -> SimulationResult {
        var t = s
        t.pk.withdrawalFraction = Fraction(partsPerMillion: s.pk.withdrawalFraction.partsPerMillion + fractionShift)
        return try SimulationRunner.run(t, fidelity: .fast, keepSeries: false, perBinPK: false, pk: .events) { rec in
            rec.events?.joins = joins
            rec.events?.samples = CSFEvents.Samples(step: TimeConstants.nanosecondsPerHour, next: 0)
        }
    }

    /// Where the joined model departs from the batch-by-batch one: everything but the CSF measures
    /// exactly equal; the level at every hour within 1e-9 of it; the peak severity within 1e-9; the
    /// withdrawal-risk time between the batch-by-batch model's with the threshold moved down and up
    /// by one part per million of the reference level (the last bits of the level move a crossing
    /// only where the level runs along the threshold, as in a reserve taper), ± 1 s per episode.
    static func joinProblems(_ s: Scenario) throws -> (problems: [String], joined: Int, byBatch: Int) {
        let a = try eventRun(s, joins: false), b = try eventRun(s, joins: true)
        let x = a.recorder, y = b.recorder
        var out: [String] = []
        func check(_ ok: Bool, _ what: @autoclosure () -> String) { if !ok { out.append("\(s.name): \(what())") } }
        check(x.totalToPatient == y.totalToPatient && x.dailyFemtograms == y.dailyFemtograms, "delivered figures differ")
        check(x.alarms == y.alarms && x.emptyOnsets == y.emptyOnsets && x.refusals == y.refusals && x.zeroDelivery == y.zeroDelivery, "events differ")
        check(a.controller == b.controller, "controllers differ")
        let xs = x.events?.samples?.values ?? [], ys = y.events?.samples?.values ?? []
        check(xs.count == ys.count && !xs.isEmpty, "\(xs.count) vs \(ys.count) samples")
        for (i, (c, d)) in zip(xs, ys).enumerated() where abs(c - d) > 1e-9 * max(abs(c), 1e-9) {
            check(false, "level \(c) vs \(d) at hour \(i)")
            break
        }
        check(abs(x.peakSeverity - y.peakSeverity) <= 1e-9, "peak severity \(x.peakSeverity) vs \(y.peakSeverity)")
        let lower = try eventRun(s, joins: false, fractionShift: -1).recorder, upper = try eventRun(s, joins: false, fractionShift: 1).recorder
        let episodes = Int64([x.episodes.count, y.episodes.count, lower.episodes.count, upper.episodes.count].max() ?? 0)
        let slack = TimeConstants.nanosecondsPerSecond * max(1, episodes)
        check(y.withdrawal.nanoseconds >= lower.withdrawal.nanoseconds - slack && y.withdrawal.nanoseconds <= upper.withdrawal.nanoseconds + slack,
              "withdrawal \(y.withdrawal) outside \(lower.withdrawal) … \(upper.withdrawal) (thr ∓ 1 ppm)")
        check(lower.withdrawal != upper.withdrawal || abs(x.withdrawal.nanoseconds - y.withdrawal.nanoseconds) <= slack,
              "withdrawal \(x.withdrawal) vs \(y.withdrawal)")
        return (out, y.events?.stretches ?? 0, x.events?.stretches ?? 0)
    }

    @Test("joined stretches: the bench plan's runs agree with one stretch per batch, in a fraction of the stretches")
    func joinedStretchesAgree() throws {
        let plan = Self.benchPlan(runs: 16, days: 180)
        var joined = 0, byBatch = 0, withEpisodes = 0
        for i in 0..<plan.runs {
            let s = plan.scenario(plan.draw(i))
            let r = try Self.joinProblems(s)
            #expect(r.problems.isEmpty, "run \(i): \(r.problems.prefix(5).joined(separator: "\n"))")
            joined += r.joined
            byBatch += r.byBatch
            if plan.run(i).withdrawalRiskSeconds > 0 { withEpisodes += 1 }
        }
        #expect(withEpisodes >= 3)
        // Anti-vacuity: the joining happened. A steady rate is still split into batches where the
        // runner stops for a deadline or at a sensor change (no longer at every day's end: a sweep's
        // batches cross midnight), so about one stretch in seven is saved.
        #expect(joined * 8 < byBatch * 7, "\(joined) stretches joined, \(byBatch) batch by batch")
    }

    @Test("joined stretches: random plans, PK parameters and biases agree with one stretch per batch")
    func joinedStretchesRandom() async {
        await propertyCheck(count: 20, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            let s = Self.randomRow(seed: seed, randomInterval: false)
            guard let r = try? Self.joinProblems(s) else { return }
            #expect(r.problems.isEmpty, "seed \(seed): \(r.problems.prefix(5).joined(separator: "\n"))")
        }
    }
}
