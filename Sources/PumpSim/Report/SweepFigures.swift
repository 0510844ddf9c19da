import PumpCore

/// The distributions a sweep's pictures draw: hours at zero delivery and withdrawal-risk hours, per
/// alarm policy and per refill-delay bin, in one-minute buckets (exact to the minute, flat memory in
/// the number of runs). Built row by row, so shards merged in any order give the same figures.
public struct SweepFigures: Sendable {
    /// Refill-delay bins, days after the projected empty instant: lower bound inclusive, upper exclusive.
    public static let delayBins: [(label: String, lowerDays: Int64?, upperDays: Int64?)] = [
        ("early (before projected empty)", nil, 0), ("0–3 d late", 0, 3), ("3–7 d late", 3, 7),
        ("7–14 d late", 7, 14), ("14 d or more late", 14, nil),
    ]

    public static func delayBin(seconds: Int64) -> Int {
        let days = Double(seconds) / 86_400
        return delayBins.firstIndex { b in
            (b.lowerDays.map { days >= Double($0) } ?? true) && (b.upperDays.map { days < Double($0) } ?? true)
        } ?? delayBins.count - 1
    }

    public struct Pair: Sendable {
        public var zeroDelivery = MinuteHistogram()
        public var withdrawal = MinuteHistogram()
        /// Runs with any time at zero delivery / in a withdrawal-risk window.
        public var zeroDeliveryRuns: Int64 = 0
        public var withdrawalRuns: Int64 = 0
    }
    public private(set) var byPolicy: [ReservoirPolicy: Pair] = [:]
    public private(set) var byDelay: [Int: Pair] = [:]

    public init() {}

    /// Adds one run (failed runs are counted by the summary, not drawn).
    public mutating func add(_ row: SweepRow) {
        guard row.error == nil else { return }
        Self.add(row, to: &byPolicy[row.policy, default: Pair()])
        Self.add(row, to: &byDelay[Self.delayBin(seconds: row.refillDelaySeconds), default: Pair()])
    }

    static func add(_ row: SweepRow, to p: inout Pair) {
        p.zeroDelivery.add(row.zeroDeliverySeconds)
        p.withdrawal.add(row.withdrawalRiskSeconds)
        if row.zeroDeliverySeconds > 0 { p.zeroDeliveryRuns += 1 }
        if row.withdrawalRiskSeconds > 0 { p.withdrawalRuns += 1 }
    }

    public enum Measure: String, Sendable, CaseIterable {
        case zeroDelivery, withdrawal
        var title: String { self == .zeroDelivery ? "Hours at zero delivery" : "Withdrawal-risk hours" }
        func of(_ p: Pair) -> (MinuteHistogram, Int64) { self == .zeroDelivery ? (p.zeroDelivery, p.zeroDeliveryRuns) : (p.withdrawal, p.withdrawalRuns) }
    }
    public enum Grouping: String, Sendable, CaseIterable {
        case policy, refillDelay
        var title: String { self == .policy ? "by low-reservoir alarm policy" : "by refill delay" }
    }

    /// The groups of a figure in drawing order, each with its label and distribution.
    public func groups(_ m: Measure, _ g: Grouping) -> [(label: String, histogram: MinuteHistogram, aboveZero: Int64)] {
        switch g {
        case .policy:
            return ReservoirPolicy.allCases.compactMap { p in byPolicy[p].map { let (h, n) = m.of($0); return (p.rawValue, h, n) } }
        case .refillDelay:
            return Self.delayBins.indices.compactMap { i in byDelay[i].map { let (h, n) = m.of($0); return (Self.delayBins[i].label, h, n) } }
        }
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]

