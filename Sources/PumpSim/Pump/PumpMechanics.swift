import PumpCore

/// The physical behaviour of a simulated pump beyond its `PumpProfile`: how far its strokes are off,
/// how much they scatter, and how its sensors respond. Codable data, so a scenario file sets it.
public struct PumpMechanics: Hashable, Sendable, Codable {
    /// Systematic stroke error: each stroke moves `strokeVolume × (1 + bias)` on average
    /// (−50 % … +50 %; SynchroMed II is labelled ±14.5 %).
    public var calibrationBias: Fraction = Fraction(partsPerMillion: 0)
    /// Standard deviation of one stroke's volume relative to the stroke volume (0 … 4 %). Per-stroke
    /// noise is drawn from a centred binomial (bounded at ±11.3 σ), so a stroke never moves a negative
    /// volume even at −50 % bias.
    public var strokeNoise: Fraction = Fraction(partsPerMillion: 0)
    /// Seed of the pump's noise generator.
    public var seed: UInt64 = 1
    /// Occluded strokes until the occlusion (pressure) sensor trips (1 … 10,000, and at most the pump
    /// profile's `occlusionDetectionStrokes`, the labelled figure the controller relies on).
    public var occlusionTripStrokes: Int64 = 40
    /// Volume the occluded line can take up under pressure before strokes stop moving drug at all;
    /// released to the patient when the occlusion clears (0 … 1 mL).
    public var occlusionCompliance: Volume = .microlitres(50)
    /// Commanded strokes without stroke feedback until the stall sensor trips (1 … 1,000, and at most
    /// the pump profile's `stallDetectionStrokes`).
    public var stallTripStrokes: Int64 = 3
    /// The reservoir-empty switch closes when the true volume is at or below this (0 … 2 mL).
    public var emptySensorLevel: Volume = .microlitres(100)

    public init() {}

    public enum Limits {
        public static let calibrationBias = Fraction.percent(-50)...Fraction.percent(50)
        public static let strokeNoise = Fraction.percent(0)...Fraction.percent(4)
        public static let occlusionTripStrokes: ClosedRange<Int64> = 1...10_000
        public static let occlusionCompliance = Volume.zero...Volume.millilitres(1)
        public static let stallTripStrokes: ClosedRange<Int64> = 1...1_000
        public static let emptySensorLevel = Volume.zero...Volume.millilitres(2)
    }

    /// A sensor slower than the pump's label: its trip strokes above the profile's detection strokes,
    /// which the controller relies on (the interruption rule would not hold).
    public struct SlowerThanLabel: Hashable, Sendable {
        /// `occlusionTripStrokes` or `stallTripStrokes`, and its value.
        public var field: String
        public var value: Int64
        /// The profile's field (`occlusionDetectionStrokes`, `stallDetectionStrokes`) and its value.
        public var labelField: String
        public var label: Int64
    }

    /// Each sensor slower than `profile`'s label (empty when both are within it).
    public func slowerThanLabel(of profile: PumpProfile) -> [SlowerThanLabel] {
        [SlowerThanLabel(field: "occlusionTripStrokes", value: occlusionTripStrokes,
                         labelField: "occlusionDetectionStrokes", label: profile.occlusionDetectionStrokes),
         SlowerThanLabel(field: "stallTripStrokes", value: stallTripStrokes,
                         labelField: "stallDetectionStrokes", label: profile.stallDetectionStrokes)]
            .filter { $0.value > $0.label }
    }

    /// These mechanics with each sensor's trip strokes lowered to `profile`'s label where above it.
    public func withinLabel(of profile: PumpProfile) -> PumpMechanics {
        var m = self
        m.occlusionTripStrokes = min(occlusionTripStrokes, profile.occlusionDetectionStrokes)
        m.stallTripStrokes = min(stallTripStrokes, profile.stallDetectionStrokes)
        return m
    }

    /// Checks every field; the error names the field, the value and the range.
    public func validate() throws(ConfigurationError) {
        func check<T: Comparable & CustomStringConvertible>(_ f: String, _ v: T, _ r: ClosedRange<T>) throws(ConfigurationError) {
            guard r.contains(v) else { throw .outOfRange(field: f, value: v.description, allowed: "\(r.lowerBound) … \(r.upperBound)") }
        }
        try check("mechanics.calibrationBias", calibrationBias, Limits.calibrationBias)
        try check("mechanics.strokeNoise", strokeNoise, Limits.strokeNoise)
        try check("mechanics.occlusionTripStrokes", occlusionTripStrokes, Limits.occlusionTripStrokes)
        try check("mechanics.occlusionCompliance", occlusionCompliance, Limits.occlusionCompliance)
        try check("mechanics.stallTripStrokes", stallTripStrokes, Limits.stallTripStrokes)
        try check("mechanics.emptySensorLevel", emptySensorLevel, Limits.emptySensorLevel)
    }
}
