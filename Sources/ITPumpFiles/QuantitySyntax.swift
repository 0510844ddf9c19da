import PumpCore

/// Why a written quantity could not be read, with the syntax that would be accepted.
public struct QuantityProblem: Error, Hashable, Sendable {
    public var message: String
    public var syntax: String
}

/// Readers for the quantities files use. Each accepts a number and a unit (`0.25 uL`, `600 ug/day`,
/// `500 ug/mL`, `20%`), converts exactly to the core's integer units and refuses (never rounds) a value
/// finer than the unit's resolution. `u`, `μ` and `µ` all mean micro.
public enum QuantitySyntax {
    static func read(_ text: String, units: [(String, Int64)], base: String, what: String) -> Result<Int64, QuantityProblem> {
        let syntax = "a number and one of " + units.map(\.0).joined(separator: ", ") + " (e.g. `\(examples[what] ?? "1 \(units[0].0)")`)"
        let (num, unitText) = splitQuantity(text)
        guard let n = DecimalNumber(num) else {
            return .failure(QuantityProblem(message: "\(what) is not a number with a unit", syntax: syntax))
        }
        let unit = normaliseMicro(unitText)
        guard let factor = units.first(where: { $0.0.replacingMicro().lowercased() == unit.lowercased() })?.1 else {
            return .failure(QuantityProblem(message: unitText.isEmpty ? "\(what) has no unit" : "\(what) has an unknown unit `\(unitText)`", syntax: syntax))
        }
        guard !n.negative else {
            // `-0 mL` is zero written with a sign, not a negative amount: say what is actually wrong.
            let message = n.mantissa == 0 ? "\(what) has a minus sign; write zero without one" : "\(what) is negative"
            return .failure(QuantityProblem(message: message, syntax: syntax))
        }
        guard let v = n.scaled(by: factor) else {
            return .failure(QuantityProblem(message: "\(what) is finer than 1 \(base) or too large; it would have to be rounded", syntax: "a whole number of \(base)"))
        }
        return .success(v)
    }

    static let examples = ["volume": "20 mL", "dose rate": "600 ug/day", "concentration": "500 ug/mL",
                           "flow rate": "16667 nL/min", "volume rate": "0.048 mL/day", "fraction": "20%", "mass": "50 ug"]

    /// `20 mL`, `0.25 uL`, `250 nL` → nanolitres.
    public static func volume(_ text: String) -> Result<Volume, QuantityProblem> {
        read(text, units: [("mL", 1_000_000), ("uL", 1_000), ("nL", 1)], base: "nL", what: "volume").map { Volume(nanolitres: $0) }
    }
    /// `600 ug/day`, `1.2 mg/day`, `50000 ng/day` → ng/day.
    public static func doseRate(_ text: String) -> Result<DoseRate, QuantityProblem> {
        read(text, units: [("ug/day", 1_000), ("mg/day", 1_000_000), ("ng/day", 1)], base: "ng/day", what: "dose rate")
            .map { DoseRate(nanogramsPerDay: $0) }
    }
    /// `500 ug/mL`, `2 mg/mL` → whole μg/mL.
    public static func concentration(_ text: String) -> Result<Concentration, QuantityProblem> {
        read(text, units: [("ug/mL", 1), ("mg/mL", 1_000)], base: "ug/mL", what: "concentration")
            .map { Concentration(microgramsPerMillilitre: $0) }
    }
    /// `16667 nL/min`, `16.667 uL/min` → nL/min.
    public static func flowRate(_ text: String) -> Result<FlowRate, QuantityProblem> {
        read(text, units: [("nL/min", 1), ("uL/min", 1_000)], base: "nL/min", what: "flow rate")
            .map { FlowRate(nanolitresPerMinute: $0) }
    }
    /// `0.048 mL/day`, `48 uL/day` → nL/day.
    public static func volumeRate(_ text: String) -> Result<VolumeRate, QuantityProblem> {
        read(text, units: [("mL/day", 1_000_000), ("uL/day", 1_000), ("nL/day", 1), ("mL/h", 24_000_000)], base: "nL/day", what: "volume rate")
            .map { VolumeRate(nanolitresPerDay: $0) }
    }
    /// `50 ug`, `0.05 mg` → ng.
    public static func mass(_ text: String) -> Result<Mass, QuantityProblem> {
        read(text, units: [("ug", 1_000), ("mg", 1_000_000), ("ng", 1)], base: "ng", what: "mass").map { Mass(nanograms: $0) }
    }
    /// `20%`, `14.5 %` → parts per million.
    public static func fraction(_ text: String) -> Result<Fraction, QuantityProblem> {
        read(text, units: [("%", 10_000), ("ppm", 1)], base: "ppm", what: "fraction").map { Fraction(partsPerMillion: $0) }
    }
    /// `110 cm` catheter length → centimetres (whole).
    public static func centimetres(_ text: String) -> Result<Int64, QuantityProblem> {
        read(text, units: [("cm", 1)], base: "cm", what: "length")
    }

