extension PumpController {
    /// Runs everything due up to and including `t`, in time order, into `sink`. An instant before
    /// `now` does nothing.
    public mutating func advance<S: EffectSink>(to t: Instant, into sink: inout S) {
        guard t >= now else { return }
        var log = EffectLog()
        let sv = profile.strokeVolume
        let quiet = !sink.wantsEachAlert
        let daily = sink.wantsDailyDelivery
        while true {
            var limit = min(t, otherDeadline(quiet: quiet, daily: daily))
            // Hot path: basal strokes up to the next other deadline.
            var due = basal.nextDue
            let batching = sink.acceptsStrokeBatches
            var halted = false
            while due <= limit {
                // Days that ended before this stroke close now, before it counts (only when the day's
                // end is not a deadline: a sink that wants no `dailyDelivery` event).
                if due > nextDayBoundary { closeTherapyDay(at: due - TimeSpan(nanoseconds: 1), log: &log, event: daily) }
                if batching, let n = batchableStrokes(upTo: limit), n > 0 {
                    // Closed form: n strokes of one mass, none crossing a reservoir threshold.
                    let pg = reservoir.concentration.picograms(in: sv)
                    if limit > nextDayBoundary { closeDays(inBatchOf: n, picogramsEach: pg) }
                    noteBasalStrokes(n, first: ledger.basalStrokes &+ 1)
                    reservoir.estimate.nanolitres -= n * sv.nanolitres
                    reservoir.pumpedSinceFill.nanolitres += n * sv.nanolitres
                    ledger.recordBasal(strokes: n, picograms: n * pg)
                    let last = basal.strokesGiven(n)
                    sink.receiveStrokes(StrokeBatch(first: due, last: last, count: n, volume: sv, picogramsEach: pg))
                    due = basal.nextDue
                    continue
                }
                if reservoir.estimate < sv {
                    now = due
                    if continuesPastCalculatedEmpty(at: due, log: &log) {
                        // An empty switch says drug remains: keep the programmed rate, alarmed.
                        log.flush(into: &sink)
                        limit = min(t, otherDeadline(quiet: quiet, daily: daily))
                    } else {
                        haltForEmptyReservoir(at: due, log: &log)
                        log.flush(into: &sink)
                        halted = true
                        break
                    }
                }
                let c = reservoir.concentration
                let pg: Int64
                let nextMass: Int64
                if catheter.isUniform(c) || catheter.capacity.nanolitres == 0 {
                    pg = c.picograms(in: sv)
                    nextMass = pg
                } else {
                    pg = catheter.push(sv, at: c)
                    nextMass = catheter.picogramsDelivered(pushing: sv, at: c)
                }
                // Never below zero (past the calculated empty only when an empty switch governs).
                reservoir.estimate.nanolitres = max(0, reservoir.estimate.nanolitres &- sv.nanolitres)
                reservoir.pumpedSinceFill.nanolitres &+= sv.nanolitres
                ledger.recordBasal(picograms: pg)
                noteBasalStrokes(1, first: ledger.basalStrokes)
                sink.receiveStroke(Stroke(at: due, purpose: .basal, volume: sv, picograms: pg))
                basal.strokeGiven(nextStrokePicograms: nextMass)
                if reservoir.estimate <= settings.alarms.lowReservoirThreshold
                    && (!alarms.isActive(.lowReservoir) || reservoir.estimate < sv) {
                    // Low reservoir reached, or that was the last whole stroke: alarm now.
                    now = due
                    checkReservoir(at: due, log: &log)
                    log.flush(into: &sink)
                    // The check may have brought a deadline nearer (a reserve taper's next step, the
                    // alarm's first re-alert): no stroke may pass it, or it would come late.
                    limit = min(t, otherDeadline(quiet: quiet, daily: daily))
                }
                due = basal.nextDue
            }
            let other = otherDeadline(quiet: quiet, daily: daily)
            // Strokes still due by `t` before the next other deadline: the hot loop stopped at a
            // deadline that has since moved (a stroke's reservoir check re-planned it), so go on with
            // them; leaving here would hand them to the next call as a catch-up burst.
            if !halted && basal.nextDue < other && basal.nextDue <= t { continue }
            if other > t || other == .distantFuture { break }
            // A deadline a command left in the past (evidence dated back to its earliest instant) is
            // due now: time never runs backwards, and nothing is recorded at an instant gone by.
            let at = max(other, now)
            now = at
            processDeadlines(at: at, horizon: t, log: &log, quietAlerts: quiet, dailyEvents: daily)
            log.flush(into: &sink)
        }
        now = t
        // Days that ended by `t` with no stroke after their end (a day's end that was not a deadline).
        if t >= nextDayBoundary { closeTherapyDay(at: t, log: &log, event: daily) }
        if quiet { alarms.fireAlerts(upTo: t, settings: settings.alarms, log: &log, quiet: true); updateDeadlines() }
        log.flush(into: &sink)
    }

