/// One kind of itpump file, named by its top-level `kind:` field. `itpump validate` dispatches on it.
///
/// To add a kind read by this module: write its reader in a new file here, declare a `static let`
/// `FileKind` for it and list it in `FileKinds.all`.
///
/// A kind whose format belongs to another module (the bench rig's `rig` files, read by PumpRig's
/// `RigFile`) is declared there with `init(name:summary:checkText:)` and passed to
/// `FileKinds.validate(path:kinds:)` by the caller (`itpump validate`): this module knows nothing of
/// it, so the format's rules stay in one place and no dependency points back at the hardware side.
public struct FileKind: Sendable {
    /// How a kind reads its documents.
    enum Checker: Sendable {
        /// With this module's reader, from the root mapping.
        case fields(@Sendable (MappingField) -> Void)
        /// With the format's own loader, from the whole text and the file name.
        case text(@Sendable (_ text: String, _ file: String) -> [Diagnostic])
    }

    /// The value of `kind:`.
    public let name: String
    /// One line for help texts.
    public let summary: String
    let checker: Checker

    /// A kind read by this module's reader: `check` reads the whole document (the root mapping, `kind`
    /// included), recording every problem in the mapping's reader; the root's unknown keys are
    /// reported by the reader too.
    public init(name: String, summary: String, check: @escaping @Sendable (MappingField) -> Void) {
        self.name = name
        self.summary = summary
        self.checker = .fields(check)
    }

    /// A kind read by its own loader elsewhere: `checkText` gets the file's whole text (already known
    /// to be readable, UTF-8, within `DocumentLoader.maximumBytes`, YAML, a mapping whose `kind:` is
    /// `name`) and the file's name, and returns every diagnostic (none when the file is valid).
    public init(name: String, summary: String,
                checkText: @escaping @Sendable (_ text: String, _ file: String) -> [Diagnostic]) {
        self.name = name
        self.summary = summary
        self.checker = .text(checkText)
    }
}

/// The registry of file kinds, and validation of any itpump file.
public enum FileKinds {
    /// Every kind `itpump validate` knows.
    public static let all: [FileKind] = [.pump, .prescription, .scenario, .sweep]

    /// Every diagnostic for the file at `path` (empty when the file is valid), dispatching on its
    /// `kind:` among `kinds`.
    public static func validate(path: String, kinds: [FileKind] = all) -> [Diagnostic] {
        switch DocumentLoader.text(ofFile: path) {
        case let .failure(d): return [d]
        case let .success(text): return validate(text: text, file: path, directory: directory(of: path), kinds: kinds)
        }
    }

    /// Every diagnostic for `text` read as an itpump file named `file`, dispatching on its `kind:`
    /// among `kinds`.
    public static func validate(text: String, file: String, directory: String = ".", kinds: [FileKind] = all) -> [Diagnostic] {
        let reader = DocumentReader(file: file, directory: directory)
        guard let root = DocumentLoader.root(of: text, reader: reader) else { return reader.diagnostics }
        let names = kinds.map(\.name).joined(separator: ", ")
        guard let kindField = root.required("kind", allowed: names), let name = kindField.scalar(expecting: names) else {
            return reader.diagnostics
        }
        guard let kind = kinds.first(where: { $0.name == name }) else {
            kindField.fail("unknown file kind", allowed: names)
            return reader.diagnostics
        }
        switch kind.checker {
        case let .fields(check): check(root)
        case let .text(check): reader.absorb(check(text, file))
        }
        return reader.diagnostics.sortedByLine
    }

    /// The directory part of `path` (`.` when there is none).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }

    /// Loads `path` as a file of kind `kind` with `read`, throwing every diagnostic if any.
    public static func load<T>(path: String, kind: String, read: (MappingField) -> T?) throws(DiagnosticReport) -> T {
        switch DocumentLoader.text(ofFile: path) {
        case let .failure(d): throw DiagnosticReport([d])
        case let .success(text): return try load(text: text, file: path, directory: directory(of: path), kind: kind, read: read)
        }
    }

    /// Loads `text` as a file of kind `kind` with `read`, throwing every diagnostic if any, in file order
    /// (`sortedByLine`, as `validate(text:file:directory:kinds:)` returns them).
    public static func load<T>(text: String, file: String, directory: String, kind: String,
                               read: (MappingField) -> T?) throws(DiagnosticReport) -> T {
        let reader = DocumentReader(file: file, directory: directory)
        guard let root = DocumentLoader.root(of: text, reader: reader) else { throw DiagnosticReport(reader.diagnostics) }
        if let k = root.required("kind", allowed: kind), let name = k.scalar(expecting: kind), name != kind {
            k.fail("this file is a `\(name)` file where a `\(kind)` file is needed", allowed: kind)
        }
        let value = read(root)
        if let value, !reader.hasErrors { return value }
        // File order, as `validate` lists them: every command prints the same diagnostics the same way.
        throw DiagnosticReport(reader.diagnostics.isEmpty
            ? [Diagnostic(file: file, line: 0, field: "", value: "", allowed: "", message: "could not be read")] : reader.diagnostics.sortedByLine)
    }
}

extension Array where Element == Diagnostic {
    /// Stable order by file then line, as an editor lists them.
    public var sortedByLine: [Diagnostic] {
        enumerated().sorted { ($0.element.file, $0.element.line, $0.offset) < ($1.element.file, $1.element.line, $1.offset) }.map(\.element)
    }
}
