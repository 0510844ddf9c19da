import PumpCore

/// Durations as rig files write them: a decimal number and a unit, `ns`, `us` (or `µs`), `ms`, `s`,
/// `m`, `h`, `d` (`5us`, `1.9us`, `250ms`, `2s`). Exact: the value must be a whole number of
/// nanoseconds. (Moves to ITPumpFiles with the rig format once that module exists.)
public enum DurationText {
    static let units: [(String, Int64)] = [("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
                                           ("m", 60_000_000_000), ("h", 3_600_000_000_000), ("d", 86_400_000_000_000)]

    /// The span `text` denotes, or nil when it is not a non-negative decimal with a known unit, is not
    /// a whole number of nanoseconds, or exceeds 365 days.
    public static func parse(_ text: String) -> TimeSpan? {
        let t = text.trimmingCharacters(in: " ")
        // Longest unit suffix first ("ms" before "s", "ns" before "s").
        for (unit, scale) in units.sorted(by: { $0.0.count > $1.0.count }) where t.hasSuffix(unit) {
            let number = t.dropLast(unit.count)
            guard !number.isEmpty, number.count <= 24 else { return nil }
            let parts = number.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit) else { return nil }
            let frac = parts.count == 2 ? parts[1] : ""
            guard frac.allSatisfy(\.isASCIIDigit), parts.count == 1 || !frac.isEmpty else { return nil }
            guard let w = Int64(whole), w <= 365 * 86_400_000_000_000 / scale else { return nil }
            var ns = w * scale
            var place = scale
            for digit in frac {
                guard place % 10 == 0 else { return nil }
                place /= 10
                ns += Int64(digit.wholeNumberValue!) * place
            }
            return TimeSpan(nanoseconds: ns)
        }
        return nil
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return String(s)
    }
}

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