    /// An empirical cumulative distribution: for each group, the fraction of runs with at most x hours.
    public func ecdfSVG(_ m: Measure, _ grouping: Grouping) -> String {
        let gs = groups(m, grouping).filter { $0.histogram.count > 0 }
        let w = 760.0, h = 330.0, left = 64.0, legendW = 230.0, top = 48.0, bottom = 62.0
        let plotRight = w - legendW, plotW = plotRight - left, plotH = h - top - bottom
        let maxH = Double(gs.map { $0.histogram.maximum }.max() ?? 0) / 3_600
        let (step, ticks) = NiceAxis.ticks(hi: max(maxH, 1), target: 6)
        let xMax = ticks.last ?? 1
        func x(_ hours: Double) -> Double { left + plotW * min(max(hours / xMax, 0), 1) }
        func y(_ f: Double) -> Double { top + plotH * (1 - f) }
        var g = SVGWriter()
        g.raw("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(SVGWriter.f(w))\" height=\"\(SVGWriter.f(h))\" viewBox=\"0 0 \(SVGWriter.f(w)) \(SVGWriter.f(h))\" font-family=\"DejaVu Sans, Verdana, sans-serif\" font-size=\"11\" class=\"ecdf\">")
        g.raw("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>")
        g.text("\(m.title) \(grouping.title)", x: left, y: 24, size: 14, weight: "bold", cls: "title")
        g.rect(left, top, plotW, plotH, fill: "#fcfcfc", cls: "plot-area")
        for f in [0.0, 0.25, 0.5, 0.75, 1.0] {
            g.line(left, y(f), plotRight, y(f), stroke: "#e3e3e3", width: 1)
            g.text(NiceAxis.label(f, step: 0.25), x: left - 7, y: y(f) + 4, anchor: "end", fill: "#333", cls: "tick")
        }
        for t in ticks {
            g.line(x(t), top, x(t), top + plotH, stroke: "#ececec", width: 1)
            g.line(x(t), top + plotH, x(t), top + plotH + 5, stroke: "#333", width: 1)
            g.text(NiceAxis.label(t, step: step), x: x(t), y: top + plotH + 18, anchor: "middle", fill: "#333", cls: "tick")
        }
        g.text("hours per run (\(m == .zeroDelivery ? "therapy running, no drug reaching the CSF" : "CSF level below the withdrawal threshold"))",
               x: left + plotW / 2, y: h - 20, anchor: "middle", size: 12, cls: "axis-title")
        g.text("fraction of runs ≤ x", x: 16, y: top + plotH / 2, anchor: "middle", size: 12, rotate: true, cls: "axis-title")
        g.raw("<clipPath id=\"ecdf-\(m.rawValue)-\(grouping.rawValue)\"><rect x=\"\(SVGWriter.f(left))\" y=\"\(SVGWriter.f(top - 2))\" width=\"\(SVGWriter.f(plotW + 2))\" height=\"\(SVGWriter.f(plotH + 4))\"/></clipPath>")
        if gs.isEmpty { g.text("no completed runs", x: left + 10, y: top + 20, fill: "#666", cls: "note") }
        for (i, grp) in gs.enumerated() {
            let c = Self.palette[i % Self.palette.count]
            let hist = grp.histogram
            var pts: [(Double, Double)] = [(x(0), y(0))]
            var seen: Int64 = 0
            for (b, n) in hist.counts.enumerated() where n > 0 {
                let xx = x(Double(b) / 60)
                pts.append((xx, y(Double(seen) / Double(hist.count))))
                seen += Int64(n)
                pts.append((xx, y(Double(seen) / Double(hist.count))))
            }
            pts.append((plotRight, y(1)))
            g.polyline(decimate(pts), stroke: c, width: 2, clip: "ecdf-\(m.rawValue)-\(grouping.rawValue)")
            let median = hist.quantile(0.5).map { TextReport.fixed(Double($0) / 3_600, 1) } ?? "—"
            g.legend(grp.label, swatch: .line(c, 2, nil), x: plotRight + 20, y: top + 12 + Double(i) * 34)
            g.text("n = \(hist.count), median \(median) h", x: plotRight + 48, y: top + 26 + Double(i) * 34, size: 10, fill: "#555", cls: "legend-note")
        }
        g.rect(left, top, plotW, plotH, fill: "none", stroke: "#888")
        return "\(g.body)</svg>\n"
    }

    /// Quantiles of one group, hours (for summary.json and the HTML tables).
    public struct Quantiles: Sendable, Encodable {
        public var group: String
        public var runs: Int64
        public var runsAboveZero: Int64
        public var meanHours: Double?
        public var p50Hours: Double?
        public var p90Hours: Double?
        public var p95Hours: Double?
        public var maxHours: Double?
        public func encode(to e: Encoder) throws {
            var c = e.container(keyedBy: K.self)
            try c.encode(group, forKey: .group)
            try c.encode(runs, forKey: .runs)
            try c.encode(runsAboveZero, forKey: .runsAboveZero)
            try c.encode(meanHours, forKey: .meanHours)
            try c.encode(p50Hours, forKey: .p50Hours)
            try c.encode(p90Hours, forKey: .p90Hours)
            try c.encode(p95Hours, forKey: .p95Hours)
            try c.encode(maxHours, forKey: .maxHours)
        }
        enum K: String, CodingKey { case group, runs, runsAboveZero, meanHours, p50Hours, p90Hours, p95Hours, maxHours }
    }

