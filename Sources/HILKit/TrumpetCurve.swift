/// Flow accuracy in the manner of IEC 60601-2-24 (the trumpet curve), computed from the delivered
/// volume sampled at a fixed interval.
///
/// With samples every Δt (0.5 min in the standard) over the analysis period, the flow of interval i is
/// Qᵢ = (Vᵢ − Vᵢ₋₁)/Δt. For each observation window P (2, 5, 11, 19 and 31 min), Ep(max) and Ep(min) are
/// the largest and smallest mean percentage deviation from the set rate r over any P-long run of
/// consecutive intervals:  Ep = (Δt/P) Σ (Qᵢ − r)/r × 100. A is the overall percentage error.
public struct TrumpetCurve: Sendable {
    public struct Point: Hashable, Sendable {
        /// Window length, minutes.
        public let windowMinutes: Int
        /// Largest and smallest mean deviation over the window, %.
        public let maxPercent: Double
        public let minPercent: Double
    }
    /// Overall error of the analysis period, %.
    public let overallPercent: Double
    public let points: [Point]
    /// Sample interval, seconds.
    public let sampleSeconds: Double

    /// The standard's observation windows, minutes.
    public static let standardWindows = [2, 5, 11, 19, 31]

    public enum Failure: Error, Hashable, CustomStringConvertible {
        case tooFewSamples(have: Int, need: Int)
        case nonPositiveRate
        public var description: String {
            switch self {
            case let .tooFewSamples(have, need): return "trumpet curve needs at least \(need) samples over the analysis period, have \(have)"
            case .nonPositiveRate: return "the set rate must be positive"
            }
        }
    }

    /// - Parameters:
    ///   - cumulative: delivered volume (any unit) at each sample instant, in time order.
    ///   - sampleSeconds: the sample interval (30 s in the standard).
    ///   - setRatePerSecond: the set rate in the same volume unit per second.
    public init(cumulative: [Double], sampleSeconds: Double, setRatePerSecond: Double, windows: [Int] = standardWindows) throws(Failure) {
        guard setRatePerSecond > 0 else { throw .nonPositiveRate }
        let perWindow = windows.map { Int((Double($0) * 60 / sampleSeconds).rounded()) }
        let need = (perWindow.max() ?? 1) + 1
        guard cumulative.count >= need else { throw .tooFewSamples(have: cumulative.count, need: need) }
        let r = setRatePerSecond * sampleSeconds // volume per interval at the set rate
        let deviations = (1..<cumulative.count).map { (cumulative[$0] - cumulative[$0 - 1] - r) / r * 100 }
        var points: [Point] = []
        for (w, n) in zip(windows, perWindow) {
            var sum = deviations[0..<n].reduce(0, +)
            var hi = sum / Double(n), lo = sum / Double(n)
            if deviations.count > n {
                for j in n..<deviations.count {
                    sum += deviations[j] - deviations[j - n]
                    hi = Swift.max(hi, sum / Double(n)); lo = Swift.min(lo, sum / Double(n))
                }
            }
            points.append(Point(windowMinutes: w, maxPercent: hi, minPercent: lo))
        }
        let total = cumulative[cumulative.count - 1] - cumulative[0]
        overallPercent = (total - r * Double(deviations.count)) / (r * Double(deviations.count)) * 100
        self.points = points
        self.sampleSeconds = sampleSeconds
    }

    /// `windowMinutes,maxPercent,minPercent` rows with a header, and the overall error.
    public var csv: String {
        var s = "window_min,ep_max_percent,ep_min_percent\n"
        for p in points { s += "\(p.windowMinutes),\(fmt(p.maxPercent)),\(fmt(p.minPercent))\n" }
        s += "overall,\(fmt(overallPercent)),\(fmt(overallPercent))\n"
        return s
    }

