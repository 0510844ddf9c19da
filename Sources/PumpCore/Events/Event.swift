/// The patient's response to a test dose, as the clinician records it.
public enum TestDoseResponse: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Spasticity fell; `lastedOverEightHours` sets the offered starting dose (the dose itself rather
    /// than twice it).
    case effective(lastedOverEightHours: Bool)
    /// No meaningful response: the next test dose may escalate.
    case noResponse
    public var description: String {
        switch self {
        case let .effective(long): return long ? "effective (lasted > 8 h)" : "effective"
        case .noResponse: return "no response"
        }
    }
}

/// A sensor state change the driver reports to the core.
public enum SensorReading: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Occlusion/pressure switch: no flow.
    case occlusion(Bool)
    /// Stroke feedback missing: the motor stalls.
    case motorStall(Bool)
    /// Reservoir-empty switch.
    case reservoirEmpty(Bool)
    public var description: String {
        switch self {
        case let .occlusion(on): return "occlusion sensor \(on ? "tripped" : "clear")"
        case let .motorStall(on): return "stroke feedback \(on ? "missing (stall)" : "present")"
        case let .reservoirEmpty(on): return "reservoir-empty switch \(on ? "on" : "off")"
        }
    }
}

/// A refill as recorded.
public struct RefillRecord: Hashable, Sendable, Codable {
    /// Residual withdrawn and measured.
    public var withdrawn: Volume
    /// What the controller estimated was left.
    public var estimated: Volume
    /// Volume put in.
    public var added: Volume
    public var concentration: Concentration
    public var previousConcentration: Concentration
    /// Volume pumped since the previous refill.
    public var deliveredSincePrevious: Volume
    /// |withdrawn − estimated| exceeded 14.5 % of `deliveredSincePrevious`.
    public var discrepancy: Bool
}

/// Why delivery halted.
public enum HaltReason: String, Hashable, Sendable, Codable {
    case reservoirEmpty
    case taperCompleted
    case emergencyStop
}

/// What happened, in order. Every command, refusal, alarm transition, refill, bolus and delivery
/// milestone is one of these.
public enum EventKind: Hashable, Sendable, Codable {
    case reservoirFilled(volume: Volume, concentration: Concentration)
    indirect case bolusStarted(purpose: DeliveryPurpose, target: Mass, volume: Volume, strokes: Int64, endsAt: Instant)
    case bolusCompleted(purpose: DeliveryPurpose, delivered: Mass, volume: Volume)
    case testDoseResponse(dose: Mass, response: TestDoseResponse)
    indirect case therapyStarted(schedule: Schedule, dailyDose: DoseRate, volumeRate: VolumeRate)
    indirect case scheduleProgrammed(schedule: Schedule, from: DoseRate, to: DoseRate, volumeRate: VolumeRate)
    indirect case taperStarted(TaperPlan)
    case taperStep(kind: TaperPlan.Kind, index: Int, dose: DoseRate)
    case taperCancelled(holding: DoseRate)
    indirect case emergencyOverride(reason: String, clinician: String, detail: String)
    case deliveryHalted(HaltReason)
    case deliveryResumed(dose: DoseRate)
    case fullDoseConfirmed(dose: DoseRate)
    indirect case refilled(RefillRecord)
    indirect case concentrationChanged(from: Concentration, to: Concentration, volumeRate: VolumeRate)
    case refillDateSet(Instant?)
    indirect case settingsChanged(ControllerSettings)
    case alarmRaised(AlarmKind, priority: AlarmPriority, detail: AlarmDetail)
    case alarmCleared(AlarmKind)
    case alarmAcknowledged(AlarmKind)
    case sensor(SensorReading)
    indirect case commandRefused(command: String, refusal: Refusal)
    /// Delivery milestone: therapy day `day` (1-based, counted from therapy start) ended.
    case dailyDelivery(day: Int, basal: Mass, volume: Volume)

    /// Critical events are those a reviewer must see first (overrides, halts).
    public var isCritical: Bool {
        switch self {
        case .emergencyOverride, .deliveryHalted(.emergencyStop), .deliveryHalted(.reservoirEmpty): return true
        default: return false
        }
    }
}

/// A timestamped event.
public struct Event: Hashable, Sendable, Codable, CustomStringConvertible {
    public let at: Instant
    public let kind: EventKind
    public init(at: Instant, kind: EventKind) { self.at = at; self.kind = kind }
    public var description: String { "\(at) \(EventFormatter.describe(kind))" }
}

/// Human-readable event lines, units on every number.
public enum EventFormatter {
    public static func describe(_ kind: EventKind) -> String {
        switch kind {
        case let .reservoirFilled(v, c): return "reservoir filled with \(v) at \(c)"
        case let .bolusStarted(p, target, v, n, endsAt):
            return "\(p) bolus started: \(target) to the patient, \(v) in \(n) strokes, ends \(endsAt)"
        case let .bolusCompleted(p, delivered, v): return "\(p) bolus completed: \(delivered) delivered, \(v) pumped"
        case let .testDoseResponse(dose, r): return "test dose \(dose) response recorded: \(r)"
        case let .therapyStarted(s, d, vr): return "therapy started: \(s), \(d) = \(vr)"
        case let .scheduleProgrammed(s, from, to, vr): return "programmed \(s): \(from) → \(to) (\(vr))"
        case let .taperStarted(p):
            let levels = p.levels.map(\.description).joined(separator: ", ")
            return "\(p.kind) taper started from \(p.fromDose)\(p.emergency ? " (EMERGENCY)" : ""): \(levels)"
                + (p.endsAt.map { "; delivery ends \($0)" } ?? "")
        case let .taperStep(k, i, d): return "\(k) taper day \(i): \(d)"
        case let .taperCancelled(d): return "taper cancelled, holding \(d)"
        case let .emergencyOverride(reason, clinician, detail): return "EMERGENCY OVERRIDE by \(clinician): \(reason) — \(detail)"
        case let .deliveryHalted(r): return "delivery halted: \(r.rawValue)"
        case let .deliveryResumed(d): return "delivery resumed at \(d)"
        case let .fullDoseConfirmed(d): return "full-dose delivery confirmed at \(d)"
        case let .refilled(r):
            return "refill: withdrew \(r.withdrawn) (estimate \(r.estimated)), added \(r.added) at \(r.concentration)"
                + (r.discrepancy ? " — DISCREPANCY" : "")
        case let .concentrationChanged(from, to, vr): return "concentration \(from) → \(to); rate now \(vr)"
        case let .refillDateSet(d): return "refill date set to \(d.map(\.description) ?? "none")"
        case .settingsChanged: return "settings changed"
        case let .alarmRaised(k, p, detail): return "ALARM \(k) (\(p)) raised: \(detail)"
        case let .alarmCleared(k): return "alarm \(k) cleared"
        case let .alarmAcknowledged(k): return "alarm \(k) acknowledged"
        case let .sensor(s): return s.description
        case let .commandRefused(c, r): return "REFUSED \(c): \(r)"
        case let .dailyDelivery(day, basal, v): return "day \(day): \(basal) delivered (\(v))"
        }
    }
}
