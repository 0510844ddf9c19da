import PumpCore
import Yams

/// Collects diagnostics while one file is read. Every typed read either returns a value inside its
/// allowed range or records a diagnostic and returns nil: nothing is clamped.
public final class DocumentReader {
    /// The file name used in diagnostics.
    public let file: String
    /// The directory relative references (`pump: pumps/bench.yaml`) are resolved against.
    public let directory: String
    public private(set) var diagnostics: [Diagnostic] = []

    public init(file: String, directory: String) {
        self.file = file
        self.directory = directory
    }

    /// Records a problem at `node` (line 0 when there is no node).
    public func report(_ node: Node?, field: String, value: String, allowed: String, _ message: String) {
        diagnostics.append(Diagnostic(file: file, line: node?.mark?.line ?? 0, field: field, value: value,
                                      allowed: allowed, message: message))
    }

    /// Records diagnostics produced elsewhere (a referenced file).
    public func absorb(_ other: [Diagnostic]) { diagnostics += other }

    public var hasErrors: Bool { !diagnostics.isEmpty }
}

/// A node with the dotted path that led to it.
public struct Field {
    public let node: Node
    public let path: String
    public let reader: DocumentReader

    public init(node: Node, path: String, reader: DocumentReader) {
        self.node = node
        self.path = path
        self.reader = reader
    }

