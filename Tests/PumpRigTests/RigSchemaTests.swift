import FileFuzzing
import Foundation
import ITPumpFiles
import Testing
@testable import PumpRig

/// `schemas/files/rig.schema.json` against the rig loader (`RigFile`, which `itpump run` and `itpump
/// validate` use), and the schema registry against every kind `itpump validate` knows.
@Suite("Rig file schema agrees with the rig loader")
struct RigSchemaTests {
    @Test("every shipped rig file validates against rig.schema.json, names it on its first line, and loads")
    func shippedRigFilesValidate() throws {
        let files = try FileSchemas.shippedFiles(kind: "rig")
        try #require(files.count >= 3)
        let r = try FileSchemas.check(kind: "rig", files: files)
        #expect(r.status == 0, "scripts/check-schema rig: exit \(r.status)\n\(r.output)")
        for path in files {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.hasPrefix(FileSchemas.modeline(kind: "rig") + "\n"), "\(path)")
            #expect(throws: Never.self) { _ = try RigFile.load(path: path) }
        }
    }

    @Test("the rig loader accepts every example of rig.schema.json, and the schema accepts them too")
    func examplesLoad() throws {
        let scratch = try FileSchemas.scratchProfiles("rig-examples")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let examples = try FileSchemas.examples(kind: "rig")
        #expect(examples.count >= 2)
        var paths: [String] = []
        for (i, text) in examples.enumerated() {
            let path = try FileSchemas.write(text, kind: "rig", name: "example-\(i)", in: scratch)
            paths.append(path)
            #expect(RigFile.check(path: path) == [], "example \(i):\n\(text)")
            #expect(FileKinds.validate(path: path, kinds: validateKinds) == [])
        }
        let r = try FileSchemas.check(kind: "rig", files: paths)
        #expect(r.status == 0, "\(r.output)")
    }

    @Test("every rig example in profiles/README.md loads and passes rig.schema.json")
    func referenceExamplesLoad() throws {
        let examples = try FileSchemas.referenceExamples().filter { $0.kind == "rig" }
        #expect(examples.count >= 2)
        let scratch = try FileSchemas.scratchProfiles("rig-reference")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var paths: [String] = []
        for (i, e) in examples.enumerated() {
            let path = try FileSchemas.write(e.text, kind: "rig", name: "reference-\(i)", in: scratch)
            paths.append(path)
            #expect(RigFile.check(path: path) == [], "profiles/README.md example:\n\(e.text)")
        }
        let r = try FileSchemas.check(kind: "rig", files: paths)
        #expect(r.status == 0, "\(r.output)")
    }

    /// Edits of the shipped Raspberry Pi rig (A4988) the loader refuses; the schema must refuse each.
    static let bad: [(old: String, new: String, why: String)] = [
        ("driver: a4988", "driver: l298n", "unknown driver"),
        ("stepsPerStroke: 200", "stepsPerStroke: 0", "no steps per stroke"),
        ("pulseWidth: 10us", "pulseWidth: 500ns", "below the A4988's 1us STEP high time"),
        ("pulseWidth: 10us", "pulseWidth: 10 us", "a space in a rig duration"),
        ("pulseWidth: 10us", "pulseWidth: 1.0005us", "finer than a nanosecond"),
        ("stepRate: 2000", "stepRate: 900000", "above the A4988's 500000 steps/s"),
        ("dirSetup: 10us", "dirSetup: 100ns", "below the A4988's 200ns DIR setup"),
        ("enableSetup: 2ms", "enableSetup: 500us", "below the A4988's 1ms wake-up"),
        ("feedbackTimeout: 50ms", "feedbackTimeout: 2s", "feedback timeout above 1s"),
        ("  step: GPIO17", "  motor: GPIO17", "unknown role (and step missing)"),
        ("  reservoirEmpty: { line: GPIO6, activeLow: true, bias: pull-up }", "", "a required role missing"),
        ("bias: pull-down", "bias: sideways", "unknown bias"),
        ("buzzer: GPIO18", "buzzer: { line: GPIO18, bias: pull-up }", "a pull resistor on an output"),
        ("buzzer: GPIO18", "buzzer: \"18\"", "a quoted line name of digits only (name or offset?)"),
        ("buzzer: GPIO18", "buzzer: -18", "a negative line offset"),
        ("pulseWidth: 10us", "pulseWidth: 10.0001us", "a duration finer than 1 ns"),
        ("feedbackTimeout: 50ms", "feedbackTimeout: 50ms\nalarms: {high: {buzzer: {beeps: 11, on: 150ms, off: 100ms}}}", "eleven beeps"),
        ("feedbackTimeout: 50ms", "feedbackTimeout: 50ms\nalarms: {medium: {buzzer: {beeps: 3, on: 10ms, off: 200ms}}}", "tone under 50ms"),
        ("feedbackTimeout: 50ms", "feedbackTimeout: 50ms\nalarms: {high: {led: steady}}", "a steady high-priority LED"),
        ("feedbackTimeout: 50ms", "feedbackTimeout: 50ms\nalarms: {high: {led: {on: 500ms, period: 1s}}}", "high priority flashing at 1 Hz"),
        ("feedbackTimeout: 50ms", "feedbackTimeout: 50ms\nwatchdog: 1s", "unknown field"),
    ]

    @Test("rig documents the loader refuses are refused by the schema too; the unedited rig passes both")
    func rejectionsAgree() throws {
        let base = "\(FileSchemas.profileFolder(kind: "rig"))/raspberry-pi.yaml"
        let original = try String(contentsOfFile: base, encoding: .utf8)
        #expect(RigFile.check(path: base) == [])
        #expect(try FileSchemas.check(kind: "rig", files: [base]).status == 0)
        let scratch = try FileSchemas.scratchProfiles("rig-bad")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var paths: [(String, String)] = []
        for (i, c) in Self.bad.enumerated() {
            try #require(original.contains(c.old), "raspberry-pi.yaml has no `\(c.old)`")
            let path = try FileSchemas.write(original.replacingOccurrences(of: c.old, with: c.new), kind: "rig", name: "bad-\(i)", in: scratch)
            #expect(!RigFile.check(path: path).isEmpty, "the loader accepts: \(c.why)")
            #expect(!FileKinds.validate(path: path, kinds: validateKinds).isEmpty, "itpump validate accepts: \(c.why)")
            paths.append((c.why, path))
        }
        let r = try FileSchemas.check(kind: "rig", files: paths.map(\.1))
        #expect(r.status == 1, "check-schema exit \(r.status): \(r.output)")
        for (why, path) in paths {
            let refused = r.output.contains("\(path): ")
            #expect(refused, "the schema accepts: \(why)")
        }
    }

    @Test("every file kind itpump validate knows has a schema, and every schema is a kind it knows")
    func everyKindHasASchema() throws {
        let names = validateKinds.map(\.name)
        for kind in names {
            try #require(FileManager.default.fileExists(atPath: FileSchemas.schemaPath(kind: kind)),
                         "no schema for `kind: \(kind)`: add it to scripts/gen-file-schemas")
            let schema = try FileSchemas.schema(kind: kind)
            let k = (schema["properties"] as? [String: Any])?["kind"] as? [String: Any]
            #expect(k?["const"] as? String == kind)
            // Its folder in profiles/ exists, so shipped files of the kind are checked against it.
            var isDir: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: FileSchemas.profileFolder(kind: kind), isDirectory: &isDir) && isDir.boolValue,
                    "profiles/\(kind)s")
        }
        #expect(try FileSchemas.schemaKinds() == names.sorted(), "schemas/files/ and the kinds of itpump validate differ")
    }
}
