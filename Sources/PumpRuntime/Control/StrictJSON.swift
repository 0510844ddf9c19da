/// The control channel's JSON reader (RFC 8259), stricter than Foundation's where a pump must be:
///
/// - a key that appears twice in one object is refused (Foundation keeps one silently, so two readers
///   of the same line could disagree on the dose);
/// - numbers are read exactly from their text: a whole number within Int64 is `.int`, written as
///   `500`, `500.0` or `5e2`; anything else (a fraction, however small, such as
///   `500.00000000000000001`, or a whole number beyond Int64) is `.number(text)`, which no field
///   accepts, so it is refused with the field's range instead of being rounded;
/// - bytes that are not UTF-8, nesting deeper than `maximumDepth`, and anything after the value are
///   refused with the byte offset and what was expected.
enum StrictJSON {
    /// Deepest nesting of arrays and objects accepted (a request needs 3).
    static let maximumDepth = 16

    static func parse(_ bytes: some Collection<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        let b = Array(bytes)
        guard String(validating: b, as: UTF8.self) != nil else {
            throw .notUTF8(offset: firstInvalidUTF8(b))
        }
        var p = Parser(b: b)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == b.count else { throw .syntax(offset: p.i, expected: "the end of the line after one JSON value") }
        return v
    }

    /// Offset of the first byte that breaks UTF-8 (the length if none does).
    static func firstInvalidUTF8(_ b: [UInt8]) -> Int {
        var parser = Unicode.UTF8.ForwardParser()
        var it = b.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &it) {
            case let .valid(encoded): offset += encoded.count
            case .emptyInput: return offset
            case .error: return offset
            }
        }
    }

    struct Parser {
        let b: [UInt8]
        var i = 0

        mutating func skipSpace() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 }
        }

        mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            guard i < b.count else { throw .syntax(offset: i, expected: "a value") }
            switch b[i] {
            case UInt8(ascii: "{"):
                guard depth < StrictJSON.maximumDepth else { throw .tooDeep(limit: StrictJSON.maximumDepth) }
                return try object(depth: depth + 1)
            case UInt8(ascii: "["):
                guard depth < StrictJSON.maximumDepth else { throw .tooDeep(limit: StrictJSON.maximumDepth) }
                return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw .syntax(offset: i, expected: "a value (object, array, text, number, true, false or null)")
            }
        }

        mutating func literal(_ word: String) throws(JSONSyntaxError) {
            let w = Array(word.utf8)
            guard b.count - i >= w.count, Array(b[i..<(i + w.count)]) == w else { throw .syntax(offset: i, expected: word) }
            i += w.count
        }

        mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            i += 1
            var o: [String: JSONValue] = [:]
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw .syntax(offset: i, expected: "a key in double quotes") }
                let key = try string()
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw .syntax(offset: i, expected: "':' after the key") }
                i += 1
                skipSpace()
                let v = try value(depth: depth)
                guard o[key] == nil else { throw .duplicateKey(key) }
                o[key] = v
                skipSpace()
                guard i < b.count else { throw .syntax(offset: i, expected: "',' or '}'") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                throw .syntax(offset: i, expected: "',' or '}'")
            }
        }

        mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            i += 1
            var a: [JSONValue] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            while true {
                skipSpace()
                a.append(try value(depth: depth))
                skipSpace()
                guard i < b.count else { throw .syntax(offset: i, expected: "',' or ']'") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                throw .syntax(offset: i, expected: "',' or ']'")
            }
        }

        mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
            guard b.count - i >= 4 else { throw .syntax(offset: i, expected: "4 hex digits after \\u") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = b[i]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw .syntax(offset: i, expected: "a hex digit")
                }
                v = v * 16 + d
                i += 1
            }
            return v
        }

        /// A string at `i` (the opening quote). Escapes are decoded; a raw control byte is a syntax error
        /// (RFC 8259); lone surrogates are refused.
        mutating func string() throws(JSONSyntaxError) -> String {
            i += 1
            var out: [UInt8] = []
            while true {
                guard i < b.count else { throw .syntax(offset: i, expected: "a closing '\"'") }
                let c = b[i]
                if c == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
                if c < 0x20 { throw .syntax(offset: i, expected: "no raw control character inside text (write it escaped, if at all)") }
                if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
                i += 1
                guard i < b.count else { throw .syntax(offset: i, expected: "an escape after '\\'") }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    let at = i - 2
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard b.count - i >= 2, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                            throw .syntax(offset: at, expected: "a low surrogate after a high one")
                        }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw .syntax(offset: at, expected: "a low surrogate after a high one") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw .syntax(offset: at, expected: "no lone surrogate") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: throw .syntax(offset: i - 1, expected: "one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX")
                }
            }
        }

        /// A number, read exactly: sign, integer digits, fraction digits, exponent. The value is a whole
        /// number when every digit that stays after the decimal point once the exponent is applied is 0.
        mutating func number() throws(JSONSyntaxError) -> JSONValue {
            let start = i
            var negative = false
            if b[i] == UInt8(ascii: "-") { negative = true; i += 1 }
            func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
            guard i < b.count, isDigit(b[i]) else { throw .syntax(offset: i, expected: "a digit") }
            var intDigits: [UInt8] = []
            if b[i] == UInt8(ascii: "0") {
                intDigits = [0]; i += 1
                if i < b.count, isDigit(b[i]) { throw .syntax(offset: i, expected: "no leading zero") }
            } else {
                while i < b.count, isDigit(b[i]) { intDigits.append(b[i] - UInt8(ascii: "0")); i += 1 }
            }
            var fracDigits: [UInt8] = []
            if i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                guard i < b.count, isDigit(b[i]) else { throw .syntax(offset: i, expected: "a digit after '.'") }
                while i < b.count, isDigit(b[i]) { fracDigits.append(b[i] - UInt8(ascii: "0")); i += 1 }
            }
            var exponent = 0
            if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                i += 1
                var expNegative = false
                if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { expNegative = b[i] == UInt8(ascii: "-"); i += 1 }
                guard i < b.count, isDigit(b[i]) else { throw .syntax(offset: i, expected: "a digit in the exponent") }
                while i < b.count, isDigit(b[i]) {
                    // Saturate: an exponent beyond a few thousand makes any non-zero value out of range anyway.
                    exponent = min(exponent * 10 + Int(b[i] - UInt8(ascii: "0")), 100_000)
                    i += 1
                }
                if expNegative { exponent = -exponent }
            }
            let text = String(decoding: b[start..<i], as: UTF8.self)
            // All significant digits, with the decimal point `point` digits from the left.
            let digits = intDigits + fracDigits
            let point = intDigits.count + exponent
            let whole = point <= 0 ? [] : Array(digits.prefix(point))
            let rest = point <= 0 ? digits : Array(digits.dropFirst(min(point, digits.count)))
            guard rest.allSatisfy({ $0 == 0 }) else { return .number(text) }
            let zerosAfter = max(0, point - digits.count)
            // A whole number: its digits, then `zerosAfter` zeros; it must fit Int64.
            var v: Int64 = 0
            let isZero = whole.allSatisfy { $0 == 0 }
            if !isZero {
                guard zerosAfter <= 19 else { return .number(text) }
                for d in whole + Array(repeating: 0, count: zerosAfter) {
                    let (m, o1) = v.multipliedReportingOverflow(by: 10)
                    let (s, o2) = m.subtractingReportingOverflow(Int64(d))     // accumulate negatively: Int64.min fits
                    guard !o1, !o2 else { return .number(text) }
                    v = s
                }
            }
            if negative { return .int(v) }
            guard v != .min else { return .number(text) }
            return .int(-v)
        }
    }
}

/// Why a request line is not JSON the control channel reads.
enum JSONSyntaxError: Error, Hashable, Sendable {
    case notUTF8(offset: Int)
    case syntax(offset: Int, expected: String)
    case duplicateKey(String)
    case tooDeep(limit: Int)
}
