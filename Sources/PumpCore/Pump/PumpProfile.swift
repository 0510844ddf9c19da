/// The mechanics of one pump model and its catheter, as the controller needs them.
///
/// Every field is an exact integer quantity. `validate()` checks each against the range the project
/// accepts and names the field, the value and the range when it refuses.
public struct PumpProfile: Hashable, Sendable, Codable {
    /// A human name for reports (`"bench 20 mL"`).
    public var name: String
    /// Reservoir capacity: 20 or 40 mL on every device in the field.
    public var reservoirCapacity: Volume
    /// Volume moved by one motor stroke (e.g. 0.25 μL = 250 nL).
    public var strokeVolume: Volume
    /// Dead volume inside the pump between reservoir and catheter port.
    public var internalDeadVolume: Volume
    /// Catheter volume (0.0026 mL/cm: a 110 cm catheter holds about 0.29 mL).
    public var catheterVolume: Volume
    /// Flow used for boluses (priming and test doses).
    public var bolusRate: FlowRate
    /// The smallest continuous volume rate that keeps the catheter patent; a programmed schedule may not
    /// go below it at any step.
    public var minimumPatencyRate: VolumeRate
    /// True when the pump has a reservoir-empty switch (a fill sensor). With one, the switch decides
    /// when delivery stops: the calculated empty instant alone never stops delivery (the controller keeps
    /// the programmed rate and raises the critical `calculatedEmptySensorDisagrees` alarm), and the
    /// switch stops it whatever the estimate says. Without one (the default), delivery stops at the
    /// calculated empty instant. Either way a switch reading is evidence that delivery stopped.
    public var hasEmptySwitch: Bool = false
    /// The most strokes into a blocked catheter that the pump's occlusion (pressure) sensor may need
    /// before it trips, from the pump's labelling (1 … 10,000; 40 by default). Until more basal
    /// strokes than this (and than `stallDetectionStrokes`) have followed the end of an interruption
    /// with no new reading, the controller cannot tell strokes that resumed delivery from strokes
    /// pushed into a blockage (`resumptionProofStrokes`).
    public var occlusionDetectionStrokes: Int64 = 40
    /// The most commanded strokes without stroke feedback before the motor-stall reading comes, from
    /// the pump's labelling (1 … 1,000; 3 by default; the bench rig reports a stall on the first
    /// stroke without feedback).
    public var stallDetectionStrokes: Int64 = 3

    /// Basal strokes after an interruption ended, with no new reading, that prove drug flows again:
    /// one more than the slower sensor needs to trip (an occlusion or stall in force through all of
    /// them would have been read by the last).
    public var resumptionProofStrokes: Int64 { max(occlusionDetectionStrokes, stallDetectionStrokes) + 1 }

    public init(name: String, reservoirCapacity: Volume, strokeVolume: Volume, internalDeadVolume: Volume,
                catheterVolume: Volume, bolusRate: FlowRate, minimumPatencyRate: VolumeRate, hasEmptySwitch: Bool = false,
                occlusionDetectionStrokes: Int64 = 40, stallDetectionStrokes: Int64 = 3) {
        self.hasEmptySwitch = hasEmptySwitch
        self.occlusionDetectionStrokes = occlusionDetectionStrokes
        self.stallDetectionStrokes = stallDetectionStrokes
        self.name = name
        self.reservoirCapacity = reservoirCapacity
        self.strokeVolume = strokeVolume
        self.internalDeadVolume = internalDeadVolume
        self.catheterVolume = catheterVolume
        self.bolusRate = bolusRate
        self.minimumPatencyRate = minimumPatencyRate
    }

    enum CodingKeys: String, CodingKey {
        case name, reservoirCapacity, strokeVolume, internalDeadVolume, catheterVolume, bolusRate, minimumPatencyRate, hasEmptySwitch, occlusionDetectionStrokes, stallDetectionStrokes
    }

