/// What an accepted command would do, as the interlock's `check` answers it before anything changes:
/// the programmed daily dose before and after in μg/day and mL/day side by side, and the drug every
/// 24 h window around the change would hold with and without it.
///
/// A programmer shows this before a change is committed (a flex entry once delivered 60 μg every hour
/// instead of 60 μg/day); `handle` then makes exactly this change.
public struct InterlockPlan: Hashable, Sendable {
    /// The command checked and the instant it would apply at.
    public var command: Command
    public var at: Instant
    /// What `handle(command, at:)` would answer, accepted.
    public var acceptance: Acceptance
    /// The concentration in the reservoir after the command (volume rates are at it).
    public var concentration: Concentration
    /// The programmed daily dose before and after (nil when therapy does not run).
    public var doseBefore: DoseRate?
    public var doseAfter: DoseRate?
    /// The schedule after the command (nil before therapy starts).
    public var schedule: Schedule?
    /// The 24 h windows the command creates (nil unless therapy runs before or after it).
    public var windows: DeliveryWindowPreview?
    /// True when the command puts more drug into some 24 h window than the current plan would: an
    /// increase for the once-per-24 h rule, whatever the daily dose says.
    public var countsAsIncrease: Bool { windows?.raisesAnyWindow ?? false }

    /// The daily dose after the command and its volume rate, `780 μg/day = 1.5600 mL/day`.
    public var doseAfterDescription: String { doseAfter.map { $0.describe(at: concentration) } ?? "no delivery" }

    /// A programmer's preview, one fact per line: doses in μg/day and mL/day, each step of the schedule,
    /// the reference window and the highest and lowest windows after the change.
    public var lines: [String] {
        var out = ["\(command) at \(at)"]
        out.append("daily dose: \(doseBefore.map { $0.describe(at: concentration) } ?? "none") → \(doseAfterDescription)")
        if let schedule, case .flex = schedule, concentration.microgramsPerMillilitre > 0 {
            for s in schedule.steps { out.append("  from \(s.start): \(s.rate.describe(at: concentration))") }
        }
        if let w = windows {
            out.append("delivered in the 24 h before: \(w.reference)")
            out.append("fullest 24 h window after: \(w.highest)")
            out.append("emptiest 24 h window after: \(w.lowest)")
            if let raised = w.firstRaisedWindow { out.append("raises the 24 h window ending \(raised.end): counts as an increase") }
        }
        return out
    }
}

extension PumpController {
    /// The interlock's answer to `command` at `t`, without changing this controller: the plan `handle`
    /// would carry out, or the refusal it would give. Pure: call it as often as a programmer previews.
    ///
    /// The answer is exactly `handle`'s (same rules, same state advanced to `t`), so a refusal seen here
    /// is the refusal `handle` gives, and an accepted plan is what `handle` does.
    public func check(_ command: Command, at t: Instant) -> Result<InterlockPlan, Refusal> {
        guard t >= now else { return .failure(.instantBeforeNow(given: t, now: now)) }
        var base = self
        var discard = EffectCollector()
        base.advance(to: t, into: &discard)
        var after = base
        var log = EffectLog()
        switch after.apply(command, at: t, log: &log) {
        case let .failure(r): return .failure(r)
        case let .success(acceptance):
            var running = false
            if case .running = base.phase { running = true }
            if case .running = after.phase { running = true }
            return .success(InterlockPlan(
                command: command, at: t, acceptance: acceptance, concentration: after.reservoir.concentration,
                doseBefore: base.doseHistory.current, doseAfter: after.doseHistory.current, schedule: after.schedule,
                windows: running ? base.windowPreview(after: after, at: t).0 : nil))
        }
    }

    /// `state.check(command, at: t)`: the interlock as a pure function of a command, a state and an
    /// instant.
    public static func check(_ command: Command, _ state: PumpController, at t: Instant) -> Result<InterlockPlan, Refusal> {
        state.check(command, at: t)
    }

    /// A `program(s)` at `t` (= `now`) that passed every rule: what committing it changes.
    struct ProgramPlan {
        var schedule: Schedule
        /// The change raises some 24 h window: it is an increase for the once-per-24 h rule.
        var raisesWindow: Bool
    }

