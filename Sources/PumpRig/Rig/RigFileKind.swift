import ITPumpFiles

extension FileKind {
    /// `kind: rig` for `itpump validate`: checked by `RigFile.check(yaml:file:)`, the loader `itpump run`
    /// uses, so validation and loading cannot disagree. ITPumpFiles does not list it in `FileKinds.all`
    /// (it must not depend on the GPIO side); callers pass `FileKinds.all + [.rig]`.
    public static let rig = FileKind(name: "rig", summary: "a bench rig: stepper driver, timing, GPIO lines per role (RigDescription)") {
        text, file in
        RigFile.check(yaml: text, file: file).map(\.diagnostic)
    }
}

extension RigFileError {
    /// The same error in the shape every itpump file diagnostic has (file, line, field, value, allowed,
    /// message), for `itpump validate`'s listing.
    public var diagnostic: Diagnostic {
        switch self {
        case let .unreadable(f, reason):
            return Diagnostic(file: f, line: 0, field: "", value: "", allowed: "", message: "cannot read the rig file: \(reason)")
        case let .syntax(f, l, c, problem):
            return Diagnostic(file: f, line: l, field: "", value: "", allowed: "YAML", message: "not valid YAML at column \(c): \(problem)")
        case let .missingField(f, l, field):
            return Diagnostic(file: f, line: l, field: field, value: "missing", allowed: "", message: "is missing; add it")
        case let .unknownField(f, l, field, allowed):
            return Diagnostic(file: f, line: l, field: field, value: String(field.split(separator: ".").last ?? ""),
                              allowed: allowed.joined(separator: ", "), message: "unknown field")
        case let .duplicateKey(f, l, field):
            return Diagnostic(file: f, line: l, field: field, value: "", allowed: "", message: "is given twice; keep one")
        case let .wrongType(f, l, field, value, expected):
            return Diagnostic(file: f, line: l, field: field, value: value, allowed: expected, message: "wrong kind of value")
        case let .invalid(f, l, p):
            return Diagnostic(file: f, line: l, field: p.field, value: p.value, allowed: p.allowed, message: p.problem)
        }
    }
}
