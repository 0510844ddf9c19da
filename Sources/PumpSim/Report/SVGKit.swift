import PumpCore

/// Axis arithmetic for the report's plots: "nice" tick steps (1, 2, 2.5 or 5 × 10ⁿ) and tick labels
/// with as many decimals as the step needs.
public enum NiceAxis {
    /// Ticks covering 0…`hi` (or `lo`…`hi`), about `target` of them; the last tick is at or above `hi`.
    /// - Returns: the step and the ticks, both in the data's unit; never empty.
    public static func ticks(lo: Double = 0, hi: Double, target: Int = 5) -> (step: Double, ticks: [Double]) {
        let lo = lo.isFinite ? lo : 0
        var hi = hi.isFinite ? hi : 1
        if hi <= lo { hi = lo + 1 }
        let raw = (hi - lo) / Double(max(target, 1))
        var p = 1.0
        while p * 10 <= raw { p *= 10 }
        while p > raw { p /= 10 }
        let step = [1.0, 2.0, 2.5, 5.0, 10.0].map { $0 * p }.first { $0 >= raw } ?? 10 * p
        let first = (lo / step).rounded(.down)
        let last = (hi / step - 1e-9).rounded(.up)
        let ticks = stride(from: first, through: max(first + 1, last), by: 1).map { $0 * step }
        return (step, ticks)
    }

    /// Decimals a label needs so that ticks `step` apart read differently (0 for whole steps).
    public static func decimals(for step: Double) -> Int {
        var d = 0, s = step
        while d < 6, abs(s - s.rounded()) > 1e-6 * max(1, abs(s)) { s *= 10; d += 1 }
        return d
    }

    /// A tick label: fixed decimals, no "-0".
    public static func label(_ v: Double, step: Double) -> String {
        let d = decimals(for: step)
        let s = TextReport.fixed(v, d)
        return s.hasPrefix("-") && s.allSatisfy({ "-0.".contains($0) }) ? String(s.dropFirst()) : s
    }
}

/// A small SVG writer: every coordinate with one decimal (fixed, locale-free), every text escaped.
struct SVGWriter {
    var body = ""

    static func f(_ v: Double) -> String { TextReport.fixed(v.isFinite ? v : 0, 1) }

    mutating func raw(_ s: String) { body += s + "\n" }

    mutating func text(_ s: String, x: Double, y: Double, anchor: String = "start", size: Double? = nil,
                       weight: String? = nil, fill: String? = nil, rotate: Bool = false, cls: String? = nil) {
        var a = "<text x=\"\(Self.f(x))\" y=\"\(Self.f(y))\""
        if anchor != "start" { a += " text-anchor=\"\(anchor)\"" }
        if let size { a += " font-size=\"\(Self.f(size))\"" }
        if let weight { a += " font-weight=\"\(weight)\"" }
        if let fill { a += " fill=\"\(fill)\"" }
        if let cls { a += " class=\"\(cls)\"" }
        if rotate { a += " transform=\"rotate(-90 \(Self.f(x)) \(Self.f(y)))\"" }
        body += a + ">\(SVGPlot.escape(s))</text>\n"
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1,
                       dash: String? = nil, title: String? = nil) {
        var a = "<line x1=\"\(Self.f(x1))\" y1=\"\(Self.f(y1))\" x2=\"\(Self.f(x2))\" y2=\"\(Self.f(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(Self.f(width))\""
        if let dash { a += " stroke-dasharray=\"\(dash)\"" }
        if let title { body += a + "><title>\(SVGPlot.escape(title))</title></line>\n" } else { body += a + "/>\n" }
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, stroke: String? = nil,
                       opacity: Double? = nil, title: String? = nil, cls: String? = nil) {
        var a = "<rect x=\"\(Self.f(x))\" y=\"\(Self.f(y))\" width=\"\(Self.f(max(w, 0)))\" height=\"\(Self.f(max(h, 0)))\" fill=\"\(fill)\""
        if let cls { a += " class=\"\(cls)\"" }
        if let stroke { a += " stroke=\"\(stroke)\"" }
        if let opacity { a += " fill-opacity=\"\(TextReport.fixed(opacity, 2))\"" }
        if let title { body += a + "><title>\(SVGPlot.escape(title))</title></rect>\n" } else { body += a + "/>\n" }
    }

