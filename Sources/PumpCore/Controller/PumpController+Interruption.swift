/// One kind of evidence that drug stopped reaching the patient.
public enum StoppageEvidence: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// The reservoir-empty switch closed.
    case emptySwitch
    /// The reservoir estimate fell below one stroke and delivery stopped (pumps without a switch).
    case calculatedEmpty
    /// The motor's stroke feedback went missing.
    case motorStall
    /// The occlusion (pressure) sensor reported no flow.
    case occlusion
    /// The controller was down (power loss, crash, restart, a journal it could not write).
    case downtime

    public var description: String {
        switch self {
        case .emptySwitch: return "reservoir-empty switch"
        case .calculatedEmpty: return "calculated empty reservoir"
        case .motorStall: return "motor stall"
        case .occlusion: return "occlusion"
        case .downtime: return "controller down"
        }
    }
}

/// An interruption of delivery in progress: it runs from the earliest evidence that delivery stopped
/// to the instant delivery resumes (the last evidence cleared). Longer than
/// `ControllerSettings.interruptionLimit`, whatever the cause, and delivery resumes at the 50 μg/day
/// floor until a clinician's `Command.confirmResumption`.
public struct Interruption: Hashable, Sendable, Codable {
    /// The earliest evidence that delivery stopped.
    public var since: Instant
    /// What that earliest evidence was.
    public var firstEvidence: StoppageEvidence
    /// Every kind of evidence seen during the interruption, in order of first appearance.
    public var evidence: [StoppageEvidence]
}

/// An interruption whose evidence has cleared, with the basal stroke count at that instant. Delivery
/// has certainly resumed only once more basal strokes have followed than its sensors may need to trip
/// (`PumpController.resumed`): evidence that comes before then (a second downtime, a stall, the
/// switch, an occlusion read after strokes pushed into it) continues this interruption, timed from
/// its earliest evidence, instead of starting a new, shorter one.
struct EndedInterruption: Hashable, Sendable, Codable {
    var interruption: Interruption
    /// When the last evidence cleared.
    var at: Instant
    /// `DeliveryLedger.basalStrokes` then.
    var basalStrokes: Int64
}

extension PumpController {
    /// Evidence in force now that drug is not reaching the patient. On a pump without an empty switch
    /// a switch reading still counts (it is evidence) until the switch opens: a refill entry does not
    /// answer a switch that still reads empty (the entry is a record, not the act).
    public var stoppageEvidence: [StoppageEvidence] {
        var e: [StoppageEvidence] = []
        if emptySwitchEvidenceSince != nil { e.append(.emptySwitch) }
        if haltedSince != nil && !profile.hasEmptySwitch { e.append(.calculatedEmpty) }
        if motorStall { e.append(.motorStall) }
        if occlusion { e.append(.occlusion) }
        return e
    }

    /// Records evidence that delivery stopped at `t` (only while therapy runs). The interruption keeps
    /// the earliest instant of any evidence.
    /// Evidence before delivery has certainly resumed after an interruption ended (`resumed`: within
    /// the strokes its sensors may need to trip) continues that interruption: no drug may have been
    /// delivered since its earliest evidence.
    mutating func noteStoppage(_ evidence: StoppageEvidence, at evidenceAt: Instant) {
        guard case let .running(runningSince) = phase else { return }
        let t = max(evidenceAt, interruptionDischargedAt ?? evidenceAt)
        if interruption == nil, let e = endedInterruption, !resumed(e), e.at >= runningSince {
            interruption = e.interruption
            // The strokes since its evidence cleared were within it after all: they may have gone
            // into the blockage or the stalled motor this evidence reports, so they push no saline
            // out of the tip either (`drugCertainlyAtTip`).
            basalStrokesUnderEvidence = (basalStrokesUnderEvidence ?? 0) &+ max(0, ledger.basalStrokes &- e.basalStrokes)
        }
        endedInterruption = nil
        guard var i = interruption else {
            interruption = Interruption(since: t, firstEvidence: evidence, evidence: [evidence])
            updateDeadlines()
            return
        }
        if t < i.since { i.since = t; i.firstEvidence = evidence }
        if !i.evidence.contains(evidence) { i.evidence.append(evidence) }
        interruption = i
        updateDeadlines()
    }

