import PumpCore

/// A hand-written SVG of a run: reservoir volume (true and estimated), delivery rate, CSF level with
/// the withdrawal threshold, and alarm markers, on one shared time axis.
public enum SVGPlot {
    public static func render(_ r: SimulationResult) -> String {
        let rows = r.recorder.series
        let w = 1000.0, panelH = 170.0, left = 70.0, right = 20.0, top = 40.0, gap = 40.0
        let plotW = w - left - right
        let h = top + 3 * panelH + 2 * gap + 50
        let endS = Double(r.end.nanoseconds) / 1e9
        func x(_ s: Double) -> Double { left + plotW * s / max(endS, 1) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<text x=\"\(left)\" y=\"20\" font-size=\"14\">\(escape(r.scenario.name)) — \(r.fidelity.rawValue) fidelity</text>\n"
        let perDay = Double(TimeConstants.nanosecondsPerDay) / Double(r.recorder.interval.nanoseconds)
        let cap = Double(r.scenario.profile.reservoirCapacity.nanolitres) / 1e6
        let rateMax = max(1.0, rows.map { Double($0.delivered.value) / 1e9 * perDay }.max() ?? 1)
        let cMax = max(1.0, rows.map { max($0.concentration.nanogramsPerMillilitre, $0.threshold?.nanogramsPerMillilitre ?? 0) }.max() ?? 1)
        let panels: [(String, Double, [(String, String, (SeriesRow) -> Double?)])] = [
            ("reservoir (mL)", cap, [("true", "#1f77b4", { $0.trueReservoir.millilitresForDisplay }),
                                     ("estimated", "#ff7f0e", { Double($0.estimatedReservoir.nanolitres) / 1e6 })]),
            ("delivery to CSF (μg/day)", rateMax * 1.05, [("rate", "#2ca02c", { Double($0.delivered.value) / 1e9 * perDay })]),
            ("CSF level (ng/mL)", cMax * 1.05, [("CSF", "#9467bd", { $0.concentration.nanogramsPerMillilitre }),
                                                ("withdrawal threshold", "#d62728", { $0.threshold?.nanogramsPerMillilitre })]),
        ]
        for (i, panel) in panels.enumerated() {
            let y0 = top + Double(i) * (panelH + gap)
            func y(_ v: Double) -> Double { y0 + panelH - panelH * min(max(v / panel.1, 0), 1) }
            svg += "<rect x=\"\(left)\" y=\"\(y0)\" width=\"\(plotW)\" height=\"\(panelH)\" fill=\"none\" stroke=\"#999\"/>\n"
            svg += "<text x=\"\(left)\" y=\"\(y0 - 6)\">\(escape(panel.0))</text>\n"
            svg += "<text x=\"\(left - 6)\" y=\"\(y0 + 10)\" text-anchor=\"end\">\(TextReport.fixed(panel.1, 1))</text>\n"
            svg += "<text x=\"\(left - 6)\" y=\"\(y0 + panelH)\" text-anchor=\"end\">0</text>\n"
            for (j, s) in panel.2.enumerated() {
                var pts = "", segs: [String] = []
                for row in rows {
                    let t = Double(row.start.nanoseconds) / 1e9
                    if let v = s.2(row) { pts += "\(r1(x(t))),\(r1(y(v))) " } else if !pts.isEmpty { segs.append(pts); pts = "" }
                }
                if !pts.isEmpty { segs.append(pts) }
                for p in segs { svg += "<polyline fill=\"none\" stroke=\"\(s.1)\" stroke-width=\"1.2\" points=\"\(p)\"/>\n" }
                svg += "<text x=\"\(left + plotW - 150)\" y=\"\(y0 + 14 + Double(j) * 14)\" fill=\"\(s.1)\">\(escape(s.0))</text>\n"
            }
        }
        let bottom = top + 3 * panelH + 2 * gap
        for a in r.recorder.alarms {
            let xx = r1(x(Double(a.raisedAt.nanoseconds) / 1e9))
            let color = a.kind.priority == .high ? "#d62728" : a.kind.priority == .medium ? "#ff7f0e" : "#7f7f7f"
            svg += "<line x1=\"\(xx)\" y1=\"\(top)\" x2=\"\(xx)\" y2=\"\(bottom - gap)\" stroke=\"\(color)\" stroke-dasharray=\"3,3\" stroke-width=\"0.8\"><title>\(a.kind.rawValue) at \(a.raisedAt)</title></line>\n"
        }
        let days = max(1, Int(endS / 86_400))
        let step = max(1, days / 10)
        for d in stride(from: 0, through: days, by: step) {
            let xx = r1(x(Double(d) * 86_400))
            svg += "<text x=\"\(xx)\" y=\"\(bottom - gap + 16)\" text-anchor=\"middle\">d\(d)</text>\n"
        }
        svg += "<text x=\"\(left)\" y=\"\(bottom)\">dashed lines: alarms raised (red high, orange medium, grey low priority)</text>\n"
        return svg + "</svg>\n"
    }

    static func r1(_ v: Double) -> String { TextReport.fixed(v, 1) }
    static func escape(_ s: String) -> String {
        var o = ""
        for c in s { switch c { case "<": o += "&lt;"; case ">": o += "&gt;"; case "&": o += "&amp;"; case "\"": o += "&quot;"; default: o.append(c) } }
        return o
    }
}
