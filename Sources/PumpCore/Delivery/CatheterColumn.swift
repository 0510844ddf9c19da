/// The drug column between the reservoir and the catheter tip, first in, first out.
///
/// Each stroke pushes its volume in at the reservoir's concentration and the same volume out at the tip
/// at whatever concentration is there. So after a refill with a new concentration, the patient keeps
/// receiving the old concentration until the dead volume has been pushed through (the "bridge"), and an
/// unprimed catheter delivers no drug (saline, concentration 0) until it is primed.
///
/// Invariant: the segments' volumes add up to `capacity` exactly.
public struct CatheterColumn: Hashable, Sendable, Codable {
    /// A run of solution of one concentration.
    public struct Segment: Hashable, Sendable, Codable {
        public var volume: Volume
        public var concentration: Concentration
    }

    /// The column's volume (the pump's dead volume).
    public let capacity: Volume
    /// Segments from the tip (first) to the pump side (last).
    public private(set) var segments: [Segment]

    /// A column of `capacity` filled with `concentration` (use `.none` for an unprimed catheter).
    public init(capacity: Volume, filledWith concentration: Concentration) {
        self.capacity = capacity
        self.segments = capacity.nanolitres > 0 ? [Segment(volume: capacity, concentration: concentration)] : []
    }

    /// The concentration at the tip (what the next stroke delivers first).
    public var tipConcentration: Concentration? { segments.first?.concentration }

    /// True when the whole column holds `concentration`.
    @inlinable public func isUniform(_ concentration: Concentration) -> Bool {
        segments.count == 1 && segments[0].concentration == concentration
    }

    /// Drug (picograms) the patient receives when `volume` enters at `concentration`, without moving
    /// anything.
    public func picogramsDelivered(pushing volume: Volume, at concentration: Concentration) -> Int64 {
        var copy = self
        return copy.push(volume, at: concentration)
    }

    /// Pushes `volume` of solution at `concentration` in at the pump side; returns the drug (exact
    /// picograms) that leaves the tip into the CSF.
    @discardableResult
    public mutating func push(_ volume: Volume, at concentration: Concentration) -> Int64 {
        if capacity.nanolitres == 0 { return concentration.picograms(in: volume) }
        if segments.count == 1 && segments[0].concentration == concentration {
            return concentration.picograms(in: volume)
        }
        if let last = segments.last, last.concentration == concentration {
            segments[segments.count - 1].volume = last.volume + volume
        } else {
            segments.append(Segment(volume: volume, concentration: concentration))
        }
        var remaining = volume.nanolitres
        var picograms: Int64 = 0
        while remaining > 0 {
            let head = segments[0]
            let take = min(head.volume.nanolitres, remaining)
            picograms += take * head.concentration.microgramsPerMillilitre
            remaining -= take
            if take == head.volume.nanolitres { segments.removeFirst() } else {
                segments[0].volume = Volume(nanolitres: head.volume.nanolitres - take)
            }
        }
        return picograms
    }

    /// The volume that must enter at `concentration` for at most `picograms` of drug to leave the tip,
    /// in whole strokes of `strokeVolume`: the largest stroke count whose delivery does not exceed the
    /// target. Returns the stroke count and the exact picograms it delivers.
    public func strokes(deliveringAtMost picograms: Int64, strokeVolume: Volume,
                        entering concentration: Concentration) -> (strokes: Int64, picograms: Int64) {
        var copy = self
        var delivered: Int64 = 0
        var count: Int64 = 0
        // Walk stroke by stroke while the column is mixed; then in closed form.
        while !copy.isUniform(concentration) && copy.capacity.nanolitres > 0 {
            let next = copy.picogramsDelivered(pushing: strokeVolume, at: concentration)
            if delivered + next > picograms { return (count, delivered) }
            copy.push(strokeVolume, at: concentration)
            delivered += next
            count += 1
        }
        let perStroke = concentration.picograms(in: strokeVolume)
        guard perStroke > 0 else { return (count, delivered) }
        let more = (picograms - delivered) / perStroke
        return (count + more, delivered + more * perStroke)
    }
}
