import Foundation
import PumpCore

/// How a run's recorder integrates the CSF model.
public enum PKMethod: String, Hashable, Sendable, Codable, CaseIterable {
    /// One closed-form step per interval (`Scenario.interval`), the interval's drug taken as a constant
    /// input over it (`CSFModel.step`). The reference method; its time series is the report's.
    case intervals
    /// Closed form from event to event (`CSFEvents`): a stroke batch is a constant rate, a single
    /// stroke or a released bolus an instantaneous dose, and the threshold crossings are solved
    /// exactly. Costs O(events) instead of O(intervals); sweeps use it. With a time series kept, the
    /// series still comes from the intervals, the measures (withdrawal window, episodes, severity,
    /// final level) from the events.
    case events
}

/// The CSF compartment and the withdrawal measures solved from event to event.
///
/// Between two changes of input the infusion rate R is constant, so C(t) = C∞ + (C₀ − C∞)·e^(−kt),
/// C∞ = R/CL, holds exactly over the whole stretch however long, and C is monotone on it: it crosses
/// the withdrawal threshold at most once, at t* = ln((C₀ − C∞)/(thr − C∞)) / k. The withdrawal
/// severity S follows the deficit D = max(0, 1 − C/C_ref) with a first-order lag (time constant τ,
/// λ = 1/τ): where C < C_ref, D = a + b·e^(−kt) and
///
///     S(t) = a + (S₀ − a)·e^(−λt) + b·λ·(e^(−kt) − e^(−λt)) / (λ − k),
///
/// so S, its peak and the time it spends at or above the severe level are exact too (at most one
/// extremum per stretch, found by bisection on S' = λ(D − S) only where S' changes sign).
///
/// Inputs: `infuse` (a stroke batch: n strokes evenly spaced with gap g from `first` to `last` are the
/// rate n·m/(n·g) over [first − g, last], each stroke's drug spread over the gap before it, so that
/// successive batches tile time with no gap, from a transfer's start on too), `dose`
/// (a single stroke or a released bolus: C rises by m/V at once), `setReference` (the threshold in
/// force), in non-decreasing time. Instants are nanoseconds; the model's arithmetic is in hours,
/// ng/mL and ng/h (floating point: a model output, never a dose or a total).
struct CSFEvents: Sendable {
    let k: Double            // elimination, per hour
    let lambda: Double       // 1/τ of the severity lag, per hour
    let clearance: Double    // mL/h
    let volume: Double       // mL
    static let nsPerHour = 3.6e12

    /// The instant the state below describes (ns).
    private(set) var now: Int64 = 0
    /// C (ng/mL) and S (0…1) at `now`.
    private(set) var concentration = 0.0
    private(set) var severity = 0.0
    /// The infusion in force: `rate` ng/h until `rateUntil` (ns), nothing after.
    private(set) var rate = 0.0
    private(set) var rateUntil: Int64 = 0
    /// The rate (ng/h) of the batch that started the infusion in force, its own drug over its own span:
    /// a batch joins the infusion only when both the infusion's rate and the batch's are within
    /// `joinTolerance` of it (so an infusion that took in the rest of a previous one, at another
    /// rate, is not stretched: that rest stays spread over the batch it overlapped, as without joining).
    private(set) var anchorRate = 0.0
    /// Join contiguous batches of the same rate into one stretch (false: every batch is its own
    /// stretch, the behaviour the tests compare the joined stretches with).
    var joins = true
    /// Stroke instants are whole nanoseconds and a batch's gap is its span over its strokes rounded
    /// down, so successive batches of one steady rate meet within a nanosecond or two, and their rates
    /// differ by about 1 ns over a batch's span (under 1e-10 of the rate for a gap over 10 s).
    static let joinSlackNs: Int64 = 2
    static let joinTolerance = 1e-9
    /// Stretches integrated so far (each one closed form).
    private(set) var stretches = 0
    /// Steady state of the reference dose and the threshold (ng/mL); reference 0: not judged.
    private(set) var reference = 0.0
    private(set) var threshold = 0.0

