import Foundation
import Testing
@testable import PumpCore
@testable import PumpJournal
@testable import PumpRig
@testable import PumpRuntime

/// The control channel reads JSON strictly: one meaning per line, numbers exactly as written, errors
/// that say what is wrong, and no control characters in text fields.
@Suite struct ControlStrictJSONTests {
    func parse(_ s: String) throws(ControlRequestError) -> ControlRequest { try ControlRequest.parse(Array(s.utf8)) }

    /// Two readers of `{"ug_per_day":5,"ug_per_day":5000}` could disagree on the dose: refused.
    @Test(arguments: [
        #"{"cmd":"program","ug_per_day":500,"ug_per_day":5000}"#,
        #"{"cmd":"status","cmd":"status"}"#,
        #"{"cmd":"stop","override":{"reason":"x","reason":"y","clinician":"c"}}"#,
        #"{"cmd":"program","steps":[{"start":"08:00","ug_per_day":1,"ug_per_day":2}]}"#,
    ])
    func duplicateKeysAreRefused(line: String) throws {
        let e = #expect(throws: ControlRequestError.self) { try parse(line) }
        guard case .duplicateKey? = e else { Issue.record("\(String(describing: e))"); return }
        #expect("\(e!)".contains("appears twice"))
    }

    /// Numbers are read exactly from their text: a whole number however written is accepted, anything
    /// with a non-zero digit after the point is refused, however far out.
    @Test(arguments: [
        ("500", Int64?.some(500)), ("500.0", 500), ("5e2", 500), ("5E+2", 500), ("50000e-2", 500), ("0.5e3", 500),
        ("500.000000000000000000000000", 500), ("-0", 0), ("0e99999", 0), ("9223372036854775807", .max),
        ("-9223372036854775808", .min),
        ("500.00000000000000001", nil), ("499.99999999999999999", nil), ("500.5", nil), ("5e-1", nil),
        ("9223372036854775808", nil), ("1e19", nil), ("1e400", nil), ("-9223372036854775809", nil), ("1e-400", nil),
    ])
    func numbersAreReadExactly(text: String, whole: Int64?) throws {
        let v = try JSONValue.parse(Array(text.utf8))
        if let whole { #expect(v == .int(whole)) } else { #expect(v == .number(text)) }
    }

    @Test func aFractionOfAMicrogramIsRefusedWithTheFieldsRange() throws {
        #expect(throws: ControlRequestError.badValue(field: "ug_per_day", value: "500.00000000000000001", allowed: "a whole number 1 … 100000")) {
            try parse(#"{"cmd":"program","ug_per_day":500.00000000000000001}"#)
        }
        #expect(try parse(#"{"cmd":"program","ug_per_day":5e2}"#) == .command(.program(.continuous(.microgramsPerDay(500)))))
        // Valid JSON, out of range: the field and its range, not "not JSON".
        #expect(throws: ControlRequestError.badValue(field: "ug_per_day", value: "1e400", allowed: "a whole number 1 … 100000")) {
            try parse(#"{"cmd":"program","ug_per_day":1e400}"#)
        }
        #expect(throws: ControlRequestError.badValue(field: "ug_per_day", value: "99999999999999999999", allowed: "a whole number 1 … 100000")) {
            try parse(#"{"cmd":"program","ug_per_day":99999999999999999999}"#)
        }
    }

    /// Syntax errors name the byte and what was expected.
    @Test(arguments: [
        (#"{"cmd":"status",}"#, 16, "a key in double quotes"),
        (#"{"cmd" "status"}"#, 7, "':' after the key"),
        (#"{"cmd":"status"} x"#, 17, "the end of the line after one JSON value"),
        (#"{"cmd":01}"#, 8, "no leading zero"),
        (#"{"cmd":tru}"#, 7, "true"),
        ("{\"cmd\":\"a\u{01}\"}", 9, "no raw control character inside text (write it escaped, if at all)"),
        (#"{"cmd":"\ud800"}"#, 8, "a low surrogate after a high one"),
    ])
    func syntaxErrorsSayWhereAndWhat(line: String, offset: Int, expected: String) {
        #expect(throws: ControlRequestError.notJSON(byte: offset, expected: expected)) { try parse(line) }
        #expect(ControlRequestError.notJSON(byte: offset, expected: expected).description.contains("at byte \(offset)"))
    }

    /// A newline, an ANSI escape, DEL, a C1 control or a bidirectional override in a text field would
    /// forge log lines or recolour a terminal: refused at the protocol, naming the field and character.
    @Test(arguments: [
        (#"intrathecal infection\nNOTICE control: stop accepted"#, "U+000A"),
        (#"infection \u001b[2J\u001b[31mOK"#, "U+001B"),
        (#"tab\tseparated"#, "U+0009"),
        (#"del\u007f"#, "U+007F"),
        (#"csi\u009b31m"#, "U+009B"),
        (#"rtl\u202eevil"#, "U+202E"),
        (#"line\u2028separator"#, "U+2028"),
    ])
    func controlCharactersInTextAreRefused(reason: String, scalar: String) throws {
        let line = #"{"cmd":"stop","taper_days":0,"override":{"reason":""# + reason + #"","clinician":"Dr A"}}"#
        #expect(throws: ControlRequestError.controlCharacter(field: "reason", scalar: scalar)) { try parse(line) }
        let clinician = #"{"cmd":"stop","taper_days":0,"override":{"reason":"infection","clinician":""# + reason + #""}}"#
        #expect(throws: ControlRequestError.controlCharacter(field: "clinician", scalar: scalar)) { try parse(clinician) }
        // Ordinary non-ASCII text is fine.
        #expect(throws: Never.self) { try parse(#"{"cmd":"stop","taper_days":0,"override":{"reason":"méningite à 38,9 °C — Ω","clinician":"Dr Ødegård"}}"#) }
    }

    @Test func printableTextEscapesEveryUnsafeScalarAndNothingElse() {
        #expect(PrintableText.escaped("a\nb\u{1B}[31mc\u{7F}\u{9B}\u{202E}é") == #"a\u{A}b\u{1B}[31mc\u{7F}\u{9B}\u{202E}é"#)
        #expect(PrintableText.escaped("Dr Ødegård — 38,9 °C") == "Dr Ødegård — 38,9 °C")
        for v in UInt32(0)...0x2100 {
            guard let u = Unicode.Scalar(v) else { continue }
            let e = PrintableText.escaped(String(Character(u)))
            let general = u.properties.generalCategory
            if general == .control || general == .lineSeparator || general == .paragraphSeparator {
                #expect(e.hasPrefix("\\u{"), "U+\(String(v, radix: 16)) left raw")
            }
            #expect(!e.unicodeScalars.contains { $0.properties.generalCategory == .control }, "U+\(String(v, radix: 16))")
        }
    }
}
