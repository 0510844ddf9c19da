/// The controller's calculated reservoir. Nothing measures the volume: it is the last fill less every
/// stroke, reconciled at each refill against the residual withdrawn.
///
/// Invariant: `0 ≤ estimate ≤ capacity`.
public struct Reservoir: Hashable, Sendable, Codable {
    public let capacity: Volume
    /// Estimated volume left.
    public internal(set) var estimate: Volume = .zero
    /// Concentration of the drug in the reservoir (`.none` before the first fill).
    public internal(set) var concentration: Concentration = .none
    /// When it was last filled.
    public internal(set) var filledAt: Instant?
    /// Volume pumped since the last fill.
    public internal(set) var pumpedSinceFill: Volume = .zero

    public init(capacity: Volume) { self.capacity = capacity }

    /// The refill-discrepancy tolerance: 14.5 % of the volume pumped since the previous refill.
    public static let discrepancyTolerancePerMille: Int64 = 145

    /// True when |withdrawn − estimate| exceeds 14.5 % of the volume pumped since the last fill.
    public func isDiscrepant(withdrawn: Volume) -> Bool {
        let diff = abs(withdrawn.nanolitres - estimate.nanolitres)
        return diff * 1_000 > pumpedSinceFill.nanolitres * Self.discrepancyTolerancePerMille
    }
}

/// A bolus in progress: `strokes` strokes spread evenly over `duration`, the k-th (1-based) at
/// `startedAt + ⌈k × duration / strokes⌉`.
public struct BolusState: Hashable, Sendable, Codable {
    public let purpose: DeliveryPurpose
    public let target: Mass
    public let strokes: Int64
    public let startedAt: Instant
    public let duration: TimeSpan
    public internal(set) var given: Int64 = 0
    public internal(set) var picograms: Int64 = 0
    public var endsAt: Instant { startedAt + duration }
    /// When the next stroke is due.
    public var nextAt: Instant { instant(ofStroke: given + 1) }

    /// When stroke `j` (1-based) is due: startedAt + ⌈j·duration/strokes⌉ (`strokes` > 0). The one
    /// formula for the bolus's instants: `nextAt`, a saline pass's last stroke and the
    /// simulation runner's bolus horizon all use it.
    public func instant(ofStroke j: Int64) -> Instant {
        startedAt + TimeSpan(nanoseconds: Int64((Int128(j) * Int128(duration.nanoseconds) + Int128(strokes) - 1) / Int128(strokes)))
    }

    /// How many of the bolus's strokes are due by `t` (0 ... `strokes`): the largest j with
    /// ⌈j·duration/strokes⌉ ≤ t − startedAt, that is j ≤ ⌊(t − startedAt)·strokes/duration⌋.
    func strokesDue(by t: Instant) -> Int64 {
        guard t >= startedAt else { return 0 }
        let d = Int128(duration.nanoseconds), n = Int128(strokes)
        return d == 0 ? strokes : Int64(min(n, Int128((t - startedAt).nanoseconds) * n / d))
    }

    /// The instants of the strokes still to give, in order, from one 128-bit division (`nextAt` costs
    /// one per stroke): stroke k (1-based) is due at startedAt + ⌈k·duration/strokes⌉.
    struct Schedule: Hashable, Sendable {
        let startedAt: Instant
        /// duration = q·strokes + r.
        let q: Int64, r: Int64, strokes: Int64
        /// ⌈k·duration/strokes⌉ for the next stroke k, and the slack off·strokes − k·duration ∈ [0, strokes).
        var off: Int64, slack: Int64
        /// When the next stroke is due (`nextAt` of the bolus with as many strokes given).
        var nextAt: Instant { startedAt + TimeSpan(nanoseconds: off) }
        /// Moves to the stroke after: off grows by q, or q + 1 when the slack would go negative.
        mutating func advance() {
            off += q
            slack -= r
            if slack < 0 { off += 1; slack += strokes }
        }
    }

    /// The schedule from the next stroke on (`strokes` > 0, `duration` ≥ 0).
    var schedule: Schedule {
        let k = Int128(given + 1), d = Int128(duration.nanoseconds), n = Int128(strokes)
        let off = (k * d + n - 1) / n
        return Schedule(startedAt: startedAt, q: duration.nanoseconds / strokes, r: duration.nanoseconds % strokes,
                        strokes: strokes, off: Int64(off), slack: Int64(off * n - k * d))
    }
}

/// Screening history: test doses and the responses recorded.
public struct Screening: Hashable, Sendable, Codable {
    public struct Dose: Hashable, Sendable, Codable {
        public let dose: Mass
        public let startedAt: Instant
        public let endsAt: Instant
        public internal(set) var response: TestDoseResponse?
    }
    public internal(set) var doses: [Dose] = []
    public init() {}

    /// The test-dose steps.
    public static let allowedDoses: [Mass] = [25, 50, 75, 100].map { Mass.micrograms($0) }

    /// The effective test dose, if one was recorded.
    public var effective: (dose: Mass, lastedOverEightHours: Bool)? {
        for d in doses.reversed() {
            if case let .effective(long) = d.response { return (d.dose, long) }
        }
        return nil
    }

    /// The highest starting daily dose therapy may begin at after this screening: the offer, or the
    /// 50 μg/day floor when the offer is below it (a 25 μg responder whose effect lasted over 8 h is
    /// offered 25 μg/day, which no schedule may deliver; the floor is the lowest dose there is).
    public var permittedStartingDose: DoseRate? { offeredStartingDose.map { max($0, .floor) } }

    /// The starting daily dose offered from the effective test dose: twice it per 24 h, or the dose
    /// itself if its effect lasted more than 8 h.
    public var offeredStartingDose: DoseRate? {
        guard let e = effective else { return nil }
        let ng = e.dose.nanograms * (e.lastedOverEightHours ? 1 : 2)
        return DoseRate(nanogramsPerDay: ng)
    }

    /// Which test doses may be given next, or why none may.
    public func nextAllowed() -> Result<[Mass], Refusal> {
        guard let last = doses.last else { return .success([.micrograms(25), .micrograms(50)]) }
        switch last.response {
        case nil: return .failure(.testDoseResponsePending(dose: last.dose))
        case .effective: return .failure(.screeningComplete(effectiveDose: last.dose))
        case .noResponse:
            guard let i = Self.allowedDoses.firstIndex(of: last.dose), i + 1 < Self.allowedDoses.count else {
                return .failure(.notACandidate)
            }
            return .success([Self.allowedDoses[i], Self.allowedDoses[i + 1]])
        }
    }
}
