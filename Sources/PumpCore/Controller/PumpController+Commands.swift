extension PumpController {
    /// Advances to `t`, then applies `command` if the interlock allows it. A refused command changes
    /// nothing but the log (a `commandRefused` event) and the interlock-refusal alarm.
    public mutating func handle(_ command: Command, at t: Instant) -> CommandResponse {
        var sink = EffectCollector()
        let result = handle(command, at: t, into: &sink)
        return CommandResponse(result: result, effects: sink.effects)
    }

    /// Like `handle(_:at:)`, giving the effects to `sink` in the same order instead of collecting them
    /// (a simulation takes them as they come; no array is built).
    public mutating func handle<S: EffectSink>(_ command: Command, at t: Instant, into sink: inout S) -> Result<Acceptance, Refusal> {
        guard t >= now else { return .failure(.instantBeforeNow(given: t, now: now)) }
        advance(to: t, into: &sink)
        var log = EffectLog()
        let before = self
        let result = apply(command, at: t, log: &log)
        if case let .failure(refusal) = result {
            self = before
            log = EffectLog()
            log.event(.commandRefused(command: command.description, refusal: refusal), at: t)
            alarms.raise(.interlockRefusal, detail: "\(command.description) refused: \(refusal)", at: t, settings: settings.alarms, log: &log)
            updateDeadlines()
        }
        log.flush(into: &sink)
        // An accepted command may leave a deadline at or before `t` (evidence dated back, an
        // interruption reopened): processed now, so the controller is settled when this returns and
        // nothing is left for the next command, which would seem to have done it.
        if case .success = result { advance(to: t, into: &sink) }
        return result
    }

    /// Feeds a sensor change at `t` (after advancing to it). Occlusion and motor stall raise alarms and
    /// never stop delivery: the last good rate keeps being commanded. Each is evidence that delivery
    /// stopped, as is the empty switch: an interruption runs from the earliest evidence to the first
    /// stroke after the last clears, and once it has lasted longer than the limit delivery is at the
    /// floor (from that instant, evidence persisting or not) until a clinician confirms. On a pump
    /// whose profile has an empty switch, the switch stops delivery (and its opening resumes it).
    public mutating func sense(_ reading: SensorReading, at t: Instant) -> [Effect] {
        var sink = EffectCollector()
        sense(reading, at: t, into: &sink)
        return sink.effects
    }

    /// Like `sense(_:at:)`, giving the effects to `sink` in the same order instead of collecting them.
    public mutating func sense<S: EffectSink>(_ reading: SensorReading, at t: Instant, into sink: inout S) {
        guard t >= now else { return }
        advance(to: t, into: &sink)
        var log = EffectLog()
        let before = (occlusion, motorStall, emptySwitch)
        // The details are formatted only when an alarm is raised; from these copies, not from `self`,
        // which `setFault` is changing.
        let dose = deliveringDose, estimate = reservoir.estimate, hasSwitch = profile.hasEmptySwitch
        switch reading {
        case let .occlusion(on):
            setFault(\.occlusion, on, reading, .occlusion, at: t, log: &log,
                     detail: "occlusion sensor tripped: no flow; delivery continues at \(dose) — check the catheter")
        case let .motorStall(on):
            setFault(\.motorStall, on, reading, .motorStall, at: t, log: &log,
                     detail: "stroke feedback missing: motor stall; strokes keep being commanded — replace the pump")
        case let .reservoirEmpty(on):
            // The switch clears its alarm only if the estimate agrees there is drug.
            setFault(\.emptySwitch, on, reading, .reservoirEmpty, at: t, log: &log,
                     detail: "reservoir-empty switch on (estimate \(estimate))\(hasSwitch ? "; delivery has stopped" : ""); refill now",
                     clearsAlarm: reservoir.estimate >= profile.strokeVolume)
        }
        if (occlusion, motorStall, emptySwitch) != before { interpretSensor(reading, at: t, log: &log) }
        updateDeadlines()
        log.flush(into: &sink)
        // A reading dated back (`stoppageDatedBack`) may put the interruption past the limit already:
        // the floor from now, before this returns, not at the next advance.
        advance(to: t, into: &sink)
    }

    /// Records a sensor's change and raises or clears its alarm. Delivery is never touched here.
    private mutating func setFault(_ state: WritableKeyPath<PumpController, Bool>, _ on: Bool, _ reading: SensorReading, _ kind: AlarmKind,
                                   at t: Instant, log: inout EffectLog, detail: @autoclosure () -> AlarmDetail,
                                   clearsAlarm: Bool = true) {
        guard on != self[keyPath: state] else { return }
        self[keyPath: state] = on
        log.event(.sensor(reading), at: t)
        if on { alarms.raise(kind, detail: detail(), at: t, settings: settings.alarms, log: &log) }
        else if clearsAlarm { alarms.clear(kind, at: t, log: &log) }
    }

    // MARK: - Command application (returns a refusal before changing anything)

    mutating func apply(_ command: Command, at t: Instant, log: inout EffectLog) -> Result<Acceptance, Refusal> {
        switch command {
        case let .refill(r): return refill(r, at: t, log: &log)
        case let .prime(v): return prime(confirming: v, at: t, log: &log)
        case let .testDose(m): return testDose(m, at: t, log: &log)
        case let .recordTestDoseResponse(r): return recordResponse(r, at: t, log: &log)
        case let .startTherapy(s, basis): return startTherapy(s, basis: basis, at: t, log: &log)
        case let .program(s): return program(s, at: t, log: &log)
        case let .stop(days, override): return stop(taperDays: days, override: override, at: t, log: &log)
        case .resume: return resume(at: t, log: &log)
        case let .confirmResumption(s): return confirmResumption(s, at: t, log: &log)
        case let .setRefillDate(d):
            if let d, d < t { return .failure(.refillDateInPast(date: d, now: t)) }
            refillDate = d
            log.event(.refillDateSet(d), at: t)
            if alarms.isActive(.refillDue) { alarms.clear(.refillDue, at: t, log: &log) }
            updateProjections(at: t, log: &log)
            updateDeadlines()
            return .success(.done)
        case let .acknowledge(kind):
            guard alarms.acknowledge(kind, at: t, settings: settings.alarms, log: &log) else { return .failure(.alarmNotActive(kind)) }
            // A short interruption (controller downtime within the limit) has already resumed the
            // programmed dose: acknowledging it resolves it. A long one clears only on confirmResumption.
            if kind == .therapyInterruption && awaitingConfirmationSince == nil { alarms.clear(kind, at: t, log: &log) }
            updateDeadlines()
            return .success(.done)
        case let .configure(s):
            do throws(ConfigurationError) { try s.validate() } catch { return .failure(.invalidSettings(error)) }
            settings = s
            log.event(.settingsChanged(s), at: t)
            applyRate(at: t, log: &log)
            checkReservoir(at: t, log: &log)
            return .success(.done)
        }
    }

    mutating func refill(_ r: RefillRequest, at t: Instant, log: inout EffectLog) -> Result<Acceptance, Refusal> {
        let c = r.concentration
        guard c == .screening || Concentration.therapy.contains(c) else { return .failure(.concentrationNotAllowed(c)) }
        if let b = bolus { return .failure(.bolusInProgress(endsAt: b.endsAt)) }
        guard r.added <= reservoir.capacity, r.added >= .zero else { return .failure(.overfill(volume: r.added, capacity: reservoir.capacity)) }
        guard r.withdrawn >= .zero, r.withdrawn <= reservoir.capacity else {
            return .failure(.residualOutOfRange(withdrawn: r.withdrawn, capacity: reservoir.capacity))
        }
        let previous = reservoir.concentration
        if previous != .none && previous != c && !r.confirmConcentrationChange {
            return .failure(.concentrationChangeNotConfirmed(from: previous, to: c))
        }
        if case .running = phase {
            if c == .screening { return .failure(.screeningConcentrationForTherapy) }
            if let schedule {
                do throws(ScheduleError) {
                    try schedule.validate(concentration: c, profile: profile, maximumSteps: settings.maximumFlexSteps)
                } catch { return .failure(.invalidSchedule(error)) }
            }
            if case let .failure(r) = checkTaperFloor(concentration: c) { return .failure(r) }
        }
        let record = RefillRecord(withdrawn: r.withdrawn, estimated: reservoir.estimate, added: r.added, concentration: c,
                                  previousConcentration: previous, deliveredSincePrevious: reservoir.pumpedSinceFill,
                                  discrepancy: reservoir.filledAt != nil && reservoir.isDiscrepant(withdrawn: r.withdrawn))
        reservoir.estimate = r.added
        reservoir.concentration = c
        reservoir.filledAt = t
        reservoir.pumpedSinceFill = .zero
        log.event(.refilled(record), at: t)
        if previous != c && previous != .none, let schedule {
            log.event(.concentrationChanged(from: previous, to: c, volumeRate: schedule.dailyDose.volumeRate(at: c)), at: t)
        }
        // The refill the clinician's refill date asked for has been made: the date is consumed (a new one
        // is set after the refill). Kept, a past date would re-raise refill-due at once and for good.
        if refillDate != nil {
            refillDate = nil
            log.event(.refillDateSet(nil), at: t)
        }
        for kind in [AlarmKind.lowReservoir, .refillDue, .drugStability] { alarms.clear(kind, at: t, log: &log) }
        if !emptySwitch { alarms.clear(.reservoirEmpty, at: t, log: &log) }
        if record.discrepancy {
            let diff = Volume(nanolitres: abs(record.withdrawn.nanolitres - record.estimated.nanolitres))
            alarms.raise(.refillDiscrepancy,
                         detail: "withdrew \(record.withdrawn) but estimated \(record.estimated): difference \(diff) exceeds 14.5 % of \(record.deliveredSincePrevious) delivered; check for pump fault or pocket fill",
                         at: t, settings: settings.alarms, log: &log)
        }
        if let plan = taper, plan.kind == .reserve { endReserveTaper(plan, at: t, log: &log) }
        // Only a running therapy resumes; a stop taper may have ended while the reservoir was empty.
        resumeAfterRefill(withdrawn: r.withdrawn, at: t, log: &log)
        applyRate(at: t, log: &log)
        checkReservoir(at: t, log: &log)
        return .success(.refilled(record))
    }

    mutating func prime(confirming v: Volume, at t: Instant, log: inout EffectLog) -> Result<Acceptance, Refusal> {
        guard !primed else { return .failure(.alreadyPrimed) }
        if let b = bolus { return .failure(.bolusInProgress(endsAt: b.endsAt)) }
        guard reservoir.filledAt != nil, reservoir.concentration != .none else { return .failure(.reservoirNotFilled) }
        let volume = primingVolume
        guard v == volume else { return .failure(.primingVolumeMismatch(confirmed: v, computed: volume)) }
        guard reservoir.estimate >= volume else { return .failure(.insufficientDrug(needed: volume, available: reservoir.estimate)) }
        let strokes = volume.nanolitres / profile.strokeVolume.nanolitres
        startBolus(.priming, target: .zero, strokes: strokes, at: t, log: &log)
        return .success(.bolusStarted(purpose: .priming, target: .zero, volume: volume, endsAt: bolus?.endsAt ?? t))
    }

    mutating func testDose(_ dose: Mass, at t: Instant, log: inout EffectLog) -> Result<Acceptance, Refusal> {
        guard case .notStarted = phase else { return .failure(.therapyAlreadyStarted) }
        if let b = bolus { return .failure(.bolusInProgress(endsAt: b.endsAt)) }
        guard primed else { return .failure(.notPrimed(primingVolume: primingVolume)) }
        if let last = screening.doses.last {
            let lockoutEnd = last.endsAt + settings.observationLockout
            if t < lockoutEnd { return .failure(.observationLockout(until: lockoutEnd)) }
        }
        let allowed: [Mass]
        switch screening.nextAllowed() {
        case let .success(a): allowed = a
        case let .failure(r): return .failure(r)
        }
        guard allowed.contains(dose) else { return .failure(.testDoseNotAllowed(requested: dose, allowed: allowed)) }
        if let last = screening.doses.last, t < last.startedAt + .hours(24) {
            return .failure(.testDoseTooSoon(previousAt: last.startedAt, allowedFrom: last.startedAt + .hours(24)))
        }
        let plan = catheter.strokes(deliveringAtMost: dose.nanograms * 1_000, strokeVolume: profile.strokeVolume,
                                    entering: reservoir.concentration)
        let volume = profile.strokeVolume * plan.strokes
        guard plan.strokes > 0, volume <= reservoir.estimate else {
            return .failure(.insufficientDrug(needed: volume, available: reservoir.estimate))
        }
        startBolus(.testDose, target: dose, strokes: plan.strokes, at: t, log: &log)
        let end = bolus?.endsAt ?? t
        screening.doses.append(Screening.Dose(dose: dose, startedAt: t, endsAt: end, response: nil))
        return .success(.bolusStarted(purpose: .testDose, target: dose, volume: volume, endsAt: end))
    }

    mutating func startBolus(_ purpose: DeliveryPurpose, target: Mass, strokes: Int64, at t: Instant, log: inout EffectLog) {
        let volume = profile.strokeVolume * strokes
        let duration = max(profile.bolusRate.duration(of: volume), .minutes(1))
        let b = BolusState(purpose: purpose, target: target, strokes: strokes, startedAt: t, duration: duration)
        bolus = b
        log.event(.bolusStarted(purpose: purpose, target: target, volume: volume, strokes: strokes, endsAt: b.endsAt), at: t)
        updateDeadlines()
    }

    mutating func recordResponse(_ r: TestDoseResponse, at t: Instant, log: inout EffectLog) -> Result<Acceptance, Refusal> {
        guard var last = screening.doses.last, last.response == nil else { return .failure(.noTestDoseToRecord) }
        if let b = bolus, b.purpose == .testDose { return .failure(.bolusInProgress(endsAt: b.endsAt)) }
        last.response = r
        screening.doses[screening.doses.count - 1] = last
        log.event(.testDoseResponse(dose: last.dose, response: r), at: t)
        return .success(.responseRecorded(offeredStartingDose: screening.offeredStartingDose))
    }

    mutating func startTherapy(_ s: Schedule, basis: StartBasis, at t: Instant, log: inout EffectLog) -> Result<Acceptance, Refusal> {
        if case .running = phase { return .failure(.therapyAlreadyStarted) }
        if let b = bolus { return .failure(.bolusInProgress(endsAt: b.endsAt)) }
        guard primed else { return .failure(.notPrimed(primingVolume: primingVolume)) }
        guard reservoir.filledAt != nil else { return .failure(.reservoirNotFilled) }
        if reservoir.concentration == .screening { return .failure(.screeningConcentrationForTherapy) }
        do throws(ScheduleError) {
            try s.validate(concentration: reservoir.concentration, profile: profile, maximumSteps: settings.maximumFlexSteps)
        } catch { return .failure(.invalidSchedule(error)) }
        if let last = screening.doses.last, t < last.endsAt + settings.observationLockout {
            return .failure(.observationLockout(until: last.endsAt + settings.observationLockout))
        }
        let dose = s.dailyDose
        switch basis {
        case .testDose:
            guard let offered = screening.offeredStartingDose, let permitted = screening.permittedStartingDose else {
                return .failure(.noEffectiveTestDose)
            }
            if dose > permitted { return .failure(.startDoseAboveOffer(requested: dose, offered: offered)) }
        case let .transfer(previous):
            if dose > previous { return .failure(.startDoseAbovePreviousPump(requested: dose, previous: previous)) }
        }
        phase = .running(since: t)
        schedule = s
        taper = nil
        taperLevelIndex = -1
        haltedSince = nil
        awaitingConfirmationSince = nil
        interruption = nil
        doseHistory = DoseHistory()
        doseHistory.record(dose, at: t)
        therapyDay = 0
        nextDayBoundary = t + .days(1)
        dayStartBasalPicograms = ledger.basalPicograms
        dayStartBasalStrokes = ledger.basalStrokes
        basal.resetCredit(at: t)
        log.event(.therapyStarted(schedule: s, dailyDose: dose, volumeRate: dose.volumeRate(at: reservoir.concentration)), at: t)
        applyRate(at: t, log: &log)
        checkReservoir(at: t, log: &log)
        return .success(.programmed(ProgramSummary(schedule: s, dailyDose: dose, concentration: reservoir.concentration)))
    }

    /// The interlock's dose-change rule: `Result.success` when `new` may replace the programmed daily
    /// dose at `t`.
    public func checkDoseChange(to new: DoseRate, at t: Instant) -> Result<Void, Refusal> {
        guard case let .running(since) = phase, let current = doseHistory.current else {
            return .failure(.therapyNotRunning(phase: phase.description))
        }
        let window = doseHistory.doses(inWindowEndingAt: t) + [current]
        if new < current {
            let reference = window.max() ?? current
            let smallest = reference.scaled(numerator: 1_000_000 - settings.decreaseLimit.partsPerMillion, denominator: 1_000_000)
            if new < smallest {
                return .failure(.decreaseTooLarge(requested: new, reference: reference, limit: settings.decreaseLimit, smallestAllowed: max(smallest, .floor)))
            }
        } else if new > current {
            if t < since + .hours(24) {
                return .failure(.increaseDuringFirstDay(requested: new, current: current, allowedFrom: since + .hours(24)))
            }
            if let last = doseHistory.lastIncreaseAt, t < last + .hours(24) {
                return .failure(.increaseTooSoon(requested: new, current: current, lastIncreaseAt: last, allowedFrom: last + .hours(24)))
            }
            let reference = window.min() ?? current
            let p = Int128(reference.nanogramsPerDay) * Int128(1_000_000 + settings.titrationIncreaseLimit.partsPerMillion)
            let largest = DoseRate(nanogramsPerDay: Int64(p / 1_000_000))
            if new > largest {
                return .failure(.increaseTooLarge(requested: new, reference: reference, limit: settings.titrationIncreaseLimit,
                                                  largestAllowed: min(largest, .ceiling)))
            }
        }
        return .success(())
    }

    /// Commits a schedule the pure `checkProgram` accepted.
    mutating func program(_ s: Schedule, at t: Instant, log: inout EffectLog) -> Result<Acceptance, Refusal> {
        let plan: ProgramPlan
        switch checkProgram(s, at: t) {
        case let .failure(r): return .failure(r)
        case let .success(p): plan = p
        }
        let from = doseHistory.current ?? .zero
        schedule = plan.schedule
        doseHistory.record(s.dailyDose, at: t)
        if plan.raisesWindow { doseHistory.markIncrease(at: t) }
        log.event(.scheduleProgrammed(schedule: s, from: from, to: s.dailyDose, volumeRate: s.dailyDose.volumeRate(at: reservoir.concentration)), at: t)
        if alarms.isActive(.refillDue) { alarms.clear(.refillDue, at: t, log: &log) }
        applyRate(at: t, log: &log)
        return .success(.programmed(ProgramSummary(schedule: s, dailyDose: s.dailyDose, concentration: reservoir.concentration)))
    }

    mutating func stop(taperDays: Int?, override: EmergencyOverride?, at t: Instant, log: inout EffectLog) -> Result<Acceptance, Refusal> {
        guard case .running = phase, let current = doseHistory.current else { return .failure(.therapyNotRunning(phase: phase.description)) }
        if let plan = taper, plan.kind == .stop { return .failure(.taperInProgress(endsAt: plan.endsAt)) }
        let minimum = settings.minimumTaperDays
        let days = taperDays ?? minimum
        if let o = override {
            if o.reason.trimmingWhitespace.isEmpty || o.clinician.trimmingWhitespace.isEmpty { return .failure(.overrideReasonMissing) }
        } else if days < minimum {
            return .failure(.taperTooShort(requestedDays: days, minimumDays: minimum))
        }
        guard days >= 0 else { return .failure(.taperTooShort(requestedDays: days, minimumDays: minimum)) }
        let emergency = override != nil && days < minimum
        let from = stopTaperStart(programmed: current, at: t)
        var plan = TaperPlan.stop(from: from, days: days, limit: emergency ? nil : settings.decreaseLimit, at: t, emergency: emergency,
                                  floor: taperFloor)
        // During a reserve taper the stop keeps its days and never delivers above it.
        if let reserve = taper, reserve.kind == .reserve { plan = plan.following(reserve, at: t) }
        if let o = override {
            log.event(.emergencyOverride(reason: o.reason, clinician: o.clinician,
                                         detail: days == 0 ? "immediate stop from \(from)" : "taper of \(days) days from \(from)"), at: t)
        }
        if plan.levels.isEmpty {
            phase = .stopped(at: t, .emergencyStop)
            taper = nil
            doseHistory.record(.zero, at: t)
            log.event(.deliveryHalted(.emergencyStop), at: t)
            applyRate(at: t, log: &log)
            return .success(.taper(plan))
        }
        taper = plan
        taperLevelIndex = -1
        log.event(.taperStarted(plan), at: t)
        applyRate(at: t, log: &log)
        return .success(.taper(plan))
    }

    /// The level a stop taper at `t` starts from: the dose in force for the patient, never the
    /// programmed dose above it. Awaiting a clinician's confirmation after an interruption, that is
    /// the held level (the 50 μg/day floor, or a reserve taper's reached level); during a reserve
    /// taper, its level now. Either is raised to the taper floor (the patency minimum) when that is
    /// more, and never above the programmed dose. A taper from the programmed dose would hold it for
    /// its first 24 h, and a clinician's confirmation or a `resume` would then deliver it: the jump
    /// from the floor that the interruption rule forbids.
    func stopTaperStart(programmed: DoseRate, at t: Instant) -> DoseRate {
        if awaitingConfirmationSince != nil { return min(programmed, max(confirmationHold ?? .floor, taperFloor)) }
        if let plan = taper, plan.kind == .reserve, let level = plan.level(at: t) { return min(programmed, max(level.dose, taperFloor)) }
        return programmed
    }

    mutating func resume(at t: Instant, log: inout EffectLog) -> Result<Acceptance, Refusal> {
        if case .running = phase, let plan = taper, plan.kind == .reserve { return .failure(.reserveTaperInProgress(level: deliveringDose)) }
        guard case .running = phase, let plan = taper, plan.kind == .stop, let level = plan.level(at: t) else {
            return .failure(.noTaperToResume)
        }
        let holding = level.dose
        taper = nil
        taperLevelIndex = -1
        // The level as it was delivered: the schedule's own shape only where the taper followed it (its
        // first level, the programmed dose), else the level evenly (a taper past its first day, even
        // one a confirmation capped at the schedule's daily total, whose shape could put more into a
        // 24 h window than the level did).
        let followed = schedule.map { plan.followsSchedule(at: t, dailyDose: $0.dailyDose) } ?? false
        schedule = followed ? schedule : .continuous(holding)
        if doseHistory.current != holding { doseHistory.record(holding, at: t) }
        log.event(.taperCancelled(holding: holding), at: t)
        applyRate(at: t, log: &log)
        return .success(.resumed(holding: holding))
    }

    mutating func confirmResumption(_ s: Schedule, at t: Instant, log: inout EffectLog) -> Result<Acceptance, Refusal> {
        guard awaitingConfirmationSince != nil else { return .failure(.noInterruptionToConfirm) }
        do throws(ScheduleError) {
            try s.validate(concentration: reservoir.concentration, profile: profile, maximumSteps: settings.maximumFlexSteps)
        } catch { return .failure(.invalidSchedule(error)) }
        let programmed = doseHistory.current ?? .zero
        if s.dailyDose > programmed { return .failure(.confirmedDoseMismatch(confirmed: s.dailyDose, current: programmed)) }
        awaitingConfirmationSince = nil
        confirmationHold = nil
        // The clinician has assessed the patient now: evidence still in force (a reading that persists)
        // counts afresh from here, and so does an interruption whose evidence cleared but whose
        // delivery is not proved resumed (a slow pump's saline still at the tip after a downtime: no
        // drug flows until it is pushed out, and if that takes over 24 h from now, the floor again).
        if var i = interruption { i.since = t; interruption = i }
        if var e = endedInterruption {
            if resumed(e) { endedInterruption = nil } else { e.interruption.since = t; endedInterruption = e }
        }
        interruptionDischargedAt = t
        schedule = s
        if s.dailyDose != programmed { doseHistory.record(s.dailyDose, at: t) }
        // A taper in progress (a stop, or a reserve taper stretching the last of the drug) goes on, never
        // above the dose the clinician confirmed (nor does a later `resume`, which holds its level).
        if let plan = taper, plan.levels.contains(where: { $0 > s.dailyDose }) {
            taper = plan.capped(at: s.dailyDose)
        }
        alarms.clear(.therapyInterruption, at: t, log: &log)
        log.event(.fullDoseConfirmed(dose: s.dailyDose), at: t)
        applyRate(at: t, log: &log)
        return .success(.programmed(ProgramSummary(schedule: s, dailyDose: s.dailyDose, concentration: reservoir.concentration)))
    }
}

extension String {
    var trimmingWhitespace: Substring {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return s
    }
}
