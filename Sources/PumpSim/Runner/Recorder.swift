import Foundation
import PumpCore

/// One alarm as it happened.
public struct AlarmRecord: Hashable, Sendable, Codable {
    public var kind: AlarmKind
    public var raisedAt: Instant
    public var clearedAt: Instant?
    /// For `lowReservoir` and `refillDue`: how long before delivery stopped for an empty reservoir the
    /// alarm was raised (nil when the reservoir did not run empty while it was active).
    public var leadTimeBeforeEmpty: TimeSpan?
}

/// A command the interlock refused.
public struct RefusedCommand: Hashable, Sendable, Codable {
    public var at: Instant
    public var command: String
    public var reason: String
}

/// A stretch of time with the CSF level below the withdrawal threshold.
public struct WithdrawalEpisode: Hashable, Sendable, Codable {
    public var start: Instant
    public var end: Instant
    public var length: TimeSpan { end - start }
}

/// The volume held behind an occlusion, released to the patient at once when it cleared.
public struct ReleasedBolus: Hashable, Sendable, Codable {
    public var at: Instant
    public var volume: Picolitres
    /// Drug that reached the CSF with it (counted in the delivered totals), and drug that went to the
    /// pocket (a leak or disconnection at the same time).
    public var toCSF: Femtograms
    public var toPocket: Femtograms
}

/// One interval of the time series (kept only when a report needs it).
public struct SeriesRow: Hashable, Sendable {
    public var start: Instant
    /// Drug that reached the CSF in the interval.
    public var delivered: Femtograms
    /// The part of `delivered` that came as a released bolus (an occlusion clearing).
    public var released: Femtograms = .zero
    /// True reservoir and the controller's estimate at the interval's end.
    public var trueReservoir: Picolitres
    public var estimatedReservoir: Volume
    /// CSF level at the interval's end.
    public var concentration: CSFConcentration
    /// Withdrawal threshold in force (nil: no reference dose).
    public var threshold: CSFConcentration?
    public var severity: Double
}

/// Turns a run's effects and deliveries into the report's measures, streaming: memory is flat in the
/// run's length unless the time series is kept.
///
/// Delivery is binned into intervals of `interval`; each closed interval steps the PK model exactly
/// with its drug as a constant input.
public struct Recorder: Sendable {
    public let interval: TimeSpan
    let intervalNs: Int64
    public private(set) var model: CSFModel
    var bin: Int64 = 0
    var binEndNs: Int64
    var binFg: Int64 = 0
    /// Drug that reached the CSF per day of the run (day 0 = the first 24 h).
    public private(set) var dailyFemtograms: [Int64] = []
    public private(set) var totalToPatient = Femtograms.zero
    /// Boluses released when an occlusion cleared (their drug is in every delivered figure).
    public private(set) var releases: [ReleasedBolus] = []
    /// Released drug in the open interval.
    var binReleasedFg: Int64 = 0

    /// The dose whose steady state the withdrawal threshold refers to (nil: no therapy running).
    ///
    /// It follows the programmed dose and the steps of a stop taper within the decrease limit (a
    /// proper taper carries no withdrawal risk), and drops only when such a taper completes. An
    /// emergency stop — immediate, or a taper shortened past the limits by an override — is a real
    /// cessation: the reference stays at the last therapeutic dose before it, and the time after the
    /// stop counts as time at zero delivery.
    public private(set) var reference: DoseRate? { didSet { refreshLevels() } }
    /// A stop taper an emergency override shortened is in progress (its steps do not move the reference).
    var emergencyTaper = false
    public private(set) var alarms: [AlarmRecord] = []
    /// The open record of each alarm kind (by `AlarmKind.index`): its index in `alarms`, or −1.
    var open = [Int](repeating: -1, count: AlarmKind.allCases.count)
    public private(set) var refusals: [RefusedCommand] = []
    public private(set) var emptyOnsets: [Instant] = []
    /// Instants of the refills the controller accepted (the initial fill included), for the plots.
    public private(set) var refills: [Instant] = []
    var emptyInCycle = false

    public private(set) var withdrawal = TimeSpan.zero
    public private(set) var episodes: [WithdrawalEpisode] = []
    var episodeStart: Instant?
    public private(set) var peakSeverity = 0.0
    /// Time with the withdrawal severity at or above 1 − 1/e (a complete deficit sustained for one
    /// time constant).
    public private(set) var severe = TimeSpan.zero
    public static let severeLevel = 0.632_120_558_828_557_7

