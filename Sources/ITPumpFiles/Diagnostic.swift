/// One problem found in an itpump file: where it is (file and line), which field, the value found and
/// what is allowed. Every loader reports all the problems it finds, never only the first, and never
/// clamps a value into range silently.
public struct Diagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file as given on the command line (or a label such as `<inline>`).
    public var file: String
    /// 1-based line of the offending node; 0 when the file as a whole is at fault (unreadable, empty).
    public var line: Int
    /// Dotted path of the field (`settings.alarms.lowReservoirThreshold`, `timeline[3].at`); empty for
    /// the document itself.
    public var field: String
    /// The value found, as written (or a short description such as `missing`).
    public var value: String
    /// What is allowed: a range with units, a list of choices or a syntax.
    public var allowed: String
    /// What is wrong and what to do.
    public var message: String

    public init(file: String, line: Int, field: String, value: String, allowed: String, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.value = value
        self.allowed = allowed
        self.message = message
    }

    /// `file:line: field: message (value: …; allowed: …)`.
    public var description: String {
        var s = "\(file):\(line): "
        if !field.isEmpty { s += "\(field): " }
        s += message
        var details: [String] = []
        if !value.isEmpty { details.append("value: \(value)") }
        if !allowed.isEmpty { details.append("allowed: \(allowed)") }
        if !details.isEmpty { s += " (" + details.joined(separator: "; ") + ")" }
        return s
    }
}

/// The error a loader throws: every diagnostic it found, in file order.
public struct DiagnosticReport: Error, Hashable, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    /// One diagnostic per line.
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