    mutating func polyline(_ pts: [(Double, Double)], stroke: String, width: Double, dash: String? = nil, clip: String? = nil) {
        guard pts.count > 1 else { return }
        var a = "<polyline fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(Self.f(width))\" stroke-linejoin=\"round\""
        if let dash { a += " stroke-dasharray=\"\(dash)\"" }
        if let clip { a += " clip-path=\"url(#\(clip))\"" }
        a += " points=\""
        for (i, p) in pts.enumerated() { a += (i == 0 ? "" : " ") + Self.f(p.0) + "," + Self.f(p.1) }
        body += a + "\"/>\n"
    }

    /// A legend entry: a swatch (line, dashed line, band or marker) and its label, at (x, y) = the
    /// label's baseline start minus the swatch.
    enum Swatch { case line(String, Double, String?), band(String, Double), marker(String) }
    mutating func legend(_ label: String, swatch: Swatch, x: Double, y: Double) {
        switch swatch {
        case let .line(c, w, dash): line(x, y - 4, x + 22, y - 4, stroke: c, width: w, dash: dash)
        case let .band(c, o): rect(x, y - 10, 22, 12, fill: c, opacity: o)
        case let .marker(c): raw("<path d=\"M\(Self.f(x + 11)) \(Self.f(y - 10)) l5 9 h-10 z\" fill=\"\(c)\"/>")
        }
        text(label, x: x + 28, y: y, cls: "legend")
    }
}

/// Reduces a series to at most two points per pixel column (the minimum and maximum, in time order),
/// so a ten-year run at one-minute steps draws the same shape in a few thousand points.
func decimate(_ pts: [(Double, Double)]) -> [(Double, Double)] {
    var d = Decimator()
    for p in pts { d.add(p) }
    return d.finish()
}

/// `decimate` one point at a time (a streamed series never holds its points): within each run of
/// points in one pixel column (the same ⌊x⌋), the first lowest and the first highest, in time order
/// (one point when they are the same); the last point always; four points or fewer as they are.
struct Decimator {
    private var out: [(Double, Double)] = []
    /// The first points, kept as they are while there are four or fewer.
    private var early: [(Double, Double)] = []
    private var count = 0
    private var col = 0.0
    private var lo = (0.0, 0.0), hi = (0.0, 0.0)
    private var loI = 0, hiI = 0, groupCount = 0
    private var last: (Double, Double)?

    mutating func add(_ p: (Double, Double)) {
        if count < 5 { early.append(p) }
        count += 1
        last = p
        let c = p.0.rounded(.down)
        if groupCount > 0 && c == col {
            if p.1 < lo.1 { lo = p; loI = count }
            if p.1 > hi.1 { hi = p; hiI = count }
            groupCount += 1
            return
        }
        closeGroup()
        col = c
        lo = p; hi = p; loI = count; hiI = count
        groupCount = 1
    }

    private mutating func closeGroup() {
        guard groupCount > 0 else { return }
        if groupCount == 1 || loI == hiI { out.append(lo) } else if loI < hiI { out.append(lo); out.append(hi) } else { out.append(hi); out.append(lo) }
        groupCount = 0
    }

    mutating func finish() -> [(Double, Double)] {
        guard count > 4 else {
            let r = early
            self = Decimator()
            return r
        }
        closeGroup()
        if let last, out.last.map({ $0 != last }) ?? true { out.append(last) }
        let r = out
        self = Decimator()
        return r
    }
}