    var running = false { didSet { refreshLevels() } }
    var controllerHalted = false
    public private(set) var pumpBlocked = false
    var zeroSince: Instant?
    /// Time in running therapy with no drug reaching the CSF (controller halted, or the pump blocked).
    public private(set) var zeroDelivery = TimeSpan.zero

    public let keepSeries: Bool
    /// The run's end (a whole number of intervals): drug delivered at exactly this instant belongs to
    /// the last interval, which is closed at both ends (else a stroke due at the end would be counted
    /// by the pump and by no interval).
    var endNs = Int64.max
    /// The interval an instant falls in (the end instant: the last interval).
    @inline(__always) func binIndex(_ ns: Int64) -> Int64 {
        ns == endNs && ns > 0 ? (ns - 1) / intervalNs : ns / intervalNs
    }
    /// Close intervals one `CSFModel.step` at a time (the reference implementation the tests compare
    /// the batched path with).
    var perBinReference = false
    /// The CSF level starts at the steady state of the first dose when therapy starts (a transfer).
    public var startsAtSteadyState = true
    public private(set) var series: [SeriesRow] = []
    /// Where the series goes instead of `series` (nil: kept in memory).
    public var seriesStream: SeriesStream?

    @inline(__always) mutating func emitRow(_ row: SeriesRow) {
        if let s = seriesStream { s.add(row) } else { series.append(row) }
    }
    var snapshot: (Picolitres, Volume) = (.zero, .zero)

    /// How the CSF model is integrated (`.events` agrees with the `.intervals` reference within the
    /// reference's own discretisation: one interval plus one stroke gap per threshold crossing).
    public let pkMethod: PKMethod
    /// The event-to-event model (`.events` only).
    var events: CSFEvents?
    /// Deliveries are binned into intervals (`.intervals`, or a time series kept).
    let binning: Bool

    public init(pk: PKParameters, interval: TimeSpan, keepSeries: Bool, pkMethod: PKMethod = .intervals) {
        self.interval = interval
        intervalNs = interval.nanoseconds
        binEndNs = interval.nanoseconds
        model = CSFModel(parameters: pk, interval: interval)
        self.keepSeries = keepSeries
        self.pkMethod = pkMethod
        binning = pkMethod == .intervals || keepSeries
        if pkMethod == .events { events = CSFEvents(parameters: pk, severeLevel: Self.severeLevel) }
    }

    // MARK: Delivery

    /// Drug that reached the CSF at `t`.
    @inline(__always)
    public mutating func delivered(_ fg: Femtograms, at t: Instant) {
        if events != nil {
            events?.dose(nanograms: Double(fg.value) / 1e6, at: t.nanoseconds)
            if !binning {
                addToDay(fg.value, dayIndex(t.nanoseconds))
                return
            }
        }
        bin(fg, at: t)
    }

    /// Puts drug that reached the CSF at `t` in its interval.
    @inline(__always)
    mutating func bin(_ fg: Femtograms, at t: Instant) {
        if t.nanoseconds >= binEndNs { closeBins(through: binIndex(t.nanoseconds)) }
        binFg &+= fg.value
    }

    // MARK: Without bins (`.events`, no series)

    static var dayNs: Int64 { TimeConstants.nanosecondsPerDay }
    /// The day an instant's interval falls in (the end instant: the last interval's day).
    @inline(__always) func dayIndex(_ ns: Int64) -> Int {
        Int(ns == endNs && ns > 0 ? (ns - 1) / Self.dayNs : ns / Self.dayNs)
    }

    @inline(__always) mutating func addToDay(_ fg: Int64, _ day: Int) {
        while dailyFemtograms.count <= day { dailyFemtograms.append(0) }
        dailyFemtograms[day] &+= fg
        totalToPatient = Femtograms(totalToPatient.value &+ fg)
    }

    /// A stroke batch's drug split between days exactly as the intervals split it
    /// (`deliveredPerInterval`: a day's share is the intervals' shares up to its end, the last day
    /// gets the rest), and given to the event model as a constant rate.
    mutating func deliveredUnbinned(_ fg: Femtograms, strokes n: Int64, first: Instant, last: Instant) {
        let f = first.nanoseconds, l = last.nanoseconds
        feedEvents(fg, strokes: n, first: f, last: l)
        let d0 = dayIndex(f), d1 = dayIndex(l)
        // Within one day: no division (a day is a constant). Ends in one interval are in one day,
        // so ends on different days are never in one interval: no interval test is needed.
        if d0 == d1 || n <= 1 {
            addToDay(fg.value, d0)
        } else {
            let given = addDayShares(fg.value, strokes: n, first: f, last: l, days: d0..<d1)
                ?? addDaySharesStepped(fg.value, strokes: n, first: f, last: l, days: d0..<d1)
            addToDay(fg.value - given, d1)
        }
    }

