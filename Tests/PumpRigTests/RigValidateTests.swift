import Foundation
import FileFuzzing
import ITPumpFiles
import PropertyBased
import Testing
@testable import PumpRig
import RigTestSupport

/// What `itpump validate` runs: ITPumpFiles' kinds plus `rig`.
let validateKinds = FileKinds.all + [.rig]

/// `itpump validate`'s diagnostics for `yaml` as file `file`.
func validateRig(_ yaml: String, file: String = "v.yaml") -> [Diagnostic] {
    FileKinds.validate(text: yaml, file: file, kinds: validateKinds)
}

func repoPath(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(relative).path
}

/// Rig files through `itpump validate` (`FileKinds.validate` with `FileKind.rig`): the rig loader's
/// checks and messages, every rule broken listed, each at its line.
@Suite("Rig files in itpump validate")
struct RigValidateTests {
    @Test(arguments: ["raspberry-pi", "beaglebone-black", "hil-gpio-sim"])
    func shippedRigFilesValidate(name: String) {
        let path = repoPath("profiles/rigs/\(name).yaml")
        #expect(FileKinds.validate(path: path, kinds: validateKinds) == [])
        #expect(RigFile.check(path: path) == [])
    }

    @Test("every shipped profile validates once rig files are known")
    func everyShippedProfileValidates() throws {
        let profiles = repoPath("profiles")
        let dirs = try FileManager.default.contentsOfDirectory(atPath: profiles)
        var checked = 0
        for dir in dirs {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: "\(profiles)/\(dir)") else { continue }
            for name in names where name.hasSuffix(".yaml") {
                let d = FileKinds.validate(path: "\(profiles)/\(dir)/\(name)", kinds: validateKinds)
                #expect(d.isEmpty, "\(dir)/\(name): \(d)")
                checked += 1
            }
        }
        #expect(checked >= 3)
    }

    @Test("ITPumpFiles alone does not know rig files; the rig kind comes from PumpRig")
    func rigKindIsInjected() {
        #expect(!FileKinds.all.contains { $0.name == "rig" })
        let d = FileKinds.validate(text: validRigYAML, file: "v.yaml")
        #expect(d.count == 1 && d[0].field == "kind" && d[0].message == "unknown file kind")
        #expect(validateRig(validRigYAML) == [])
    }

    /// The issue's three checks, each with its field, line, value and allowed range.
    @Test(arguments: [
        // Two roles on one chip line.
        ("ledLow: LED_LOW", "ledLow: STEP", "outputs.ledLow.line", "ledLow", "already used by step"),
        ("  strokeFeedback: STROKE_FEEDBACK", "  strokeFeedback: { line: OCCLUSION }", "inputs.strokeFeedback.line", "strokeFeedback",
         "already used by occlusion"),
        // Pulse width below the driver's minimum (A4988: 1 µs high).
        ("pulseWidth: 10us", "pulseWidth: 500ns", "stepper.pulseWidth", "pulseWidth", "minimum STEP high time"),
        // Pulse width leaving no low time in the step period.
        ("pulseWidth: 10us", "pulseWidth: 1ms", "stepper.pulseWidth", "pulseWidth", "minimum STEP low time"),
        // A step rate that cannot fit the stroke: 800 steps at 1000/s = 800 ms > 500 ms.
        ("stepsPerStroke: 8", "stepsPerStroke: 800", "stepper.stepRate", "stepRate", "would take 800ms"),
        // A step rate the driver cannot follow.
        ("stepRate: 1000", "stepRate: 900000", "stepper.stepRate", "stepRate", "can follow"),
        // A required role left out.
        ("  reservoirEmpty: RESERVOIR_EMPTY\n", "", "inputs.reservoirEmpty", "occlusion:", "every rig needs this role"),
    ])
    func ruleViolations(old: String, new: String, field: String, lineText: String, message: String) throws {
        let yaml = rig(replacing: old, with: new)
        let d = validateRig(yaml, file: "bad.yaml")
        try #require(d.count == 1, "\(d)")
        #expect(d[0].file == "bad.yaml")
        #expect(d[0].field == field)
        #expect(d[0].line == lineNumber(of: lineText, in: yaml))
        #expect(d[0].message.contains(message), "\(d[0])")
        #expect(!d[0].value.isEmpty && !d[0].allowed.isEmpty, "\(d[0])")
    }

    /// Unknown roles: a name no role has, and a role in the wrong section.
    @Test(arguments: [
        ("  buzzer: BUZZER", "  buzzer: BUZZER\n  pump: PUMP", "outputs.pump", "pump: PUMP"),
        ("  reservoirEmpty: RESERVOIR_EMPTY", "  reservoirEmpty: RESERVOIR_EMPTY\n  step: X", "inputs.step", "step: X"),
        ("  ledHigh: LED_HIGH", "  ledHigh: LED_HIGH\n  occlusion: OCC", "outputs.occlusion", "occlusion: OCC"),
    ])
    func unknownRoles(old: String, new: String, field: String, lineText: String) throws {
        let yaml = rig(replacing: old, with: new)
        let d = validateRig(yaml, file: "bad.yaml")
        try #require(d.count == 1, "\(d)")
        #expect(d[0].field == field && d[0].message == "unknown field; check the spelling")
        #expect(d[0].line == lineNumber(of: lineText, in: yaml))
        let allowed = field.hasPrefix("outputs") ? "step, dir, enable, buzzer, ledLow, ledMedium, ledHigh" : "occlusion, reservoirEmpty, strokeFeedback"
        #expect(d[0].allowed == allowed)
    }

    @Test("every rule a rig breaks is listed, in line order, not only the first")
    func everyProblemListed() {
        var yaml = rig(replacing: "pulseWidth: 10us", with: "pulseWidth: 500ns")
        yaml = yaml.replacingOccurrences(of: "dirSetup: 10us", with: "dirSetup: 100ns")
        yaml = yaml.replacingOccurrences(of: "ledLow: LED_LOW", with: "ledLow: STEP")
        yaml = yaml.replacingOccurrences(of: "reservoirEmpty: RESERVOIR_EMPTY", with: "reservoirEmpty: DIR")
        let d = validateRig(yaml, file: "bad.yaml")
        #expect(d.map(\.field) == ["stepper.pulseWidth", "stepper.dirSetup", "outputs.ledLow.line", "inputs.reservoirEmpty.line"], "\(d)")
        #expect(d.map(\.line) == [7, 9, 16, 21], "\(d)")
    }

    @Test("validate says exactly what the loader says: same checks, same lines, same values and ranges, same order")
    func sameAsTheLoader() throws {
        let edits = [
            ("pulseWidth: 10us", "pulseWidth: 500ns"), ("stepRate: 1000", "stepRate: fast"), ("driver: a4988", "driver: l298n"),
            ("  step: STEP", "  stepp: STEP"), ("  dirSetup: 10us\n", ""), ("stepper:\n", "stepper: 3\nx:\n"),
            ("bias: pull-up", "bias: sideways"), ("enableSetup: 2ms", "enableSetup: 500us"),
        ]
        for (old, new) in edits {
            let yaml = rig(replacing: old, with: new)
            let errors = RigFile.check(yaml: yaml, file: "s.yaml")
            #expect(!errors.isEmpty && errors == errors.sortedByLine, "\(new)")
            #expect(validateRig(yaml, file: "s.yaml") == errors, "\(new)")
            do { _ = try RigFile.parse(yaml: yaml, file: "s.yaml"); Issue.record("accepted \(new)") } catch {
                #expect(error.diagnostics == errors, "\(new)")
            }
        }
    }

    @Test("the diagnostic carries the loader's message, value and range")
    func diagnosticText() throws {
        let yaml = rig(replacing: "pulseWidth: 10us", with: "pulseWidth: 500ns")
        let d = try #require(validateRig(yaml, file: "r.yaml").first)
        #expect(d.description == "r.yaml:7: stepper.pulseWidth: shorter than the A4988's minimum STEP high time (value: 500ns; allowed: 1us … 999us at 1000 steps/s)")
        let w = try #require(validateRig(rig(replacing: "stepRate: 1000", with: "stepRate: fast"), file: "r.yaml").first)
        #expect(w.line == 8 && w.field == "stepper.stepRate" && w.value == "fast" && w.allowed == "a whole number")
    }

    @Test("files the loader refuses before reading: too large, unreadable, not a rig")
    func refusedFiles() throws {
        let big = validRigYAML + "\n#" + String(repeating: "x", count: RigFile.maximumSize)
        let d = validateRig(big)
        #expect(d.count == 1 && d[0].line == 0 && d[0].allowed == "at most \(RigFile.maximumSize) bytes", "\(d)")
        let missing = FileKinds.validate(path: "/nonexistent/rig.yaml", kinds: validateKinds)
        #expect(missing.count == 1 && missing[0].line == 0)
        #expect(RigFile.check(path: "/nonexistent/rig.yaml").count == 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rigvalidate-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.yaml").path
        try rig(replacing: "ledLow: LED_LOW", with: "ledLow: STEP").write(toFile: file, atomically: true, encoding: .utf8)
        let fromFile = FileKinds.validate(path: file, kinds: validateKinds)
        #expect(fromFile.map(\.file) == [file] && fromFile.map(\.field) == ["outputs.ledLow.line"])
    }
}

