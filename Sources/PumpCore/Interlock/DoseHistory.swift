/// The programmed daily dose over time, kept for the last 24 h (plus the value in force at the start
/// of that window), so the interlock can bound changes per 24 h.
public struct DoseHistory: Hashable, Sendable, Codable {
    public struct Entry: Hashable, Sendable, Codable {
        public var at: Instant
        public var dailyDose: DoseRate
    }
    /// Changes in time order; the first one is in force at the start of any window asked about.
    public private(set) var entries: [Entry] = []
    /// When the daily dose was last increased.
    public private(set) var lastIncreaseAt: Instant?

    public init() {}

    /// The dose in force now.
    public var current: DoseRate? { entries.last?.dailyDose }

    mutating func record(_ dose: DoseRate, at t: Instant) {
        if let c = current, dose > c { lastIncreaseAt = t }
        entries.append(Entry(at: t, dailyDose: dose))
        // Keep the newest entry at or before t − 24 h and everything after it.
        let windowStart = t - .hours(24)
        if let keep = entries.lastIndex(where: { $0.at <= windowStart }), keep > 0 {
            entries.removeFirst(keep)
        }
    }

    /// Records an increase at `t` that the daily dose does not show (a reshaped schedule that raises a
    /// 24 h window of delivered drug).
    mutating func markIncrease(at t: Instant) { lastIncreaseAt = t }

    /// Every daily dose in force at some instant of the window (t − 24 h, t].
    public func doses(inWindowEndingAt t: Instant) -> [DoseRate] {
        let windowStart = t - .hours(24)
        var result: [DoseRate] = []
        for (i, e) in entries.enumerated() {
            let end = i + 1 < entries.count ? entries[i + 1].at : Instant.distantFuture
            if end > windowStart && e.at <= t { result.append(e.dailyDose) }
        }
        return result
    }
}
