import PumpCore

/// A hand-written SVG of a run on one shared time axis: reservoir volume (true and the controller's
/// estimate, refills marked), delivery rate to the CSF, CSF level with the withdrawal threshold, the
/// withdrawal severity, and an alarm lane with each alarm named and drawn from raised to cleared.
/// Withdrawal-risk windows are shaded across every panel. Legends sit in a column right of the data;
/// every coordinate has one fixed decimal.
public enum SVGPlot {
    static let colors = (truth: "#1f77b4", estimate: "#ff7f0e", rate: "#2ca02c", csf: "#9467bd", threshold: "#d62728",
                         severity: "#8c564b", severe: "#7f7f7f", risk: "#d62728", refill: "#17becf")
    static func priorityColor(_ p: AlarmPriority) -> String { p == .high ? "#d62728" : p == .medium ? "#ff7f0e" : "#7f7f7f" }

    /// The time axis: days (hours for runs under two days), ticks on whole steps, never past the end.
    static func timeTicks(endSeconds: Double) -> (unit: Double, name: String, ticks: [Double], step: Double) {
        let days = endSeconds / 86_400
        if days < 2 {
            let (step, ticks) = NiceAxis.ticks(hi: endSeconds / 3_600, target: 8)
            return (3_600, "hours", ticks.filter { $0 <= endSeconds / 3_600 + 1e-9 }, step)
        }
        let step = [1.0, 2, 5, 7, 10, 14, 20, 30, 60, 90, 180, 365, 730, 1_825].first { days / $0 <= 10 } ?? 3_650
        return (86_400, "days", stride(from: 0.0, through: days + 1e-9, by: step).map { $0 }, step)
    }

    /// The plot of a run whose series the recorder kept.
    public static func render(_ r: SimulationResult) -> String {
        render(r) { body in for row in r.recorder.series { body(row) } }
    }

    /// The plot of a run whose series went to `series` (read back in a few passes, never held).
    public static func render(_ r: SimulationResult, series: SeriesStream) -> String {
        render(r, rows: series.forEachRow)
    }

