/// How therapy is started.
public enum StartBasis: Hashable, Sendable, Codable {
    /// After screening: the daily dose may not exceed the dose offered from the effective test dose
    /// (twice it per 24 h, or the test dose itself if its effect lasted more than 8 h).
    case testDose
    /// A replacement pump for a patient already on therapy: the daily dose may not exceed the previous
    /// pump's.
    case transfer(previousDailyDose: DoseRate)
}

/// An emergency override: a named clinician's reason for going below a safety minimum. Logged as a
/// critical event.
public struct EmergencyOverride: Hashable, Sendable, Codable {
    public var reason: String
    public var clinician: String
    public init(reason: String, clinician: String) { self.reason = reason; self.clinician = clinician }
}

/// A refill as the clinician performs it.
public struct RefillRequest: Hashable, Sendable, Codable {
    /// Residual withdrawn from the reservoir and measured.
    public var withdrawn: Volume
    /// Volume put in.
    public var added: Volume
    /// Concentration of what was put in.
    public var concentration: Concentration
    /// Must be true when `concentration` differs from the previous fill's.
    public var confirmConcentrationChange: Bool
    public init(withdrawn: Volume, added: Volume, concentration: Concentration, confirmConcentrationChange: Bool = false) {
        self.withdrawn = withdrawn
        self.added = added
        self.concentration = concentration
        self.confirmConcentrationChange = confirmConcentrationChange
    }
}

/// A command from the clinician programmer, the control channel or a scenario. Each passes the
/// interlock; a refused one changes nothing.
public enum Command: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Empty the reservoir (residual measured) and fill it; see `RefillRequest`.
    case refill(RefillRequest)
    /// Prime the catheter with its dead volume (the remainder after an interrupted priming); the
    /// confirmed volume must equal `primingVolume`.
    case prime(confirmVolume: Volume)
    /// A screening test dose of 25, 50, 75 or 100 μg.
    case testDose(Mass)
    /// The clinician's observation of the last test dose.
    case recordTestDoseResponse(TestDoseResponse)
    /// Start continuous therapy.
    case startTherapy(Schedule, basis: StartBasis)
    /// Replace the schedule (within the titration and decrease limits).
    case program(Schedule)
    /// Stop therapy: becomes a taper of `taperDays` (default: the minimum) down to the floor.
    /// Shorter than the minimum, or faster than the decrease limit, needs `override`. The taper starts
    /// from the dose in force for the patient: the held floor (or reserve level) while awaiting a
    /// clinician's confirmation, a reserve taper's level, else the programmed dose. During a reserve
    /// taper it keeps the reserve's days and never delivers above it (`TaperPlan.following`): each
    /// level the lower of the two on that day, ending no sooner than `taperDays` after the request.
    case stop(taperDays: Int?, override: EmergencyOverride?)
    /// Cancel a stop taper, holding the current level.
    case resume
    /// After an interruption longer than the limit: resume full-dose delivery with `schedule`, whose
    /// daily dose may not exceed the programmed one. A taper in progress (stop or reserve) goes on, with
    /// no level above the confirmed daily dose.
    case confirmResumption(Schedule)
    /// Set or clear the clinician's refill date (a refill consumes it: set the next one after refilling).
    case setRefillDate(Instant?)
    /// Acknowledge an alarm.
    case acknowledge(AlarmKind)
    /// Replace the controller settings (each within its hard range).
    case configure(ControllerSettings)

    public var description: String {
        switch self {
        case let .refill(r):
            return "refill(withdrawn \(r.withdrawn), added \(r.added) at \(r.concentration)\(r.confirmConcentrationChange ? ", confirmed" : ""))"
        case let .prime(v): return "prime(\(v))"
        case let .testDose(m): return "testDose(\(m))"
        case let .recordTestDoseResponse(r): return "recordTestDoseResponse(\(r))"
        case let .startTherapy(s, b): return "startTherapy(\(s), \(b))"
        case let .program(s): return "program(\(s))"
        case let .stop(d, o): return "stop(taper \(d.map { "\($0) days" } ?? "default")\(o != nil ? ", EMERGENCY OVERRIDE" : ""))"
        case .resume: return "resume"
        case let .confirmResumption(s): return "confirmResumption(\(s))"
        case let .setRefillDate(d): return "setRefillDate(\(d.map(\.description) ?? "none"))"
        case let .acknowledge(k): return "acknowledge(\(k))"
        case .configure: return "configure"
        }
    }
}

/// What an accepted command did.
public enum Acceptance: Hashable, Sendable {
    case refilled(RefillRecord)
    case bolusStarted(purpose: DeliveryPurpose, target: Mass, volume: Volume, endsAt: Instant)
    case responseRecorded(offeredStartingDose: DoseRate?)
    case programmed(ProgramSummary)
    case taper(TaperPlan)
    case resumed(holding: DoseRate)
    case done
}

/// μg/day and mL/day side by side, as a programmer shows them before a change is committed (the
/// flex-entry error that gave 60 μg/h instead of 60 μg/day is why).
public struct ProgramSummary: Hashable, Sendable {
    public var schedule: Schedule
    public var dailyDose: DoseRate
    public var concentration: Concentration
    /// Per step: start, rate μg/day and the volume rate at the concentration.
    public var steps: [(start: TimeOfDay, rate: DoseRate, volumeRate: VolumeRate)] {
        schedule.steps.map { ($0.start, $0.rate, $0.rate.volumeRate(at: concentration)) }
    }
    public var volumeRate: VolumeRate { dailyDose.volumeRate(at: concentration) }
    public static func == (a: ProgramSummary, b: ProgramSummary) -> Bool {
        a.schedule == b.schedule && a.dailyDose == b.dailyDose && a.concentration == b.concentration
    }
    public func hash(into h: inout Hasher) { h.combine(schedule); h.combine(concentration) }
}

/// The answer to a command: accepted (with what it did) or refused (with why), and every effect the
/// call produced, including those of advancing to the command's instant.
public struct CommandResponse: Sendable {
    public var result: Result<Acceptance, Refusal>
    public var effects: [Effect]
    public var isAccepted: Bool { if case .success = result { return true } else { return false } }
    public var refusal: Refusal? { if case let .failure(r) = result { return r } else { return nil } }
}
