import PumpCore

/// A refill as a physical act: the clinician withdraws the whole residual from the reservoir and puts
/// in `added` of `concentration`. The simulated pump's true reservoir follows the act, whatever the
/// programmer is told.
public struct RefillAct: Hashable, Sendable, Codable, CustomStringConvertible {
    public var added: Volume
    public var concentration: Concentration
    public init(added: Volume, concentration: Concentration) {
        self.added = added
        self.concentration = concentration
    }
    public var description: String { "\(added) of \(concentration) put in" }
}

/// A refill as the programmer entry: a record the controller checks and believes (it sees nothing
/// else of a refill). It may differ from the act, be refused, or never be made.
public struct RefillEntry: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Volume entered as added.
    public var added: Volume
    /// Concentration entered.
    public var concentration: Concentration
    public var confirmConcentrationChange: Bool
    /// Residual entered as withdrawn (nil: the true residual as a syringe measured it at the act made
    /// at the same instant, or, for an entry alone, as a syringe would measure it now).
    public var withdrawn: Volume?
    public init(added: Volume, concentration: Concentration, confirmConcentrationChange: Bool = false, withdrawn: Volume? = nil) {
        self.added = added
        self.concentration = concentration
        self.confirmConcentrationChange = confirmConcentrationChange
        self.withdrawn = withdrawn
    }
    public var description: String {
        "\(added) of \(concentration) entered" + (confirmConcentrationChange ? " (change confirmed)" : "") + (withdrawn.map { ", residual entered \($0)" } ?? "")
    }
}

/// What a scenario does at an instant of its time line.
public enum ScenarioAction: Hashable, Sendable, Codable, CustomStringConvertible {
    /// A refill done and entered as done: the residual is withdrawn and measured (`withdrawn` nil:
    /// the true residual as a syringe measures it; a volume: what the clinician records instead),
    /// `added` put in, and the same entered. The act happens even when the entry is refused.
    /// Shorthand for `refillDone(act, entered:)` with an entry matching the act.
    case refill(added: Volume, concentration: Concentration, confirmConcentrationChange: Bool, withdrawn: Volume?)
    /// A refill done (the true reservoir follows `act`) and entered as `entered` (nil: not entered).
    case refillDone(RefillAct, entered: RefillEntry?)
    /// A programmer entry with no refill done at that instant (a late or a mistaken entry).
    case refillEntered(RefillEntry)
    /// Reprogramming.
    case program(Schedule)
    /// A stop request (a taper of `taperDays`, default the minimum).
    case stop(taperDays: Int?, override: EmergencyOverride?)
    /// Cancel a stop taper.
    case resume
    /// After an interruption over the limit: confirm full-dose delivery (nil: the programmed schedule).
    case confirmResumption(Schedule?)
    /// Acknowledge an alarm.
    case acknowledge(AlarmKind)
    /// Set (or clear) the clinician's refill date.
    case setRefillDate(Instant?)

    public var description: String {
        switch self {
        case let .refill(a, c, _, w): return "refill \(a) at \(c)" + (w.map { ", recorded residual \($0)" } ?? "")
        case let .refillDone(act, e): return "refill: \(act); " + (e.map(\.description) ?? "not entered")
        case let .refillEntered(e): return "refill entry with no refill: \(e)"
        case let .program(s): return "program \(s)"
        case let .stop(d, o): return "stop (taper \(d.map { "\($0) days" } ?? "default"))" + (o != nil ? " with override" : "")
        case .resume: return "resume"
        case let .confirmResumption(s): return "confirm resumption" + (s.map { " at \($0)" } ?? "")
        case let .acknowledge(k): return "acknowledge \(k)"
        case let .setRefillDate(d): return "set refill date \(d.map(\.description) ?? "none")"
        }
    }
}

/// One entry of a scenario's time line.
public struct ScenarioEvent: Hashable, Sendable, Codable {
    public var at: Instant
    public var action: ScenarioAction
    public init(at: Instant, action: ScenarioAction) { self.at = at; self.action = action }
}

/// Refills the runner schedules itself, a fixed offset from the instant the controller projects the
/// reservoir empty (what a sweep's refill delay means): each refill plans the next.
public struct AutoRefill: Hashable, Sendable, Codable {
    /// The refill comes this long after the projected empty instant (negative: before it).
    public var offsetFromProjectedEmpty: TimeSpan
    /// Volume added (nil: the reservoir's capacity).
    public var volume: Volume?
    /// After a refill that ends an interruption over the limit, the clinician confirms full-dose
    /// delivery at the same visit.
    public var confirmResumption: Bool = true
    public init(offsetFromProjectedEmpty: TimeSpan, volume: Volume? = nil, confirmResumption: Bool = true) {
        self.offsetFromProjectedEmpty = offsetFromProjectedEmpty
        self.volume = volume
        self.confirmResumption = confirmResumption
    }
}