    /// Time below the threshold (ns), its episodes, the peak severity and the time at or above
    /// `severeLevel` (ns).
    private(set) var belowNs: Int64 = 0
    private(set) var episodes: [WithdrawalEpisode] = []
    private(set) var episodeStart: Int64?
    private(set) var peak = 0.0
    private(set) var severeNs: Int64 = 0
    let severeLevel: Double

    /// C sampled every `step` ns from `next` on (tests compare the trajectory with the intervals').
    struct Samples: Sendable {
        let step: Int64
        var next: Int64
        var values: [Double] = []
    }
    var samples: Samples?

    /// `rateConstantFactor`: a deliberately wrong closed form for the anti-vacuity tests (k scaled).
    init(parameters p: PKParameters, severeLevel: Double, rateConstantFactor: Double = 1) {
        k = p.eliminationPerHour * rateConstantFactor
        clearance = p.clearanceMillilitresPerHour
        volume = Double(p.distributionVolume.nanolitres) / 1e6
        lambda = 3.6e12 / Double(p.severityTimeConstant.nanoseconds)
        self.severeLevel = severeLevel
    }

    /// Sets the level at `t` (a patient transferred from another pump starts at its steady state).
    mutating func start(at t: Int64, level: Double) {
        advance(to: t)
        concentration = level
        judgeLevel(at: t)
    }

    /// The withdrawal reference from `t` on: the steady state of the reference dose and the
    /// threshold (nil: none, time is not judged).
    mutating func setReference(steadyState: Double?, threshold thr: Double, at t: Int64) {
        advance(to: t)
        if let ss = steadyState, ss > 0 { (reference, threshold) = (ss, thr) } else { (reference, threshold) = (0, 0) }
        judgeLevel(at: t)
    }

    /// `nanograms` reaching the CSF at once at `t` (a single stroke, a released bolus).
    mutating func dose(nanograms: Double, at t: Int64) {
        // Nothing to integrate yet: the model catches up at its next input (saline strokes, a
        // blocked pump).
        guard nanograms != 0 else { return }
        advance(to: t)
        concentration += nanograms / volume
        judgeLevel(at: t)
    }

    /// `nanograms` reaching the CSF at a constant rate over [from, to). What remains of an infusion
    /// still in force at `from` is spread over the new one (no drug is lost when stroke instants,
    /// rounded to the nanosecond, make two batches overlap by a little).
    ///
    /// A batch that continues the infusion in force (it starts within `joinSlackNs` of its end, and its
    /// rate and the infusion's are within `joinTolerance` of the rate the infusion started with:
    /// `anchorRate`) only extends it: its drug
    /// is added to the infusion's and the infusion's end moves to `to`, so a steady rate the control
    /// core hands over in many batches (split at each day's end, each deadline) is one stretch, one
    /// closed form, however many batches. Every nanogram is still given, over the same span to within
    /// `joinSlackNs` per join; the rate over the joined stretch is the batches' mean (their drug over
    /// their span), so within `joinTolerance` of the first batch's rate and 2 × `joinTolerance` of
    /// each. Joining changes the model's floating point in the last bits only (`EventPKTests`
    /// compares it with the stretches batch by batch).
    mutating func infuse(nanograms: Double, from: Int64, to: Int64) {
        guard nanograms != 0 else { return }
        if joins, rate > 0, to > rateUntil, now < rateUntil, abs(from - rateUntil) <= Self.joinSlackNs,
           abs(rate - anchorRate) <= Self.joinTolerance * anchorRate,
           abs(nanograms / (Double(to - from) / Self.nsPerHour) - anchorRate) <= Self.joinTolerance * anchorRate {
            let ng = rate * Double(rateUntil - now) / Self.nsPerHour + nanograms
            rateUntil = to
            rate = ng / (Double(to - now) / Self.nsPerHour)
            return
        }
        let from = max(from, now)
        advance(to: from)
        var ng = nanograms
        var end = to
        if rateUntil > from && rate > 0 {
            ng += rate * Double(rateUntil - from) / Self.nsPerHour
            end = max(end, rateUntil)
        }
        guard end > from else {
            dose(nanograms: ng, at: from)
            return
        }
        rate = ng / (Double(end - from) / Self.nsPerHour)
        rateUntil = end
        anchorRate = nanograms / (Double(to - from) / Self.nsPerHour)
    }

