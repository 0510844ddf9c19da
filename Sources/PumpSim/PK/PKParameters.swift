import PumpCore

/// A CSF concentration of baclofen, ng/mL. A model output, so floating point (never a dose or a
/// total, which stay exact integers).
public struct CSFConcentration: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var nanogramsPerMillilitre: Double
    public init(nanogramsPerMillilitre: Double) { self.nanogramsPerMillilitre = nanogramsPerMillilitre }
    public static let zero = CSFConcentration(nanogramsPerMillilitre: 0)
    public static func < (a: CSFConcentration, b: CSFConcentration) -> Bool { a.nanogramsPerMillilitre < b.nanogramsPerMillilitre }
    public var description: String { "\(Self.format(nanogramsPerMillilitre)) ng/mL" }
    static func format(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? "\(Int64(r))" : "\(r)"
    }
}

/// One-compartment pharmacokinetics of intrathecal baclofen in CSF, and the withdrawal model.
///
/// dC/dt = R(t)/V − (CL/V)·C, integrated exactly (closed-form exponential) over each interval of
/// constant input R. Defaults from DOMAIN.md: V ≈ 65 mL, CL ≈ 30 mL/h (half-life ≈ 1.5 h).
public struct PKParameters: Hashable, Sendable, Codable {
    /// Volume of distribution (22–157 mL; default 65 mL).
    public var distributionVolume: Volume = .millilitres(65)
    /// CSF clearance (13–80 mL/h; default 30 mL/h = 720 mL/day).
    public var clearance: VolumeRate = VolumeRate(nanolitresPerDay: 720_000_000)
    /// The withdrawal-risk threshold as a fraction of the steady state of the prescribed dose
    /// (our definition: 50 %).
    public var withdrawalFraction: Fraction = .percent(50)
    /// Time constant of the withdrawal-severity state: under a complete deficit it reaches 63 % after
    /// one constant and 95 % after three (default 24 h: the severe syndrome builds over 24–72 h).
    public var severityTimeConstant: TimeSpan = .hours(24)

    public init() {}

    public enum Limits {
        public static let distributionVolume = Volume.millilitres(22)...Volume.millilitres(157)
        public static let clearance = VolumeRate(nanolitresPerDay: 13 * 24_000_000)...VolumeRate(nanolitresPerDay: 80 * 24_000_000)
        public static let withdrawalFraction = Fraction.percent(1)...Fraction.percent(99)
        public static let severityTimeConstant = TimeSpan.hours(6)...TimeSpan.hours(72)
    }

    public func validate() throws(ConfigurationError) {
        func check<T: Comparable & CustomStringConvertible>(_ f: String, _ v: T, _ r: ClosedRange<T>) throws(ConfigurationError) {
            guard r.contains(v) else { throw .outOfRange(field: f, value: v.description, allowed: "\(r.lowerBound) … \(r.upperBound)") }
        }
        try check("pk.distributionVolume", distributionVolume, Limits.distributionVolume)
        try check("pk.clearance", clearance, Limits.clearance)
        try check("pk.withdrawalFraction", withdrawalFraction, Limits.withdrawalFraction)
        try check("pk.severityTimeConstant", severityTimeConstant, Limits.severityTimeConstant)
    }

    /// Clearance in mL/h (model arithmetic).
    public var clearanceMillilitresPerHour: Double { Double(clearance.nanolitresPerDay) / 24e6 }
    /// Elimination rate constant k = CL/V, per hour.
    public var eliminationPerHour: Double { clearanceMillilitresPerHour / (Double(distributionVolume.nanolitres) / 1e6) }
    /// Half-life ln 2 / k.
    public var halfLife: TimeSpan { TimeSpan(nanoseconds: Int64((0.693_147_180_559_945_3 / eliminationPerHour) * 3.6e12)) }

    /// The steady-state concentration of a constant dose: rate / CL.
    public func steadyState(_ dose: DoseRate) -> CSFConcentration {
        CSFConcentration(nanogramsPerMillilitre: Double(dose.nanogramsPerDay) / 24 / clearanceMillilitresPerHour)
    }
    /// The withdrawal-risk threshold for a prescribed dose.
    public func withdrawalThreshold(_ dose: DoseRate) -> CSFConcentration {
        CSFConcentration(nanogramsPerMillilitre: steadyState(dose).nanogramsPerMillilitre * Double(withdrawalFraction.partsPerMillion) / 1e6)
    }
}
