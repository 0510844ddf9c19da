import Foundation

/// The JSON Schemas of the project's YAML files (`schemas/files/KIND.schema.json`) as the schema tests of
/// ITPumpFilesTests, PumpRigTests and PumpRuntimeTests use them: the real `scripts/check-schema` (Debian's
/// python3-jsonschema, installed by scripts/setup), each schema's `examples` written as files, and a
/// scratch copy of `profiles/` for documents that refer to other files.
public enum FileSchemas {
    /// The repository's root.
    public static let root: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// `schemas/files/KIND.schema.json`, absolute.
    public static func schemaPath(kind: String) -> String { "\(root)/schemas/files/\(kind).schema.json" }

    /// The schema files present, by kind (`pump` for `pump.schema.json`).
    public static func schemaKinds() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "\(root)/schemas/files")
            .filter { $0.hasSuffix(".schema.json") }.map { String($0.dropLast(".schema.json".count)) }.sorted()
    }

    /// The folder of `profiles/` holding files of `kind` (`profiles/pumps` for `pump`).
    public static func profileFolder(kind: String) -> String { "\(root)/profiles/\(kind)s" }

    /// The shipped `.yaml` files of `kind`, absolute paths, sorted.
    public static func shippedFiles(kind: String) throws -> [String] {
        let folder = profileFolder(kind: kind)
        return try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }.sorted()
            .map { "\(folder)/\($0)" }
    }

    /// Runs a program from the repository root and returns its exit status and its stdout and stderr together.
    public static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: root)
        let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("itpump-schema-\(getpid())-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        p.standardOutput = out
        p.standardError = out
        try p.run()
        p.waitUntilExit()
        try out.close()
        return (p.terminationStatus, String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self))
    }

    /// `scripts/check-schema SCHEMA FILES…` with the schema of `kind`: 0 when every file is valid, 1 when
    /// any is not (its output names each error), 2 when the schema or the script cannot be used.
    public static func check(kind: String, files: [String]) throws -> (status: Int32, output: String) {
        try run("\(root)/scripts/check-schema", [schemaPath(kind: kind)] + files)
    }

    /// `scripts/check-schema SCHEMA --lines FILE` on `lines` (one JSON document each), `schema` relative
    /// to the repository root (e.g. `schemas/protocol/reply.schema.json`): 0 when every line is valid,
    /// 1 when any is not (its output names each error by line), 2 when the schema cannot be used.
    public static func checkLines(schema: String, _ lines: [String]) throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("itpump-lines-\(getpid())-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        return try run("\(root)/scripts/check-schema", ["\(root)/\(schema)", "--lines", file])
    }

    /// The schema of `kind` as parsed JSON.
    public static func schema(kind: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: schemaPath(kind: kind)))
        guard let s = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw SchemaFileError.notAnObject(kind) }
        return s
    }

    /// The schema's top-level `examples`, each as a document's text (JSON, which is YAML).
    public static func examples(kind: String) throws -> [String] {
        guard let examples = try schema(kind: kind)["examples"] as? [Any], !examples.isEmpty else { throw SchemaFileError.noExamples(kind) }
        return try examples.map {
            String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
                   as: UTF8.self) + "\n"
        }
    }

    /// A scratch folder laid out like `profiles/`: every shipped file linked into its folder, so documents
    /// written here may refer to them as the shipped ones do (`../prescriptions/spinal-600.yaml`).
    public static func scratchProfiles(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("itpump-schema-\(name)-\(getpid())-\(UUID().uuidString)").path
        for folder in try FileManager.default.contentsOfDirectory(atPath: "\(root)/profiles") {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: "\(root)/profiles/\(folder)", isDirectory: &isDir), isDir.boolValue else { continue }
            try FileManager.default.createDirectory(atPath: "\(dir)/\(folder)", withIntermediateDirectories: true)
            for file in try FileManager.default.contentsOfDirectory(atPath: "\(root)/profiles/\(folder)") {
                try FileManager.default.createSymbolicLink(atPath: "\(dir)/\(folder)/\(file)", withDestinationPath: "\(root)/profiles/\(folder)/\(file)")
            }
        }
        return dir
    }

    /// Writes `text` as `<scratch>/<kind>s/<name>.yaml` and returns its path.
    public static func write(_ text: String, kind: String, name: String, in scratch: String) throws -> String {
        let folder = "\(scratch)/\(kind)s"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = "\(folder)/\(name).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The YAML examples of `profiles/README.md` (its ```yaml blocks with a `kind:` line), as (kind, text).
    public static func referenceExamples() throws -> [(kind: String, text: String)] {
        let readme = try String(contentsOfFile: "\(root)/profiles/README.md", encoding: .utf8)
        var out: [(String, String)] = []
        var block: [Substring]?
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if block == nil, line == "```yaml" { block = []; continue }
            guard var b = block else { continue }
            if line == "```" {
                if let k = b.first(where: { $0.hasPrefix("kind: ") }) { out.append((String(k.dropFirst(6)), b.joined(separator: "\n") + "\n")) }
                block = nil
                continue
            }
            b.append(line)
            block = b
        }
        return out
    }

    /// The first line every shipped file of `kind` starts with, so YAML editors (yaml-language-server)
    /// validate it against its schema as one types.
    public static func modeline(kind: String) -> String { "# yaml-language-server: $schema=../../schemas/files/\(kind).schema.json" }
}

public enum SchemaFileError: Error, CustomStringConvertible {
    case notAnObject(String)
    case noExamples(String)
    public var description: String {
        switch self {
        case let .notAnObject(k): return "schemas/files/\(k).schema.json is not a JSON object"
        case let .noExamples(k): return "schemas/files/\(k).schema.json has no `examples`; add a minimal and a full one"
        }
    }
}
