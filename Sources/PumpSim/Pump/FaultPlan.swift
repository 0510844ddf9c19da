import PumpCore

/// A mechanical fault the simulated pump can be given.
public enum FaultKind: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The catheter is blocked: strokes stop reaching the patient, pressure builds, and the occlusion
    /// sensor trips after `PumpMechanics.occlusionTripStrokes` strokes.
    case occlusion
    /// The motor stalls: strokes do not happen, stroke feedback goes quiet and the stall sensor trips
    /// after `PumpMechanics.stallTripStrokes` commanded strokes.
    case motorStall
    /// The catheter leaks: `fraction` of the drug leaving the catheter goes to the pocket, not the CSF.
    case leak(fraction: Fraction)
    /// The catheter is disconnected: all drug goes to the pocket.
    case disconnection
    /// The reservoir-empty switch reads closed (reservoir empty) whatever the reservoir holds: a
    /// failed switch or wiring; the true reservoir is unchanged.
    case emptySwitch
    /// Every stroke moves `strokeVolume × (1 + bias)` on average instead of the mechanics' own
    /// calibration bias (within `PumpMechanics.Limits.calibrationBias`).
    case calibrationBias(Fraction)

    /// Faults of one family cannot overlap: occlusion, stall, leak/disconnection, empty switch, bias.
    public var family: Int {
        switch self { case .occlusion: 0; case .motorStall: 1; case .leak, .disconnection: 2; case .emptySwitch: 3; case .calibrationBias: 4 }
    }

    public var description: String {
        switch self {
        case .occlusion: return "occlusion"
        case .motorStall: return "motor stall"
        case let .leak(f): return "catheter leak (\(f) to the pocket)"
        case .disconnection: return "catheter disconnection"
        case .emptySwitch: return "reservoir-empty switch stuck closed"
        case let .calibrationBias(b): return "calibration bias \(b)"
        }
    }
}

/// One fault: present from `from` until `until` (nil: to the end of the run).
public struct Fault: Hashable, Sendable, Codable {
    public var kind: FaultKind
    public var from: Instant
    public var until: Instant?
    public init(kind: FaultKind, from: Instant, until: Instant? = nil) {
        self.kind = kind
        self.from = from
        self.until = until
    }
}

/// A fault starting or ending at an instant.
public struct FaultChange: Hashable, Sendable, Codable {
    public var at: Instant
    public var kind: FaultKind
    public var active: Bool
}

/// The faults of a run as plain data (fault at t, cleared at t).
///
/// Invariants checked by `validate()`: every fault ends after it starts, and faults of the same
/// family (occlusion, stall, leak/disconnection) do not overlap.
public struct FaultPlan: Hashable, Sendable, Codable {
    public var faults: [Fault]
    public init(_ faults: [Fault] = []) { self.faults = faults }

    /// Starts and ends in time order (an end before a start at the same instant).
    public var changes: [FaultChange] {
        var out: [FaultChange] = []
        for f in faults {
            out.append(FaultChange(at: f.from, kind: f.kind, active: true))
            if let u = f.until { out.append(FaultChange(at: u, kind: f.kind, active: false)) }
        }
        return out.enumerated().sorted {
            ($0.element.at, $0.element.active ? 1 : 0, $0.offset) < ($1.element.at, $1.element.active ? 1 : 0, $1.offset)
        }.map(\.element)
    }

    /// Why a fault plan is not usable.
    public enum Problem: Error, Hashable, Sendable, CustomStringConvertible {
        case endsBeforeStart(index: Int)
        case overlaps(first: Int, second: Int)
        case leakFraction(index: Int, fraction: Fraction)
        case calibrationBias(index: Int, bias: Fraction)
        public var description: String {
            switch self {
            case let .endsBeforeStart(i): return "fault \(i + 1) ends at or before it starts; give `until` after `at`"
            case let .overlaps(a, b): return "faults \(a + 1) and \(b + 1) are of the same kind and overlap; merge them or separate them in time"
            case let .leakFraction(i, f): return "fault \(i + 1): leak fraction \(f) is outside 0 % … 100 %"
            case let .calibrationBias(i, b): return "fault \(i + 1): calibration bias \(b) is outside \(PumpMechanics.Limits.calibrationBias.lowerBound) … \(PumpMechanics.Limits.calibrationBias.upperBound)"
            }
        }
    }

    public func validate() throws(Problem) {
        for (i, f) in faults.enumerated() {
            if let u = f.until, u <= f.from { throw .endsBeforeStart(index: i) }
            if case let .leak(fr) = f.kind, !(Fraction.percent(0)...Fraction.percent(100)).contains(fr) { throw .leakFraction(index: i, fraction: fr) }
            if case let .calibrationBias(b) = f.kind, !PumpMechanics.Limits.calibrationBias.contains(b) { throw .calibrationBias(index: i, bias: b) }
            for (j, g) in faults.enumerated() where j > i && g.kind.family == f.kind.family {
                let fEnd = f.until ?? .distantFuture, gEnd = g.until ?? .distantFuture
                if f.from < gEnd && g.from < fEnd { throw .overlaps(first: i, second: j) }
            }
        }
    }
}
