/// Decides when each stroke is due so that delivered drug tracks the integral of the rate exactly.
///
/// The clock accumulates *credit*: drug owed to the patient, in picogram·nanoseconds per day (so a rate
/// of R pg/day adds exactly R per nanosecond and no division ever rounds it). A stroke that delivers S
/// pg costs S × 86,400 × 10⁹. A stroke is due at the first nanosecond at which the credit covers it, and
/// the remainder carries over, so over any interval the delivered amount is the integral of the rate
/// less under one stroke.
///
/// In steady state (constant rate and stroke mass) the next due instant follows from a precomputed
/// quotient and remainder with no 128-bit division, which keeps a year of 3.5 million strokes cheap.
public struct StrokeClock: Hashable, Sendable, Codable {
    /// Rate owed to the patient, pg/day.
    public private(set) var picogramsPerDay: Int64 = 0
    /// Drug delivered by the next stroke, pg.
    public private(set) var strokePicograms: Int64 = 1
    /// Credit is known at this instant.
    public private(set) var anchor: Instant
    /// Credit at `anchor`, pg·ns/day. Always below the cost of one stroke plus one nanosecond's accrual.
    public private(set) var credit: Int128 = 0
    /// When the next stroke is due (`distantFuture` while the rate is zero).
    public private(set) var nextDue: Instant = .distantFuture
    // Cost of one stroke = quotient × rate + remainder (valid while rate > 0).
    private var quotient: Int64 = 0
    private var remainder: Int64 = 0
    /// The rate credit accrued at over the last 24 h (zero where credit was forgotten), which the
    /// interlock reads to know the drug delivered in any 24 h window reaching into the past.
    public private(set) var history = DeliveryRateHistory()

    public init(at t: Instant) { anchor = t }

    @inlinable static var day: Int128 { Int128(TimeConstants.nanosecondsPerDay) }

    /// Brings the credit forward to `t` (no stroke may be due before `t`).
    public mutating func accrue(to t: Instant) {
        guard t > anchor else { return }
        credit += Int128(picogramsPerDay) * Int128((t - anchor).nanoseconds)
        anchor = t
    }

    /// Changes the rate and/or stroke mass at `t`, keeping the credit earned so far.
    public mutating func set(picogramsPerDay rate: Int64, strokePicograms mass: Int64, at t: Instant) {
        accrue(to: t)
        picogramsPerDay = max(0, rate)
        strokePicograms = max(1, mass)
        history.record(picogramsPerDay: picogramsPerDay, at: anchor)
        recompute()
    }

    /// Forgets all credit at `t` (after an empty reservoir or a halt: missed drug is never caught up
    /// in a burst).
    public mutating func resetCredit(at t: Instant) {
        if t > anchor {
            // Nothing accrues between the last stroke (or rate change) and `t`.
            history.record(picogramsPerDay: 0, at: anchor)
            history.record(picogramsPerDay: picogramsPerDay, at: t)
        }
        anchor = max(anchor, t)
        credit = 0
        recompute()
    }

    /// Marks the stroke due at `nextDue` as given; the next stroke may use `nextStrokePicograms`.
    @inline(__always)
    public mutating func strokeGiven(nextStrokePicograms mass: Int64) {
        let due = nextDue
        credit += Int128(picogramsPerDay) * Int128((due - anchor).nanoseconds) - Int128(strokePicograms) * Self.day
        anchor = due
        if mass == strokePicograms, credit < Int128(picogramsPerDay) {
            // Steady state: 0 ≤ credit < rate, so ceil((cost − credit) / rate) = quotient + (remainder > credit).
            let c = Int64(credit)
            nextDue = Instant(nanoseconds: due.nanoseconds + quotient + (remainder > c ? 1 : 0))
        } else {
            strokePicograms = max(1, mass)
            recompute()
        }
    }

    /// How many strokes fall due at or before `limit` at the current rate and stroke mass:
    /// ⌊(rate × (limit − anchor) + credit) / (stroke × day)⌋, exact.
    public func strokesDue(upTo limit: Instant) -> Int64 {
        guard picogramsPerDay > 0, limit >= anchor else { return 0 }
        let earned = Int128(picogramsPerDay) * Int128((limit - anchor).nanoseconds) + credit
        let cost = Int128(strokePicograms) * Self.day
        // A stroke costs 2⁶⁴ or more for a 214 ng stroke, where `/` is compiler-rt's shift-and-subtract
        // loop: estimate the quotient in floating point (off by under one below 2⁵⁰) and correct it
        // with exact products. The same integer as `earned / cost`.
        if earned >= 0, earned < Int128(1) << 100 {
            let estimate = (Self.approximately(earned) / Self.approximately(cost)).rounded(.down)
            if estimate < 0x1p50 {
                var k = Int128(Int64(estimate))
                var rest = earned - k * cost
                while rest < 0 { k -= 1; rest += cost }
                while rest >= cost { k += 1; rest -= cost }
                return Int64(k)
            }
        }
        return Int64(clamping: earned / cost)
    }