    /// Integrates up to `t` (each stretch of constant input in closed form).
    mutating func advance(to t: Int64) {
        while now < t {
            if rate > 0 && now < rateUntil {
                let end = min(t, rateUntil)
                integrate(to: end, rate: rate)
            } else {
                integrate(to: t, rate: 0)
            }
        }
    }

    /// Closes the run at `end`: an episode still open ends there.
    mutating func finish(at end: Int64) {
        advance(to: end)
        if let s = episodeStart { episodes.append(WithdrawalEpisode(start: Instant(nanoseconds: s), end: Instant(nanoseconds: end))); episodeStart = nil }
    }

    /// Opens or closes an episode after a jump of the level or of the threshold at `t`.
    mutating func judgeLevel(at t: Int64) {
        let below = reference > 0 && concentration < threshold
        if below, episodeStart == nil { openEpisode(at: t) }
        if !below, let s = episodeStart {
            episodes.append(WithdrawalEpisode(start: Instant(nanoseconds: s), end: Instant(nanoseconds: t)))
            episodeStart = nil
        }
    }

    /// An episode starts at `t`, or the last one goes on if it ended at `t` (the threshold or the level
    /// jumped and came back at one instant: no time above it, so no break).
    mutating func openEpisode(at t: Int64) {
        if let last = episodes.last, last.end.nanoseconds == t {
            episodes.removeLast()
            episodeStart = last.start.nanoseconds
        } else {
            episodeStart = t
        }
    }

    /// One stretch [now, end) at the constant rate `r` (ng/h).
    mutating func integrate(to end: Int64, rate r: Double) {
        let dtNs = end - now
        stretches &+= 1
        let h = Double(dtNs) / Self.nsPerHour
        let css = r / clearance
        let c0 = concentration
        let ekh = exp(-k * h)
        let c1 = css + (c0 - css) * ekh
        if samples != nil { sample(until: end, c0: c0, css: css) }
        if reference > 0 {
            let thr = threshold
            let below0 = c0 < thr, below1 = c1 < thr
            if below0 && below1 {
                belowNs += dtNs
            } else if below0 != below1 {
                let ns = min(dtNs, Int64(crossing(c0, css, thr, h) * Self.nsPerHour))
                if below0 {
                    belowNs += ns
                    if let s = episodeStart { episodes.append(WithdrawalEpisode(start: Instant(nanoseconds: s), end: Instant(nanoseconds: now + ns))) }
                    episodeStart = nil
                } else {
                    belowNs += dtNs - ns
                    openEpisode(at: now + ns)
                }
            }
            // The deficit is zero while C ≥ C_ref: split the stretch where C crosses C_ref.
            let ref = reference
            if (c0 < ref) != (c1 < ref) {
                let tr = crossing(c0, css, ref, h)
                let cr = css + (c0 - css) * exp(-k * tr)
                severityStretch(hours: tr, c0: c0, css: css, startNs: now, endNs: now + Int64(tr * Self.nsPerHour), deficit: c0 < ref)
                severityStretch(hours: h - tr, c0: cr, css: css, startNs: now + Int64(tr * Self.nsPerHour), endNs: end, deficit: !(c0 < ref))
            } else {
                severityStretch(hours: h, c0: c0, css: css, startNs: now, endNs: end, deficit: c0 < ref, ek: ekh)
            }
        } else {
            severityStretch(hours: h, c0: c0, css: css, startNs: now, endNs: end, deficit: false)
        }
        concentration = c1
        now = end
    }

