/// The rate at which the stroke clock accrued drug owed to the patient, over the last 24 h.
///
/// Delivered basal drug over any interval equals the integral of this rate less under one stroke (the
/// stroke clock's invariant), so the drug delivered in any 24 h window that reaches into the past is
/// known exactly from it, without keeping a record of every stroke. Intervals in which nothing accrued
/// (an empty reservoir, controller downtime: `StrokeClock.resetCredit`) are recorded at rate zero.
///
/// Invariant: segment starts strictly increase; the first segment is in force at the start of any
/// window the interlock asks about (the newest start at or before 24 h before the last change is kept).
public struct DeliveryRateHistory: Hashable, Sendable, Codable {
    /// A rate in force from `from` until the next segment's start.
    public struct Segment: Hashable, Sendable, Codable {
        public var from: Instant
        /// pg/day accrued.
        public var picogramsPerDay: Int64
    }
    public private(set) var segments: [Segment] = []

    public init() {}

    /// The rate in force from `t` on (`t` at or after the last segment's start).
    mutating func record(picogramsPerDay rate: Int64, at t: Instant) {
        if let last = segments.last {
            if last.picogramsPerDay == rate { return }
            if last.from >= t {
                segments.removeLast()
                if let prev = segments.last, prev.picogramsPerDay == rate { return }
            }
        }
        segments.append(Segment(from: t, picogramsPerDay: rate))
        let horizon = t - .hours(24)
        if let keep = segments.lastIndex(where: { $0.from <= horizon }), keep > 0 { segments.removeFirst(keep) }
    }

    /// The rate in force at `t` (zero before the first segment).
    public func picogramsPerDay(at t: Instant) -> Int64 {
        segments.last { $0.from <= t }?.picogramsPerDay ?? 0
    }

    /// ∫ rate over (a, b], pg·ns/day (exact; zero when b ≤ a).
    public func integral(from a: Instant, to b: Instant) -> Int128 {
        guard b > a else { return 0 }
        var sum: Int128 = 0
        for (i, s) in segments.enumerated() {
            let end = i + 1 < segments.count ? segments[i + 1].from : Instant.distantFuture
            let lo = max(a, s.from), hi = min(b, end)
            if hi > lo { sum += Int128(s.picogramsPerDay) * Int128((hi - lo).nanoseconds) }
        }
        return sum
    }

    /// Segment starts in (a, b].
    func changes(after a: Instant, upTo b: Instant) -> [Instant] {
        segments.map(\.from).filter { $0 > a && $0 <= b }
    }
}

/// A 24 h window of basal delivery, (`end` − 24 h, `end`], and the drug it holds.
public struct DeliveryWindow: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The window's last instant; it starts (exclusive) 24 h before.
    public var end: Instant
    /// Drug in the window, exact picograms (rounded down from the exact integral).
    public var picograms: Int64
    public var start: Instant { end - .hours(24) }
    /// The amount as a `Mass` (rounded down to the nanogram).
    public var amount: Mass { Mass(nanograms: picograms / 1_000) }
    /// `(1d+12:00:00, 2d+12:00:00] holds 1200.000 μg`.
    public var description: String { "(\(start), \(end)] holds \(amount)" }
}

/// One window after a change, with and without the change.
public struct WindowComparison: Hashable, Sendable, Codable {
    /// The window as the change would make it.
    public var with: DeliveryWindow
    /// The same window if the change were not made (the current plan continuing).
    public var without: DeliveryWindow
}

/// What a change does to the drug delivered in every 24 h window that contains part of it: the windows
/// ending in (t, t + 24 h] (later ones hold the new plan's 24 h amount, which the last one already
/// shows). Computed exactly from the delivery-rate history and the projected plans, evaluated at every
/// instant where a window's amount can turn (where either end meets a rate change), so the highest and
/// lowest windows are exact, not sampled. (The interlock's check also judges the windows where the
/// window without the change crosses a titration limit, where its bound turns: see `checkWindows`.)
///
/// Projections assume delivery as programmed (a halted pump is assumed refilled at once), so a change
/// made while the reservoir is empty is judged on what it will deliver.
public struct DeliveryWindowPreview: Hashable, Sendable, Codable {
    /// The instant of the change.
    public var at: Instant
    /// The 24 h before the change: the drug actually delivered (the reference of the limits).
    public var reference: DeliveryWindow
    /// Every window at which an amount can turn, in time order.
    public var windows: [WindowComparison]

    /// The fullest window with the change.
    public var highest: DeliveryWindow { windows.map(\.with).max { $0.picograms < $1.picograms } ?? reference }
    /// The emptiest window with the change.
    public var lowest: DeliveryWindow { windows.map(\.with).min { $0.picograms < $1.picograms } ?? reference }
    /// True when the change puts more drug into some window than the current plan would.
    public var raisesAnyWindow: Bool { windows.contains { $0.with.picograms > $0.without.picograms } }
    /// The first window the change raises, if any.
    public var firstRaisedWindow: DeliveryWindow? { windows.first { $0.with.picograms > $0.without.picograms }?.with }
}