    /// Ends the interruption in progress if no evidence remains (delivery resumes at `t`). One longer
    /// than the limit, or of unknown length, makes delivery run at the floor until a clinician confirms
    /// and raises `therapyInterruption`. Returns the interruption that ended, if any. Does not touch
    /// the rate: callers apply it.
    @discardableResult
    mutating func endInterruptionIfResumed(at t: Instant, unknownLength: Bool = false, log: inout EffectLog) -> Interruption? {
        guard let i = interruption else { return nil }
        guard case .running = phase else { interruption = nil; return nil }
        guard stoppageEvidence.isEmpty else { return nil }
        closeInterruption(at: t)
        let length = t - i.since
        guard unknownLength || length > settings.interruptionLimit else { return i }
        awaitingConfirmationSince = min(awaitingConfirmationSince ?? i.since, i.since)
        confirmationHold = nil
        let span: AlarmDetail = unknownLength ? "for an unknown time" : "for \(length.rounded)"
        let causes = AlarmDetail.list(i.evidence)
        alarms.raise(.therapyInterruption,
                     detail: "delivery was interrupted \(span) from \(i.since) to \(t) (first evidence: \(i.firstEvidence); evidence: \(causes)), longer than the \(settings.interruptionLimit) limit; delivering \(DoseRate.floor) until a clinician confirms the dose",
                     at: t, settings: settings.alarms, log: &log)
        return i
    }

    /// The last evidence of the interruption in progress cleared at `t`: it is kept as ended until the
    /// next basal stroke (see `EndedInterruption`).
    mutating func closeInterruption(at t: Instant) {
        if let i = interruption { endedInterruption = EndedInterruption(interruption: i, at: t, basalStrokes: ledger.basalStrokes) }
        interruption = nil
    }

    /// The earliest evidence of the interruption that has not yet ended in a resumed stroke: the one in
    /// progress, or the one whose evidence cleared but whose first stroke has not come yet. Nil when
    /// none, or when therapy is not running.
    var unresumedInterruption: Interruption? {
        guard case let .running(runningSince) = phase else { return nil }
        if let i = interruption { return i }
        if let e = endedInterruption, !resumed(e), e.at >= runningSince { return e.interruption }
        return nil
    }

    /// True once delivery has certainly resumed after `e`: more basal strokes have come since its
    /// evidence cleared than the occlusion or stall sensor may need to trip
    /// (`PumpProfile.resumptionProofStrokes`) with no new reading, and drug certainly reaches the
    /// patient (`drugCertainlyAtTip`). Before then every one of those strokes may have gone into a
    /// blockage (or a stalled motor) the sensor has not yet reported: an occlusion that begins as a
    /// halt ends is read only after strokes into it, and at a low rate an occlusion may last longer
    /// than 24 h within fewer strokes than the sensor needs. So an interruption not yet proved resumed
    /// still passes the limit 24 h after its earliest evidence (`interruptionFloorDeadline`).
    func resumed(_ e: EndedInterruption) -> Bool { resumed(sinceBasalStrokes: e.basalStrokes) }

    /// `resumed(_:)` of an interruption that ended at the basal stroke count `strokes`.
    @inline(__always)
    func resumed(sinceBasalStrokes strokes: Int64) -> Bool {
        ledger.basalStrokes - strokes >= profile.resumptionProofStrokes && drugCertainlyAtTip
    }

