/// The patient group a prescription is titrated for; sets the default and the cap of the daily
/// titration increase.
public enum PatientGroup: String, Hashable, Sendable, Codable, CaseIterable {
    /// Spasticity of spinal origin: increases up to 30 % per 24 h.
    case spinal
    /// Spasticity of cerebral origin: increases up to 15 % per 24 h.
    case cerebral
    /// Children: increases up to 15 % per 24 h.
    case paediatric

    /// The largest daily increase the group allows (also the default).
    public var titrationIncreaseCap: Fraction { self == .spinal ? .percent(30) : .percent(15) }
}

/// What the controller does when the reservoir runs low and no refill comes.
public enum ReservoirPolicy: String, Hashable, Sendable, Codable, CaseIterable {
    /// The real devices' behaviour (default): alarm, keep the programmed dose until the drug runs out.
    case alarmOnly
    /// Opt-in: from the low-reservoir alarm on, cut the dose by the daily decrease limit each 24 h down
    /// to the 50 μg/day floor, so the remaining drug lasts longer and the patient never falls from full
    /// dose to nothing at once. A refill restores the programmed schedule.
    case reserveTaper
}

/// Controller settings. Defaults come from DOMAIN.md; each can change only within its hard range.
public struct ControllerSettings: Hashable, Sendable, Codable {
    public var patientGroup: PatientGroup
    /// Largest increase of the daily dose per 24 h (default and cap from `patientGroup`).
    public var titrationIncreaseLimit: Fraction
    /// Largest decrease of the daily dose per 24 h (default 20 %, which is also the hard cap).
    public var decreaseLimit: Fraction = .percent(20)
    /// Shortest taper from a stop request to the end of delivery without an emergency override
    /// (default 14 days, which is also the floor).
    public var minimumTaperDays: Int = 14
    /// Lockout after each test dose: no bolus, no therapy start (default 8 h, allowed 4–8 h).
    public var observationLockout: TimeSpan = .hours(8)
    /// Delivery interruptions longer than this need a clinician's command before full-dose delivery
    /// resumes (default 24 h).
    public var interruptionLimit: TimeSpan = .hours(24)
    /// Most steps a flex schedule may have (default 24; the leading device allows 13).
    public var maximumFlexSteps: Int = Schedule.maximumSteps
    /// Low-reservoir behaviour (default `alarmOnly`).
    public var reservoirPolicy: ReservoirPolicy = .alarmOnly
    public var alarms = AlarmSettings()
    /// Maps instants to the wall clock for flex schedules and daily totals.
    public var clock = ClockReference()

    public init(patientGroup: PatientGroup = .spinal) {
        self.patientGroup = patientGroup
        self.titrationIncreaseLimit = patientGroup.titrationIncreaseCap
    }

    public enum Limits {
        public static let decreaseLimit = Fraction.percent(1)...Fraction.percent(20)
        public static let minimumTaperDays = 14...60
        public static let observationLockout = TimeSpan.hours(4)...TimeSpan.hours(8)
        public static let interruptionLimit = TimeSpan.hours(1)...TimeSpan.hours(24)
        public static let maximumFlexSteps = 1...Schedule.maximumSteps
    }

    /// Checks every field against its hard range; the error names the field, the value and the range.
    public func validate() throws(ConfigurationError) {
        try ConfigurationError.check("titrationIncreaseLimit", titrationIncreaseLimit, Fraction.percent(1)...patientGroup.titrationIncreaseCap)
        try ConfigurationError.check("decreaseLimit", decreaseLimit, Limits.decreaseLimit)
        try ConfigurationError.check("minimumTaperDays", minimumTaperDays, Limits.minimumTaperDays)
        try ConfigurationError.check("observationLockout", observationLockout, Limits.observationLockout)
        try ConfigurationError.check("interruptionLimit", interruptionLimit, Limits.interruptionLimit)
        try ConfigurationError.check("maximumFlexSteps", maximumFlexSteps, Limits.maximumFlexSteps)
        try alarms.validate()
    }
}
