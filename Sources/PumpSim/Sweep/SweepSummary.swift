import PumpCore

/// A distribution of whole-second values in flat memory: counts in one-minute buckets up to 120 days
/// (beyond: the last bucket), plus exact count, sum and extremes. Quantiles are exact to the minute.
public struct MinuteHistogram: Sendable {
    public static let buckets = 120 * 1_440
    var counts: [Int32]
    public private(set) var count: Int64 = 0
    public private(set) var sum: Int64 = 0
    public private(set) var minimum: Int64 = .max
    public private(set) var maximum: Int64 = .min

    public init() { counts = [Int32](repeating: 0, count: Self.buckets) }

    public mutating func add(_ seconds: Int64) {
        count += 1
        sum += seconds
        minimum = min(minimum, seconds)
        maximum = max(maximum, seconds)
        counts[Int(min(max(seconds / 60, 0), Int64(Self.buckets - 1)))] += 1
    }

    /// The lower edge (s) of the minute bucket holding quantile `q` (0…1).
    public func quantile(_ q: Double) -> Int64? {
        guard count > 0 else { return nil }
        let rank = Int64((q * Double(count - 1)).rounded(.down))
        var seen: Int64 = 0
        for (i, c) in counts.enumerated() where c > 0 {
            seen += Int64(c)
            if seen > rank { return Int64(i) * 60 }
        }
        return maximum
    }
}

/// Distributions per alarm policy, built row by row (so a merge of shards gives the same summary).
public struct SweepSummary: Sendable {
    public struct PerPolicy: Sendable {
        public var runs: Int64 = 0
        public var errors: Int64 = 0
        public var ranEmpty: Int64 = 0
        public var withdrawalRuns: Int64 = 0
        public var lowReservoirLead = MinuteHistogram()
        public var refillDueLead = MinuteHistogram()
        public var withdrawal = MinuteHistogram()
    }
    public private(set) var policies: [ReservoirPolicy: PerPolicy] = [:]
    public private(set) var runs: Int64 = 0

    public init() {}

    public mutating func add(_ row: SweepRow) {
        runs += 1
        // In place: a copy of the entry would share its three 675 KiB histograms with the dictionary,
        // and the first `add` to each would copy it (2 MB of memmove per row).
        Self.add(row, to: &policies[row.policy, default: PerPolicy()])
    }

    static func add(_ row: SweepRow, to p: inout PerPolicy) {
        p.runs += 1
        if row.error != nil { p.errors += 1 } else {
            if row.reservoirEmptyAtSeconds != nil { p.ranEmpty += 1 }
            if row.withdrawalRiskSeconds > 0 { p.withdrawalRuns += 1 }
            if let l = row.lowReservoirLeadSeconds { p.lowReservoirLead.add(l) }
            if let l = row.refillDueLeadSeconds { p.refillDueLead.add(l) }
            p.withdrawal.add(row.withdrawalRiskSeconds)
        }
    }

    /// The report: per policy, the alarm lead time before empty and the withdrawal-risk window.
    public func render(threshold: String) -> String {
        var out = ["sweep summary: \(Plural.count(runs, "run")); withdrawal-risk threshold: \(threshold)"]
        func h(_ s: Int64?) -> String { s.map { TextReport.fixed(Double($0) / 3_600, 1) } ?? "—" }
        func line(_ name: String, _ x: MinuteHistogram) -> String {
            let mean = x.count > 0 ? TextReport.fixed(Double(x.sum) / Double(x.count) / 3_600, 1) : "—"
            return "    \(name.padding(30)) n=\(String(x.count).padding(7)) mean \(mean.padding(7)) p5 \(h(x.quantile(0.05)).padding(7)) p50 \(h(x.quantile(0.5)).padding(7)) p95 \(h(x.quantile(0.95)).padding(7)) max \(h(x.count > 0 ? x.maximum : nil)) (hours)"
        }
        for policy in ReservoirPolicy.allCases {
            guard let p = policies[policy] else { continue }
            out.append("  \(policy.rawValue): \(Plural.count(p.runs, "run")), \(p.ranEmpty) ran empty, \(p.withdrawalRuns) with a withdrawal-risk window, \(p.errors) failed")
            out.append(line("low-reservoir lead before empty", p.lowReservoirLead))
            out.append(line("refill-due lead before empty", p.refillDueLead))
            out.append(line("withdrawal-risk window", p.withdrawal))
        }
        return out.joined(separator: "\n")
    }
}