    /// True once the strokes pumped since priming have certainly pushed drug out of the catheter's tip.
    /// Priming pumps the dead volume, but a pump within its labelled accuracy (±14.5 %,
    /// `Reservoir.discrepancyTolerancePerMille`) may have moved 14.5 % less, leaving that much saline
    /// at the tip, which the first strokes after it push out at 85.5 % of their volume each. Until
    /// then a stroke may deliver no drug: an interruption in progress at the start of a course (a
    /// downtime, a stall) has not ended in a stroke that delivers drug. Exact, in integer nL:
    /// strokes × stroke volume × 85.5 % > priming volume × 14.5 %, counting only strokes given with no
    /// interruption in progress (`basalStrokesUnderEvidence`).
    @inline(__always)
    public var drugCertainlyAtTip: Bool {
        let a = Int128(Reservoir.discrepancyTolerancePerMille)
        // Strokes given during an interruption do not count: they may have moved nothing (fuzz seed
        // `saline-at-the-tip-after-an-emptied-reservoir`).
        let moved = ledger.basalStrokes - (basalStrokesUnderEvidence ?? 0) + ledger.testDose.strokes
        let pushed = Int128(moved) * Int128(profile.strokeVolume.nanolitres) * (1_000 - a)
        return pushed > Int128(ledger.priming.pumped.nanolitres) * a
    }

    /// When the interruption not yet resumed passes the limit (`interruptionLimit` after its earliest
    /// evidence, plus 1 ns: "longer than"): from then on delivery is at the floor, whether or not its
    /// evidence persists. `distantFuture` when there is none or delivery already is at the floor.
    ///
    /// Read at every deadline, so it reads the fields in place (`unresumedInterruptionSince`): a call
    /// that is not inlined copies the whole controller, and a copied interruption retains its evidence.
    @inline(__always)
    var interruptionFloorDeadline: Instant {
        guard let since = unresumedInterruptionSince else { return .distantFuture }
        if awaitingConfirmationSince != nil && confirmationHold == nil { return .distantFuture }
        return since + settings.interruptionLimit + TimeSpan(nanoseconds: 1)
    }

    /// `unresumedInterruption?.since`, read in place.
    @inline(__always)
    var unresumedInterruptionSince: Instant? {
        guard case let .running(runningSince) = phase else { return nil }
        if let since = interruption?.since { return since }
        if let at = endedInterruption?.at, let strokes = endedInterruption?.basalStrokes,
           !resumed(sinceBasalStrokes: strokes), at >= runningSince { return endedInterruption?.interruption.since }
        return nil
    }

    /// An interruption that has not ended in a resumed stroke has lasted longer than the limit at `t`:
    /// from `t` delivery is at the floor until a clinician confirms the dose, whatever its evidence
    /// does next. No drug has reached the patient since its earliest evidence, as far as the controller
    /// knows, and it cannot tell when drug reaches the patient again (an occlusion or stall reading
    /// may be spurious, a switch may stay closed over a refill that was not entered), so every stroke
    /// from now on could be the first resumed one. Strokes are still commanded (never zero by
    /// software decision): the floor, not the programmed dose. A reserve taper's held level (above the
    /// floor) gives way to the floor. Returns true when it changed the dose; callers apply the rate.
    @discardableResult
    mutating func floorIfInterruptionLong(at t: Instant, log: inout EffectLog) -> Bool {
        guard let i = unresumedInterruption, t - i.since > settings.interruptionLimit else { return false }
        if awaitingConfirmationSince != nil && confirmationHold == nil { return false }
        awaitingConfirmationSince = min(awaitingConfirmationSince ?? i.since, i.since)
        confirmationHold = nil
        let causes = AlarmDetail.list(i.evidence)
        let state: AlarmDetail
        if interruption == nil, let e = endedInterruption {
            let k = ledger.basalStrokes - e.basalStrokes
            state = k < profile.resumptionProofStrokes
                ? "its evidence cleared at \(e.at), but only \(k) of the \(profile.resumptionProofStrokes) strokes that prove delivery resumed have come since"
                : "its evidence cleared at \(e.at), but the saline a short priming may leave at the catheter tip is not yet certainly pushed out"
        } else {
            state = "its evidence persists"
        }
        alarms.clear(.therapyInterruption, at: t, log: &log)
        alarms.raise(.therapyInterruption,
                     detail: "no drug is known to have reached the patient for \((t - i.since).rounded) since \(i.since) (first evidence: \(i.firstEvidence); evidence: \(causes); \(state)), longer than the \(settings.interruptionLimit) limit; delivering \(DoseRate.floor) from \(t) until a clinician confirms the dose",
                     at: t, settings: settings.alarms, log: &log)
        return true
    }