extension PumpController {
    /// The basal rate, pg/day, the current plan will deliver at `t` (at or after `now`) and when that
    /// changes next: the stop or reserve taper level, the floor while a clinician's confirmation is
    /// awaited, else the schedule at the wall-clock time. Assumes drug is present (a halt is not
    /// projected), so a plan is judged on what it delivers once the pump can deliver.
    func projectedRate(at t: Instant) -> (picogramsPerDay: Int64, next: Instant) {
        guard case .running = phase, let schedule else { return (0, .distantFuture) }
        if let plan = taper {
            guard let level = plan.level(at: t) else { return (0, .distantFuture) }
            if plan.followsSchedule(at: t, dailyDose: schedule.dailyDose) {
                let (rate, until) = schedule.rate(atNanosecondsAfterMidnight: settings.clock.nanosecondsAfterMidnight(at: t))
                return (rate.picogramsPerDay, min(plan.nextChange(after: t), until.map { t + $0 } ?? .distantFuture))
            }
            return (level.dose.picogramsPerDay, plan.nextChange(after: t))
        }
        if awaitingConfirmationSince != nil { return (DoseRate.floor.picogramsPerDay, .distantFuture) }
        let tod = settings.clock.nanosecondsAfterMidnight(at: t)
        let (rate, until) = schedule.rate(atNanosecondsAfterMidnight: tod)
        return (rate.picogramsPerDay, until.map { t + $0 } ?? .distantFuture)
    }

    /// ∫ projected rate over (a, b], pg·ns/day, and the rate changes in (a, b].
    func projectedIntegral(from a: Instant, to b: Instant) -> (integral: Int128, changes: [Instant]) {
        var sum: Int128 = 0
        var changes: [Instant] = []
        var t = a
        while t < b {
            let (r, next) = projectedRate(at: t)
            let end = min(b, max(next, t + TimeSpan(nanoseconds: 1)))
            sum += Int128(r) * Int128((end - t).nanoseconds)
            if end < b { changes.append(end) }
            t = end
        }
        return (sum, changes)
    }

    /// Drug delivered in the 24 h before `t` (≤ `now`), from the delivery-rate history: exact integral
    /// of the accrued rate (the strokes given differ from it by under one stroke).
    public func deliveredWindow(endingAt t: Instant) -> DeliveryWindow {
        DeliveryWindow(end: t, picograms: Int64(basal.history.integral(from: t - .hours(24), to: t) / Self.nsPerDay))
    }

    static let nsPerDay = Int128(TimeConstants.nanosecondsPerDay)

    /// The windows a change at `t` (= `now`) creates: `after` is this controller's state with the change
    /// made, `self` the state without it (both advanced to `t`).
    ///
    /// Between two listed ends every window's amount, with and without the change, is linear in the
    /// window's end. A bound of the form max(without, B) or min(without, B) turns where "without"
    /// crosses B, so a rule judged against one is decided there too: `bounds` lists such B, in
    /// pg·ns/day × 10⁶ (the scale of a parts-per-million limit), and `exact` lists the windows ending
    /// where "without" crosses one as well (both nanoseconds around the crossing), with `turns` false;
    /// the preview lists only the windows where an amount turns (`turns` true).
    func windowPreview(after: PumpController, at t: Instant, bounds: [Int128] = []) -> (DeliveryWindowPreview, exact: [ExactWindow]) {
        let history = basal.history
        let day = TimeSpan.hours(24)
        let horizon = t + day
        let (_, changesWithout) = projectedIntegral(from: t, to: horizon)
        let (_, changesWith) = after.projectedIntegral(from: t, to: horizon)
        var ends = Set<Instant>([horizon])
        for c in changesWithout { ends.insert(c) }
        for c in changesWith { ends.insert(c) }
        for c in history.changes(after: t - day, upTo: t) { ends.insert(c + day) }
        func window(endingAt w: Instant, turns: Bool) -> ExactWindow {
            let past = history.integral(from: w - day, to: t)
            return ExactWindow(with: past + after.projectedIntegral(from: t, to: w).integral,
                               without: past + projectedIntegral(from: t, to: w).integral, end: w, turns: turns)
        }
        var exact = ends.sorted().filter { $0 > t && $0 <= horizon }.map { window(endingAt: $0, turns: true) }
        let preview = DeliveryWindowPreview(at: t, reference: deliveredWindow(endingAt: t), windows: exact.map(\.comparison))
        if !bounds.isEmpty {
            let ppm: Int128 = 1_000_000
            var crossings = Set<Instant>()
            var a = (end: t, without: history.integral(from: t - day, to: t))
            for e in exact {
                let span = Int128((e.end - a.end).nanoseconds)
                let slope = (e.without - a.without) / span  // exact: the rate difference, pg/day
                for b in bounds where slope != 0 {
                    let below0 = a.without * ppm < b, below1 = e.without * ppm < b
                    guard below0 != below1 else { continue }
                    let k = (b - a.without * ppm) / (slope * ppm)
                    for w in [a.end + TimeSpan(nanoseconds: Int64(k)), a.end + TimeSpan(nanoseconds: Int64(k) + 1)]
                    where w > a.end && w < e.end { crossings.insert(w) }
                }
                a = (e.end, e.without)
            }
            if !crossings.isEmpty {
                exact = (exact + crossings.subtracting(ends).map { window(endingAt: $0, turns: false) }).sorted { $0.end < $1.end }
            }
        }
        return (preview, exact)
    }
}

/// A 24 h window after a change, with and without it, exact: pg·ns/day (∫ rate dt, not yet divided by
/// the day). `turns`: an amount can turn at its end (a rate change at either end of the window), as
/// opposed to a window where only a titration bound turns.
struct ExactWindow {
    var with: Int128
    var without: Int128
    var end: Instant
    var turns: Bool

    var comparison: WindowComparison {
        WindowComparison(with: DeliveryWindow(end: end, picograms: Int64(with / PumpController.nsPerDay)),
                         without: DeliveryWindow(end: end, picograms: Int64(without / PumpController.nsPerDay)))
    }
}