    /// The one duration grammar of every itpump file (rig files included): `0`; one number and a unit
    /// (`90d`, `36h`, `15m`, `30s`, `250ms`, `10us`, `1.9us`, `650ns`), the number with decimals only
    /// as far as they stay whole nanoseconds (`1.9us`, never `0.1ns`: nothing is rounded); or whole
    /// numbers with several units in decreasing order, each at most once (`2d12h`, `1s500ms`). Units:
    /// d, h, m, s, ms, us (or µs, μs), ns.
    public static func duration(_ text: String) -> Result<TimeSpan, QuantityProblem> {
        let syntax = durationSyntax
        let t = String(Substring(text).trimmingSpaces)
        if t == "0" { return .success(.zero) }
        var rest = Substring(t)
        var total: Int64 = 0
        var lastOrder = -1
        var components = 0
        guard !rest.isEmpty else { return .failure(QuantityProblem(message: "duration is empty", syntax: syntax)) }
        while !rest.isEmpty {
            var digits = Substring("")
            while let c = rest.first, c.isASCII, c.isNumber { digits.append(c); rest.removeFirst() }
            var fraction = Substring("")
            var hasPoint = false
            if rest.first == "." {
                hasPoint = true
                rest.removeFirst()
                while let c = rest.first, c.isASCII, c.isNumber { fraction.append(c); rest.removeFirst() }
            }
            guard !digits.isEmpty, digits.count <= 20, !hasPoint || !fraction.isEmpty else {
                return .failure(QuantityProblem(message: "duration `\(text)` is not a number followed by a unit", syntax: syntax))
            }
            guard let (u, size, o) = durationUnits.first(where: { rest.hasPrefix($0.0) }) else {
                return .failure(QuantityProblem(message: "duration `\(text)` has a number without a unit d, h, m, s, ms, us or ns", syntax: syntax))
            }
            rest = rest.dropFirst(u.count)
            components += 1
            guard o > lastOrder else {
                return .failure(QuantityProblem(message: "duration `\(text)` repeats a unit or has them out of order", syntax: syntax))
            }
            lastOrder = o
            guard !hasPoint || (components == 1 && rest.isEmpty) else {
                return .failure(QuantityProblem(message: "duration `\(text)` has decimals in a duration of several units; write whole numbers (`1h30m`) or one unit (`1.5h`)", syntax: syntax))
            }
            guard let n = Int64(digits) else {
                return .failure(QuantityProblem(message: "duration `\(text)` is too long", syntax: syntax))
            }
            var (p, o1) = n.multipliedReportingOverflow(by: size)
            var place = size
            for digit in fraction where !o1 {
                guard place % 10 == 0 else {
                    return .failure(QuantityProblem(message: "duration `\(text)` is finer than 1 ns; it would have to be rounded", syntax: syntax))
                }
                place /= 10
                (p, o1) = p.addingReportingOverflow(Int64(digit.wholeNumberValue!) * place)
            }
            let (s, o2) = total.addingReportingOverflow(p)
            guard !o1, !o2 else { return .failure(QuantityProblem(message: "duration `\(text)` is too long", syntax: syntax)) }
            total = s
        }
        return .success(TimeSpan(nanoseconds: total))
    }

    /// How `duration` wants a duration written (the `allowed` of its diagnostics).
    public static let durationSyntax = "a number and a unit d, h, m, s, ms, us or ns (`90d`, `250ms`, `1.9us`), "
        + "or whole numbers with units in decreasing order (`2d12h`), or 0"

    /// Unit, nanoseconds per unit, order (larger units first). Longer names before their prefixes.
    static let durationUnits: [(String, Int64, Int)] = [
        ("d", TimeConstants.nanosecondsPerDay, 0), ("h", TimeConstants.nanosecondsPerHour, 1),
        ("ms", 1_000_000, 4), ("m", TimeConstants.nanosecondsPerMinute, 2), ("s", TimeConstants.nanosecondsPerSecond, 3),
        ("us", 1_000, 5), ("µs", 1_000, 5), ("μs", 1_000, 5), ("ns", 1, 6),
    ]

    /// An instant on a scenario's time line, from its start: a duration (`30d`, `90d12h`) or the
    /// clock form the reports print (`30d+08:00`, `30d+08:00:30`).
    public static func instant(_ text: String) -> Result<Instant, QuantityProblem> {
        let t = String(Substring(text).trimmingSpaces)
        guard let plus = t.firstIndex(of: "+") else { return duration(t).map { .zero + $0 } }
        let syntax = "a duration from the start (`30d`, `2d12h`) or `<days>d+HH:MM[:SS]`"
        let dayPart = t[t.startIndex..<plus], clock = t[t.index(after: plus)...]
        guard dayPart.hasSuffix("d"), let days = Int64(dayPart.dropLast()), days >= 0, days < 100_000 else {
            return .failure(QuantityProblem(message: "instant `\(text)` has no `<days>d` before `+`", syntax: syntax))
        }
        let parts = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), let h = Int64(parts[0]), let m = Int64(parts[1]),
              (0..<24).contains(h), (0..<60).contains(m), parts.allSatisfy({ $0.count == 2 }) else {
            return .failure(QuantityProblem(message: "instant `\(text)` has no valid HH:MM after `+`", syntax: syntax))
        }
        var s: Int64 = 0
        if parts.count == 3 {
            guard let v = Int64(parts[2]), (0..<60).contains(v) else {
                return .failure(QuantityProblem(message: "instant `\(text)` has invalid seconds", syntax: syntax))
            }
            s = v
        }
        return .success(.zero + .days(days) + .hours(h) + .minutes(m) + .seconds(s))
    }

    /// `08:00` or `08:00:30` → a time of day.
    public static func timeOfDay(_ text: String) -> Result<TimeOfDay, QuantityProblem> {
        let syntax = "`HH:MM` or `HH:MM:SS`, 00:00 to 23:59:59"
        let parts = Substring(text).trimmingSpaces.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), parts.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let h = Int(parts[0]), let m = Int(parts[1]) else {
            return .failure(QuantityProblem(message: "time of day `\(text)` is not HH:MM", syntax: syntax))
        }
        let s = parts.count == 3 ? Int(parts[2]) ?? 99 : 0
        guard let tod = TimeOfDay(hour: h, minute: m, second: s) else {
            return .failure(QuantityProblem(message: "time of day `\(text)` is out of range", syntax: syntax))
        }
        return .success(tod)
    }
}