    /// The estimate has fallen below one stroke at `t`. Returns true when delivery continues: the pump
    /// has an empty switch that still says drug remains, so the estimate alone does not stop delivery;
    /// the programmed rate is kept and the critical `calculatedEmptySensorDisagrees` alarm raised.
    /// Returns false when delivery must stop (no switch: today's calculated-empty halt), after noting
    /// the calculated empty as evidence of the interruption.
    mutating func continuesPastCalculatedEmpty(at t: Instant, log: inout EffectLog) -> Bool {
        if profile.hasEmptySwitch, case .running = phase, !emptySwitch, haltedSince == nil {
            if !alarms.isActive(.calculatedEmptySensorDisagrees) {
                alarms.raise(.calculatedEmptySensorDisagrees,
                             detail: "reservoir estimate \(reservoir.estimate) is below one stroke but the empty switch says drug remains (\(reservoir.pumpedSinceFill) pumped since the fill); delivery continues at \(deliveringDose) until the switch trips — refill now and reconcile the residual",
                             at: t, settings: settings.alarms, log: &log)
            }
            return true
        }
        if !profile.hasEmptySwitch { noteStoppage(.calculatedEmpty, at: t) }
        return false
    }

    /// After a sensor reading at `t` (the sensor state already updated): notes the evidence, stops
    /// delivery on a governing empty switch, and resumes when the last evidence has cleared.
    mutating func interpretSensor(_ reading: SensorReading, at t: Instant, log: inout EffectLog) {
        switch reading {
        case .occlusion(true): noteStoppage(.occlusion, at: stoppageDatedBack(strokes: profile.occlusionDetectionStrokes, readAt: t))
        case .motorStall(true): noteStoppage(.motorStall, at: stoppageDatedBack(strokes: profile.stallDetectionStrokes, readAt: t))
        case .reservoirEmpty(true):
            if emptySwitchEvidenceSince == nil { emptySwitchEvidenceSince = t }
            noteStoppage(.emptySwitch, at: t)
            if profile.hasEmptySwitch { stopOnEmptySwitch(at: t, log: &log) }
        case .reservoirEmpty(false):
            emptySwitchEvidenceSince = nil
            if profile.hasEmptySwitch, haltedSince != nil {
                haltedSince = nil
                basal.resetCredit(at: t)
                if case .running = phase {
                    endInterruptionIfResumed(at: t, log: &log)
                    floorIfInterruptionLong(at: t, log: &log)
                    applyRate(at: t, log: &log)
                    log.event(.deliveryResumed(dose: resumedDose(at: t)), at: t)
                }
                return
            }
        case .occlusion(false), .motorStall(false): break
        }
        if let ended = endInterruptionIfResumed(at: t, log: &log), t - ended.since > settings.interruptionLimit {
            // Strokes were commanded all along (sensor faults never stop them): from now, the floor.
            applyRate(at: t, log: &log)
            log.event(.deliveryResumed(dose: resumedDose(at: t)), at: t)
        }
    }

    /// The earliest instant delivery may have stopped, for a sensor read at `t` that may need up to `n`
    /// strokes to trip (into a blockage, or without feedback): the instant of the basal stroke before
    /// the last `n`, the last that may have delivered drug. Every later stroke may have gone into the
    /// blockage. With fewer than `n` basal strokes since the course started, the course's start.
    /// Never after `t`; never before the course started (a course's own start is the clinician's
    /// attestation, see `noteStoppage`).
    func stoppageDatedBack(strokes n: Int64, readAt t: Instant) -> Instant {
        guard case let .running(runningSince) = phase else { return t }
        let number = ledger.basalStrokes - n
        // Held: exact. Older than the strokes held (they cover every stroke since they began, at
        // least the last `resumptionProofStrokes`; fewer only after a checkpoint from before they were
        // kept): the first held, the best known. Nothing held: the reading's instant.
        let held = recentBasalStrokes
        let at = number < 1 ? runningSince : held?.instant(ofStroke: number) ?? held?.earliest ?? t
        return min(t, max(at, runningSince))
    }

