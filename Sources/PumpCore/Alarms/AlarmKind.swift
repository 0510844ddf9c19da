/// How urgently an alarm needs a person.
public enum AlarmPriority: Int, Hashable, Comparable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case low = 0, medium = 1, high = 2
    public static func < (a: AlarmPriority, b: AlarmPriority) -> Bool { a.rawValue < b.rawValue }
    public var description: String { ["low", "medium", "high"][rawValue] }
}

/// Every alarm the controller raises. The raw values are the names reports and files use.
public enum AlarmKind: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Estimated reservoir volume at or below the low-reservoir threshold (default 4 mL).
    case lowReservoir
    /// The refill date is near: a lead time before the reservoir is projected to reach the
    /// low-reservoir volume, a clinician-set refill date, or a refill date that falls after the
    /// projected empty instant.
    case refillDue
    /// The drug has been in the reservoir 180 days.
    case drugStability
    /// Critical: the reservoir cannot deliver another stroke (estimate, or the empty switch).
    case reservoirEmpty
    /// Critical: the occlusion/pressure sensor reports no flow.
    case occlusion
    /// Critical: the motor's stroke feedback is missing.
    case motorStall
    /// The residual withdrawn at refill differs from the estimate by more than 14.5 % of the volume
    /// delivered since the previous refill (pump fault or pocket fill).
    case refillDiscrepancy
    /// A command was refused by the safety interlock.
    case interlockRefusal
    /// Delivery was interrupted longer than the limit (from the earliest evidence: empty switch,
    /// calculated empty, motor stall, occlusion, controller down) or ran more than the limit at a
    /// reserve taper's reduced dose: full-dose delivery waits for a clinician's command.
    case therapyInterruption
    /// Critical: the reservoir estimate says empty but the pump's reservoir-empty switch says drug
    /// remains (a plausibility failure: the pump under-infused, or the switch failed). Delivery keeps
    /// the programmed rate; the switch stops it. Cleared by a refill or when the switch trips.
    case calculatedEmptySensorDisagrees

    /// The priority the alarm is raised with.
    public var priority: AlarmPriority {
        switch self {
        case .reservoirEmpty, .occlusion, .motorStall, .refillDiscrepancy, .therapyInterruption, .calculatedEmptySensorDisagrees: return .high
        case .lowReservoir, .refillDue, .drugStability: return .medium
        case .interlockRefusal: return .low
        }
    }

    /// Alarms whose cause is an event, not a lasting condition: acknowledging them resolves them.
    public var clearsOnAcknowledge: Bool {
        switch self {
        case .refillDiscrepancy, .interlockRefusal: return true
        default: return false
        }
    }

    /// Index for fixed-size storage, 0 ..< `allCases.count` (no hashing: an alarm board or a
    /// recorder looks kinds up at every raise and clear).
    @inlinable public var index: Int {
        switch self {
        case .lowReservoir: 0
        case .refillDue: 1
        case .drugStability: 2
        case .reservoirEmpty: 3
        case .occlusion: 4
        case .motorStall: 5
        case .refillDiscrepancy: 6
        case .interlockRefusal: 7
        case .therapyInterruption: 8
        case .calculatedEmptySensorDisagrees: 9
        }
    }

    public var description: String { rawValue }
}

/// One active alarm.
public struct Alarm: Hashable, Sendable, Codable {
    public let kind: AlarmKind
    public var priority: AlarmPriority { kind.priority }
    /// When it was raised.
    public let raisedAt: Instant
    /// Why, in words (values with units), formatted when read.
    public var detail: AlarmDetail
    /// When a person acknowledged it, if they did.
    public var acknowledgedAt: Instant?
    /// When the next audible alert is due.
    public var nextAlertAt: Instant
    /// Audible alerts given so far (the first at raising).
    public var alertCount: Int
}

/// When alarms fire and how often they repeat.
public struct AlarmSettings: Hashable, Sendable, Codable {
    /// Low-reservoir threshold (default 4 mL; allowed 2–8 mL).
    public var lowReservoirThreshold: Volume = .millilitres(4)
    /// How long before the projected low-reservoir instant the refill-due alarm fires (default 7 days;
    /// allowed 1–30 days).
    public var refillLeadTime: TimeSpan = .days(7)
    /// Re-alert interval of high-priority (critical) alarms; acknowledging does not silence them
    /// (default 10 min, DOMAIN.md).
    public var criticalRealert: TimeSpan = .minutes(10)
    /// Re-alert interval of other alarms while unacknowledged (default 1 h).
    public var realert: TimeSpan = .hours(1)
    /// Reminder interval of acknowledged non-critical alarms whose cause persists (default 24 h).
    public var acknowledgedReminder: TimeSpan = .hours(24)
    /// Drug stability limit (180 days since fill).
    public var drugStabilityLimit: TimeSpan = .days(180)

    public init() {}

    public enum Limits {
        public static let lowReservoirThreshold = Volume.millilitres(2)...Volume.millilitres(8)
        public static let refillLeadTime = TimeSpan.days(1)...TimeSpan.days(30)
        public static let criticalRealert = TimeSpan.minutes(1)...TimeSpan.minutes(10)
        public static let realert = TimeSpan.minutes(10)...TimeSpan.hours(4)
        public static let acknowledgedReminder = TimeSpan.hours(1)...TimeSpan.hours(24)
        public static let drugStabilityLimit = TimeSpan.days(1)...TimeSpan.days(180)
    }

    /// Checks every field; the error names the field, the value and the range.
    public func validate() throws(ConfigurationError) {
        try ConfigurationError.check("alarms.lowReservoirThreshold", lowReservoirThreshold, Limits.lowReservoirThreshold)
        try ConfigurationError.check("alarms.refillLeadTime", refillLeadTime, Limits.refillLeadTime)
        try ConfigurationError.check("alarms.criticalRealert", criticalRealert, Limits.criticalRealert)
        try ConfigurationError.check("alarms.realert", realert, Limits.realert)
        try ConfigurationError.check("alarms.acknowledgedReminder", acknowledgedReminder, Limits.acknowledgedReminder)
        try ConfigurationError.check("alarms.drugStabilityLimit", drugStabilityLimit, Limits.drugStabilityLimit)
    }
}
