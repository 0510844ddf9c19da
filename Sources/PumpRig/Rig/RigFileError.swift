/// Why a rig file could not be used. Every case names the file and, where it has one, the line and
/// the field; `description` says what to change.
public enum RigFileError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file could not be read (missing, permissions, not UTF-8).
    case unreadable(file: String, reason: String)
    /// Not valid YAML.
    case syntax(file: String, line: Int, column: Int, problem: String)
    /// A required field is absent from the mapping that starts at `line`.
    case missingField(file: String, line: Int, field: String)
    /// A key this format does not have (a typo, or a role that does not exist).
    case unknownField(file: String, line: Int, field: String, allowed: [String])
    /// The same key twice in one mapping.
    case duplicateKey(file: String, line: Int, field: String)
    /// A value of the wrong shape (text where a number is expected, a list where a mapping is…).
    case wrongType(file: String, line: Int, field: String, value: String, expected: String)
    /// A well-formed value the rig rules refuse (timing, ranges, duplicate lines, alarm patterns).
    case invalid(file: String, line: Int, RigProblem)

    public var file: String {
        switch self {
        case let .unreadable(f, _), let .syntax(f, _, _, _), let .missingField(f, _, _), let .unknownField(f, _, _, _),
             let .duplicateKey(f, _, _), let .wrongType(f, _, _, _, _), let .invalid(f, _, _): f
        }
    }

    /// The 1-based line the error points at (0 for `unreadable`).
    public var line: Int {
        switch self {
        case .unreadable: 0
        case let .syntax(_, l, _, _), let .missingField(_, l, _), let .unknownField(_, l, _, _), let .duplicateKey(_, l, _),
             let .wrongType(_, l, _, _, _), let .invalid(_, l, _): l
        }
    }

    public var description: String {
        switch self {
        case let .unreadable(f, r): return "\(f): cannot read the rig file: \(r)"
        case let .syntax(f, l, c, p): return "\(f):\(l):\(c): not valid YAML: \(p)"
        case let .missingField(f, l, field): return "\(f):\(l): \(field) is missing; add it"
        case let .unknownField(f, l, field, allowed):
            return "\(f):\(l): unknown field \(field); allowed here: \(allowed.joined(separator: ", "))"
        case let .duplicateKey(f, l, field): return "\(f):\(l): \(field) is given twice; keep one"
        case let .wrongType(f, l, field, v, e): return "\(f):\(l): \(field) = \(v): expected \(e)"
        case let .invalid(f, l, p): return "\(f):\(l): \(p.field) = \(p.value): \(p.problem); allowed: \(p.allowed)"
        }
    }
}