    /// Decodes a profile; one saved before `hasEmptySwitch` existed has no switch, one saved before
    /// `occlusionDetectionStrokes` and `stallDetectionStrokes` existed has the defaults 40 and 3.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        reservoirCapacity = try c.decode(Volume.self, forKey: .reservoirCapacity)
        strokeVolume = try c.decode(Volume.self, forKey: .strokeVolume)
        internalDeadVolume = try c.decode(Volume.self, forKey: .internalDeadVolume)
        catheterVolume = try c.decode(Volume.self, forKey: .catheterVolume)
        bolusRate = try c.decode(FlowRate.self, forKey: .bolusRate)
        minimumPatencyRate = try c.decode(VolumeRate.self, forKey: .minimumPatencyRate)
        hasEmptySwitch = try c.decodeIfPresent(Bool.self, forKey: .hasEmptySwitch) ?? false
        occlusionDetectionStrokes = try c.decodeIfPresent(Int64.self, forKey: .occlusionDetectionStrokes) ?? 40
        stallDetectionStrokes = try c.decodeIfPresent(Int64.self, forKey: .stallDetectionStrokes) ?? 3
    }

    /// Internal plus catheter dead volume: what a priming bolus fills and what a concentration change
    /// must push through before the new drug reaches the patient.
    public var deadVolume: Volume { internalDeadVolume + catheterVolume }

    /// Catheter volume for a catheter of `centimetres` length at 0.0026 mL/cm (2,600 nL/cm), exact.
    public static func catheterVolume(lengthCentimetres: Int64) -> Volume {
        Volume(nanolitres: lengthCentimetres * 2_600)
    }

    /// A 20 mL pump with 0.25 μL strokes, 0.05 mL internal dead volume, a 110 cm catheter, 1 mL/h bolus
    /// flow and a 0.048 mL/day patency minimum: the bench rig's default.
    public static let bench20 = PumpProfile(
        name: "bench 20 mL", reservoirCapacity: .millilitres(20), strokeVolume: Volume(nanolitres: 250),
        internalDeadVolume: Volume(nanolitres: 50_000), catheterVolume: catheterVolume(lengthCentimetres: 110),
        bolusRate: FlowRate(nanolitresPerMinute: 16_667), minimumPatencyRate: VolumeRate(nanolitresPerDay: 48_000))

    /// As `bench20` with a 40 mL reservoir.
    public static let bench40: PumpProfile = {
        var p = bench20
        p.name = "bench 40 mL"
        p.reservoirCapacity = .millilitres(40)
        return p
    }()

    /// Allowed ranges (the project's choice, wide enough for every device in DOMAIN.md).
    public enum Limits {
        public static let reservoirCapacities: [Volume] = [.millilitres(20), .millilitres(40)]
        public static let strokeVolume = Volume(nanolitres: 50)...Volume(nanolitres: 10_000)
        public static let internalDeadVolume = Volume.zero...Volume(nanolitres: 1_000_000)
        public static let catheterVolume = Volume.zero...Volume(nanolitres: 1_000_000)
        public static let bolusRate = FlowRate(nanolitresPerMinute: 1_000)...FlowRate(nanolitresPerMinute: 1_000_000)
        public static let minimumPatencyRate = VolumeRate(nanolitresPerDay: 0)...VolumeRate(nanolitresPerDay: 200_000)
        public static let occlusionDetectionStrokes: ClosedRange<Int64> = 1...10_000
        public static let stallDetectionStrokes: ClosedRange<Int64> = 1...1_000
    }

    /// Checks every field against `Limits`; the error names the field, the value and the range.
    public func validate() throws(ConfigurationError) {
        guard Limits.reservoirCapacities.contains(reservoirCapacity) else {
            throw .outOfRange(field: "reservoirCapacity", value: reservoirCapacity.description, allowed: "20 mL or 40 mL")
        }
        try ConfigurationError.check("strokeVolume", strokeVolume, Limits.strokeVolume)
        try ConfigurationError.check("internalDeadVolume", internalDeadVolume, Limits.internalDeadVolume)
        try ConfigurationError.check("catheterVolume", catheterVolume, Limits.catheterVolume)
        try ConfigurationError.check("bolusRate", bolusRate, Limits.bolusRate)
        try ConfigurationError.check("minimumPatencyRate", minimumPatencyRate, Limits.minimumPatencyRate)
        try ConfigurationError.check("occlusionDetectionStrokes", occlusionDetectionStrokes, Limits.occlusionDetectionStrokes)
        try ConfigurationError.check("stallDetectionStrokes", stallDetectionStrokes, Limits.stallDetectionStrokes)
    }
}

/// A configuration value (pump profile, controller settings) outside what the project accepts.
public enum ConfigurationError: Error, Hashable, Sendable, Codable, CustomStringConvertible {
    /// `field` is `value`, outside `allowed`.
    case outOfRange(field: String, value: String, allowed: String)

    /// Throws `outOfRange` naming `field`, `value` and the range when `value` is outside `range`.
    public static func check<T: Comparable & CustomStringConvertible>(_ field: String, _ value: T,
                                                                     _ range: ClosedRange<T>) throws(ConfigurationError) {
        guard range.contains(value) else {
            throw .outOfRange(field: field, value: value.description, allowed: "\(range.lowerBound) … \(range.upperBound)")
        }
    }

    public var description: String {
        switch self {
        case let .outOfRange(field, value, allowed):
            return "\(field) is \(value), outside the allowed range \(allowed); set it within the range"
        }
    }
}
