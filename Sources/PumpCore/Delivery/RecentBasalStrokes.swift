/// The instants of the last basal strokes, kept as runs of the stroke clock's own arithmetic, so that
/// the instant of any of the last `keep` strokes is known exactly in O(1) memory per run.
///
/// What it is for: an occlusion (pressure) sensor trips only after up to `occlusionDetectionStrokes`
/// strokes into a blockage, and the stall reading comes after up to `stallDetectionStrokes` strokes
/// without feedback. So a reading at t proves delivery may have stopped just after the stroke that
/// many strokes before it, which may be hours before t at a low rate: the interruption is timed from
/// there (`PumpController.stoppageDatedBack`), not from the reading.
///
/// A run is a stretch of strokes the clock gave at one rate and stroke mass with no change in between
/// (no rate change, no credit reset), so its m-th stroke fell due at
/// `anchor + ⌈(m · mass · day − credit) / rate⌉` (`StrokeClock.due(afterStrokes:anchor:credit:rate:mass:)`)
/// from the state the clock had before the run's first stroke. A batch of n strokes is one run (or extends the last), so
/// recording costs O(1) per batch and never a division.
public struct RecentBasalStrokes: Hashable, Sendable, Codable {
    /// Strokes `first ..< first + count` (ledger numbering: the ledger's `basalStrokes` after a stroke
    /// is that stroke's number), given by a clock that was at `anchor` with `credit` before the first.
    public struct Run: Hashable, Sendable, Codable {
        public var first: Int64
        public var count: Int64
        public var anchor: Instant
        public var credit: Int128
        public var picogramsPerDay: Int64
        public var strokePicograms: Int64

        /// The instant of the run's `m`-th stroke (1 ≤ m ≤ count), by the clock's own formula. Never
        /// traps, whatever a decoded run holds: where the formula has no instant, the farthest one (the
        /// caller bounds the result by the course's start and the reading, `stoppageDatedBack`).
        func instant(ofStroke m: Int64) -> Instant {
            StrokeClock.due(afterStrokes: m, anchor: anchor, credit: credit, rate: picogramsPerDay, mass: strokePicograms)
                ?? Instant(nanoseconds: .max)
        }

        /// True when a clock at `anchor` with `credit`, `rate` and `mass` is on this run's arithmetic
        /// after its strokes: same rate and mass, and the credit exactly what the run's start and its
        /// strokes leave (checked by products only).
        @inline(__always)
        func continues(anchor a: Instant, credit c: Int128, rate: Int64, mass: Int64) -> Bool {
            guard rate == picogramsPerDay, mass == strokePicograms, a >= anchor else { return false }
            // Overflow-checked: a decoded run may hold anything (it then simply does not continue).
            let (accrued, o1) = Int128(rate).multipliedReportingOverflow(by: Int128(a.nanoseconds) - Int128(anchor.nanoseconds))
            let (strokes, o2) = Int128(count).multipliedReportingOverflow(by: Int128(mass))
            let (spent, o3) = strokes.multipliedReportingOverflow(by: StrokeClock.day)
            let (gained, o4) = credit.addingReportingOverflow(accrued)
            let (expected, o5) = gained.subtractingReportingOverflow(spent)
            return !(o1 || o2 || o3 || o4 || o5) && c == expected
        }
    }

    public internal(set) var runs: [Run] = []

    public init() {}

    /// `n` strokes given by a clock at `anchor` with `credit`, `rate` (pg/day) and stroke `mass` (pg)
    /// as it is *before* them, the first of them being ledger stroke `first`; keeps at least the last
    /// `keep` strokes.
    /// The clock's fields are passed, not the clock: a copy of it retains its rate history.
    @inline(__always)
    mutating func record(_ n: Int64, first: Int64, anchor: Instant, credit: Int128, rate: Int64, mass: Int64, keep: Int64) {
        guard n > 0 else { return }
        let i = runs.count - 1
        if i >= 0, runs[i].first &+ runs[i].count == first, runs[i].continues(anchor: anchor, credit: credit, rate: rate, mass: mass) {
            runs[i].count &+= n
        } else {
            runs.append(Run(first: first, count: n, anchor: anchor, credit: credit, picogramsPerDay: rate, strokePicograms: mass))
        }
        // After every record, so the runs held depend only on the strokes given, not on how they
        // were batched.
        if runs.count > 1, first &+ n &- (runs[0].first &+ runs[0].count) >= keep { prune(keep: keep) }
    }

    /// Drops the runs that hold none of the last `keep` strokes.
    mutating func prune(keep: Int64) {
        guard let last = runs.last else { return }
        let end = last.first &+ last.count
        var drop = 0
        while drop < runs.count - 1, end &- (runs[drop].first &+ runs[drop].count) >= keep { drop += 1 }
        if drop > 0 { runs.removeFirst(drop) }
    }

    /// The instant of ledger stroke `number`, nil when it is not held (older than the runs kept, or
    /// not given yet).
    public func instant(ofStroke number: Int64) -> Instant? {
        for r in runs.reversed() where number >= r.first {
            return number < r.first &+ r.count ? r.instant(ofStroke: number &- r.first &+ 1) : nil
        }
        return nil
    }

    /// The instant of the first stroke held, nil when none.
    public var earliest: Instant? { runs.first?.instant(ofStroke: 1) }
}
