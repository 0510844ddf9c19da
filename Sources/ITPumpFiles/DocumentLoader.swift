import Foundation
import Yams

/// Reads a file's bytes and parses its YAML into a root mapping. Every failure becomes a diagnostic
/// (unreadable file, not UTF-8, too large, YAML syntax error with its line, not a mapping, aliases).
public enum DocumentLoader {
    /// Largest file accepted (4 MiB): a scenario is a page of text; anything bigger is a mistake.
    public static let maximumBytes = 4 << 20

    /// The text of `path`, or the diagnostic saying why it cannot be read.
    public static func text(ofFile path: String) -> Result<String, Diagnostic> {
        func fail(_ m: String) -> Result<String, Diagnostic> {
            .failure(Diagnostic(file: path, line: 0, field: "", value: "", allowed: "", message: m))
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return fail("file not found; check the path") }
        guard !isDir.boolValue else { return fail("is a directory; give a YAML file") }
        guard let data = FileManager.default.contents(atPath: path) else { return fail("cannot be read; check its permissions") }
        guard data.count <= maximumBytes else { return fail("is \(data.count) bytes, larger than the \(maximumBytes)-byte limit for itpump files") }
        guard let s = String(bytes: data, encoding: .utf8) else { return fail("is not UTF-8 text") }
        return .success(s)
    }

    /// Parses `text` and returns the root mapping, or nil after recording diagnostics in `reader`.
    public static func root(of text: String, reader: DocumentReader) -> MappingField? {
        guard text.utf8.count <= maximumBytes else {
            reader.report(nil, field: "", value: "\(text.utf8.count) bytes", allowed: "at most \(maximumBytes) bytes", "the file is too large")
            return nil
        }
        if text.unicodeScalars.contains(where: { $0.value == 0 }) {
            reader.report(nil, field: "", value: "NUL byte", allowed: "YAML text", "the file contains a NUL byte; it is not a text file")
            return nil
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            let (line, problem) = describe(e, text: text)
            reader.diagnosticsAppend(line: line, message: "YAML syntax error: \(problem); fix the syntax")
            return nil
        } catch {
            reader.diagnosticsAppend(line: 0, message: "YAML error: \(error)")
            return nil
        }
        guard let node else {
            reader.report(nil, field: "", value: "empty", allowed: "a mapping with `kind:`", "the file is empty")
            return nil
        }
        var budget = maximumNodes
        if !withinBudget(node, depth: 0, budget: &budget) {
            reader.report(node, field: "", value: "more than \(maximumNodes) nodes or deeper than \(maximumDepth) levels",
                          allowed: "a plain document", "the document is too large or too deeply nested once aliases are expanded")
            return nil
        }
        return Field(node: node, path: "", reader: reader).mapping(allowedKeys: [])
    }

    /// Most nodes a document may have once aliases are expanded (a guard against "billion laughs").
    public static let maximumNodes = 100_000
    /// Deepest nesting accepted.
    public static let maximumDepth = 32

    static func withinBudget(_ n: Node, depth: Int, budget: inout Int) -> Bool {
        budget -= 1
        if budget < 0 || depth > maximumDepth { return false }
        switch n {
        case .alias, .scalar: return true
        case let .sequence(s):
            for x in s where !withinBudget(x, depth: depth + 1, budget: &budget) { return false }
            return true
        case let .mapping(m):
            for (k, v) in m where !withinBudget(k, depth: depth + 1, budget: &budget) || !withinBudget(v, depth: depth + 1, budget: &budget) {
                return false
            }
            return true
        }
    }

    static func describe(_ e: YamlError, text: String) -> (Int, String) {
        switch e {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            return (mark.line, context.map { "\($0.text) \(problem)" } ?? problem)
        case let .reader(problem, offset, value, yaml):
            // The reader's offset counts characters from the start: the line is one more than the
            // line breaks before it (0, the whole file, only when there is no offset).
            guard let offset, let end = yaml.index(yaml.startIndex, offsetBy: offset, limitedBy: yaml.endIndex) else { return (0, problem) }
            let line = 1 + yaml[..<end].reduce(0) { $0 + ($1.isNewline ? 1 : 0) }
            return (line, "\(problem) (character code \(value))")
        case let .duplicatedKeysInMapping(duplicates, context):
            return (secondOccurrence(of: duplicates, in: text, from: context.mark.line) ?? context.mark.line,
                    "duplicated keys \(duplicates.joined(separator: ", "))")
        default: return (0, "\(e)")
        }
    }
}

extension DocumentLoader {
    /// The line (1-based) where one of `keys` appears a second time as a mapping key at or after
    /// `line`, or nil: so a duplicated key is reported where the duplicate is.
    static func secondOccurrence(of keys: [String], in yaml: String, from line: Int) -> Int? {
        var seen = Set<String>()
        for (i, text) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where i + 1 >= line {
            let trimmed = text.drop { $0 == " " || $0 == "-" }
            for k in keys where trimmed.hasPrefix(k + ":") || trimmed.hasPrefix("\"\(k)\":") {
                if !seen.insert(k).inserted { return i + 1 }
            }
        }
        return nil
    }
}

extension DocumentReader {
    func diagnosticsAppend(line: Int, message: String) {
        absorb([Diagnostic(file: file, line: line, field: "", value: "", allowed: "", message: message)])
    }
}