    public func quantiles(_ m: Measure, _ g: Grouping) -> [Quantiles] {
        groups(m, g).map { grp in
            let x = grp.histogram
            func hrs(_ s: Int64?) -> Double? { s.map { Double($0) / 3_600 } }
            return Quantiles(group: grp.label, runs: x.count, runsAboveZero: grp.aboveZero,
                             meanHours: x.count > 0 ? Double(x.sum) / Double(x.count) / 3_600 : nil,
                             p50Hours: hrs(x.quantile(0.5)), p90Hours: hrs(x.quantile(0.9)), p95Hours: hrs(x.quantile(0.95)),
                             maxHours: x.count > 0 ? hrs(x.maximum) : nil)
        }
    }
}

/// `summary.json` of a sweep: what summary.txt says, as fields. Hours; null where nothing was measured.
public struct SweepSummaryReport: Sendable, Encodable {
    public struct Lead: Sendable, Encodable {
        public var runs: Int64
        public var meanHours: Double?
        public var p5Hours: Double?
        public var p50Hours: Double?
        public var p95Hours: Double?
        public var maxHours: Double?
        init(_ x: MinuteHistogram) {
            func h(_ s: Int64?) -> Double? { s.map { Double($0) / 3_600 } }
            runs = x.count
            meanHours = x.count > 0 ? Double(x.sum) / Double(x.count) / 3_600 : nil
            p5Hours = h(x.quantile(0.05)); p50Hours = h(x.quantile(0.5)); p95Hours = h(x.quantile(0.95))
            maxHours = x.count > 0 ? h(x.maximum) : nil
        }
        public func encode(to e: Encoder) throws {
            var c = e.container(keyedBy: K.self)
            try c.encode(runs, forKey: .runs); try c.encode(meanHours, forKey: .meanHours); try c.encode(p5Hours, forKey: .p5Hours)
            try c.encode(p50Hours, forKey: .p50Hours); try c.encode(p95Hours, forKey: .p95Hours); try c.encode(maxHours, forKey: .maxHours)
        }
        enum K: String, CodingKey { case runs, meanHours, p5Hours, p50Hours, p95Hours, maxHours }
    }
    public struct Policy: Sendable, Encodable {
        public var policy: String
        public var runs: Int64
        public var failed: Int64
        public var ranEmpty: Int64
        public var withdrawalRiskRuns: Int64
        public var lowReservoirLeadBeforeEmpty: Lead
        public var refillDueLeadBeforeEmpty: Lead
        public var withdrawalRisk: Lead
    }
    public var name: String
    public var seed: UInt64
    public var runsInSweep: Int
    public var firstRun: Int
    public var endRun: Int
    public var durationSeconds: Double
    public var fidelity: String
    public var withdrawalRiskThresholdFraction: Double
    public var policies: [Policy]
    public var zeroDeliveryHoursByPolicy: [SweepFigures.Quantiles]
    public var zeroDeliveryHoursByRefillDelay: [SweepFigures.Quantiles]
    public var withdrawalRiskHoursByPolicy: [SweepFigures.Quantiles]
    public var withdrawalRiskHoursByRefillDelay: [SweepFigures.Quantiles]
    public var provenance: ReportProvenance

    public init(plan: SweepPlan, runs range: Range<Int>, fidelity: Fidelity, summary: SweepSummary, figures: SweepFigures, provenance: ReportProvenance) {
        name = plan.name
        seed = plan.seed
        runsInSweep = plan.runs
        firstRun = range.lowerBound
        endRun = range.upperBound
        durationSeconds = Double(plan.duration.nanoseconds) / 1e9
        self.fidelity = fidelity.rawValue
        withdrawalRiskThresholdFraction = Double(plan.base.pk.withdrawalFraction.partsPerMillion) / 1e6
        policies = ReservoirPolicy.allCases.compactMap { p in
            summary.policies[p].map { x in
                Policy(policy: p.rawValue, runs: x.runs, failed: x.errors, ranEmpty: x.ranEmpty, withdrawalRiskRuns: x.withdrawalRuns,
                       lowReservoirLeadBeforeEmpty: Lead(x.lowReservoirLead), refillDueLeadBeforeEmpty: Lead(x.refillDueLead), withdrawalRisk: Lead(x.withdrawal))
            }
        }
        zeroDeliveryHoursByPolicy = figures.quantiles(.zeroDelivery, .policy)
        zeroDeliveryHoursByRefillDelay = figures.quantiles(.zeroDelivery, .refillDelay)
        withdrawalRiskHoursByPolicy = figures.quantiles(.withdrawal, .policy)
        withdrawalRiskHoursByRefillDelay = figures.quantiles(.withdrawal, .refillDelay)
        self.provenance = provenance
    }
}