    mutating func sample(until end: Int64, c0: Double, css: Double) {
        guard var s = samples else { return }
        samples = nil   // one owner of the array while it grows
        while s.next <= end {
            s.values.append(css + (c0 - css) * exp(-k * Double(s.next - now) / Self.nsPerHour))
            s.next += s.step
        }
        samples = s
    }

    /// When C, from c0 toward css, reaches `level` (hours, within 0…h).
    func crossing(_ c0: Double, _ css: Double, _ level: Double, _ h: Double) -> Double {
        let ratio = (c0 - css) / (level - css)
        let t = ratio > 0 ? log(ratio) / k : h
        return min(max(t, 0), h)
    }

    /// S over one stretch of `hours` from `severity`, with the deficit a + b·e^(−kt) (C from c0 toward
    /// css, all below C_ref) or none; updates the peak and the severe time. `ek`: e^(−k·hours) when the
    /// caller has it (the same expression, so the same value).
    mutating func severityStretch(hours T: Double, c0: Double, css: Double, startNs: Int64, endNs: Int64, deficit: Bool, ek known: Double? = nil) {
        guard T > 0 else { return }
        let s0 = severity
        let el = exp(-lambda * T)
        guard deficit else {
            // No deficit: S decays, S(t) = S₀·e^(−λt), at or above the severe level until ln(S₀/L)/λ.
            let s1 = s0 * el
            if s0 >= severeLevel {
                severeNs += s1 >= severeLevel ? endNs - startNs
                    : min(endNs - startNs, Int64(log(s0 / severeLevel) / lambda * Self.nsPerHour))
            }
            severity = s1
            return
        }
        let a = 1 - css / reference
        let b = -(c0 - css) / reference
        let curve = SeverityCurve(s0: s0, a: a, b: b, k: k, lambda: lambda)
        let ek = known ?? exp(-k * T)
        let s1 = a + (s0 - a) * el + b * lambda * curve.phi(T, el, ek)
        // D − S at both ends (S' / λ): at the end from the derivative's own closed form, whose sign is
        // right however close S has come to D (over a long stretch S settles onto D's limit, and
        // a + b·e^(−kT) − S(T) would be rounding noise of either sign, hiding the turn).
        let g0 = a + b - s0, g1 = curve.drive(T, el, ek)
        // S lags D, so it stays within max(S₀, D(0), D(T)) (D is monotone here): when that is below
        // both the peak so far and the severe level, there is nothing to look for inside.
        let bound = max(s0, a + b, a + b * ek)
        if bound <= peak && bound < severeLevel {
            severity = s1
            return
        }
        // At most one sign change of S' = λ(D − S) on the stretch (D is monotone): find it.
        var turn: Double?
        // (g1 exactly 0: both exponentials have underflowed, long after any turn.)
        if (g0 > 0 && g1 <= 0) || (g0 < 0 && g1 >= 0) {
            turn = Self.root(of: { curve.drive($0) }, from: 0, g0, to: T, g1) { $0 > 0 }
        }
        if let t = turn, g0 > 0 { peak = max(peak, curve.value(t)) }
        peak = max(peak, s1)
        // Time at or above the severe level, on each monotone piece.
        let totalNs = endNs - startNs
        var severeHours = 0.0
        var whole = true
        func piece(_ x: Double, _ y: Double) {
            let L = severeLevel
            let vx = curve.value(x), vy = curve.value(y)
            if vx >= L && vy >= L { severeHours += y - x; return }
            whole = false
            if vx < L && vy < L { return }
            let cross = Self.root(of: { curve.value($0) - L }, from: x, vx - L, to: y, vy - L) { $0 >= 0 }
            severeHours += vx >= L ? cross - x : y - cross
        }
        if s0 < severeLevel && s1 < severeLevel && turn == nil {
            whole = false
        } else if let t = turn {
            piece(0, t)
            piece(t, T)
        } else {
            piece(0, T)
        }
        severeNs += whole ? totalNs : min(totalNs, Int64(severeHours * Self.nsPerHour))
        severity = s1
    }
}

