import Foundation
import ITPumpFiles
import PumpCore
import PumpRuntime
import TherapyOracle

/// The fuzz targets: each takes a fuzzer's bytes and returns what went wrong (empty: nothing). A
/// crash is a finding too; libFuzzer catches it.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// Bytes → a therapy script on the controller and the simulated pump, every invariant checked
    /// after every step (`TherapyOracle`).
    case core
    /// Bytes → a YAML file given to every loader (`FileKinds.all` and rig files): no crash, every
    /// diagnostic names a line (or, for a whole-file problem, a field) and says what is wrong.
    case files
    /// Bytes → one control-channel request line: no crash, every error says what is wrong.
    case control

    /// Runs one input. `disabled` turns invariants of the core target off.
    public func run(_ bytes: [UInt8], disabled: Set<Invariant> = []) -> [String] {
        switch self {
        case .core: return Self.core(bytes, disabled: disabled)
        case .files: return Self.files(bytes)
        case .control: return Self.control(bytes)
        }
    }

    static func core(_ bytes: [UInt8], disabled: Set<Invariant>) -> [String] {
        let script = TherapyScript(bytes: bytes)
        let bench: TherapyBench
        do { bench = try script.run(options: .init(disabled: disabled)) } catch {
            return ["the bench could not be set up for \(script): \(error)"]
        }
        guard !bench.violations.isEmpty else { return [] }
        return bench.violations.map(\.description) + ["script: \(script)"] + bench.trace.map { "  " + $0 }
    }

    /// Where the files target resolves relative references (`pump: ../pumps/bench20.yaml`): the
    /// shipped scenarios' directory, so the seeds' references load.
    static let referenceDirectory = FileManager.default.currentDirectoryPath + "/profiles/scenarios"

    static func files(_ bytes: [UInt8]) -> [String] {
        let text = String(decoding: bytes, as: UTF8.self)
        // YAML breaks lines at CR, LF, CRLF, NEL, LS and PS too (Character.isNewline, a superset).
        let lines = 1 + text.reduce(0) { $0 + ($1.isNewline ? 1 : 0) }
        let file = "fuzz.yaml"
        let diagnostics = FileKinds.validate(text: text, file: file, directory: referenceDirectory, kinds: FileKinds.all + [.rig])
        // A referenced file's problems are listed under it, and its referencing field in this file.
        let namesReference = diagnostics.contains { $0.file == file && $0.line >= 1 && !$0.field.isEmpty }
        var problems: [String] = []
        for d in diagnostics {
            if d.message.isEmpty { problems.append("a diagnostic without a message: \(d)") }
            if d.file == file && (d.line < 0 || d.line > lines + 1) { problems.append("diagnostic at line \(d.line) of a \(lines)-line file: \(d)") }
            // Line 0 is the whole file (empty, too large, not UTF-8, not found): then it must say what
            // was found or allowed, or be a referenced file's with the reference named in this one.
            if d.line == 0 && d.field.isEmpty && d.value.isEmpty && d.allowed.isEmpty && !(d.file != file && namesReference) {
                problems.append("diagnostic names no line, no field, no value and no allowed range: \(d)")
            }
        }
        return problems
    }

    static func control(_ bytes: [UInt8]) -> [String] {
        do {
            _ = try ControlRequest.parse(bytes)
            return []
        } catch {
            let text = error.description
            switch error {
            case let .missingField(f) where f.isEmpty: return ["missing field with no name: \(text)"]
            case let .unknownField(f, c, _) where f.isEmpty && c.isEmpty: return ["unknown field with no name: \(text)"]
            case let .badValue(f, _, allowed) where f.isEmpty || allowed.isEmpty: return ["bad value without a field or an allowed range: \(text)"]
            default: return text.isEmpty ? ["an error with no text"] : []
            }
        }
    }
}