/// Fuzzing the rig path of `itpump validate` and the rig loader itself: whatever the bytes, they
/// return (never crash, never hang) and every diagnostic points at a line of the file.
@Suite("Rig validation fuzzing", .shrinking(false))
struct RigValidateFuzzTests {
    static let inputs = TextMutation(
        corpus: [validRigYAML, validRigYAML + "\nalarms:\n  high: { led: { on: 200ms, period: 400ms }, buzzer: { beeps: 6, on: 100ms, off: 100ms } }\n  low: { led: steady }\n"],
        tokens: TextMutation.commonTokens + ["365d", "364d", "0ns", "1ns", "9223372036854775807", "us", "ms", "µs", "STEP", "GPIO17",
                                             "line: ", "activeLow: ", "bias: ", "pull-up", "steady", "kind: rig", "kind: pump"],
        substitutes: "0123456789.-:nsum ")

    func check(_ text: String) {
        // YAML breaks lines at CR and CR LF as well as LF (and YAML 1.1 at NEL, LS, PS): count every one.
        let breaks: Set<Unicode.Scalar> = ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"]
        let lines = text.unicodeScalars.filter { breaks.contains($0) }.count + 1
        for x in validateRig(text, file: "f.yaml") {
            #expect(x.line >= 0 && x.line <= lines + 1, "line \(x.line) of \(lines): \(x)")
            #expect(!x.message.isEmpty)
        }
        for e in RigFile.check(yaml: text, file: "f.yaml") {
            #expect(e.line >= 0 && e.line <= lines + 1, "line \(e.line) of \(lines): \(e)")
        }
    }