    /// The split's days before the last (a batch of `n` strokes evenly spaced from `f` to `l`): day d
    /// gets share(d) − share(d − 1), share(d) = ⌊fg·count(d)/n⌋, count(d) = min(n, ⌈(end(d) − f)·(n − 1)/(l − f)⌉);
    /// adds each and returns the drug given. In 128 bits: the reference `addDayShares` is compared with.
    mutating func addDaySharesWide(_ fg: Int64, strokes n: Int64, first f: Int64, last l: Int64, days: Range<Int>) -> Int64 {
        let span = Int128(l - f)
        var given: Int64 = 0
        for day in days {
            let end = Int64(day + 1) * Self.dayNs
            let num = Int128(end - f) * Int128(n - 1)
            let count = min(Int128(n), (num + span - 1) / span)
            let share = Int64(Int128(fg) * count / Int128(n))
            addToDay(share - given, day)
            given = share
        }
        return given
    }

    /// `addDaySharesWide`, the same integers, with six 128-bit divisions for the whole batch instead of
    /// two a day (a batch of a sweep crosses weeks of days' ends). From one day's end to the next the
    /// count's numerator grows by a constant, a day × (n − 1), so its quotient and remainder by the
    /// span carry by addition; the count then grows by ⌊day·(n − 1)/span⌋ or one more, so fg × count
    /// carries its quotient and remainder by n the same way. A count reaching n gives the whole drug.
    mutating func addDaySharesStepped(_ fg: Int64, strokes n: Int64, first f: Int64, last l: Int64, days: Range<Int>) -> Int64 {
        guard let d0 = days.first, l > f, n > 1, fg >= 0 else { return addDaySharesWide(fg, strokes: n, first: f, last: l, days: days) }
        let span = Int128(l - f), bigN = Int128(n), bigF = Int128(fg)
        let num0 = Int128(Int64(d0 + 1) * Self.dayNs - f) * (bigN - 1)
        guard num0 >= 0 else { return addDaySharesWide(fg, strokes: n, first: f, last: l, days: days) }
        let step = Int128(Self.dayNs) * (bigN - 1)
        let sq = step / span, sr = step % span
        var cq = num0 / span, cr = num0 % span
        var count = min(bigN, cq + (cr > 0 ? 1 : 0))
        var pq = bigF * count / bigN, pr = bigF * count % bigN
        let aq = bigF * sq / bigN, ar = bigF * sq % bigN
        let bq = bigF / bigN, br = bigF % bigN
        var given: Int64 = 0
        for day in days {
            let share = Int64(pq)
            addToDay(share - given, day)
            given = share
            cq += sq
            cr += sr
            if cr >= span { cq += 1; cr -= span }
            let next = cq + (cr > 0 ? 1 : 0)
            if next >= bigN {
                count = bigN; pq = bigF; pr = 0
            } else {
                pq += aq; pr += ar
                if pr >= bigN { pq += 1; pr -= bigN }
                switch next - count - sq {
                case 0: break
                case 1:
                    pq += bq; pr += br
                    if pr >= bigN { pq += 1; pr -= bigN }
                default:
                    // ⌈x + s⌉ − ⌈x⌉ is ⌊s⌋ or ⌈s⌉: never reached; take the product afresh if it were.
                    pq = bigF * next / bigN; pr = bigF * next % bigN
                }
                count = next
            }
        }
        return given
    }

    /// `addDaySharesWide` in 64 bits, the same integers, when no product can overflow (a batch crosses
    /// a day or two, so nearly always): nil, nothing added, when one could.
    @inline(__always)
    mutating func addDayShares(_ fg: Int64, strokes n: Int64, first f: Int64, last l: Int64, days: Range<Int>) -> Int64? {
        let span = l - f
        // The largest numerators, at the last day's end (≤ l): (end − f)·(n − 1) + span − 1 and fg·n.
        let (x, o1) = (Int64(days.upperBound) * Self.dayNs - f).multipliedReportingOverflow(by: n - 1)
        let (_, o2) = x.addingReportingOverflow(span - 1)
        let (_, o3) = fg.multipliedReportingOverflow(by: n)
        guard !o1, !o2, !o3, fg >= 0 else { return nil }
        var given: Int64 = 0
        for day in days {
            let end = Int64(day + 1) * Self.dayNs
            let count = min(n, ((end - f) * (n - 1) + span - 1) / span)
            let share = fg * count / n
            addToDay(share - given, day)
            given = share
        }
        return given
    }

