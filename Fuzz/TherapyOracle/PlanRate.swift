import PumpCore

/// The plan in force just before a change, as the oracle reads it from the controller's accepted
/// state (schedule, taper, a clinician's confirmation awaited): the basal rate it prescribes at any
/// instant, assuming drug is present. The rolling-window rule's "without the change": a change is
/// judged on what it adds to a window over what this plan would have delivered there, so a window
/// that only fills again because a halt ended (a refill) is not charged to a change made meanwhile.
///
/// Precedence is what reaches the patient: the held level while a confirmation is awaited (the
/// floor, or a reserve taper's reached level), else a taper's level (none after a stop taper's end),
/// else the schedule at the wall-clock time.
struct PlanRate: Sendable {
    let running: Bool
    let schedule: Schedule?
    let taper: TaperPlan?
    let held: DoseRate?
    let clock: ClockReference
    /// Set for a `resume`, which holds the level in force: the taper stays at its level of this instant.
    var heldFrom: Instant?

    init(_ c: PumpController) {
        if case .running = c.phase { running = true } else { running = false }
        schedule = c.schedule
        taper = c.taper
        held = c.awaitingConfirmationSince != nil ? (c.confirmationHold ?? .floor) : nil
        clock = c.settings.clock
    }

    /// The rate at `t`, pg/day, and the next instant it may change.
    func rate(at t: Instant) -> (picogramsPerDay: Int64, next: Instant) {
        guard running, let schedule else { return (0, .distantFuture) }
        if let held { return (held.picogramsPerDay, .distantFuture) }
        let (rate, until) = schedule.rate(atNanosecondsAfterMidnight: clock.nanosecondsAfterMidnight(at: t))
        let scheduled = (rate.picogramsPerDay, until.map { t + $0 } ?? .distantFuture)
        if let taper {
            let at = heldFrom ?? t
            guard let level = taper.level(at: at) else { return (0, .distantFuture) }
            if heldFrom != nil {
                // The level in force, held: the schedule itself on the first level, else that level.
                if taper.evenFromTheStart != true && level.index == 0 && level.dose == taper.fromDose && taper.fromDose == schedule.dailyDose { return scheduled }
                return (level.dose.picogramsPerDay, .distantFuture)
            }
            // A taper's first level, the programmed dose itself, is the schedule as it is.
            if taper.evenFromTheStart != true && level.index == 0 && level.dose == taper.fromDose && taper.fromDose == schedule.dailyDose {
                return (scheduled.0, min(scheduled.1, taper.nextChange(after: t)))
            }
            return (level.dose.picogramsPerDay, taper.nextChange(after: t))
        }
        return scheduled
    }

    /// Drug the plan prescribes over (a, b], pg (exact integral, rounded down).
    func picograms(from a: Instant, to b: Instant) -> Int64 {
        var sum: Int128 = 0
        var t = a
        while t < b {
            let (r, next) = rate(at: t)
            let end = min(b, max(next, t + TimeSpan(nanoseconds: 1)))
            sum += Int128(r) * Int128((end - t).nanoseconds)
            t = end
        }
        return Int64(sum / Int128(TimeConstants.nanosecondsPerDay))
    }
}