    /// The plot from the rows `forEachRow` gives, in order, each time it is called.
    static func render(_ r: SimulationResult, rows forEachRow: ((SeriesRow) -> Void) -> Void) -> String {
        let rec = r.recorder, sc = r.scenario
        let endS = max(Double(r.end.nanoseconds) / 1e9, 1)
        func sec(_ t: Instant) -> Double { Double(t.nanoseconds) / 1e9 }

        // Alarm lane rows: one per kind, in order of first raise.
        var kinds: [AlarmKind] = []
        for a in rec.alarms where !kinds.contains(a.kind) { kinds.append(a.kind) }
        let longestName = kinds.map(\.rawValue.count).max() ?? 0

        let w = 1_060.0, legendW = 212.0, gutter = 48.0
        let left = max(76.0, 6.6 * Double(longestName) + 18)
        let plotRight = w - legendW - gutter, plotW = plotRight - left
        let legendX = plotRight + gutter
        let panelH = 128.0, gap = 46.0, top = 84.0
        let laneRow = 20.0
        let laneH = max(Double(max(kinds.count, 1)) * laneRow + 8, 64)
        let panelCount = 4
        let laneTop = top + Double(panelCount) * (panelH + gap)
        let laneBottom = laneTop + laneH
        let h = laneBottom + 78
        func x(_ s: Double) -> Double { left + plotW * min(max(s / endS, 0), 1) }

        var g = SVGWriter()
        g.raw("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(SVGWriter.f(w))\" height=\"\(SVGWriter.f(h))\" viewBox=\"0 0 \(SVGWriter.f(w)) \(SVGWriter.f(h))\" font-family=\"DejaVu Sans, Verdana, sans-serif\" font-size=\"11\" class=\"run-plot\">")
        g.raw("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>")
        g.text("\(sc.name) — \(r.fidelity.rawValue) fidelity, \(TimeSpan(nanoseconds: r.end.nanoseconds).roundedDescription)",
               x: left, y: 26, size: 15, weight: "bold", cls: "title")
        g.text("\(sc.profile.name) pump · \(sc.schedule) at \(sc.concentration) · low-reservoir policy \(sc.settings.reservoirPolicy.rawValue)",
               x: left, y: 46, fill: "#444", cls: "subtitle")

        let perDay = Double(TimeConstants.nanosecondsPerDay) / Double(rec.interval.nanoseconds)
        let cap = Double(sc.profile.reservoirCapacity.nanolitres) / 1e6
        // The rate axis follows the run's usual rates: a few intervals far above them (a priming or
        // bolus interval) are cut at the panel's top edge and their peak named in the legend.
        func rate(_ row: SeriesRow) -> Double { Double(row.delivered.value) / 1e9 * perDay }
        var count = 0, lowRate = Double.infinity, peakRate = 1.0, cMax = -Double.infinity
        forEachRow { row in
            let v = rate(row)
            peakRate = count == 0 ? v : max(peakRate, v)
            lowRate = min(lowRate, v)
            cMax = max(cMax, row.concentration.nanogramsPerMillilitre, row.threshold?.nanogramsPerMillilitre ?? 0)
            count += 1
        }
        if count == 0 { cMax = 1 }
        // The 99th percentile of the rates, as a sort would place it.
        let usualRate = count == 0 ? 1 : selectRanked(Int(Double(count - 1) * 0.99), lo: lowRate, hi: peakRate) { body in
            withoutActuallyEscaping(body) { body in forEachRow { body(rate($0)) } }
        }
        let cutPeaks = usualRate > 0 && peakRate > 2 * usualRate
        let rateMax = cutPeaks ? usualRate * 1.25 / 1.05 : peakRate
        let thresholdPercent = Format.trimmed(Int64(sc.pk.withdrawalFraction.partsPerMillion), scale: 10_000, maxDigits: 1) + " %"

        struct Series {
            var label: String; var color: String; var width: Double; var dash: String?; var value: (SeriesRow) -> Double?
            /// A second, smaller legend line under the label.
            var note: String? = nil
        }
        struct Panel {
            var title: String; var hi: Double; var series: [Series]
            /// A horizontal reference drawn from the series (labelled in the gutter at its last value).
            var reference: (label: String, index: Int)?
        }
        let panels: [Panel] = [
            Panel(title: "Reservoir volume (mL)", hi: cap, series: [
                Series(label: "true (simulated pump)", color: colors.truth, width: 2.6, dash: nil, value: { $0.trueReservoir.millilitresForDisplay }),
                Series(label: "controller's estimate", color: colors.estimate, width: 1.4, dash: "6 4", value: { Double($0.estimatedReservoir.nanolitres) / 1e6 }),
            ]),
            Panel(title: "Delivery to the CSF (μg/day)", hi: max(rateMax * 1.05, 1), series: [
                Series(label: "delivery rate", color: colors.rate, width: 1.4, dash: nil, value: { Double($0.delivered.value) / 1e9 * perDay },
                       note: cutPeaks ? "peaks to \(TextReport.fixed(peakRate, 0)) μg/day cut off" : nil),
            ]),
            Panel(title: "CSF baclofen level (ng/mL)", hi: max(cMax * 1.05, 0.1), series: [
                Series(label: "CSF level", color: colors.csf, width: 1.6, dash: nil, value: { $0.concentration.nanogramsPerMillilitre }),
                Series(label: "withdrawal threshold", color: colors.threshold, width: 1.2, dash: "5 3", value: { $0.threshold?.nanogramsPerMillilitre },
                       note: "\(thresholdPercent) of the dose's steady state"),
            ], reference: (thresholdPercent, 1)),
            Panel(title: "Withdrawal severity (0 = none, 1 = complete)", hi: 1, series: [
                Series(label: "severity", color: colors.severity, width: 1.6, dash: nil, value: { $0.severity }),
                Series(label: "severe level", color: colors.severe, width: 1, dash: "4 3", value: { _ in Recorder.severeLevel },
                       note: "1 − 1/e: a full deficit for \(TextReport.fixed(sc.pk.severityTimeConstant.hours, 0)) h"),
            ], reference: ("severe", 1)),
        ]

        let time = timeTicks(endSeconds: endS)
        g.raw("<defs>")
        for i in 0..<panelCount {
            let y0 = top + Double(i) * (panelH + gap)
            g.raw("<clipPath id=\"panel\(i)\"><rect x=\"\(SVGWriter.f(left))\" y=\"\(SVGWriter.f(y0 - 1))\" width=\"\(SVGWriter.f(plotW))\" height=\"\(SVGWriter.f(panelH + 2))\"/></clipPath>")
        }
        g.raw("</defs>")

        // Withdrawal-risk windows, shaded through every panel and the alarm lane.
        func band(_ y0: Double, _ hh: Double) {
            for e in rec.episodes {
                let x0 = x(sec(e.start)), x1 = x(sec(e.end))
                g.rect(x0, y0, max(x1 - x0, 0.8), hh, fill: colors.risk, opacity: 0.12,
                       title: "withdrawal-risk window \(e.start) → \(e.end) (\(e.length.roundedDescription))")
            }
        }

        for (i, p) in panels.enumerated() {
            let y0 = top + Double(i) * (panelH + gap)
            let (step, ticks) = i == 3 ? (0.25, [0, 0.25, 0.5, 0.75, 1.0]) : NiceAxis.ticks(hi: p.hi, target: 4)
            let yMax = ticks.last ?? p.hi
            func y(_ v: Double) -> Double { y0 + panelH - panelH * min(max(v / yMax, 0), 1) }
            g.rect(left, y0, plotW, panelH, fill: "#fcfcfc", cls: "plot-area")
            band(y0, panelH)
            for t in ticks {
                g.line(left, y(t), plotRight, y(t), stroke: "#e3e3e3", width: 1)
                g.text(NiceAxis.label(t, step: step), x: left - 7, y: y(t) + 4, anchor: "end", fill: "#333", cls: "tick")
            }
            for t in time.ticks { g.line(x(t * time.unit), y0, x(t * time.unit), y0 + panelH, stroke: "#ececec", width: 1) }
            g.text(p.title, x: left, y: y0 - 10, size: 12, weight: "bold", cls: "panel-title")
            var lastRef: Double?
            var ly = y0 + 12
            for (j, s) in p.series.enumerated() {
                var seg = Decimator(), open = false
                func flush() { g.polyline(seg.finish(), stroke: s.color, width: s.width, dash: s.dash, clip: "panel\(i)"); open = false }
                forEachRow { row in
                    if let v = s.value(row) {
                        seg.add((x(sec(row.start) + Double(rec.interval.nanoseconds) / 1e9), y(v)))
                        open = true
                        if p.reference?.index == j { lastRef = v }
                    } else if open { flush() }
                }
                if open { flush() }
                g.legend(s.label, swatch: .line(s.color, max(s.width, 1.4), s.dash), x: legendX, y: ly)
                if let note = s.note {
                    g.text(note, x: legendX + 28, y: ly + 14, size: 10, fill: "#555", cls: "legend-note")
                    ly += 14
                }
                ly += 18
            }
            if let ref = p.reference, let v = lastRef {
                g.text(ref.label, x: plotRight + 6, y: y(v) + 4, fill: p.series[ref.index].color, cls: "reference")
            }
            if i == 0 {
                // Refills: a marker under the panel's top edge and a thin line down the panel.
                for t in rec.refills where t.nanoseconds > 0 {
                    let xx = x(sec(t))
                    g.line(xx, y0, xx, y0 + panelH, stroke: colors.refill, width: 1, dash: "2 2", title: "refill at \(t)")
                    g.raw("<path d=\"M\(SVGWriter.f(xx)) \(SVGWriter.f(y0 + 9)) l-5 -9 h10 z\" fill=\"\(colors.refill)\"><title>refill at \(escape(t.description))</title></path>")
                }
                if rec.refills.contains(where: { $0.nanoseconds > 0 }) {
                    g.legend("refill", swatch: .marker(colors.refill), x: legendX, y: ly); ly += 18
                }
            }
            if i == 2 {
                g.legend("withdrawal-risk window", swatch: .band(colors.risk, 0.18), x: legendX, y: ly); ly += 18
            }
            g.rect(left, y0, plotW, panelH, fill: "none", stroke: "#888")
        }

        // Alarm lane.
        g.text("Alarms (raised → cleared)", x: left, y: laneTop - 10, size: 12, weight: "bold", cls: "panel-title")
        g.rect(left, laneTop, plotW, laneH, fill: "#fcfcfc", cls: "plot-area")
        band(laneTop, laneH)
        for t in time.ticks { g.line(x(t * time.unit), laneTop, x(t * time.unit), laneBottom, stroke: "#ececec", width: 1) }
        if kinds.isEmpty { g.text("no alarms", x: left + 8, y: laneTop + 18, fill: "#666", cls: "note") }
        for (row, kind) in kinds.enumerated() {
            let yc = laneTop + 4 + Double(row) * laneRow + laneRow / 2
            g.text(kind.rawValue, x: left - 7, y: yc + 4, anchor: "end", fill: priorityColor(kind.priority), cls: "alarm-name")
            g.line(left, yc, plotRight, yc, stroke: "#e6e6e6", width: 1)
        }
        for a in rec.alarms {
            guard let row = kinds.firstIndex(of: a.kind) else { continue }
            let yc = laneTop + 4 + Double(row) * laneRow + laneRow / 2
            let x0 = x(sec(a.raisedAt)), x1 = x(sec(a.clearedAt ?? r.end))
            let c = priorityColor(a.kind.priority)
            let what = "\(a.kind.rawValue) (\(a.kind.priority)) raised \(a.raisedAt) → " + (a.clearedAt.map { "cleared \($0)" } ?? "still active at the end")
            // The raise instant through every panel down to the lane.
            g.line(x0, top, x0, yc, stroke: c, width: 0.8, dash: "3 3", title: what)
            g.rect(x0, yc - 6, max(x1 - x0, 2), 12, fill: c, opacity: 0.75, title: what)
        }
        g.rect(left, laneTop, plotW, laneH, fill: "none", stroke: "#888")
        let prios: [(String, AlarmPriority)] = [("high priority", .high), ("medium priority", .medium), ("low priority", .low)]
        for (j, p) in prios.enumerated() {
            g.legend(p.0, swatch: .band(priorityColor(p.1), 0.75), x: legendX, y: laneTop + 12 + Double(j) * 18)
        }

        // Time axis under the lane.
        for t in time.ticks {
            let xx = x(t * time.unit)
            g.line(xx, laneBottom, xx, laneBottom + 5, stroke: "#333", width: 1)
            g.text(NiceAxis.label(t, step: time.step), x: xx, y: laneBottom + 18, anchor: "middle", fill: "#333", cls: "tick")
        }
        g.text("time since the start of the run (\(time.name))", x: left + plotW / 2, y: laneBottom + 40, anchor: "middle", size: 12, cls: "axis-title")
        g.text("Shaded: withdrawal-risk windows (CSF level below \(thresholdPercent) of the prescribed dose's steady state). Dashed verticals: alarms raised.",
               x: left, y: h - 18, size: 10, fill: "#555", cls: "footnote")
        return "\(g.body)</svg>\n"
    }

