extension PumpController {
    /// Runs everything due up to and including `t`, in time order, into `sink`. An instant before
    /// `now` does nothing.
    public mutating func advance<S: EffectSink>(to t: Instant, into sink: inout S) {
        guard t >= now else { return }
        var log = EffectLog()
        let sv = profile.strokeVolume
        while true {
            let limit = min(t, nextOtherDeadline)
            // Hot path: basal strokes up to the next other deadline.
            var due = basal.nextDue
            let batching = sink.acceptsStrokeBatches
            while due <= limit {
                if batching, let n = batchableStrokes(upTo: limit), n > 0 {
                    // Closed form: n strokes of one mass, none crossing a reservoir threshold.
                    let pg = reservoir.concentration.picograms(in: sv)
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
                    haltForEmptyReservoir(at: due, log: &log)
                    log.flush(into: &sink)
                    break
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
                reservoir.estimate.nanolitres &-= sv.nanolitres
                reservoir.pumpedSinceFill.nanolitres &+= sv.nanolitres
                ledger.recordBasal(picograms: pg)
                sink.receiveStroke(Stroke(at: due, purpose: .basal, volume: sv, picograms: pg))
                basal.strokeGiven(nextStrokePicograms: nextMass)
                if reservoir.estimate <= settings.alarms.lowReservoirThreshold
                    && (!alarms.isActive(.lowReservoir) || reservoir.estimate < sv) {
                    // Low reservoir reached, or that was the last whole stroke: alarm now.
                    now = due
                    checkReservoir(at: due, log: &log)
                    log.flush(into: &sink)
                }
                due = basal.nextDue
            }
            let other = nextOtherDeadline
            if other > t || other == .distantFuture { break }
            if basal.nextDue < other && basal.nextDue <= t { continue }
            now = other
            processDeadlines(at: other, log: &log)
            log.flush(into: &sink)
        }
        now = t
        log.flush(into: &sink)
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
    mutating func processDeadlines(at t: Instant, log: inout EffectLog) {
        alarms.fireAlerts(upTo: t, settings: settings.alarms, log: &log)
        if var b = bolus {
            while b.given < b.strokes && b.nextAt <= t {
                if reservoir.estimate < profile.strokeVolume { break }
                let at = b.nextAt
                let pg = catheter.push(profile.strokeVolume, at: reservoir.concentration)
                reservoir.estimate = reservoir.estimate - profile.strokeVolume
                reservoir.pumpedSinceFill = reservoir.pumpedSinceFill + profile.strokeVolume
                ledger.record(b.purpose, volume: profile.strokeVolume, picograms: pg)
                b.given += 1
                b.picograms += pg
                log.effects.append(.stroke(Stroke(at: at, purpose: b.purpose, volume: profile.strokeVolume, picograms: pg)))
            }
            bolus = b
            if b.given == b.strokes || reservoir.estimate < profile.strokeVolume {
                finishBolus(at: t, log: &log)
            }
            // A basal stroke's mass depends on the column the bolus just moved.
            if isDelivering { applyRate(at: t, log: &log) }
            checkReservoir(at: t, log: &log)
        }
        if t >= nextRateChange { applyRate(at: t, log: &log) }
        if t >= refillDueAt && !alarms.isActive(.refillDue) {
            alarms.raise(.refillDue, detail: refillDueDetail(), at: t, settings: settings.alarms, log: &log)
        }
        if let filled = reservoir.filledAt, t >= filled + settings.alarms.drugStabilityLimit, !alarms.isActive(.drugStability) {
            alarms.raise(.drugStability, detail: "drug filled at \(filled) has reached \(settings.alarms.drugStabilityLimit) in the reservoir; refill",
                         at: t, settings: settings.alarms, log: &log)
        }
        if t >= nextDayBoundary { closeTherapyDay(at: t, log: &log) }
        updateDeadlines()
    }

    mutating func finishBolus(at t: Instant, log: inout EffectLog) {
        guard let b = bolus else { return }
        log.event(.bolusCompleted(purpose: b.purpose, delivered: Mass(nanograms: b.picograms / 1_000),
                                  volume: profile.strokeVolume * b.given), at: t)
        if b.purpose == .priming { primed = true }
        bolus = nil
    }

    mutating func closeTherapyDay(at t: Instant, log: inout EffectLog) {
        while t >= nextDayBoundary {
            therapyDay += 1
            let pg = ledger.basalPicograms - dayStartBasalPicograms
            let strokes = ledger.basalStrokes - dayStartBasalStrokes
            log.event(.dailyDelivery(day: therapyDay, basal: Mass(nanograms: pg / 1_000),
                                     volume: profile.strokeVolume * strokes), at: nextDayBoundary)
            dayStartBasalPicograms = ledger.basalPicograms
            dayStartBasalStrokes = ledger.basalStrokes
            nextDayBoundary = nextDayBoundary + .days(1)
            if case .stopped = phase { nextDayBoundary = .distantFuture }
        }
    }

    /// Recomputes the cached earliest non-stroke deadline.
    mutating func updateDeadlines() {
        var d = min(nextRateChange, alarms.nextAlertAt)
        if let b = bolus { d = min(d, b.nextAt) }
        if !alarms.isActive(.refillDue) { d = min(d, refillDueAt) }
        if let f = reservoir.filledAt, !alarms.isActive(.drugStability) { d = min(d, f + settings.alarms.drugStabilityLimit) }
        d = min(d, nextDayBoundary)
        nextOtherDeadline = d
    }
}