    /// The next deadline other than basal strokes that `advance` stops at: with or without audible
    /// re-alerts (`quiet`), and with or without the day's end (`daily`: whether the sink wants the
    /// `dailyDelivery` event there). Without it, the day's bookkeeping is done in the stroke paths:
    /// a day closes before the first basal stroke after its end counts (`closeDays(inBatchOf:)` within
    /// a batch), so it holds exactly the strokes due by its end, as when the end was a deadline.
    @inline(__always)
    func otherDeadline(quiet: Bool, daily: Bool) -> Instant {
        quiet ? (daily ? min(nextQuietDeadline, nextDayBoundary) : nextQuietDeadline) : nextOtherDeadline
    }

    /// Closes the days that end inside a batch of `n` basal strokes of `pg` picograms each about to be
    /// given from the clock as it is (the first is due no later than the first day's end): each day
    /// holds the batch's strokes due by its end, as if the batch had stopped there. No event is logged
    /// (only a sink that wants none lets a batch cross a day's end).
    mutating func closeDays(inBatchOf n: Int64, picogramsEach pg: Int64) {
        let last = basal.due(afterStrokes: n)
        guard nextDayBoundary < last else { return }
        // Only the last day's end before `last` leaves a trace (each day's close overwrites the
        // day's start), so one count: the strokes due by it.
        let days = (last - nextDayBoundary).nanoseconds &- 1
        let ends = days / TimeConstants.nanosecondsPerDay &+ 1
        let final = nextDayBoundary + .days(ends - 1)
        let k = basal.strokesDue(upTo: final)
        therapyDay += Int(ends)
        dayStartBasalPicograms = ledger.basalPicograms &+ k &* pg
        dayStartBasalStrokes = ledger.basalStrokes &+ k
        nextDayBoundary = final + .days(1)
        updateDeadlines()
    }

    /// Records `n` basal strokes from ledger stroke `first` on, about to be given by the clock as it is.
    @inline(__always)
    mutating func noteBasalStrokes(_ n: Int64, first: Int64) {
        if interruption != nil { basalStrokesUnderEvidence = (basalStrokesUnderEvidence ?? 0) &+ n }
        if recentBasalStrokes == nil { recentBasalStrokes = RecentBasalStrokes() }
        recentBasalStrokes!.record(n, first: first, anchor: basal.anchor, credit: basal.credit, rate: basal.picogramsPerDay,
                                   mass: basal.strokePicograms, keep: profile.resumptionProofStrokes)
    }

    /// Basal strokes due by `limit` that a batch may give: the stroke mass must be constant (a uniform
    /// catheter column) and the batch stops short of any stroke after which the hot loop would act
    /// (low-reservoir threshold reached, or less than one stroke left). Nil when not batchable.
    func batchableStrokes(upTo limit: Instant) -> Int64? {
        let c = reservoir.concentration
        guard c.microgramsPerMillilitre > 0, catheter.isUniform(c) || catheter.capacity.nanolitres == 0 else { return nil }
        let sv = profile.strokeVolume.nanolitres
        let estimate = reservoir.estimate.nanolitres
        // After the batch the estimate must stay above the threshold (alarm not yet raised), or at
        // least one stroke (alarm raised): the stroke that crosses goes through the single path.
        let keep = alarms.isActive(.lowReservoir) ? sv : settings.alarms.lowReservoirThreshold.nanolitres + 1
        guard estimate >= keep else { return 0 }
        let byVolume = (estimate - keep) / sv
        return min(basal.strokesDue(upTo: limit), byVolume)
    }