    /// A stroke batch for the event model: one stroke at once, more as a rate over their gaps.
    mutating func feedEvents(_ fg: Femtograms, strokes n: Int64, first f: Int64, last l: Int64) {
        let ng = Double(fg.value) / 1e6
        if n <= 1 || l <= f {
            events?.dose(nanograms: ng, at: f)
        } else {
            events?.infuse(nanograms: ng, from: f - (l - f) / (n - 1), to: l)
        }
    }

    /// The volume held behind an occlusion reached the patient at `t` when the occlusion cleared.
    public mutating func released(toCSF: Femtograms, toPocket: Femtograms, volume: Picolitres, at t: Instant) {
        delivered(toCSF, at: t)
        binReleasedFg += toCSF.value
        releases.append(ReleasedBolus(at: t, volume: volume, toCSF: toCSF, toPocket: toPocket))
    }

    /// Drug of `count` strokes evenly spaced from `first` to `last`, split between intervals by how many
    /// strokes fall in each.
    public mutating func delivered(_ fg: Femtograms, strokes n: Int64, first: Instant, last: Instant) {
        if events != nil {
            if !binning { deliveredUnbinned(fg, strokes: n, first: first, last: last); return }
            // Binned for the series as well: the event model takes the batch, the bins as before.
            feedEvents(fg, strokes: n, first: first.nanoseconds, last: last.nanoseconds)
        }
        let b0 = binIndex(first.nanoseconds), b1 = binIndex(last.nanoseconds)
        if b1 == b0 || n <= 1 {
            bin(fg, at: first)
            return
        }
        if !perBinReference,
           var shares = StrokeShares(femtograms: fg.value, strokes: n, first: first.nanoseconds, last: last.nanoseconds, interval: intervalNs) {
            if bin < b0 { closeBins(through: b0) }
            if bin == b0 {
                // Intervals b0 ..< b1 close now, b0 with what it already held; b1 stays open with the rest.
                shares.held = binFg
                binFg = 0
                closeRun(count: b1 - b0, inputs: &shares)
                bin(Femtograms(fg.value - shares.given), at: last)
                return
            }
        }
        deliveredPerInterval(fg, strokes: n, first: first, last: last)
    }

    /// The reference implementation of the split: one `delivered(_:at:)` per interval, in 128 bits.
    mutating func deliveredPerInterval(_ fg: Femtograms, strokes n: Int64, first: Instant, last: Instant) {
        let b1 = binIndex(last.nanoseconds)
        var givenFg: Int64 = 0
        let span = Int128(last.nanoseconds - first.nanoseconds)
        var b = first.nanoseconds / intervalNs
        while b < b1 {
            let end = (b + 1) * intervalNs
            // Strokes k (0-based) with first + span·k/(n−1) < end.
            let num = Int128(end - first.nanoseconds) * Int128(n - 1)
            let count = Int64(min(Int128(n), (num + span - 1) / span))
            let share = Int64(Int128(fg.value) * Int128(count) / Int128(n))
            bin(Femtograms(share - givenFg), at: Instant(nanoseconds: max(first.nanoseconds, b * intervalNs)))
            givenFg = share
            b += 1
        }
        bin(Femtograms(fg.value - givenFg), at: last)
    }

    /// Closes every interval before interval index `b`: the open one with the drug it received, then
    /// any empty ones after it (`closeRun`).
    mutating func closeBins(through b: Int64) {
        guard bin < b else { return }
        if perBinReference { closeBinsPerBin(through: b); return }
        var held = ConstantInputs(femtograms: binFg)
        binFg = 0
        closeRun(count: 1, inputs: &held)
        var empty = ConstantInputs(femtograms: 0)
        if bin < b { closeRun(count: b - bin, inputs: &empty) }
    }

    /// The withdrawal reference in force for the intervals being closed: the steady state of the
    /// reference dose and the threshold, computed as `closeBinsPerBin` and `CSFModel.step` compute them.
    struct WithdrawalLevels {
        var steadyState: Double
        var threshold: Double
    }
    var levels: WithdrawalLevels?
    /// The last two interval inputs and their steady states (fg, ng/mL), most recent first.
    var steadyStates: ((fg: Int64, css: Double), (fg: Int64, css: Double)) = ((0, 0), (-1, 0))
    /// The day the intervals being closed fall in, and the first interval of the next day.
    var day = 0
    var dayEndBin: Int64 = 0

