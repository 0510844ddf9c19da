import PumpCore

extension TimeSpan {
    /// As rig files write it: microseconds below a millisecond (`1us`, `1.9us`, `650ns` below 1 µs),
    /// the compact exact form above (`250ms`, `2s`).
    public var rigDescription: String {
        let ns = nanoseconds
        guard ns > 0, ns < 1_000_000, ns % 1_000_000 != 0 else { return description }
        if ns < 1_000 { return "\(ns)ns" }
        let whole = ns / 1_000, frac = ns % 1_000
        if frac == 0 { return "\(whole)us" }
        var f = String(frac + 1_000).dropFirst()
        while f.hasSuffix("0") { f.removeLast() }
        return "\(whole).\(f)us"
    }
}
