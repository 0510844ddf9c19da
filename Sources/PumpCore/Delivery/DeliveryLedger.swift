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
    /// Totals of one non-basal purpose.
    public struct Totals: Hashable, Sendable, Codable {
        public var strokes: Int64 = 0
        public var pumped = Volume.zero
        public var picograms: Int64 = 0
    }
    /// Test-dose and priming totals (plain fields: no hashing on the stroke path).
    public private(set) var testDose = Totals()
    public private(set) var priming = Totals()
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
        func add(_ t: inout Totals) { t.strokes += 1; t.pumped = t.pumped + volume; t.picograms += pg }
        switch purpose {
        case .basal: basalStrokes &+= 1; basalPicograms &+= pg
        case .testDose: add(&testDose)
        case .priming: add(&priming)
        }
    }

    /// `strokes` strokes of `purpose` moving `volume` and delivering `pg` in all: what as many calls of
    /// `record(_:volume:picograms:)` with their shares add.
    mutating func record(_ purpose: DeliveryPurpose, strokes n: Int64, volume: Volume, picograms pg: Int64) {
        func add(_ t: inout Totals) { t.strokes += n; t.pumped = t.pumped + volume; t.picograms += pg }
        switch purpose {
        case .basal: basalStrokes &+= n; basalPicograms &+= pg
        case .testDose: add(&testDose)
        case .priming: add(&priming)
        }
    }

    private func totals(_ purpose: DeliveryPurpose) -> Totals {
        switch purpose {
        case .basal: return Totals(strokes: basalStrokes, pumped: .zero, picograms: basalPicograms)
        case .testDose: return testDose
        case .priming: return priming
        }
    }

    /// Strokes of `purpose` given so far.
    public func strokeCount(_ purpose: DeliveryPurpose, strokeVolume: Volume) -> Int64 {
        totals(purpose).strokes
    }
    /// Drug delivered to the patient for `purpose`, exact picograms.
    public func deliveredPicograms(_ purpose: DeliveryPurpose) -> Int64 {
        totals(purpose).picograms
    }
    /// Drug delivered to the patient, all purposes, rounded down to the ng.
    public var totalDelivered: Mass {
        Mass(nanograms: DeliveryPurpose.allCases.reduce(0) { $0 + deliveredPicograms($1) } / 1_000)
    }
    /// Volume pumped for `purpose`.
    public func pumpedVolume(_ purpose: DeliveryPurpose, strokeVolume: Volume) -> Volume {
        purpose == .basal ? strokeVolume * basalStrokes : totals(purpose).pumped
    }
}