    /// Like `advance(to:into:)`, collecting the effects.
    public mutating func advance(to t: Instant) -> [Effect] {
        var c = EffectCollector()
        advance(to: t, into: &c)
        return c.effects
    }

    /// Everything other than basal strokes that is due at `t`.
    mutating func processDeadlines(at t: Instant, horizon: Instant, log: inout EffectLog, quietAlerts: Bool, dailyEvents: Bool) {
        // Days that ended before `t` (not deadlines for this sink) close first, as they would have at
        // their own ends; one ending at `t` closes after the rest of `t`'s work, as a deadline would.
        if t > nextDayBoundary { closeTherapyDay(at: t - TimeSpan(nanoseconds: 1), log: &log, event: dailyEvents) }
        alarms.fireAlerts(upTo: t, settings: settings.alarms, log: &log, quiet: quietAlerts)
        if var b = bolus {
            // Bolus strokes due by `t`; with no basal delivery running, also the later ones up to
            // `horizon` that fall strictly before any other deadline (so a priming bolus is one pass,
            // not 1,344 wake-ups). A low-reservoir crossing ends the pass at that stroke.
            let sv = profile.strokeVolume
            let bound = isDelivering ? t : max(t, min(horizon, nonBolusDeadline(quiet: quietAlerts) - TimeSpan(nanoseconds: 1)))
            var last = t
            var due = b.strokes > 0 && b.given < b.strokes ? b.schedule : nil
            while b.given < b.strokes, let d = due, d.nextAt <= bound {
                let at = d.nextAt
                if reservoir.estimate < sv { break }
                // Strokes that only push saline out of the tip and stop short of every reservoir
                // check, two or more due by `bound`: moved in one push and logged as one run.
                let k = bolusStrokesPushingSaline(atMost: b.strokes - b.given)
                var second = d
                second.advance()
                if k > 1, second.nextAt <= bound {
                    let n = min(k, b.strokesDue(by: bound) - b.given)
                    let lastAt = b.instant(ofStroke: b.given + n)
                    log.strokeRun(StrokeRun(schedule: d, count: n, last: lastAt, purpose: b.purpose, volume: sv))
                    last = lastAt
                    do {
                        let moved = sv * n
                        catheter.push(moved, at: reservoir.concentration)
                        reservoir.estimate = reservoir.estimate - moved
                        reservoir.pumpedSinceFill = reservoir.pumpedSinceFill + moved
                        ledger.record(b.purpose, strokes: n, volume: moved, picograms: 0)
                        b.given += n
                        due = b.given < b.strokes ? b.schedule : nil
                        continue
                    }
                }
                let pg = catheter.push(sv, at: reservoir.concentration)
                reservoir.estimate = reservoir.estimate - sv
                reservoir.pumpedSinceFill = reservoir.pumpedSinceFill + sv
                ledger.record(b.purpose, volume: sv, picograms: pg)
                b.given += 1
                b.picograms += pg
                due?.advance()
                log.stroke(Stroke(at: at, purpose: b.purpose, volume: sv, picograms: pg))
                last = at
                if reservoir.estimate <= settings.alarms.lowReservoirThreshold && !alarms.isActive(.lowReservoir) { break }
            }
            bolus = b
            if b.given == b.strokes || reservoir.estimate < sv {
                finishBolus(at: last, log: &log)
            }
            // A basal stroke's mass depends on the column the bolus just moved.
            if isDelivering { applyRate(at: t, log: &log) }
            checkReservoir(at: last, log: &log)
        }
        // An interruption passing the limit puts delivery at the floor now, evidence persisting or not.
        if t >= interruptionFloorDeadline, floorIfInterruptionLong(at: t, log: &log) { applyRate(at: t, log: &log) }
        if t >= nextRateChange { applyRate(at: t, log: &log) }
        if t >= refillDueAt && !alarms.isActive(.refillDue) {
            let detail = refillDueDetail()
            alarms.raise(.refillDue, detail: detail, at: t, settings: settings.alarms, log: &log)
        }
        if let filled = reservoir.filledAt, t >= filled + settings.alarms.drugStabilityLimit, !alarms.isActive(.drugStability) {
            alarms.raise(.drugStability, detail: "drug filled at \(filled) has reached \(settings.alarms.drugStabilityLimit) in the reservoir; refill",
                         at: t, settings: settings.alarms, log: &log)
        }
        if t >= nextDayBoundary { closeTherapyDay(at: t, log: &log, event: dailyEvents) }
        updateDeadlines()
    }

