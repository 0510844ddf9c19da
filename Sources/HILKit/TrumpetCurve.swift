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

    /// A trumpet plot: Ep(max) and Ep(min) against the window, with the overall error as a line.
    public func svg(title: String) -> String {
        let w = 560.0, h = 320.0, left = 60.0, right = 20.0, top = 40.0, bottom = 50.0
        let span = Swift.max(1, points.map { Swift.max(abs($0.maxPercent), abs($0.minPercent)) }.max() ?? 1) * 1.2
        let maxWin = Double(points.map(\.windowMinutes).max() ?? 31)
        func x(_ m: Int) -> Double { left + Double(m) / maxWin * (w - left - right) }
        func y(_ p: Double) -> Double { top + (span - p) / (2 * span) * (h - top - bottom) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(left)\" y=\"20\" font-size=\"14\">\(xmlEscape(title))</text>\n"
        s += "<line x1=\"\(left)\" y1=\"\(y(0))\" x2=\"\(w - right)\" y2=\"\(y(0))\" stroke=\"#999\"/>\n"
        s += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(h - bottom)\" stroke=\"#000\"/>\n"
        for p in points { s += "<text x=\"\(x(p.windowMinutes) - 6)\" y=\"\(h - bottom + 18)\">\(p.windowMinutes)</text>\n" }
        s += "<text x=\"\(w / 2 - 60)\" y=\"\(h - 10)\">observation window (min)</text>\n"
        s += "<text x=\"8\" y=\"\(y(span * 0.9))\">+\(fmt(span * 0.9))%</text><text x=\"8\" y=\"\(y(-span * 0.9))\">\(fmt(-span * 0.9))%</text>\n"
        let upper = points.map { "\(x($0.windowMinutes)),\(y($0.maxPercent))" }.joined(separator: " ")
        let lower = points.map { "\(x($0.windowMinutes)),\(y($0.minPercent))" }.joined(separator: " ")
        s += "<polyline fill=\"none\" stroke=\"#c00\" stroke-width=\"2\" points=\"\(upper)\"/>\n"
        s += "<polyline fill=\"none\" stroke=\"#00c\" stroke-width=\"2\" points=\"\(lower)\"/>\n"
        s += "<line x1=\"\(left)\" y1=\"\(y(overallPercent))\" x2=\"\(w - right)\" y2=\"\(y(overallPercent))\" stroke=\"#080\" stroke-dasharray=\"4 3\"/>\n"
        s += "<text x=\"\(w - right - 150)\" y=\"\(top + 14)\">Ep(max) red, Ep(min) blue, A = \(fmt(overallPercent))%</text>\n"
        s += "</svg>\n"
        return s
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