/// A complete simulated therapy: pump, mechanics, prescription, time line and faults.
///
/// At instant zero the reservoir is filled with `initialFill` at `concentration` and the catheter
/// primed; continuous therapy starts at `therapyStart` (a transfer from a previous pump at the
/// prescribed dose, so no titration limits apply to the first dose).
public struct Scenario: Hashable, Sendable, Codable {
    public var name: String
    public var profile: PumpProfile
    public var mechanics: PumpMechanics
    public var settings: ControllerSettings
    public var concentration: Concentration
    public var schedule: Schedule
    /// First fill (default: the reservoir's capacity).
    public var initialFill: Volume
    /// When continuous therapy starts (after the priming bolus; default 1 h).
    public var therapyStart: Instant
    /// How long the run lasts from instant zero.
    public var duration: TimeSpan
    public var timeline: [ScenarioEvent]
    public var faults: FaultPlan
    public var autoRefill: AutoRefill?
    public var pk: PKParameters
    /// Length of the report's time-series intervals and of the PK steps (default 15 min).
    public var interval: TimeSpan

    public init(name: String, profile: PumpProfile, mechanics: PumpMechanics = PumpMechanics(),
                settings: ControllerSettings = ControllerSettings(), concentration: Concentration, schedule: Schedule,
                initialFill: Volume? = nil, therapyStart: Instant = .zero + .hours(1), duration: TimeSpan,
                timeline: [ScenarioEvent] = [], faults: FaultPlan = FaultPlan(), autoRefill: AutoRefill? = nil,
                pk: PKParameters = PKParameters(), interval: TimeSpan = .minutes(15)) {
        self.name = name
        self.profile = profile
        self.mechanics = mechanics
        self.settings = settings
        self.concentration = concentration
        self.schedule = schedule
        self.initialFill = initialFill ?? profile.reservoirCapacity
        self.therapyStart = therapyStart
        self.duration = duration
        self.timeline = timeline
        self.faults = faults
        self.autoRefill = autoRefill
        self.pk = pk
        self.interval = interval
    }

    /// Longest run accepted (10 years).
    public static let maximumDuration = TimeSpan.days(3_650)
    public static let intervalRange = TimeSpan.minutes(1)...TimeSpan.hours(6)
}

/// Why a scenario cannot run. Each says what to change.
public enum ScenarioError: Error, Hashable, Sendable, CustomStringConvertible {
    case configuration(ConfigurationError)
    case faults(FaultPlan.Problem)
    case schedule(ScheduleError)
    case durationOutOfRange(TimeSpan)
    case intervalOutOfRange(TimeSpan)
    case initialFillOutOfRange(Volume, capacity: Volume)
    case therapyStartTooEarly(Instant, primingEndsAt: Instant)
    case eventAfterEnd(index: Int, at: Instant, end: Instant)
    case setupRefused(step: String, refusal: String)
    /// A refill act puts in more than the reservoir holds (physically impossible; an entry may say so).
    case refillOverCapacity(index: Int, added: Volume, capacity: Volume)
    case pump(String)
    /// The run's end-of-run conservation check failed: drug left the reservoir and is missing from
    /// the CSF, the pocket, the catheter column or a reported figure. A simulator defect, never a
    /// scenario's outcome.
    case drugNotConserved([String])

    public var description: String {
        switch self {
        case let .configuration(e): return e.description
        case let .faults(p): return p.description
        case let .schedule(e): return "schedule: \(e)"
        case let .durationOutOfRange(d): return "duration \(d) is outside 1h … \(Scenario.maximumDuration); shorten or lengthen the run"
        case let .intervalOutOfRange(d): return "interval \(d) is outside \(Scenario.intervalRange.lowerBound) … \(Scenario.intervalRange.upperBound)"
        case let .initialFillOutOfRange(v, c): return "initial fill \(v) is outside 0 … \(c) (the reservoir's capacity)"
        case let .therapyStartTooEarly(t, p): return "therapy starts at \(t), before the priming bolus ends at \(p); start later"
        case let .eventAfterEnd(i, t, e): return "timeline entry \(i + 1) at \(t) is after the end of the run at \(e); lengthen the duration or remove it"
        case let .refillOverCapacity(i, v, c): return "timeline entry \(i + 1): a refill cannot put \(v) into a reservoir of \(c); to show an overfilled programmer entry, give the act's real volume and the entered one separately"
        case let .setupRefused(step, r): return "scenario set-up step `\(step)` was refused by the controller: \(r)"
        case let .pump(m): return "simulated pump: \(m)"
        case let .drugNotConserved(p): return "drug not conserved (a simulator defect; report it with the scenario): " + p.joined(separator: "; ")
        }
    }
}