    /// `v` as a `Double` to within a few units in the last place (0 ≤ v < 2¹²⁷), without the generic
    /// conversion's word loop.
    @inline(__always)
    static func approximately(_ v: Int128) -> Double {
        Double(Int64(truncatingIfNeeded: v >> 64)) * 0x1p64 + Double(UInt64(truncatingIfNeeded: v))
    }

    /// The instant the `k`-th next stroke (k ≥ 1) falls due at the current rate and stroke mass.
    public func due(afterStrokes k: Int64) -> Instant {
        // Past 128 or 64 bits, or a positive wait at no rate: a state the clock never reaches; trap.
        dueIfRepresentable(afterStrokes: k)!
    }

    /// `due(afterStrokes:)`, or nil where the instant passes 64 bits (or a product 128) or a positive
    /// wait has no rate.
    @inline(__always)
    public func dueIfRepresentable(afterStrokes k: Int64) -> Instant? {
        if picogramsPerDay > 0, quotient > 0, remainder >= 0, remainder < picogramsPerDay, let c = Int64(exactly: credit),
           Int128(quotient) * Int128(picogramsPerDay) + Int128(remainder) == Int128(strokePicograms) * Self.day {
            // cost = quotient × rate + remainder, so ⌈(k·cost − credit) / rate⌉ = k·quotient +
            // ⌈(k·remainder − credit) / rate⌉: one division in 64 bits where the products fit.
            let (kq, o1) = k.multipliedReportingOverflow(by: quotient)
            let (kr, o2) = k.multipliedReportingOverflow(by: remainder)
            let (y, o3) = kr.subtractingReportingOverflow(c)
            let (yUp, o4) = y.addingReportingOverflow(picogramsPerDay - 1)
            if !o1, !o2, !o3, !o4 {
                // `/` truncates towards zero, which is the ceiling for y ≤ 0.
                let (wait, o5) = kq.addingReportingOverflow(y > 0 ? yUp / picogramsPerDay : y / picogramsPerDay)
                if !o5 { return wait > 0 ? anchor + TimeSpan(nanoseconds: wait) : anchor }
            }
        }
        return Self.due(afterStrokes: k, anchor: anchor, credit: credit, rate: picogramsPerDay, mass: strokePicograms)
    }

    /// When the `k`-th stroke falls due for a clock at `anchor` with `credit` (pg·ns/day), `rate`
    /// (pg/day) and stroke `mass` (pg): anchor + ⌈(k · mass · day − credit) / rate⌉, or the anchor
    /// when that wait is not positive. Nil where a product passes 128 bits, the instant passes 64
    /// bits, or a positive wait has no rate. The one formula for it: the clock's own fallback and the
    /// recorded runs of `RecentBasalStrokes` both use it.
    static func due(afterStrokes k: Int64, anchor: Instant, credit: Int128, rate: Int64, mass: Int64) -> Instant? {
        let (strokes, o1) = Int128(k).multipliedReportingOverflow(by: Int128(mass))
        let (cost, o2) = strokes.multipliedReportingOverflow(by: Self.day)
        let (owed, o3) = cost.subtractingReportingOverflow(credit)
        guard !o1, !o2, !o3 else { return nil }
        guard owed > 0 else { return anchor }
        guard rate > 0 else { return nil }
        let r = Int128(rate)
        let (end, o4) = Int128(anchor.nanoseconds).addingReportingOverflow(owed / r + (owed % r == 0 ? 0 : 1))
        guard !o4, let ns = Int64(exactly: end) else { return nil }
        return Instant(nanoseconds: ns)
    }

    /// Marks the next `k` strokes as given at once (what `k` calls of `strokeGiven` with an unchanged
    /// stroke mass do, in O(1)); returns the instant of the last.
    public mutating func strokesGiven(_ k: Int64) -> Instant {
        let last = due(afterStrokes: k)
        credit += Int128(picogramsPerDay) * Int128((last - anchor).nanoseconds) - Int128(k) * Int128(strokePicograms) * Self.day
        anchor = last
        if picogramsPerDay > 0, quotient > 0, credit >= 0, credit < Int128(picogramsPerDay) {
            // Steady state, as in `strokeGiven`: the rate and mass are those `quotient` and
            // `remainder` were computed for, so no division is needed.
            nextDue = Instant(nanoseconds: last.nanoseconds + quotient + (remainder > Int64(credit) ? 1 : 0))
        } else {
            recompute()
        }
        return last
    }

    private mutating func recompute() {
        guard picogramsPerDay > 0 else { nextDue = .distantFuture; quotient = 0; remainder = 0; return }
        let cost = Int128(strokePicograms) * Self.day
        let rate = Int128(picogramsPerDay)
        quotient = Int64(cost / rate)
        remainder = Int64(cost % rate)
        if credit >= cost { nextDue = anchor; return }
        let wait = (cost - credit + rate - 1) / rate
        nextDue = anchor + TimeSpan(nanoseconds: Int64(wait))
    }
}