    /// The interlock's rules for replacing the schedule with `s` at `t` (= `now`), with no mutation:
    /// therapy running and not tapering or awaiting confirmation; `s` valid at the concentration; the
    /// programmed daily dose within the decrease and titration limits (`checkDoseChange`); and the
    /// rolling 24 h windows of delivered drug (`checkWindows`).
    func checkProgram(_ s: Schedule, at t: Instant) -> Result<ProgramPlan, Refusal> {
        guard case .running = phase else { return .failure(.therapyNotRunning(phase: phase.description)) }
        if let plan = taper { return .failure(plan.kind == .reserve ? .reserveTaperInProgress(level: deliveringDose) : .taperInProgress(endsAt: plan.endsAt)) }
        if let since = awaitingConfirmationSince { return .failure(.deliveryAwaitsConfirmation(since: since)) }
        do throws(ScheduleError) {
            try s.validate(concentration: reservoir.concentration, profile: profile, maximumSteps: settings.maximumFlexSteps)
        } catch { return .failure(.invalidSchedule(error)) }
        if case let .failure(r) = checkDoseChange(to: s.dailyDose, at: t) { return .failure(r) }
        var after = self
        after.schedule = s
        return checkWindows(after: after, at: t).map { ProgramPlan(schedule: s, raisesWindow: $0) }
    }

    /// The titration limits on a window after a change at `t`, pg·ns/day × 10⁶: R × (1 + increase
    /// limit) and R × (1 − decrease limit), R the drug delivered in the 24 h before `t`.
    func titrationBounds(at t: Instant) -> (upper: Int128, lower: Int128) {
        let r = basal.history.integral(from: t - .hours(24), to: t)
        return (r * Int128(1_000_000 + settings.titrationIncreaseLimit.partsPerMillion),
                r * Int128(1_000_000 - settings.decreaseLimit.partsPerMillion))
    }

    /// The rolling-window rule: with `after` the state a change at `t` makes, every 24 h window ending
    /// in (t, t + 24 h] (later ones hold the new plan's 24 h amount) must hold
    /// - at most the titration limit over R, the drug delivered in the 24 h before the change, unless
    ///   the window holds no more than it would without the change;
    /// - at least R less the decrease limit, unless it holds no less than without the change;
    /// and a change that raises any window over what it would hold without the change is an increase:
    /// none in the first 24 h of therapy, one per 24 h. Exact (integer pg·ns/day); returns whether the
    /// change raises a window.
    func checkWindows(after: PumpController, at t: Instant) -> Result<Bool, Refusal> {
        guard case let .running(since) = phase else { return .success(false) }
        let ppm: Int128 = 1_000_000
        let (upper, lower) = titrationBounds(at: t)
        // The bounds max(without, upper) and min(without, lower) turn where "without" crosses them: the
        // windows judged include those, so the worst breach is among them.
        let (preview, exact) = windowPreview(after: after, at: t, bounds: [upper, lower])
        let reference = preview.reference
        // with − without is linear between the windows where an amount turns and zero at t, so a change
        // raises some window only if it raises one of those: the first is the one named.
        if let i = exact.firstIndex(where: { $0.turns && $0.with > $0.without }) {
            let w = exact[i].comparison
            if t < since + .hours(24) {
                return .failure(.windowIncreaseDuringFirstDay(window: w.with, without: w.without, allowedFrom: since + .hours(24)))
            }
            if let last = doseHistory.lastIncreaseAt, t < last + .hours(24) {
                return .failure(.windowIncreaseTooSoon(window: w.with, without: w.without, lastIncreaseAt: last, allowedFrom: last + .hours(24)))
            }
        }
        // The worst offender: the fullest window above its bound, then the emptiest below its bound.
        var above: Int?
        var below: Int?
        for (i, e) in exact.enumerated() {
            if e.with * ppm > max(e.without * ppm, upper), above.map({ e.with > exact[$0].with }) ?? true { above = i }
            if e.with * ppm < min(e.without * ppm, lower), below.map({ e.with < exact[$0].with }) ?? true { below = i }
        }
        let day = Self.nsPerDay * ppm
        if let i = above {
            let bound = max(exact[i].without * ppm, upper)
            return .failure(.windowAboveTitrationLimit(window: exact[i].comparison.with, reference: reference,
                                                       limit: settings.titrationIncreaseLimit,
                                                       largestAllowed: Mass(nanograms: Int64(bound / (day * 1_000)))))
        }
        if let i = below {
            let bound = min(exact[i].without * ppm, lower)
            return .failure(.windowBelowDecreaseLimit(window: exact[i].comparison.with, reference: reference,
                                                      limit: settings.decreaseLimit,
                                                      smallestAllowed: Mass(nanograms: Int64((bound + day * 1_000 - 1) / (day * 1_000)))))
        }
        return .success(exact.contains { $0.with > $0.without })
    }
}