    /// The value of rank `rank` (0-based, as in the sorted values) among the values `forEachValue`
    /// gives, all within `lo...hi`, in passes of bounded memory: each pass counts the values into
    /// 4,096 buckets of the current range (the bucket index is monotone in the value, so a bucket's
    /// values lie strictly between those of the buckets around it) and narrows the range to the
    /// lowest and highest value of the bucket holding the rank, until the range is one value or its
    /// bucket holds few enough values to sort.
    static func selectRanked(_ rank: Int, lo: Double, hi: Double, _ forEachValue: ((Double) -> Void) -> Void) -> Double {
        let buckets = 4_096
        var lo = lo, hi = hi
        while lo < hi {
            var counts = [Int](repeating: 0, count: buckets)
            var mins = [Double](repeating: .infinity, count: buckets), maxs = [Double](repeating: -.infinity, count: buckets)
            var under = 0
            let width = hi - lo
            func bucket(_ v: Double) -> Int { min(buckets - 1, max(0, Int((v - lo) / width * Double(buckets)))) }
            forEachValue { v in
                if v < lo { under += 1; return }
                if v > hi { return }
                let b = bucket(v)
                counts[b] += 1
                mins[b] = min(mins[b], v)
                maxs[b] = max(maxs[b], v)
            }
            var target = rank - under, k = 0
            while k < buckets - 1 && target >= counts[k] { target -= counts[k]; k += 1 }
            if counts[k] <= 65_536 {
                var values: [Double] = []
                values.reserveCapacity(counts[k])
                forEachValue { v in if v >= lo && v <= hi && bucket(v) == k { values.append(v) } }
                values.sort()
                return values[min(max(target, 0), values.count - 1)]
            }
            (lo, hi) = (mins[k], maxs[k])
        }
        return lo
    }

    static func escape(_ s: String) -> String {
        var o = ""
        for c in s { switch c { case "<": o += "&lt;"; case ">": o += "&gt;"; case "&": o += "&amp;"; case "\"": o += "&quot;"; default: o.append(c) } }
        return o
    }
}
