extension PumpController {
    /// The daily dose that should be delivered at `t` and when that changes next, from the phase, the
    /// halt and confirmation state, the taper and the schedule. Ends a completed stop taper.
    mutating func targetDose(at t: Instant, log: inout EffectLog) -> (DoseRate, Instant) {
        guard case .running = phase, let schedule else { return (.zero, .distantFuture) }
        // The programmed level first: a taper steps down (and a stop taper ends) on its own schedule
        // whether or not drug is flowing, so an empty reservoir never freezes a taper in place.
        let programmed: DoseRate
        let next: Instant
        if let plan = taper {
            guard let level = plan.level(at: t) else {
                // Stop taper completed: delivery ends.
                phase = .stopped(at: t, .taperCompleted)
                taper = nil
                taperLevelIndex = -1
                doseHistory.record(.zero, at: t)
                log.event(.deliveryHalted(.taperCompleted), at: t)
                return (.zero, .distantFuture)
            }
            if level.index != taperLevelIndex {
                if taperLevelIndex >= 0 || level.index > 0 {
                    log.event(.taperStep(kind: plan.kind, index: level.index, dose: level.dose), at: t)
                }
                if level.index > 0 { doseHistory.record(level.dose, at: t) }
                taperLevelIndex = level.index
            }
            if plan.followsSchedule(at: t, dailyDose: schedule.dailyDose) {
                let (rate, until) = schedule.rate(atNanosecondsAfterMidnight: settings.clock.nanosecondsAfterMidnight(at: t))
                programmed = rate
                next = min(plan.nextChange(after: t), until.map { t + $0 } ?? .distantFuture)
            } else {
                programmed = level.dose
                next = plan.nextChange(after: t)
            }
        } else {
            let tod = settings.clock.nanosecondsAfterMidnight(at: t)
            let (rate, until) = schedule.rate(atNanosecondsAfterMidnight: tod)
            programmed = rate
            next = until.map { t + $0 } ?? .distantFuture
        }
        let taperNext = taper != nil ? next : .distantFuture
        if haltedSince != nil { return (.zero, taperNext) }
        // Awaiting a clinician, the held level (the floor, or a reserve taper's reached level) caps
        // delivery: it is never above the rate the plan in force sets now (a stop's taper level, the
        // schedule a resume left, a flex step), and it never lifts delivery above what they set.
        if awaitingConfirmationSince != nil { return (min(confirmationHold ?? .floor, programmed), next) }
        return (programmed, next)
    }

    /// The level held while a clinician's confirmation is awaited: the floor (nil), or a reserve taper's
    /// reached level (`confirmationHold`), never above the daily dose the accepted plan prescribes at
    /// `t` (a stop taper's level, or the schedule a `resume` left): a stop or a resume made while
    /// waiting lowers what is delivered from the held level, never leaves it above them.
    func heldDose(at t: Instant) -> DoseRate? {
        guard let hold = confirmationHold else { return nil }
        if let plan = taper {
            guard let level = plan.level(at: t) else { return hold }
            return min(hold, level.dose)
        }
        return min(hold, schedule?.dailyDose ?? hold)
    }

    /// Sets the basal stroke clock to the dose due at `t` (and the next stroke's tip mass), and
    /// refreshes the projections that depend on it.
    mutating func applyRate(at t: Instant, log: inout EffectLog) {
        let (dose, next) = targetDose(at: t, log: &log)
        deliveringDose = dose
        nextRateChange = next
        let c = reservoir.concentration
        let mass = c.microgramsPerMillilitre > 0
            ? catheter.picogramsDelivered(pushing: profile.strokeVolume, at: c) : 0
        if dose == .zero || mass == 0 {
            basal.set(picogramsPerDay: 0, strokePicograms: 1, at: t)
            deliveringDose = .zero
        } else {
            basal.set(picogramsPerDay: dose.picogramsPerDay, strokePicograms: mass, at: t)
        }
        updateProjections(at: t, log: &log)
        updateDeadlines()
    }

    /// Raises or clears the volume alarms and halts on an empty reservoir.
    mutating func checkReservoir(at t: Instant, log: inout EffectLog) {
        let threshold = settings.alarms.lowReservoirThreshold
        if reservoir.filledAt != nil, reservoir.estimate <= threshold {
            alarms.raise(.lowReservoir, detail: "reservoir estimate \(reservoir.estimate) ≤ \(threshold)", at: t, settings: settings.alarms, log: &log)
            if settings.reservoirPolicy == .reserveTaper, taper == nil, case .running = phase, haltedSince == nil,
               awaitingConfirmationSince == nil, let current = doseHistory.current, current > taperFloor {
                let plan = TaperPlan.reserve(from: current, limit: settings.decreaseLimit, at: t, floor: taperFloor)
                taper = plan
                taperLevelIndex = 0
                log.event(.taperStarted(plan), at: t)
                applyRate(at: t, log: &log)
            }
        }
        if reservoir.estimate < profile.strokeVolume && reservoir.filledAt != nil && haltedSince == nil && isDelivering
            && !continuesPastCalculatedEmpty(at: t, log: &log) {
            haltForEmptyReservoir(at: t, log: &log)
        }
    }