    /// A governing empty switch closed: delivery stops whatever the estimate says.
    mutating func stopOnEmptySwitch(at t: Instant, log: inout EffectLog) {
        alarms.clear(.calculatedEmptySensorDisagrees, at: t, log: &log)
        guard case .running = phase, haltedSince == nil else { return }
        haltedSince = t
        log.event(.deliveryHalted(.reservoirEmpty), at: t)
        applyRate(at: t, log: &log)
        basal.resetCredit(at: t)
    }

    /// The daily dose delivery resumes with at `t`.
    func resumedDose(at t: Instant) -> DoseRate {
        if awaitingConfirmationSince != nil { return heldDose(at: t) ?? .floor }
        return taper?.level(at: t)?.dose ?? schedule?.dailyDose ?? .zero
    }

    /// A refill at `t` (reservoir already updated) that withdrew `withdrawn`: the estimate's
    /// disagreement is resolved, a halt for an empty reservoir ends (on a pump with an empty switch,
    /// when the switch opens), and the interruption is measured from its earliest evidence. When the
    /// estimate had said empty against the switch and the residual withdrawn is less than one stroke,
    /// the estimate was right and the switch failed: delivery had stopped at the calculated empty.
    /// On a pump whose switch governs nothing, a switch still reading empty after the entry stays
    /// evidence: the refill may not have been done as entered (entered but not done, or done with a few
    /// microlitres), so the interruption goes on from its earliest evidence and, past the limit, puts
    /// delivery at the floor until a clinician confirms; only the switch opening ends it.
    mutating func resumeAfterRefill(withdrawn: Volume, at t: Instant, log: inout EffectLog) {
        if let disagreed = alarms[.calculatedEmptySensorDisagrees]?.raisedAt, withdrawn < profile.strokeVolume {
            noteStoppage(.calculatedEmpty, at: disagreed)
        }
        alarms.clear(.calculatedEmptySensorDisagrees, at: t, log: &log)
        if profile.hasEmptySwitch && emptySwitch { return }
        let wasHalted = haltedSince != nil
        haltedSince = nil
        if wasHalted { basal.resetCredit(at: t) }
        guard case .running = phase else { interruption = nil; return }
        let ended = endInterruptionIfResumed(at: t, log: &log)
        if wasHalted { floorIfInterruptionLong(at: t, log: &log) }
        if wasHalted || ended.map({ t - $0.since > settings.interruptionLimit }) == true {
            log.event(.deliveryResumed(dose: resumedDose(at: t)), at: t)
        }
    }

    /// A refill ends a reserve taper. More than the interruption limit at the taper's reduced levels
    /// counts as an interruption: the level reached holds until a clinician confirms the dose.
    mutating func endReserveTaper(_ plan: TaperPlan, at t: Instant, log: inout EffectLog) {
        taper = nil
        taperLevelIndex = -1
        if let s = schedule { doseHistory.record(s.dailyDose, at: t) }
        let reducedFrom = plan.startedAt + .days(1)
        guard case .running = phase, let level = plan.level(at: t), level.index > 0, level.dose < plan.fromDose,
              t - reducedFrom > settings.interruptionLimit else {
            log.event(.taperCancelled(holding: schedule?.dailyDose ?? .zero), at: t)
            return
        }
        if awaitingConfirmationSince == nil {
            awaitingConfirmationSince = reducedFrom
            confirmationHold = level.dose
        } else if let h = confirmationHold {
            confirmationHold = min(h, level.dose)
        }
        // An interruption in progress already over the limit holds the floor, not the taper's level.
        if let i = interruption, t - i.since > settings.interruptionLimit { confirmationHold = nil }
        let held = confirmationHold ?? .floor
        log.event(.taperCancelled(holding: held), at: t)
        alarms.raise(.therapyInterruption,
                     detail: "the reserve taper delivered less than \(plan.fromDose) for \((t - reducedFrom).rounded) from \(reducedFrom) (limit \(settings.interruptionLimit)); holding \(held) after the refill until a clinician confirms the dose",
                     at: t, settings: settings.alarms, log: &log)
    }
}