    @Test("random bytes")
    func randomBytes() async {
        await propertyCheck(count: 300, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            check(TextMutation.randomText(seed: seed, prefixes: ["", "kind: rig\n"]))
        }
    }

    @Test("mutated valid rig files: deletions, insertions, duplications and token splices")
    func mutatedFiles() async {
        await propertyCheck(count: 500, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            check(Self.inputs.mutated(seed: seed))
        }
    }

    @Test("extreme values in every timing and alarm field are refused, not overflowed")
    func extremeValues() {
        // The largest durations the files' grammar reads (up to Int64.max ns) as well as past them.
        for value in ["365d", "0ns", "9223372036854775807", "-9223372036854775808", "99999999999999999999", "0", "1ns",
                      "9223372036854775807ns", "106751d", "106751d23h47m16s854ms775us807ns", "106751d23h47m16s854ms775us808ns",
                      "92233720368547758.07us"] {
            for field in ["pulseWidth", "stepRate", "stepsPerStroke", "dirSetup", "enableSetup"] {
                let yaml = validRigYAML.replacingOccurrences(of: #"(?m)^  \#(field): .*$"#, with: "  \(field): \(value)", options: .regularExpression)
                check(yaml)
            }
            let alarms = "\nfeedbackTimeout: \(value)\nalarms:\n  high: { led: { on: \(value), period: \(value) }, buzzer: { beeps: 10, on: \(value), off: \(value) } }\n"
            check(validRigYAML + alarms)
        }
    }
}
