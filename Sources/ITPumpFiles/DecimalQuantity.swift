/// A non-negative decimal number as written in a file (`0.25`, `1200`, `14.5`), kept exact as an
/// integer mantissa and a power of ten, so a unit conversion either is exact or is refused: a file
/// value is never rounded silently.
struct DecimalNumber: Hashable, Sendable {
    /// The digits as an integer.
    var mantissa: Int64
    /// Digits after the decimal point.
    var fractionDigits: Int
    var negative: Bool

    /// Parses `[-]digits[.digits]`; nil on anything else (exponents, several points, overflow).
    init?(_ text: Substring) {
        var s = text
        negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() } else if s.first == "+" { s = s.dropFirst() }
        guard !s.isEmpty else { return nil }
        var m: Int64 = 0
        var digits = 0
        var fraction = -1
        for ch in s {
            if ch == "." {
                guard fraction < 0 else { return nil }
                fraction = 0
                continue
            }
            guard let d = ch.wholeNumberValue, ch.isASCII else { return nil }
            let (a, o1) = m.multipliedReportingOverflow(by: 10)
            let (b, o2) = a.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return nil }
            m = b
            digits += 1
            if fraction >= 0 { fraction += 1 }
        }
        guard digits > 0, fraction != 0 else { return nil }
        mantissa = m
        fractionDigits = max(fraction, 0)
    }

    /// The value times `factor` (an integer number of base units per written unit), if that is a whole
    /// number of base units that fits in 64 bits; nil otherwise.
    func scaled(by factor: Int64) -> Int64? {
        let p = Int128(mantissa) * Int128(factor)
        var den: Int128 = 1
        for _ in 0..<fractionDigits { den *= 10; if den > Int128(Int64.max) * 1_000 { return nil } }
        guard p % den == 0 else { return nil }
        let v = p / den
        guard v <= Int128(Int64.max) else { return nil }
        return negative ? -Int64(v) : Int64(v)
    }
}

/// Splits `"0.25 uL"` / `"0.25uL"` into the number and the unit text (spaces trimmed).
func splitQuantity(_ text: String) -> (number: Substring, unit: Substring) {
    let t = Substring(text).trimmingSpaces
    var end = t.startIndex
    while end < t.endIndex, t[end].isASCII, t[end].isNumber || t[end] == "." || t[end] == "-" || t[end] == "+" {
        end = t.index(after: end)
    }
    return (t[t.startIndex..<end], t[end...].trimmingSpaces)
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return s
    }
}

/// The micro prefix as people type it: `u`, `μ` (Greek mu) or `µ` (micro sign).
func normaliseMicro(_ unit: Substring) -> String {
    String(unit).replacingMicro()
}

extension String {
    func replacingMicro() -> String {
        var out = ""
        for ch in self { out.append(ch == "μ" || ch == "µ" ? "u" : ch) }
        return out
    }
}