    /// The levels in force from the instant the event model has reached (every change of `reference`
    /// or `running` happens after `setReference` advanced it to the change's instant).
    mutating func refreshLevels() {
        guard running, let reference else {
            levels = nil
            if let t = events?.now { events?.setReference(steadyState: nil, threshold: 0, at: t) }
            return
        }
        let ref = model.parameters.steadyState(reference).nanogramsPerMillilitre
        levels = WithdrawalLevels(steadyState: ref, threshold: ref * Double(model.parameters.withdrawalFraction.partsPerMillion) / 1e6)
        if let t = events?.now { events?.setReference(steadyState: ref, threshold: ref * Double(model.parameters.withdrawalFraction.partsPerMillion) / 1e6, at: t) }
    }

    /// Closes `count` intervals from `bin`, the drug of each from `inputs`.
    ///
    /// Exactly what `closeBinsPerBin` does interval by interval (the same floating-point operations in
    /// the same order, so the same bits), with the model's state, the withdrawal levels and the
    /// measures held in locals instead of recomputed and stored per interval.
    mutating func closeRun<Inputs: IntervalInputs>(count: Int64, inputs: inout Inputs) {
        let first = bin, end = bin + count
        let m = model
        let iv = intervalNs
        var c0 = m.concentration.nanogramsPerMillilitre
        var sev = m.severity
        let decay = m.decay, meanFactor = m.meanFactor, sd = m.severityDecay, k = m.k, hours = m.hours, clearance = m.clearance
        let lv = levels
        let ref = lv?.steadyState ?? 0, thr = lv?.threshold ?? 0
        let judged = lv != nil && ref > 0
        var belowTotal: Int64 = 0, severeCount: Int64 = 0, total: Int64 = 0, dayTotal: Int64 = 0
        var peak = peakSeverity
        var releasedFg = binReleasedFg
        binReleasedFg = 0
        // C∞ of the last two inputs (delivery alternates between a few stroke counts per interval).
        var (fgA, cssA) = steadyStates.0, (fgB, cssB) = steadyStates.1
        var b = first
        while b < end {
            let fg = inputs.next()
            total += fg
            if b >= dayEndBin {
                if dayTotal != 0 { dailyFemtograms[day] += dayTotal; dayTotal = 0 }
                let dayNs = TimeConstants.nanosecondsPerDay
                day = Int(b * iv / dayNs)
                // The first interval starting on the next day.
                dayEndBin = ((Int64(day) + 1) * dayNs + iv - 1) / iv
                while dailyFemtograms.count <= day { dailyFemtograms.append(0) }
            }
            dayTotal += fg
            // The model, as CSFModel.step.
            let css: Double
            if fg == fgA { css = cssA }
            else if fg == fgB { css = cssB; swap(&fgA, &fgB); swap(&cssA, &cssB) }
            else {
                css = Double(fg) / 1e6 / hours / clearance
                (fgB, cssB) = (fgA, cssA)
                (fgA, cssA) = (fg, css)
            }
            let c1 = css + (c0 - css) * decay
            var below: Int64 = 0
            var crossing: Int64 = -1
            if judged {
                let below0 = c0 < thr, below1 = c1 < thr
                if below0 && below1 {
                    below = iv
                } else if below0 != below1 {
                    let ratio = (c0 - css) / (thr - css)
                    let tHours = ratio > 0 ? log(ratio) / k : hours
                    let ns = Int64(min(max(tHours, 0), hours) * 3.6e12)
                    crossing = ns
                    below = below0 ? ns : iv - ns
                }
                let mean = css + (c0 - css) * meanFactor
                // mean ≥ ref makes the correctly rounded quotient ≥ 1, so the clamp gives +0 without it.
                let deficit: Double = mean >= ref ? 0 : min(1, max(0, 1 - mean / ref))
                sev = deficit + (sev - deficit) * sd
            } else {
                sev *= sd
            }
            c0 = c1
            belowTotal += below
            if below == iv {
                if episodeStart == nil { episodeStart = Instant(nanoseconds: b * iv) }
            } else if crossing >= 0 {
                let at = Instant(nanoseconds: b * iv) + TimeSpan(nanoseconds: crossing)
                if let s = episodeStart { episodes.append(WithdrawalEpisode(start: s, end: at)); episodeStart = nil }
                else { episodeStart = at }
            } else if let s = episodeStart {
                episodes.append(WithdrawalEpisode(start: s, end: Instant(nanoseconds: b * iv)))
                episodeStart = nil
            }
            peak = max(peak, sev)
            if sev >= Self.severeLevel { severeCount += 1 }
            if keepSeries {
                emitRow(SeriesRow(start: Instant(nanoseconds: b * iv), delivered: Femtograms(fg), released: Femtograms(releasedFg),
                                        trueReservoir: snapshot.0,
                                        estimatedReservoir: snapshot.1, concentration: CSFConcentration(nanogramsPerMillilitre: c1),
                                        threshold: lv.map { CSFConcentration(nanogramsPerMillilitre: $0.threshold) }, severity: sev))
                releasedFg = 0
            }
            b += 1
        }
        if dayTotal != 0 { dailyFemtograms[day] += dayTotal }
        steadyStates = ((fgA, cssA), (fgB, cssB))
        model.restore(concentration: c0, severity: sev)
        totalToPatient = totalToPatient + Femtograms(total)
        withdrawal = withdrawal + TimeSpan(nanoseconds: belowTotal)
        peakSeverity = peak
        severe = severe + TimeSpan(nanoseconds: severeCount * iv)
        bin = end
        binEndNs = (end + 1) * iv
    }

