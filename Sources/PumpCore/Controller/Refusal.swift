/// Why the controller refused a command. Every case names the rule, the value and the nearest allowed
/// value or what to do instead. A refused command changes nothing but the event log and the
/// interlock-refusal alarm.
public enum Refusal: Error, Hashable, Sendable, Codable, CustomStringConvertible {
    // Time
    case instantBeforeNow(given: Instant, now: Instant)
    // Programming and the interlock
    case invalidSchedule(ScheduleError)
    case invalidSettings(ConfigurationError)
    case decreaseTooLarge(requested: DoseRate, reference: DoseRate, limit: Fraction, smallestAllowed: DoseRate)
    case increaseTooLarge(requested: DoseRate, reference: DoseRate, limit: Fraction, largestAllowed: DoseRate)
    case increaseDuringFirstDay(requested: DoseRate, current: DoseRate, allowedFrom: Instant)
    case increaseTooSoon(requested: DoseRate, current: DoseRate, lastIncreaseAt: Instant, allowedFrom: Instant)
    /// A 24 h window after the change would hold more than the titration limit over the drug delivered
    /// in the 24 h before it (`reference`), and more than it would without the change.
    case windowAboveTitrationLimit(window: DeliveryWindow, reference: DeliveryWindow, limit: Fraction, largestAllowed: Mass)
    /// A 24 h window after the change would hold less than the decrease limit below `reference`, and
    /// less than it would without the change.
    case windowBelowDecreaseLimit(window: DeliveryWindow, reference: DeliveryWindow, limit: Fraction, smallestAllowed: Mass)
    /// The change raises a 24 h window (`without`: the same window with no change) within 24 h of the
    /// last increase: an increase whatever the daily dose says.
    case windowIncreaseTooSoon(window: DeliveryWindow, without: DeliveryWindow, lastIncreaseAt: Instant, allowedFrom: Instant)
    /// The change raises a 24 h window during the first 24 h of therapy.
    case windowIncreaseDuringFirstDay(window: DeliveryWindow, without: DeliveryWindow, allowedFrom: Instant)
    case therapyNotRunning(phase: String)
    case therapyAlreadyStarted
    case taperInProgress(endsAt: Instant?)
    case noTaperToResume
    case reserveTaperInProgress(level: DoseRate)
    case taperTooShort(requestedDays: Int, minimumDays: Int)
    case overrideReasonMissing
    case deliveryAwaitsConfirmation(since: Instant)
    case noInterruptionToConfirm
    case confirmedDoseMismatch(confirmed: DoseRate, current: DoseRate)
    // Priming and screening
    case notPrimed(primingVolume: Volume)
    case alreadyPrimed
    case primingVolumeMismatch(confirmed: Volume, computed: Volume)
    case bolusInProgress(endsAt: Instant)
    case testDoseNotAllowed(requested: Mass, allowed: [Mass])
    case testDoseTooSoon(previousAt: Instant, allowedFrom: Instant)
    case observationLockout(until: Instant)
    case testDoseResponsePending(dose: Mass)
    case noTestDoseToRecord
    case screeningComplete(effectiveDose: Mass)
    case notACandidate
    case noEffectiveTestDose
    case startDoseAboveOffer(requested: DoseRate, offered: DoseRate)
    case startDoseAbovePreviousPump(requested: DoseRate, previous: DoseRate)
    case screeningConcentrationForTherapy
    case insufficientDrug(needed: Volume, available: Volume)
    // Reservoir
    case reservoirNotFilled
    case overfill(volume: Volume, capacity: Volume)
    case residualOutOfRange(withdrawn: Volume, capacity: Volume)
    case concentrationNotAllowed(Concentration)
    case concentrationChangeNotConfirmed(from: Concentration, to: Concentration)
    case refillDateInPast(date: Instant, now: Instant)
    // Alarms
    case alarmNotActive(AlarmKind)

