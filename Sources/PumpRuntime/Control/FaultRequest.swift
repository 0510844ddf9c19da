import ITPumpFiles
import PumpJournal
import PumpCore
import PumpSim

/// A fault named on the control channel (`inject`, `clear_fault`), for the simulated pump only. Each
/// maps to one `PumpSim.FaultKind`: the same fault model scenario files use.
public enum SimFaultName: String, CaseIterable, Hashable, Sendable {
    /// The catheter is blocked: strokes fill the line's compliance (the mechanics' 50 μL), then move
    /// nothing; the occlusion sensor trips after the mechanics' 40 occluded strokes. Clearing releases
    /// the held volume to the patient.
    case occlusion
    /// The motor stalls: strokes do not happen; the stall sensor trips after 3 commanded strokes.
    case motorStall = "motor_stall"
    /// The reservoir-empty switch reads closed whatever the reservoir holds.
    case emptySwitch = "empty_switch"
    /// `percent` (1 … 100, default 100: a disconnection) of the drug leaving the catheter goes to the
    /// pocket. No sensor sees it, as on a real pump.
    case leak
    /// Every stroke moves `percent` (−50 … +50, not 0) more or less than its nominal volume.
    case calibrationBias = "calibration_bias"

    static var allowed: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// `inject`: a fault, its duration in therapy time (nil: until `clear_fault`), its parameter.
public struct FaultInjection: Hashable, Sendable {
    public var fault: SimFaultName
    /// Therapy time the fault lasts (1 ms … 365 d), or nil until cleared.
    public var duration: TimeSpan?
    /// `leak`: share to the pocket, 1 … 100 %; `calibration_bias`: −50 … +50 %, not 0.
    public var percent: Int64?

    public init(fault: SimFaultName, duration: TimeSpan? = nil, percent: Int64? = nil) {
        self.fault = fault
        self.duration = duration
        self.percent = percent
    }

    /// The simulator's fault.
    public var kind: FaultKind {
        switch fault {
        case .occlusion: .occlusion
        case .motorStall: .motorStall
        case .emptySwitch: .emptySwitch
        case .leak: (percent ?? 100) >= 100 ? .disconnection : .leak(fraction: .percent(percent ?? 100))
        case .calibrationBias: .calibrationBias(.percent(percent ?? 0))
        }
    }

    public static let durationRange = TimeSpan(nanoseconds: 1_000_000)...TimeSpan.days(365)
    public static let leakPercent: ClosedRange<Int64> = 1...100
    public static let biasPercent: ClosedRange<Int64> = -50...50

    static func parse(_ r: ControlRequest.Fields) throws(ControlRequestError) -> FaultInjection {
        let fault = try SimFaultName.parse(r)
        var duration: TimeSpan?
        if r.o["for"] != nil { duration = try r.duration("for", durationRange) }
        var percent: Int64?
        switch fault {
        case .leak:
            if r.o["percent"] != nil { percent = try r.int("percent", leakPercent) }
        case .calibrationBias:
            let p = try r.int("percent", biasPercent)
            guard p != 0 else { throw .badValue(field: "percent", value: "0", allowed: "-50 … -1 or 1 … 50 (a bias of 0 is no fault)") }
            percent = p
        default:
            if r.o["percent"] != nil {
                throw .badValue(field: "percent", value: String(r.o["percent"]!.shown.prefix(40)), allowed: "only with fault leak or calibration_bias")
            }
        }
        return FaultInjection(fault: fault, duration: duration, percent: percent)
    }
}

extension SimFaultName {
    static func parse(_ r: ControlRequest.Fields) throws(ControlRequestError) -> SimFaultName {
        let name = try r.string("fault")
        guard let f = SimFaultName(rawValue: name) else {
            throw .badValue(field: "fault", value: PrintableText.escaped(String(name.prefix(40))), allowed: allowed)
        }
        return f
    }
}

extension ControlRequest.Fields {
    /// A duration in the files' syntax (`90s`, `15m`, `2h`, `10d`, `2d12h`; `QuantitySyntax.duration`).
    func duration(_ k: String, _ range: ClosedRange<TimeSpan>) throws(ControlRequestError) -> TimeSpan {
        guard let v = o[k] else { throw .missingField(k) }
        let allowed = "a duration \(range.lowerBound.roundedDescription) … \(range.upperBound.roundedDescription), e.g. 90s, 15m, 2h, 10d, 2d12h: \(QuantitySyntax.durationSyntax)"
        guard case let .string(s) = v, case let .success(span) = QuantitySyntax.duration(s), range.contains(span) else {
            throw .badValue(field: k, value: PrintableText.escaped(String(v.shown.prefix(40))), allowed: allowed)
        }
        return span
    }
}