    /// The reference implementation of `closeBins`: one `CSFModel.step` per interval, as the recorder
    /// always did. Used when `perBinReference` is set (tests compare it with the batched path).
    mutating func closeBinsPerBin(through b: Int64) {
        while bin < b {
            let start = Instant(nanoseconds: bin * intervalNs)
            let fg = Femtograms(binFg)
            totalToPatient = totalToPatient + fg
            let day = Int(start.nanoseconds / TimeConstants.nanosecondsPerDay)
            while dailyFemtograms.count <= day { dailyFemtograms.append(0) }
            dailyFemtograms[day] += binFg
            let ref = running ? reference.map { model.parameters.steadyState($0) } : nil
            let step = model.step(delivered: fg, reference: ref)
            withdrawal = withdrawal + step.belowThreshold
            if step.belowThreshold == interval {
                if episodeStart == nil { episodeStart = start }
            } else if let c = step.crossing {
                if let s = episodeStart { episodes.append(WithdrawalEpisode(start: s, end: start + c)); episodeStart = nil }
                else { episodeStart = start + c }
            } else if let s = episodeStart {
                episodes.append(WithdrawalEpisode(start: s, end: start))
                episodeStart = nil
            }
            peakSeverity = max(peakSeverity, model.severity)
            if model.severity >= Self.severeLevel { severe = severe + interval }
            if keepSeries {
                emitRow(SeriesRow(start: start, delivered: fg, released: Femtograms(binReleasedFg),
                                        trueReservoir: snapshot.0, estimatedReservoir: snapshot.1,
                                        concentration: model.concentration,
                                        threshold: ref.map { CSFConcentration(nanogramsPerMillilitre: $0.nanogramsPerMillilitre * Double(model.parameters.withdrawalFraction.partsPerMillion) / 1e6) },
                                        severity: model.severity))
            }
            binFg = 0
            binReleasedFg = 0
            bin += 1
            binEndNs = (bin + 1) * intervalNs
        }
    }

    /// The true and estimated reservoir at an interval boundary (for the time series).
    /// Taken when the runner reaches the boundary `t`: the interval ending at `t` closes with it.
    public mutating func snapshot(trueReservoir: Picolitres, estimate: Volume, at t: Instant) {
        snapshot = (trueReservoir, estimate)
        closeBins(through: t.nanoseconds / intervalNs)
    }

    // MARK: State changes

    mutating func setReference(_ dose: DoseRate?, at t: Instant) {
        events?.advance(to: t.nanoseconds)
        if binning { closeBins(through: binIndex(t.nanoseconds)) }
        reference = dose
    }

    mutating func updateZero(at t: Instant) {
        let zero = running && (controllerHalted || pumpBlocked)
        if zero, zeroSince == nil { zeroSince = t }
        if !zero, let s = zeroSince { zeroDelivery = zeroDelivery + (t - s); zeroSince = nil }
    }

    /// The pump started or stopped blocking delivery (stall, occlusion, disconnection, true empty).
    public mutating func pumpBlocking(_ blocked: Bool, at t: Instant) {
        pumpBlocked = blocked
        updateZero(at: t)
    }

    /// Delivery stopped for an empty reservoir (true or estimated) at `t`.
    public mutating func reservoirRanEmpty(at t: Instant) {
        guard !emptyInCycle else { return }
        emptyInCycle = true
        emptyOnsets.append(t)
        for kind in [AlarmKind.lowReservoir, .refillDue] {
            let i = open[kind.index]
            if i >= 0, alarms[i].raisedAt <= t { alarms[i].leadTimeBeforeEmpty = t - alarms[i].raisedAt }
        }
    }

