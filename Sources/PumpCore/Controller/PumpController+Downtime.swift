/// What `PumpController.recoverAfterDowntime(until:durationKnown:)` found and did.
public struct DowntimeReport: Hashable, Sendable {
    /// The controller's last instant before it went down (its `now` when the state was saved).
    public let lastSeen: Instant
    /// The instant delivery resumed.
    public let resumedAt: Instant
    /// `resumedAt − lastSeen`; meaningful only when `durationKnown`.
    public let gap: TimeSpan
    /// False when the runner could not measure the downtime (the wall clock went backwards): the gap is
    /// then treated as longer than the interruption limit.
    public let durationKnown: Bool
    /// Drug the pump would have delivered during the gap at the dose it was delivering at `lastSeen`,
    /// exact picograms. It is not caught up: it is missed.
    public let missedPicograms: Int64
    /// True when full-dose delivery now waits for `Command.confirmResumption` (gap longer than the
    /// interruption limit, or unknown).
    public let requiresConfirmation: Bool
    /// A bolus that was in progress at `lastSeen` and was ended, not resumed (strokes given of planned).
    public let interruptedBolus: BolusState?
    /// Every effect of the recovery, in time order. Audible alerts that fell due while the controller
    /// was down are left out (nothing sounded then); the interruption alarm sounds at `resumedAt`.
    public let effects: [Effect]
}

extension PumpController {
    /// Resumes after the controller was down (power loss, crash, restart) from `now` (the state as last
    /// saved) until `t`.
    ///
    /// - Nothing is delivered for the gap and missed drug is never caught up: the stroke clock's credit
    ///   is reset, so the first stroke after `t` comes a full stroke interval later.
    /// - Deadlines that fell in the gap (taper steps, therapy-day totals, refill-due and drug-stability
    ///   alarms) are processed as they would have been, at their own instants, without strokes.
    /// - A bolus in progress (priming or test dose) is ended with what it had given and is not resumed:
    ///   the rest would otherwise come as a burst, and a test dose must not be repeated within 24 h. An
    ///   interrupted priming bolus leaves the catheter partly primed: `primingVolume` is then the
    ///   remainder, which a `prime` confirming it completes (a full second priming is refused).
    /// - While therapy runs and is not halted for an empty reservoir, the interruption raises the
    ///   high-priority `therapyInterruption` alarm with the gap and the missed drug. The interruption
    ///   runs from the earliest evidence that delivery stopped: `now`, or earlier when a stall, an
    ///   occlusion, the empty switch or an earlier downtime had stopped it and no stroke came since
    ///   (back-to-back downtimes are one interruption). One longer than
    ///   `settings.interruptionLimit` (24 h by default), or a gap that could not be measured
    ///   (`durationKnown == false`), makes delivery run at the 50 μg/day floor until a clinician's
    ///   `confirmResumption`. A shorter one resumes the programmed dose; acknowledging the alarm then
    ///   resolves it.
    /// - Priming and screening state are kept: no second priming bolus or test dose is given.
    ///
    /// A `t` before `now` changes nothing and reports a zero gap.
    public mutating func recoverAfterDowntime(until t: Instant, durationKnown: Bool = true) -> DowntimeReport {
        let lastSeen = now
        guard t >= lastSeen else {
            return DowntimeReport(lastSeen: lastSeen, resumedAt: lastSeen, gap: .zero, durationKnown: durationKnown,
                                  missedPicograms: 0, requiresConfirmation: awaitingConfirmationSince != nil,
                                  interruptedBolus: nil, effects: [])
        }
        let gap = t - lastSeen
        let dose = deliveringDose
        let missed = Int64(clamping: Int128(dose.picogramsPerDay) * Int128(gap.nanoseconds) / Int128(TimeConstants.nanosecondsPerDay))
        var log = EffectLog()
        var sink = EffectCollector()

        // End a bolus in progress at the last instant seen, with what it had given.
        let interrupted = bolus
        if let b = bolus {
            log.event(.bolusCompleted(purpose: b.purpose, delivered: Mass(nanograms: b.picograms / 1_000),
                                      volume: profile.strokeVolume * b.given), at: lastSeen)
            if b.purpose == .priming && b.given == b.strokes { primed = true }
            bolus = nil
            updateDeadlines()
        }
        log.flush(into: &sink)

        // No strokes for the gap: forget the credit at `t`, then run the gap's other deadlines.
        basal.resetCredit(at: t)
        advance(to: t, into: &sink)

        var requiresConfirmation = awaitingConfirmationSince != nil
        // The downtime is evidence that delivery stopped at `lastSeen`; an interruption already in
        // progress (stall, occlusion, switch, or an earlier downtime with no stroke since) started
        // earlier and the downtime adds to it.
        if gap > .zero || !durationKnown { noteStoppage(.downtime, at: lastSeen) }
        if case .running = phase, haltedSince == nil, gap > .zero || !durationKnown {
            let since = min(interruption?.since ?? lastSeen, lastSeen)
            let first = interruption?.firstEvidence ?? .downtime
            let long = !durationKnown || t - since > settings.interruptionLimit
            if long {
                // An earlier short interruption's alarm still active is re-raised with this one's detail
                // (the floor until confirmed), not left saying the programmed dose resumed.
                // So is one raised during the gap (the interruption passed the limit while down).
                if awaitingConfirmationSince == nil || (alarms[.therapyInterruption]?.raisedAt ?? t) > lastSeen {
                    alarms.clear(.therapyInterruption, at: t, log: &log)
                }
                awaitingConfirmationSince = min(awaitingConfirmationSince ?? since, since)
                confirmationHold = nil
            }
            // Delivery resumes now unless other evidence persists (the interruption then goes on);
            // until the first stroke, a further downtime or other evidence continues it.
            if stoppageEvidence.isEmpty { closeInterruption(at: t) }
            requiresConfirmation = awaitingConfirmationSince != nil
            let measured = durationKnown ? "for \(gap.roundedDescription)" : "for an unknown time (the wall clock went backwards)"
            var detail = "controller was down \(measured) from \(lastSeen) to \(t); \(Mass(nanograms: missed / 1_000)) not delivered and not caught up"
            if since < lastSeen { detail += "; delivery had stopped since \(since) (\(first)): interrupted \((t - since).roundedDescription) in all" }
            if let b = interrupted { detail += "; \(b.purpose) bolus ended after \(b.given) of \(b.strokes) strokes" }
            detail += requiresConfirmation
                ? "; delivering \(DoseRate.floor) until a clinician confirms the dose (limit \(settings.interruptionLimit))"
                : "; programmed dose resumed"
            alarms.raise(.therapyInterruption, detail: AlarmDetail(detail), at: t, settings: settings.alarms, log: &log)
            basal.resetCredit(at: t)
            applyRate(at: t, log: &log)
            log.event(.deliveryResumed(dose: deliveringDose), at: t)
        }
        checkReservoir(at: t, log: &log)
        updateDeadlines()
        log.flush(into: &sink)
        // Settled when this returns: anything the recovery left due by `t` is processed now.
        advance(to: t, into: &sink)
        requiresConfirmation = requiresConfirmation || awaitingConfirmationSince != nil
        let effects = sink.effects.filter { effect in
            if case let .alert(_, _, at) = effect { return at >= t }
            return true
        }
        return DowntimeReport(lastSeen: lastSeen, resumedAt: t, gap: gap, durationKnown: durationKnown,
                              missedPicograms: missed, requiresConfirmation: requiresConfirmation,
                              interruptedBolus: interrupted, effects: effects)
    }
}
