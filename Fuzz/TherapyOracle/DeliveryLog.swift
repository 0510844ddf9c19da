import PumpCore

/// The basal strokes a controller commanded, as runs (a batching advance gives a run of evenly spaced
/// strokes at once; a single stroke is a run of one), with exact prefix sums so the drug of any
/// interval is a binary search away.
///
/// Inside a run the k-th stroke is placed where the stroke clock spaced it (evenly from `first` to
/// `last`), so a window edge that falls inside a run is off by less than one stroke.
public struct DeliveryLog: Sendable {
    struct Run: Sendable {
        var first: Int64
        var last: Int64
        var count: Int64
        var picogramsEach: Int64
    }
    var runs: [Run] = []
    /// Drug before run i, pg.
    var before: [Int64] = []
    /// Drug of every run, pg.
    public private(set) var total: Int64 = 0
    /// The heaviest stroke seen, pg.
    public private(set) var heaviestStroke: Int64 = 0

    public init() {}

    /// Appends a run of `count` strokes of `picogramsEach` pg, the first at `first`, the last at `last`.
    public mutating func append(first: Instant, last: Instant, count: Int64, picogramsEach: Int64) {
        guard count > 0 else { return }
        runs.append(Run(first: first.nanoseconds, last: last.nanoseconds, count: count, picogramsEach: picogramsEach))
        before.append(total)
        total += count * picogramsEach
        heaviestStroke = max(heaviestStroke, picogramsEach)
    }

    /// Drug of the strokes at or before `t`, pg.
    public func cumulative(at t: Instant) -> Int64 {
        let ns = t.nanoseconds
        var lo = 0, hi = runs.count
        while lo < hi { let mid = (lo + hi) / 2; if runs[mid].first <= ns { lo = mid + 1 } else { hi = mid } }
        if lo == 0 { return 0 }
        let r = runs[lo - 1]
        let k: Int64
        if ns >= r.last || r.count == 1 { k = r.count }
        else { k = Int64(Int128(ns - r.first) * Int128(r.count - 1) / Int128(r.last - r.first)) + 1 }
        return before[lo - 1] + k * r.picogramsEach
    }

    /// Drug of the strokes in (a, b], pg.
    public func delivered(after a: Instant, upTo b: Instant) -> Int64 { cumulative(at: b) - cumulative(at: a) }

    /// Instants of run edges in (a, b]: where window sums change most.
    func edges(after a: Instant, upTo b: Instant) -> [Instant] {
        var lo = 0, hi = runs.count
        while lo < hi { let mid = (lo + hi) / 2; if runs[mid].last <= a.nanoseconds { lo = mid + 1 } else { hi = mid } }
        var out: [Instant] = []
        var i = lo
        while i < runs.count && runs[i].first <= b.nanoseconds {
            if runs[i].first > a.nanoseconds { out.append(Instant(nanoseconds: runs[i].first)) }
            if runs[i].last <= b.nanoseconds && runs[i].last != runs[i].first { out.append(Instant(nanoseconds: runs[i].last)) }
            i += 1
        }
        return out
    }
}