    /// A trumpet plot: Ep(max) and Ep(min) against the observation window, the overall error A as a
    /// dashed line, and the ±`limitPercent` acceptance limits when given. Axes with ticks on "nice"
    /// steps and titles; the legend sits in a column right of the data; coordinates have one fixed decimal.
    public func svg(title: String, limitPercent: Double? = nil) -> String {
        let w = 660.0, h = 340.0, left = 64.0, legendW = 200.0, top = 48.0, bottom = 62.0
        let plotRight = w - legendW, plotW = plotRight - left, plotH = h - top - bottom
        let extent = Swift.max(points.map { Swift.max(abs($0.maxPercent), abs($0.minPercent)) }.max() ?? 0, abs(overallPercent), limitPercent ?? 0)
        let (step, ticks) = Self.niceTicks(Swift.max(extent * 1.1, 0.5))
        let span = ticks.last ?? 1
        let maxWin = Double((points.map(\.windowMinutes).max() ?? 31) + 1)
        func x(_ m: Double) -> Double { left + m / maxWin * plotW }
        func y(_ p: Double) -> Double { top + (span - Swift.min(Swift.max(p, -span), span)) / (2 * span) * plotH }
        func f(_ v: Double) -> String { let n = Int((v * 10).rounded()); return (n < 0 ? "-" : "") + "\(abs(n) / 10).\(abs(n) % 10)" }
        func text(_ t: String, _ tx: Double, _ ty: Double, _ extra: String = "") -> String {
            "<text x=\"\(f(tx))\" y=\"\(f(ty))\"\(extra)>\(xmlEscape(t))</text>\n"
        }
        func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ style: String) -> String {
            "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" \(style)/>\n"
        }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" font-family=\"DejaVu Sans, Verdana, sans-serif\" font-size=\"11\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += text(title, left, 24, " font-size=\"14\" font-weight=\"bold\"")
        s += "<rect class=\"plot-area\" x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"#fcfcfc\"/>\n"
        for t in ticks.reversed().map({ -$0 }).dropLast() + ticks {
            s += line(left, y(t), plotRight, y(t), "stroke=\"\(t == 0 ? "#999" : "#e3e3e3")\" stroke-width=\"1.0\"")
            s += text(Self.tickLabel(t, step: step), left - 7, y(t) + 4, " text-anchor=\"end\" fill=\"#333\"")
        }
        for p in points {
            let xx = x(Double(p.windowMinutes))
            s += line(xx, top, xx, top + plotH, "stroke=\"#ececec\" stroke-width=\"1.0\"")
            s += line(xx, top + plotH, xx, top + plotH + 5, "stroke=\"#333\" stroke-width=\"1.0\"")
            s += text(String(p.windowMinutes), xx, top + plotH + 18, " text-anchor=\"middle\" fill=\"#333\"")
        }
        s += text("observation window P (min)", left + plotW / 2, h - 20, " text-anchor=\"middle\" font-size=\"12\"")
        s += text("deviation from the set rate (%)", 16, top + plotH / 2, " text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16.0 \(f(top + plotH / 2)))\"")
        if let l = limitPercent {
            for v in [l, -l] { s += line(left, y(v), plotRight, y(v), "stroke=\"#555\" stroke-width=\"1.2\" stroke-dasharray=\"7 4\"") }
        }
        s += line(left, y(overallPercent), plotRight, y(overallPercent), "stroke=\"#2ca02c\" stroke-width=\"1.6\" stroke-dasharray=\"4 3\"")
        for (vals, c) in [(points.map { ($0.windowMinutes, $0.maxPercent) }, "#d62728"), (points.map { ($0.windowMinutes, $0.minPercent) }, "#1f77b4")] {
            s += "<polyline fill=\"none\" stroke=\"\(c)\" stroke-width=\"2.0\" points=\"" + vals.map { "\(f(x(Double($0.0)))),\(f(y($0.1)))" }.joined(separator: " ") + "\"/>\n"
            for v in vals { s += "<circle cx=\"\(f(x(Double(v.0))))\" cy=\"\(f(y(v.1)))\" r=\"3.0\" fill=\"\(c)\"/>\n" }
        }
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#888\"/>\n"
        var entries: [(String, String)] = [("Ep(max)", "stroke=\"#d62728\" stroke-width=\"2.0\""), ("Ep(min)", "stroke=\"#1f77b4\" stroke-width=\"2.0\""),
                                           ("A = \(fmt(overallPercent)) % (overall)", "stroke=\"#2ca02c\" stroke-width=\"1.6\" stroke-dasharray=\"4 3\"")]
        if let l = limitPercent { entries.append(("limits ±\(fmt(l)) %", "stroke=\"#555\" stroke-width=\"1.2\" stroke-dasharray=\"7 4\"")) }
        for (i, e) in entries.enumerated() {
            let ly = top + 12 + Double(i) * 20
            s += line(plotRight + 20, ly - 4, plotRight + 42, ly - 4, e.1)
            s += text(e.0, plotRight + 48, ly)
        }
        s += "</svg>\n"
        return s
    }

    /// Symmetric tick steps (1, 2, 2.5 or 5 × 10ⁿ) from 0 up to at least `hi`.
    static func niceTicks(_ hi: Double) -> (Double, [Double]) {
        let raw = hi / 3
        var p = 1.0
        while p * 10 <= raw { p *= 10 }
        while p > raw { p /= 10 }
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * p }.first { $0 >= raw } ?? 10 * p
        let n = Int((hi / step - 1e-9).rounded(.up))
        return (step, (0...Swift.max(n, 1)).map { Double($0) * step })
    }

    static func tickLabel(_ v: Double, step: Double) -> String {
        var d = 0, s = step
        while d < 4, abs(s - s.rounded()) > 1e-6 { s *= 10; d += 1 }
        var p = 1.0
        for _ in 0..<d { p *= 10 }
        let n = Int((abs(v) * p).rounded())
        let whole = n / Int(p), frac = n % Int(p)
        var out = (v < 0 && n != 0 ? "−" : v > 0 ? "+" : "") + String(whole)
        if d > 0 { let fs = String(frac); out += "." + String(repeating: "0", count: d - fs.count) + fs }
        return out
    }

    private func fmt(_ v: Double) -> String {
        let r = (v * 1000).rounded() / 1000
        return r == r.rounded() ? "\(Int(r))" : "\(r)"
    }
}

func xmlEscape(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default:
            if let a = c.asciiValue, a < 0x20, a != 0x09, a != 0x0A, a != 0x0D { out += "?" } else { out.append(c) }
        }
    }
    return out
}
