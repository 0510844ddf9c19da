/// Text from outside (a clinician's override reason, a name) made safe to print on a terminal, in a log
/// line or in a report: control characters (C0, DEL, C1: line breaks, tabs, the ANSI escape) and the
/// Unicode characters that reorder or break lines (bidirectional overrides and isolates, line and
/// paragraph separators) are written as `\u{1B}`, so one record stays one line and no text can
/// recolour, move the cursor or forge another record.
public enum PrintableText {
    /// True for a scalar that `escaped` rewrites and the control channel refuses in a text field.
    public static func isUnsafe(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x00...0x1F, 0x7F...0x9F: return true          // C0, DEL, C1 (CSI is 0x9B)
        case 0x2028, 0x2029: return true                     // line / paragraph separator
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true   // bidirectional controls
        default: return false
        }
    }

    /// The first scalar `isUnsafe` finds in `s`, if any.
    public static func firstUnsafe(in s: String) -> Unicode.Scalar? { s.unicodeScalars.first(where: isUnsafe) }

    /// `s` with every unsafe scalar written as `\u{HEX}` (other text unchanged).
    public static func escaped(_ s: String) -> String {
        guard firstUnsafe(in: s) != nil else { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            if isUnsafe(u) { out.append(contentsOf: "\\u{\(String(u.value, radix: 16, uppercase: true))}".unicodeScalars) } else { out.append(u) }
        }
        return String(out)
    }
}
