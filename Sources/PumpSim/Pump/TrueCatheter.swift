import PumpCore

/// The catheter as the drug really moves through it: a first-in-first-out column of solution, in
/// picolitres, so a noisy stroke's exact volume is tracked. A concentration change reaches the
/// patient only after the dead volume has been pushed through.
///
/// Invariant: the segments' volumes add up to `capacity`.
public struct TrueCatheter: Hashable, Sendable, Codable {
    public struct Segment: Hashable, Sendable, Codable {
        public var volume: Picolitres
        public var concentration: Concentration
        public init(volume: Picolitres, concentration: Concentration) {
            self.volume = volume
            self.concentration = concentration
        }
    }
    public let capacity: Picolitres
    /// Tip first.
    public private(set) var segments: [Segment]

    /// A column of `capacity` holding `concentration` (`.none`: saline, unprimed).
    public init(capacity: Volume, filledWith concentration: Concentration) {
        self.capacity = Picolitres(capacity)
        segments = capacity.nanolitres > 0 ? [Segment(volume: Picolitres(capacity), concentration: concentration)] : []
    }

    /// Pushes `volume` in at `concentration`; returns the drug that leaves the tip (exact fg).
    public mutating func push(_ volume: Picolitres, at concentration: Concentration) -> Femtograms {
        if capacity.value == 0 || (segments.count == 1 && segments[0].concentration == concentration) {
            return volume.femtograms(at: concentration)
        }
        if let last = segments.last, last.concentration == concentration {
            segments[segments.count - 1].volume = last.volume + volume
        } else {
            segments.append(Segment(volume: volume, concentration: concentration))
        }
        var remaining = volume.value
        var fg: Int64 = 0
        while remaining > 0, let head = segments.first {
            let take = min(head.volume.value, remaining)
            fg += take * head.concentration.microgramsPerMillilitre
            remaining -= take
            if take == head.volume.value { segments.removeFirst() } else { segments[0].volume = Picolitres(head.volume.value - take) }
        }
        return Femtograms(fg)
    }

    /// Drug in the column (exact fg).
    public var drug: Femtograms { Femtograms(segments.reduce(0) { $0 + $1.volume.value * $1.concentration.microgramsPerMillilitre }) }

    /// The lowest concentration in the column (what bounds how often strokes can come).
    public var lowestConcentration: Concentration { segments.map(\.concentration).min() ?? .none }
}