    /// Bolus strokes from now on (at most `limit`) that each push only saline out of the catheter's
    /// tip and after which the bolus loop would not stop for the reservoir: before each the estimate
    /// holds a stroke, and after each it stays above the low-reservoir threshold (while that alarm is
    /// not raised). Each delivers 0 pg, and pushing their volume at once leaves the column, the
    /// reservoir and the ledger exactly as pushing them one by one (the column is first in, first
    /// out, and the saline at the tip holds them all).
    func bolusStrokesPushingSaline(atMost limit: Int64) -> Int64 {
        let sv = profile.strokeVolume.nanolitres
        guard sv > 0, limit > 1, catheter.capacity.nanolitres > 0, let head = catheter.segments.first,
              head.concentration == .none else { return 0 }
        let e = reservoir.estimate.nanolitres
        var k = min(limit, head.volume.nanolitres / sv, e / sv)
        if !alarms.isActive(.lowReservoir) {
            let threshold = settings.alarms.lowReservoirThreshold.nanolitres
            k = e > threshold ? min(k, (e - threshold - 1) / sv) : 0
        }
        return max(0, k)
    }

    mutating func finishBolus(at t: Instant, log: inout EffectLog) {
        guard let b = bolus else { return }
        log.event(.bolusCompleted(purpose: b.purpose, delivered: Mass(nanograms: b.picograms / 1_000),
                                  volume: profile.strokeVolume * b.given), at: t)
        if b.purpose == .priming { primed = true }
        bolus = nil
    }

    mutating func closeTherapyDay(at t: Instant, log: inout EffectLog, event: Bool) {
        guard t >= nextDayBoundary else { return }
        defer { updateDeadlines() }
        while t >= nextDayBoundary {
            therapyDay += 1
            if event {
                let pg = ledger.basalPicograms - dayStartBasalPicograms
                let strokes = ledger.basalStrokes - dayStartBasalStrokes
                log.event(.dailyDelivery(day: therapyDay, basal: Mass(nanograms: pg / 1_000),
                                         volume: profile.strokeVolume * strokes), at: nextDayBoundary)
            }
            dayStartBasalPicograms = ledger.basalPicograms
            dayStartBasalStrokes = ledger.basalStrokes
            nextDayBoundary = nextDayBoundary + .days(1)
            if case .stopped = phase { nextDayBoundary = .distantFuture }
        }
    }

    /// The earliest deadline other than strokes and bolus strokes (with or without audible re-alerts).
    /// Inlined, as `updateDeadlines`: called at every deadline, and a call copies the controller.
    @inline(__always)
    func nonBolusDeadline(quiet: Bool, day: Bool = true) -> Instant {
        var d = min(nextRateChange, interruptionFloorDeadline)
        if day { d = min(d, nextDayBoundary) }
        if !alarms.isActive(.refillDue) { d = min(d, refillDueAt) }
        if let f = reservoir.filledAt, !alarms.isActive(.drugStability) { d = min(d, f + settings.alarms.drugStabilityLimit) }
        return quiet ? d : min(d, alarms.nextAlertAt)
    }

    /// Recomputes the cached earliest non-stroke deadlines: `nextOtherDeadline` all of them,
    /// `nextQuietDeadline` all but audible re-alerts and the day's end (see `otherDeadline`).
    mutating func updateDeadlines() {
        var d = nonBolusDeadline(quiet: true, day: false)
        if let b = bolus { d = min(d, b.nextAt) }
        nextQuietDeadline = d
        nextOtherDeadline = min(d, alarms.nextAlertAt, nextDayBoundary)
    }
}