    /// The node's text as written, for diagnostics.
    public var written: String {
        switch node {
        case let .scalar(s): return s.string.count > 80 ? String(s.string.prefix(77)) + "..." : s.string
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    public func fail(_ message: String, allowed: String) {
        reader.report(node, field: path, value: written, allowed: allowed, message)
    }

    /// The scalar text, or a diagnostic.
    public func scalar(expecting allowed: String) -> String? {
        guard case let .scalar(s) = node else {
            fail("expected a single value, found \(written)", allowed: allowed)
            return nil
        }
        return s.string
    }

    /// Reads a mapping; nil (with a diagnostic) otherwise.
    public func mapping(allowedKeys: [String]) -> MappingField? {
        guard case let .mapping(m) = node else {
            fail("expected a mapping of \(allowedKeys.joined(separator: ", "))", allowed: "a mapping")
            return nil
        }
        return MappingField(mapping: m, field: self, allowedKeys: allowedKeys)
    }

    /// Reads a list; nil (with a diagnostic) otherwise.
    public func sequence(maximum: Int = 10_000) -> [Field]? {
        guard case let .sequence(s) = node else {
            fail("expected a list", allowed: "a YAML list (`- item`)")
            return nil
        }
        guard s.count <= maximum else {
            fail("has \(s.count) entries", allowed: "at most \(maximum) entries")
            return nil
        }
        return s.enumerated().map { Field(node: $1, path: "\(path)[\($0)]", reader: reader) }
    }

    // MARK: Typed values

    func quantity<T: Comparable & CustomStringConvertible>(_ parse: (String) -> Result<T, QuantityProblem>,
                                                          in range: ClosedRange<T>?, rangeText: String? = nil) -> T? {
        let allowedText = rangeText ?? range.map { "\($0.lowerBound) … \($0.upperBound)" } ?? ""
        guard let text = scalar(expecting: allowedText) else { return nil }
        switch parse(text) {
        case let .failure(p):
            fail(p.message, allowed: allowedText.isEmpty ? p.syntax : "\(allowedText), written as \(p.syntax)")
            return nil
        case let .success(v):
            if let range, !range.contains(v) {
                fail("\(v) is outside the allowed range; set it within the range", allowed: allowedText)
                return nil
            }
            return v
        }
    }

    public func volume(in range: ClosedRange<Volume>?, rangeText: String? = nil) -> Volume? {
        quantity(QuantitySyntax.volume, in: range, rangeText: rangeText)
    }
    public func doseRate(in range: ClosedRange<DoseRate>? = DoseRate.allowedRange) -> DoseRate? {
        quantity(QuantitySyntax.doseRate, in: range)
    }
    public func flowRate(in range: ClosedRange<FlowRate>?) -> FlowRate? { quantity(QuantitySyntax.flowRate, in: range) }
    public func volumeRate(in range: ClosedRange<VolumeRate>?) -> VolumeRate? { quantity(QuantitySyntax.volumeRate, in: range) }
    public func fraction(in range: ClosedRange<Fraction>?) -> Fraction? { quantity(QuantitySyntax.fraction, in: range) }
    public func duration(in range: ClosedRange<TimeSpan>?) -> TimeSpan? { quantity(QuantitySyntax.duration, in: range) }
    public func instant(in range: ClosedRange<Instant>?) -> Instant? {
        quantity(QuantitySyntax.instant, in: range, rangeText: range.map { "\($0.lowerBound) … \($0.upperBound) after the start" })
    }
    public func timeOfDay() -> TimeOfDay? { quantity(QuantitySyntax.timeOfDay, in: nil, rangeText: "00:00 … 23:59:59") }

    /// One of `choices`, written exactly.
    public func concentration(oneOf choices: [Concentration]) -> Concentration? {
        let text = choices.map(\.description).joined(separator: ", ")
        guard let c = quantity(QuantitySyntax.concentration, in: nil, rangeText: text) else { return nil }
        guard choices.contains(c) else { fail("\(c) is not an allowed concentration", allowed: text); return nil }
        return c
    }

    public func integer(in range: ClosedRange<Int64>) -> Int64? {
        let allowed = "\(range.lowerBound) … \(range.upperBound)"
        guard let text = scalar(expecting: allowed) else { return nil }
        guard let v = Int64(text.trimmingCharacters(in: " ")) else { fail("not a whole number", allowed: allowed); return nil }
        guard range.contains(v) else { fail("\(v) is outside the allowed range; set it within the range", allowed: allowed); return nil }
        return v
    }

    public func bool() -> Bool? {
        guard let text = scalar(expecting: "true or false") else { return nil }
        switch text { case "true": return true; case "false": return false
        default: fail("not a boolean", allowed: "true or false"); return nil }
    }

    public func string(maxLength: Int = 200) -> String? {
        guard let text = scalar(expecting: "text") else { return nil }
        guard !text.isEmpty, text.count <= maxLength else { fail("text is empty or too long", allowed: "1 … \(maxLength) characters"); return nil }
        return text
    }

    public func choice<E: RawRepresentable & CaseIterable>(_ type: E.Type) -> E? where E.RawValue == String {
        let names = E.allCases.map(\.rawValue)
        guard let text = scalar(expecting: names.joined(separator: ", ")) else { return nil }
        guard let v = E(rawValue: text) else { fail("`\(text)` is not one of the choices", allowed: names.joined(separator: ", ")); return nil }
        return v
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        String(Substring(self).trimmingSpaces)
    }
}

/// A mapping being read: each key read is marked used, and `finish()` reports every key that is not
/// allowed (a misspelt field is an error, not silently ignored).
public final class MappingField {
    public let field: Field
    let pairs: [(key: String, node: Node, keyNode: Node)]
    let allowedKeys: [String]
    private var used: Set<String> = []

    init(mapping: Node.Mapping, field: Field, allowedKeys: [String]) {
        self.field = field
        self.allowedKeys = allowedKeys
        var seen: Set<String> = []
        var pairs: [(String, Node, Node)] = []
        for (k, v) in mapping {
            guard case let .scalar(s) = k else {
                field.reader.report(k, field: field.path, value: "a complex key", allowed: allowedKeys.joined(separator: ", "),
                                    "keys must be plain names")
                continue
            }
            if seen.contains(s.string) {
                field.reader.report(k, field: Self.join(field.path, s.string), value: s.string, allowed: "each key once",
                                    "the key appears more than once; keep one")
                continue
            }
            seen.insert(s.string)
            pairs.append((s.string, v, k))
        }
        self.pairs = pairs
    }

    static func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : "\(a).\(b)" }

    public func has(_ key: String) -> Bool { pairs.contains { $0.key == key } }

    /// The value of `key`, if present.
    public func optional(_ key: String) -> Field? {
        used.insert(key)
        guard let p = pairs.first(where: { $0.key == key }) else { return nil }
        return Field(node: p.node, path: Self.join(field.path, key), reader: field.reader)
    }

    /// The value of `key`; a diagnostic if it is missing.
    public func required(_ key: String, allowed: String) -> Field? {
        if let f = optional(key) { return f }
        field.reader.report(field.node, field: Self.join(field.path, key), value: "missing", allowed: allowed,
                            "required field is missing; add it")
        return nil
    }

    /// Reports keys that are not allowed (`keys`, or those given when the mapping was read).
    public func finish(allowing keys: [String]? = nil) {
        let allowedKeys = keys ?? self.allowedKeys
        for p in pairs where !allowedKeys.contains(p.key) {
            field.reader.report(p.keyNode, field: Self.join(field.path, p.key), value: p.key, allowed: allowedKeys.joined(separator: ", "),
                                "unknown field; check the spelling")
        }
    }
}
