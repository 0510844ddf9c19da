import Foundation
import Yams

/// Reads a file's bytes and parses its YAML into a root mapping. Every failure becomes a diagnostic
/// (unreadable file, not UTF-8, too large, YAML syntax error with its line, not a mapping, aliases).
public enum DocumentLoader {
    /// Largest file accepted (4 MiB): a scenario is a page of text; anything bigger is a mistake.
    public static let maximumBytes = 4 << 20

    /// The text of `path`, or the diagnostic saying why it cannot be read. Only a regular file is
    /// read (a directory, device, FIFO or socket is refused before it is opened, so `/dev/zero` or a
    /// FIFO never hangs or fills memory), its size is checked before reading, and at most
    /// `maximumBytes + 1` bytes are ever read (a file growing while it is read is still refused).
    public static func text(ofFile path: String) -> Result<String, Diagnostic> {
        func fail(_ m: String) -> Result<String, Diagnostic> {
            .failure(Diagnostic(file: path, line: 0, field: "", value: "", allowed: "", message: m))
        }
        var st = stat()
        guard stat(path, &st) == 0 else { return fail(problem(errno)) }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: return fail("is a directory; give a YAML file")
        default: return fail("is not a regular file (a device, FIFO or socket); give a YAML file")
        }
        guard st.st_size <= maximumBytes else { return tooLarge(path, "\(st.st_size) bytes") }
        // O_NONBLOCK: a FIFO swapped in after the check does not block the open.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return fail(problem(errno)) }
        defer { close(fd) }
        var fst = stat()
        guard fstat(fd, &fst) == 0, fst.st_mode & S_IFMT == S_IFREG else {
            return fail("is not a regular file (a device, FIFO or socket); give a YAML file")
        }
        var bytes = [UInt8](repeating: 0, count: maximumBytes + 1)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 { if errno == EINTR { continue }; return fail(problem(errno)) }
            if n == 0 { break }
            count += n
        }
        guard count <= maximumBytes else { return tooLarge(path, "more than \(maximumBytes) bytes") }
        guard let s = String(validating: bytes[..<count], as: UTF8.self) else {
            return fail("is not UTF-8 text (invalid byte sequence); save it as UTF-8")
        }
        return .success(s)
    }

    static func tooLarge(_ path: String, _ size: String) -> Result<String, Diagnostic> {
        .failure(Diagnostic(file: path, line: 0, field: "", value: size, allowed: "at most \(maximumBytes) bytes (4 MiB)",
                            message: "the file is too large for an itpump file; give the YAML file itself"))
    }

    /// Why a file could not be opened, in words that say what to do.
    static func problem(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "file not found; check the path"
        case ELOOP: return "is a symbolic link loop (too many levels of symbolic links); check the path"
        case EACCES, EPERM: return "cannot be read: permission denied; check its permissions"
        case ENOTDIR: return "file not found: a component of the path is not a directory; check the path"
        case ENAMETOOLONG: return "the path is too long; check the path"
        default: return "cannot be read (\(String(cString: strerror(code)))); check the path"
        }
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
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _) where problem.contains("nesting level"):
            return (mark.line, "nested deeper than the YAML reader allows (an itpump file is at most \(maximumDepth) levels deep)")
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