    mutating func haltForEmptyReservoir(at t: Instant, log: inout EffectLog) {
        alarms.raise(.reservoirEmpty, detail: "reservoir estimate \(reservoir.estimate) is below one stroke (\(profile.strokeVolume)); delivery has stopped — refill now",
                     at: t, settings: settings.alarms, log: &log)
        guard haltedSince == nil else { return }
        if case .running = phase {
            haltedSince = t
            log.event(.deliveryHalted(.reservoirEmpty), at: t)
        }
        // Rate 0, but taper steps keep their deadlines.
        applyRate(at: t, log: &log)
        basal.resetCredit(at: t)
        if haltedSince == nil {
            deliveringDose = .zero
            basal.set(picogramsPerDay: 0, strokePicograms: 1, at: t)
        }
    }

    /// Projected instant at which the estimate falls to `level` under the dose being delivered now and
    /// the programmed schedule; nil if it never does (no delivery).
    public func projectedInstant(whenVolumeReaches level: Volume, from t: Instant? = nil) -> Instant? {
        let start = t ?? now
        let c = reservoir.concentration.microgramsPerMillilitre
        guard c > 0, isDelivering else { return nil }
        let toDeliver = reservoir.estimate - level
        if toDeliver <= .zero { return start }
        // Drug to deliver, pg·ns/day units: volume × c × day.
        var remaining = Int128(toDeliver.nanolitres) * Int128(c) * Int128(TimeConstants.nanosecondsPerDay)
        let constant: DoseRate?
        if taper != nil || awaitingConfirmationSince != nil { constant = deliveringDose }
        else if case let .continuous(r)? = schedule { constant = r } else { constant = nil }
        if let r = constant {
            let rate = Int128(r.picogramsPerDay)
            return start + TimeSpan(nanoseconds: Int64(clamping: (remaining + rate - 1) / rate))
        }
        guard let schedule else { return nil }
        // Flex: skip whole days, then walk the steps.
        let dayPg = Int128(schedule.dailyDose.picogramsPerDay) * Int128(TimeConstants.nanosecondsPerDay)
        var cursor = start
        if dayPg > 0 && remaining > dayPg {
            let days = (remaining - 1) / dayPg
            remaining -= days * dayPg
            cursor = cursor + .days(Int64(clamping: days))
        }
        for _ in 0..<(2 * Schedule.maximumSteps + 2) {
            let tod = settings.clock.nanosecondsAfterMidnight(at: cursor)
            let (rate, until) = schedule.rate(atNanosecondsAfterMidnight: tod)
            let r = Int128(rate.picogramsPerDay)
            let span = Int128(until?.nanoseconds ?? TimeConstants.nanosecondsPerDay)
            if r * span >= remaining { return cursor + TimeSpan(nanoseconds: Int64((remaining + r - 1) / r)) }
            remaining -= r * span
            cursor = cursor + TimeSpan(nanoseconds: Int64(span))
        }
        return cursor
    }

    /// The projected instant the reservoir can no longer deliver a stroke.
    public var projectedEmpty: Instant? {
        projectedInstant(whenVolumeReaches: profile.strokeVolume - Volume(nanolitres: 1))
    }

    /// Recomputes the refill-due alarm instant: a lead time before the projected low-reservoir instant,
    /// or the clinician's refill date, whichever comes first; a refill date after the projected empty
    /// instant raises the alarm at once.
    mutating func updateProjections(at t: Instant, log: inout EffectLog) {
        var due = Instant.distantFuture
        if let low = projectedInstant(whenVolumeReaches: settings.alarms.lowReservoirThreshold, from: t) {
            due = low - settings.alarms.refillLeadTime
        }
        if let date = refillDate { due = min(due, date) }
        if let date = refillDate, let empty = projectedEmpty, date > empty {
            due = t
        }
        refillDueAt = due
        if t >= due && !alarms.isActive(.refillDue) && reservoir.filledAt != nil {
            let detail = refillDueDetail()
            alarms.raise(.refillDue, detail: detail, at: t, settings: settings.alarms, log: &log)
        }
    }

    func refillDueDetail() -> AlarmDetail {
        let empty = projectedEmpty
        var s: AlarmDetail = "refill due: estimate \(reservoir.estimate)"
        if let low = projectedInstant(whenVolumeReaches: settings.alarms.lowReservoirThreshold) {
            s.append(", reaches \(settings.alarms.lowReservoirThreshold) at \(low)")
        }
        if let empty { s.append(", projected empty at \(empty)") }
        if let date = refillDate {
            s.append(", refill date \(date)")
            if let empty, date > empty { s.append(" is AFTER the projected empty instant") }
        }
        return s
    }
}
