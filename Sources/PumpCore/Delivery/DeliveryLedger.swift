/// What a stroke or bolus was for.
public enum DeliveryPurpose: String, Hashable, Sendable, Codable, CaseIterable {
    /// Continuous therapy (simple or flex schedule, taper levels).
    case basal
    /// A screening test dose.
    case testDose
    /// The priming bolus that fills the dead volume.
    case priming
}

/// Exact running totals of what the pump moved and what reached the patient.
///
/// Drug at the patient is counted in picograms (nL × μg/mL), so totals never round; `Mass` views
/// round down to the nanogram.
public struct DeliveryLedger: Hashable, Sendable, Codable {
    /// Strokes given, by purpose.
    public private(set) var strokes: [DeliveryPurpose: Int64] = [:]
    /// Volume pumped out of the reservoir, by purpose.
    public private(set) var pumped: [DeliveryPurpose: Volume] = [:]
    /// Drug that left the catheter tip, by purpose (pg).
    public private(set) var picograms: [DeliveryPurpose: Int64] = [:]
    // Basal totals kept apart from the dictionaries: the stroke hot path touches only these.
    public private(set) var basalStrokes: Int64 = 0
    public private(set) var basalPicograms: Int64 = 0

    public init() {}

    @inline(__always)
    mutating func recordBasal(picograms pg: Int64) {
        basalStrokes &+= 1
        basalPicograms &+= pg
    }

    mutating func recordBasal(strokes n: Int64, picograms pg: Int64) {
        basalStrokes &+= n
        basalPicograms &+= pg
    }

    mutating func record(_ purpose: DeliveryPurpose, volume: Volume, picograms pg: Int64) {
        strokes[purpose, default: 0] += 1
        pumped[purpose, default: .zero] = pumped[purpose, default: .zero] + volume
        picograms[purpose, default: 0] += pg
    }

    /// Strokes of `purpose` given so far.
    public func strokeCount(_ purpose: DeliveryPurpose, strokeVolume: Volume) -> Int64 {
        purpose == .basal ? basalStrokes : strokes[purpose, default: 0]
    }
    /// Drug delivered to the patient for `purpose`, exact picograms.
    public func deliveredPicograms(_ purpose: DeliveryPurpose) -> Int64 {
        purpose == .basal ? basalPicograms : picograms[purpose, default: 0]
    }
    /// Drug delivered to the patient, all purposes, rounded down to the ng.
    public var totalDelivered: Mass {
        Mass(nanograms: DeliveryPurpose.allCases.reduce(0) { $0 + deliveredPicograms($1) } / 1_000)
    }
    /// Volume pumped for `purpose`.
    public func pumpedVolume(_ purpose: DeliveryPurpose, strokeVolume: Volume) -> Volume {
        purpose == .basal ? strokeVolume * basalStrokes : pumped[purpose, default: .zero]
    }
}