    /// An event from the controller.
    public mutating func record(_ e: Event) {
        let t = e.at
        switch e.kind {
        case let .alarmRaised(kind, _, _):
            if open[kind.index] < 0 {
                open[kind.index] = alarms.count
                alarms.append(AlarmRecord(kind: kind, raisedAt: t, clearedAt: nil, leadTimeBeforeEmpty: nil))
            }
        case let .alarmCleared(kind):
            let i = open[kind.index]
            if i >= 0 { alarms[i].clearedAt = t; open[kind.index] = -1 }
        case let .commandRefused(command, refusal):
            refusals.append(RefusedCommand(at: t, command: command, reason: refusal.description))
        case let .therapyStarted(_, dose, _):
            setReference(dose, at: t)
            // A transfer from a previous pump: the patient arrives at the dose's steady state.
            if startsAtSteadyState {
                model.start(at: model.parameters.steadyState(dose))
                events?.start(at: t.nanoseconds, level: model.parameters.steadyState(dose).nanogramsPerMillilitre)
            }
            running = true
            controllerHalted = false
            emergencyTaper = false
            updateZero(at: t)
        case let .scheduleProgrammed(_, _, to, _): setReference(to, at: t)
        case let .taperStarted(plan):
            if plan.kind == .stop {
                emergencyTaper = plan.emergency
                if !plan.emergency { setReference(plan.fromDose, at: t) }
            }
        case let .taperStep(kind, _, dose): if kind == .stop && !emergencyTaper { setReference(dose, at: t) }
        case let .taperCancelled(holding):
            emergencyTaper = false
            setReference(holding, at: t)
        case let .fullDoseConfirmed(dose): setReference(dose, at: t)
        case .deliveryHalted(.reservoirEmpty):
            controllerHalted = true
            reservoirRanEmpty(at: t)
            updateZero(at: t)
        case .deliveryHalted(.emergencyStop):
            // The reference stays at the last therapeutic dose: the withdrawal risk is measured.
            controllerHalted = true
            updateZero(at: t)
        case .deliveryHalted(.taperCompleted) where emergencyTaper:
            controllerHalted = true
            updateZero(at: t)
        case .deliveryHalted:
            setReference(nil, at: t)
            running = false
            updateZero(at: t)
        case .deliveryResumed:
            controllerHalted = false
            updateZero(at: t)
        case .refilled:
            emptyInCycle = false
            refills.append(t)
        default: break
        }
    }

    /// Closes the run at `end`.
    public mutating func finish(at end: Instant) {
        let bins = (end.nanoseconds + intervalNs - 1) / intervalNs
        if binning {
            closeBins(through: bins)
            if let s = episodeStart { episodes.append(WithdrawalEpisode(start: s, end: end)); episodeStart = nil }
        } else if bins > 0 {
            // Every day the intervals cover has its figure, as when they are closed one by one.
            addToDay(0, Int((bins - 1) * intervalNs / Self.dayNs))
        }
        if let s = zeroSince { zeroDelivery = zeroDelivery + (end - s); zeroSince = nil }
        if var e = events {
            // The event model's measures are the run's (a series, if kept, is the intervals').
            e.finish(at: end.nanoseconds)
            withdrawal = TimeSpan(nanoseconds: e.belowNs)
            episodes = e.episodes
            peakSeverity = e.peak
            severe = TimeSpan(nanoseconds: e.severeNs)
            model.restore(concentration: e.concentration, severity: e.severity)
            events = e
        }
    }
}

extension Recorder {
    /// Takes the CSF measures (withdrawal window, episodes, severity, final level) of another run of
    /// the same scenario (a replay's report shows the measures of the sweep's row).
    mutating func takeMeasures(of other: Recorder) {
        withdrawal = other.withdrawal
        episodes = other.episodes
        peakSeverity = other.peakSeverity
        severe = other.severe
        model = other.model
    }