extension CSFEvents {
    /// Where `f` changes side on [x0, x1] (`up` tells a value's side; f(x0) = f0 and f(x1) = f1 are on
    /// different sides), to within 1e-10 h: the midpoint of a bracket narrower than that, as a bisection
    /// gives, in about a quarter of its evaluations (each two `exp`s). Regula falsi with the Illinois
    /// step (an end kept twice running has its value halved, so both ends close in), and a midpoint
    /// step whenever three steps have not halved the bracket.
    static func root(of f: (Double) -> Double, from x0: Double, _ f0: Double, to x1: Double, _ f1: Double,
                     up: (Double) -> Bool) -> Double {
        var a = x0, b = x1, fa = f0, fb = f1
        let aUp = up(f0)
        var keptA = 0, keptB = 0
        var width = b - a
        for i in 0..<200 {
            if b - a < 1e-10 { break }
            var c = a - fa * (b - a) / (fb - fa)
            if i % 3 == 2 {
                if b - a > width / 2 { c = (a + b) / 2 }
                width = b - a
            }
            if !(c > a && c < b) { c = (a + b) / 2 }
            let fc = f(c)
            if up(fc) == aUp {
                a = c; fa = fc
                keptB += 1; keptA = 0
                if keptB >= 2 { fb /= 2 }
            } else {
                b = c; fb = fc
                keptA += 1; keptB = 0
                if keptA >= 2 { fa /= 2 }
            }
        }
        return (a + b) / 2
    }
}

/// S(t) = a + (S₀ − a)·e^(−λt) + b·λ·φ(t), φ(t) = (e^(−kt) − e^(−λt)) / (λ − k): the severity under
/// the deficit D(t) = a + b·e^(−kt), from S₀.
struct SeverityCurve {
    let s0: Double, a: Double, b: Double, k: Double, lambda: Double

    func value(_ t: Double) -> Double {
        let el = exp(-lambda * t)
        return a + (s0 - a) * el + b * lambda * phi(t, el, exp(-k * t))
    }

    /// D(t) − S(t): the sign of S'.
    func drive(_ t: Double) -> Double { drive(t, exp(-lambda * t), exp(-k * t)) }

    /// D(t) − S(t) = S'(t)/λ = −(S₀ − a)·e^(−λt) + b·(λe^(−λt) − k·e^(−kt))/(λ − k), in this form rather
    /// than as the difference of D and S (which cancel as S settles onto D); without cancellation when
    /// λ ≈ k (e^(−kt) = e^(−λt)·e^(x), x = (λ − k)t: the fraction is e^(−λt)·(1 − kt·expm1(x)/x)).
    func drive(_ t: Double, _ el: Double, _ ek: Double) -> Double {
        let d = lambda - k
        let x = d * t
        let psi: Double
        if abs(x) < 1e-3 {
            psi = x == 0 ? el * (1 - k * t) : el * (1 - k * t * expm1(x) / x)
        } else {
            psi = (lambda * el - k * ek) / d
        }
        return -(s0 - a) * el + b * psi
    }

    /// (e^(−kt) − e^(−λt)) / (λ − k), without cancellation when λ ≈ k (limit t·e^(−λt)).
    func phi(_ t: Double, _ el: Double, _ ek: Double) -> Double {
        let d = lambda - k
        let x = d * t
        if abs(x) < 1e-3 {
            return x == 0 ? t * el : el * t * expm1(x) / x
        }
        return (ek - el) / d
    }
}