    public var description: String {
        switch self {
        case let .instantBeforeNow(given, now):
            return "the command's instant \(given) is before the controller's time \(now); time only moves forward"
        case let .invalidSchedule(e): return "schedule refused: \(e)"
        case let .invalidSettings(e): return "settings refused: \(e)"
        case let .decreaseTooLarge(requested, reference, limit, smallest):
            return "decrease to \(requested) exceeds the \(limit) per 24 h limit from \(reference); the lowest dose allowed now is \(smallest)"
        case let .increaseTooLarge(requested, reference, limit, largest):
            return "increase to \(requested) exceeds the \(limit) per 24 h titration limit from \(reference); the highest dose allowed now is \(largest)"
        case let .increaseDuringFirstDay(requested, current, from):
            return "no increase during the first 24 h of therapy: \(requested) > \(current); increases are allowed from \(from)"
        case let .increaseTooSoon(requested, current, last, from):
            return "one increase per 24 h: \(requested) > \(current), last increase at \(last); the next is allowed from \(from)"
        case let .windowAboveTitrationLimit(window, reference, limit, largest):
            return "the 24 h window \(window.start)–\(window.end) would deliver \(window.amount), more than the \(limit) titration limit over the \(reference.amount) delivered in the 24 h before the change (at most \(largest) in that window); program a smaller or later increase (preview each window with check)"
        case let .windowBelowDecreaseLimit(window, reference, limit, smallest):
            return "the 24 h window \(window.start)–\(window.end) would deliver \(window.amount), more than \(limit) below the \(reference.amount) delivered in the 24 h before the change (at least \(smallest) in that window); decrease in smaller steps, or stop with a taper"
        case let .windowIncreaseTooSoon(window, without, last, from):
            return "one increase per 24 h: this change raises the 24 h window \(window.start)–\(window.end) from \(without.amount) to \(window.amount) (an increase whatever the daily dose), and the last increase was at \(last); the next is allowed from \(from), or program a schedule that raises no window"
        case let .windowIncreaseDuringFirstDay(window, without, from):
            return "no increase during the first 24 h of therapy: this change raises the 24 h window \(window.start)–\(window.end) from \(without.amount) to \(window.amount); increases are allowed from \(from), or program a schedule that raises no window"
        case let .therapyNotRunning(phase): return "therapy is not running (\(phase)); start therapy first"
        case .therapyAlreadyStarted: return "therapy has already started; use program to change the schedule"
        case let .taperInProgress(endsAt):
            return "a taper is in progress\(endsAt.map { " (delivery ends at \($0))" } ?? ""); resume therapy before programming"
        case .noTaperToResume: return "there is no stop taper to resume from: delivery follows the programmed schedule; use program to change it"
        case let .reserveTaperInProgress(level):
            return "the reservoir is low and the reserve taper is stretching the drug (now \(level)); refill the reservoir, which ends the taper, then program"
        case let .taperTooShort(days, minimum):
            return "a taper of \(days) days is shorter than the \(minimum)-day minimum; a shorter one needs an emergency override with a reason"
        case .overrideReasonMissing: return "an emergency override needs a reason and the clinician's name"
        case let .deliveryAwaitsConfirmation(since):
            return "delivery was interrupted since \(since) for longer than the limit; confirm the dose to resume full-dose delivery first"
        case .noInterruptionToConfirm: return "there is no interrupted delivery waiting for confirmation: delivery follows the programmed schedule; use program to change it"
        case let .confirmedDoseMismatch(confirmed, current):
            return "the confirmed dose \(confirmed) is not the programmed dose \(current); confirm the dose as programmed or program a new one after resuming"
        case let .notPrimed(v): return "the catheter is not primed; prime it first (priming volume \(v))"
        case .alreadyPrimed: return "the catheter is already primed; a second priming bolus would deliver drug — go on with screening or start therapy"
        case let .primingVolumeMismatch(confirmed, computed):
            return "the confirmed priming volume \(confirmed) is not the computed \(computed) (the pump internal + catheter dead volume not yet primed); confirm \(computed)"
        case let .bolusInProgress(endsAt): return "a bolus is in progress until \(endsAt); wait for it to finish"
        case let .testDoseNotAllowed(requested, allowed):
            return "test dose \(requested) is not allowed; allowed now: \(allowed.map(\.description).joined(separator: ", "))"
        case let .testDoseTooSoon(previous, from):
            return "test doses must be at least 24 h apart (previous at \(previous)); the next is allowed from \(from)"
        case let .observationLockout(until): return "observation lockout after a test dose until \(until)"
        case let .testDoseResponsePending(dose):
            return "record the patient's response to the \(dose) test dose before the next step"
        case .noTestDoseToRecord: return "no test dose awaits a response; give a test dose first"
        case let .screeningComplete(effective):
            return "screening is complete (effective test dose \(effective)); start therapy"
        case .notACandidate: return "no response to the 100 μg test dose: the patient is not a candidate for ITB therapy"
        case .noEffectiveTestDose:
            return "no effective test dose is recorded; complete screening or start as a transfer from a previous pump"
        case let .startDoseAboveOffer(requested, offered):
            return offered < .floor
                ? "starting dose \(requested) is above the dose offered from the test dose, \(offered), raised to the \(DoseRate.floor) floor"
                : "starting dose \(requested) is above the dose offered from the test dose, \(offered)"
        case let .startDoseAbovePreviousPump(requested, previous):
            return "starting dose \(requested) is above the previous pump's \(previous)"
        case .screeningConcentrationForTherapy:
            return "the reservoir holds screening concentration (50 μg/mL), which is for test doses only; refill with 500, 1000 or 2000 μg/mL"
        case let .insufficientDrug(needed, available):
            return "the bolus needs \(needed) but the reservoir holds \(available); refill first"
        case .reservoirNotFilled: return "the reservoir has not been filled; refill it first"
        case let .overfill(volume, capacity): return "filling \(volume) exceeds the reservoir capacity \(capacity)"
        case let .residualOutOfRange(withdrawn, capacity):
            return "a withdrawn residual of \(withdrawn) is impossible for a \(capacity) reservoir; re-measure"
        case let .concentrationNotAllowed(c):
            return "\(c) is not an allowed concentration (500, 1000 or 2000 μg/mL for therapy; 50 μg/mL for screening)"
        case let .concentrationChangeNotConfirmed(from, to):
            return "the concentration changes from \(from) to \(to); confirm the new concentration explicitly"
        case let .refillDateInPast(date, now): return "refill date \(date) is before now (\(now)); set a date after now"
        case let .alarmNotActive(kind): return "no \(kind) alarm is active; nothing to acknowledge"
        }
    }
}