    /// Drug conservation at the end of a run, one line per violation (empty when it holds): the
    /// pump's balance (out of the reservoir = CSF + pocket + change of the catheter column, and the
    /// reservoir's own ledger agrees), and every figure the report shows counts all the drug that
    /// reached the CSF — the total, the daily figures, the time series when kept — and the released
    /// boluses are in the pump's total. Exact, in femtograms.
    public func conservationProblems(pump: SimulatedPump) -> [String] {
        var out = pump.drugAccount.problems
        if totalToPatient != pump.toPatient {
            out.append("the recorder counted \(totalToPatient) delivered but \(pump.toPatient) reached the CSF: \((pump.toPatient - totalToPatient).value) fg missing from the delivered total and the PK")
        }
        let daily = Femtograms(dailyFemtograms.reduce(0, +))
        if daily != totalToPatient { out.append("the daily figures add up to \(daily), the delivered total is \(totalToPatient)") }
        if keepSeries {
            let inSeries = seriesStream?.deliveredTotal ?? Femtograms(series.reduce(0) { $0 + $1.delivered.value })
            if inSeries != totalToPatient { out.append("the time series adds up to \(inSeries), the delivered total is \(totalToPatient)") }
        }
        return out
    }
}

/// The drug of successive intervals, for `Recorder.closeRun`.
protocol IntervalInputs {
    /// The next interval's drug, fg.
    mutating func next() -> Int64
}

/// The same drug in every interval.
struct ConstantInputs: IntervalInputs {
    let femtograms: Int64
    @inline(__always) mutating func next() -> Int64 { femtograms }
}

/// The intervals b0 ..< b1 of a batch of `n` strokes evenly spaced from `first` to `last` (b0, b1 the
/// intervals of `first` and `last`), split as `Recorder.deliveredPerInterval` splits them: interval b
/// gets share(b) − share(b − 1), share(b) = ⌊fg·count(b)/n⌋, count(b) = min(n, ⌈(end(b) − first)·(n − 1)/span⌉).
///
/// The same integers, but the quotients are carried from interval to interval (the numerators grow
/// by constants), so there are a few divisions per batch instead of two per interval. Nil when a
/// product could overflow 64 bits (then the 128-bit reference path splits the batch).
struct StrokeShares: IntervalInputs {
    let n: Int64, span: Int64
    /// count(b) = q (never more than n − 1 before the last interval) with remainder r of
    /// X(b) = (end(b) − first)·(n − 1) + span − 1 by span; X grows by interval·(n − 1) = qa·span + ra.
    var q: Int64, r: Int64
    let qa: Int64, ra: Int64
    /// share(b) = sq with remainder sr of fg·q by n; fg·qa = f1q·n + f1r and fg = f2q·n + f2r.
    var sq: Int64, sr: Int64
    let f1q: Int64, f1r: Int64, f2q: Int64, f2r: Int64
    var started = false
    /// Drug already in the first interval before the batch.
    var held: Int64 = 0
    /// The shares handed out so far (the last interval gets the rest).
    private(set) var given: Int64 = 0

    init?(femtograms fg: Int64, strokes n: Int64, first: Int64, last: Int64, interval: Int64) {
        guard fg >= 0, n > 1, last > first, interval > 0 else { return nil }
        let span = last - first
        let b0 = first / interval, b1 = last / interval
        guard b1 > b0 else { return nil }
        // The largest numerator, at the last interval closed (end = b1·interval ≤ last).
        let lastEnd = b1 * interval - first
        let (x, o1) = lastEnd.multipliedReportingOverflow(by: n - 1)
        let (_, o2) = x.addingReportingOverflow(span - 1)
        let (_, o3) = fg.multipliedReportingOverflow(by: n)
        guard !o1, !o2, !o3 else { return nil }
        self.n = n
        self.span = span
        let x0 = ((b0 + 1) * interval - first) * (n - 1) + span - 1
        q = x0 / span
        r = x0 % span
        let s0 = fg * q          // q ≤ n − 1
        sq = s0 / n
        sr = s0 % n
        f2q = fg / n
        f2r = fg % n
        if b1 - b0 >= 2 {
            // Then span > interval, so qa ≤ n − 1 and fg·qa fits.
            let a = interval * (n - 1)
            qa = a / span
            ra = a % span
            let f1 = fg * qa
            f1q = f1 / n
            f1r = f1 % n
        } else {
            (qa, ra, f1q, f1r) = (0, 0, 0, 0)
        }
    }

    @inline(__always) mutating func next() -> Int64 {
        if started {
            q += qa
            r += ra
            sq += f1q
            sr += f1r
            if r >= span {
                r -= span
                q += 1
                sq += f2q
                sr += f2r
            }
            while sr >= n { sr -= n; sq += 1 }
        }
        started = true
        // count = min(n, q), but q ≤ n − 1 before the last interval (end(b) ≤ last), so share = sq.
        let drug = sq - given + held
        held = 0
        given = sq
        return drug
    }
}
