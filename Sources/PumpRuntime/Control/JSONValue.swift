import Foundation

/// A JSON value as the control channel reads it (`StrictJSON`): whole numbers are kept apart from
/// every other number, read exactly from the text, so a dose of `1.5` μg/day, or
/// `500.00000000000000001`, is refused rather than rounded.
public enum JSONValue: Hashable, Sendable, Encodable {
    case null
    case bool(Bool)
    /// A whole number within Int64 (`500`, `500.0` and `5e2` alike).
    case int(Int64)
    /// Any other number, as written: a fraction, or a whole number beyond Int64. No field accepts one.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Reads one JSON value from `bytes` (see `StrictJSON`: duplicate keys, non-UTF-8 bytes and
    /// nesting deeper than 16 are refused).
    public static func parse(_ bytes: some Collection<UInt8>) throws(ControlRequestError) -> JSONValue {
        do { return try StrictJSON.parse(bytes) } catch {
            switch error {
            case let .notUTF8(offset): throw .notUTF8(byte: offset)
            case let .syntax(offset, expected): throw .notJSON(byte: offset, expected: expected)
            case let .duplicateKey(k): throw .duplicateKey(String(k.prefix(40)))
            case let .tooDeep(limit): throw .tooDeep(limit: limit)
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case let .bool(b): try c.encode(b)
        case let .int(i): try c.encode(i)
        case let .number(t): try c.encode(Decimal(string: t) ?? 0)
        case let .string(s): try c.encode(s)
        case let .array(a): try c.encode(a)
        case let .object(o): try c.encode(o)
        }
    }

    /// The value as the client wrote it, for an error message (a `.number` keeps its text).
    var shown: String {
        if case let .number(t) = self { return t }
        return line
    }

    /// One line of compact JSON with sorted keys (no newline inside: replies are one line each).
    public var line: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let d = try? e.encode(self), let s = String(data: d, encoding: .utf8) else { return "{\"ok\":false,\"error\":\"reply encoding failed\"}" }
        return s
    }
}
