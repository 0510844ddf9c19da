import Foundation
@testable import PumpCore
import ITPumpFiles
import Testing
@testable import PumpRig
import RigTestSupport


func lineNumber(of text: String, in yaml: String) -> Int {
    (yaml.components(separatedBy: "\n").firstIndex { $0.contains(text) } ?? -1) + 1
}

@Suite struct RigFileTests {
    @Test func validRigLoads() throws {
        let r = try RigFile.parse(yaml: validRigYAML, file: "t.yaml")
        #expect(r.driver == .a4988)
        #expect(r.stepper.stepPeriod == TimeSpan.milliseconds(1))
        #expect(r.lines[.enable] == RigLine(chip: "hil-gpio-sim", line: .name("ENABLE"), activeLow: true))
        #expect(r.lines[.occlusion]?.bias == .pullUp)
        #expect(r.roles.count == 10)
        #expect(r.alarms == .standard)
    }

    @Test(arguments: ["raspberry-pi", "beaglebone-black", "hil-gpio-sim"])
    func shippedRigFilesLoad(name: String) throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("profiles/rigs/\(name).yaml").path
        let r = try RigFile.load(path: path)
        #expect(r.problems().isEmpty)
        #expect(r.lines[.strokeFeedback] != nil)
    }

    /// Each error path: the edit, the expected field and the line it must point at.
    @Test(arguments: [
        ("pulseWidth: 10us", "pulseWidth: 500ns", "stepper.pulseWidth", "pulseWidth"),       // below A4988 1 µs
        ("pulseWidth: 10us", "pulseWidth: 1ms", "stepper.pulseWidth", "pulseWidth"),       // no low time left
        ("stepRate: 1000", "stepRate: 900000", "stepper.stepRate", "stepRate"),               // above 500 kHz
        ("stepsPerStroke: 8", "stepsPerStroke: 800", "stepper.stepRate", "stepRate"),         // 800 ms stroke
        ("stepsPerStroke: 8", "stepsPerStroke: 0", "stepper.stepsPerStroke", "stepsPerStroke"),
        ("dirSetup: 10us", "dirSetup: 100ns", "stepper.dirSetup", "dirSetup"),
        ("enableSetup: 2ms", "enableSetup: 500us", "stepper.enableSetup", "enableSetup"),     // A4988 wake 1 ms
        ("ledLow: LED_LOW", "ledLow: STEP", "outputs.ledLow.line", "ledLow"),                 // duplicate line
        ("  reservoirEmpty: RESERVOIR_EMPTY\n", "", "inputs.reservoirEmpty", "occlusion:"),      // missing role
        ("buzzer: BUZZER", "buzzer: { line: BUZZER, bias: pull-up }", "outputs.buzzer.bias", "buzzer"),
        ("kind: rig", "kind: prescription", "kind", "kind:"),
        ("driver: a4988", "driver: l298n", "driver", "driver:"),
        ("bias: pull-up", "bias: sideways", "inputs.occlusion.bias", "occlusion"),
    ])
    func invalidValuesNameFieldLineAndRange(old: String, new: String, field: String, lineText: String) throws {
        let yaml = rig(replacing: old, with: new)
        #expect {
            try RigFile.parse(yaml: yaml, file: "bad.yaml")
        } throws: { error in
            guard let report = error as? DiagnosticReport, let d = report.diagnostics.first else { return false }
            let expectedLine = lineNumber(of: lineText, in: yaml)
            return report.diagnostics.count == 1 && d.file == "bad.yaml" && d.field == field && d.line == expectedLine
                && !d.allowed.isEmpty && d.description.hasPrefix("bad.yaml:\(expectedLine): \(field): ")
        }
    }

    @Test func pulseWidthErrorSaysTheDataSheetRange() throws {
        let yaml = rig(replacing: "pulseWidth: 10us", with: "pulseWidth: 500ns")
        do { _ = try RigFile.parse(yaml: yaml, file: "r.yaml"); Issue.record("accepted") } catch {
            #expect(error.description == "r.yaml:7: stepper.pulseWidth: shorter than the A4988's minimum STEP high time (value: 500ns; allowed: 1us … 999us at 1000 steps/s)", "\(error)")
        }
    }

    /// Errors of form, in ITPumpFiles' words (the reader every itpump file goes through).
    @Test func structuralErrors() throws {
        func fails(_ yaml: String, _ check: ([Diagnostic]) -> Bool) {
            do { _ = try RigFile.parse(yaml: yaml, file: "s.yaml"); Issue.record("accepted: \(yaml)") } catch {
                #expect(check(error.diagnostics), "\(error)")
                #expect(error.diagnostics.allSatisfy { $0.file == "s.yaml" })
            }
        }
        fails("kind: [rig") { $0.count == 1 && $0[0].line >= 1 && $0[0].message.hasPrefix("YAML syntax error") }
        fails("") { $0.count == 1 && $0[0].message == "the file is empty" }
        fails(rig(replacing: "name: test rig\n", with: "")) { $0.map(\.field) == ["name"] && $0[0].line == 1 && $0[0].value == "missing" }
        fails(rig(replacing: "  dirSetup: 10us\n", with: "")) { $0.map(\.field) == ["stepper.dirSetup"] && $0[0].line == 6 }
        fails(rig(replacing: "  step: STEP", with: "  stepp: STEP")) {
            // The required role that is missing (reported at its section), and the unknown key.
            Set($0.map(\.field)) == ["outputs.stepp", "outputs.step"] && $0.contains { $0.line == 12 && $0.allowed.contains("step") && $0.message.hasPrefix("unknown field") }
        }
        fails(rig(replacing: "driver: a4988", with: "driver: a4988\ndriver: drv8825")) { $0.count == 1 && $0[0].message.contains("duplicated keys driver") }
        fails(rig(replacing: "stepRate: 1000", with: "stepRate: fast")) {
            $0.count == 1 && $0[0].line == 8 && $0[0].field == "stepper.stepRate" && $0[0].value == "fast"
        }
        fails(rig(replacing: "pulseWidth: 10us", with: "pulseWidth: 10")) {
            $0.count == 1 && $0[0].line == 7 && $0[0].field == "stepper.pulseWidth" && $0[0].value == "10"
                && $0[0].allowed.contains(QuantitySyntax.durationSyntax)
        }
        fails(rig(replacing: "activeLow: true }\n  buzzer", with: "activeLow: yes }\n  buzzer")) {
            $0.map(\.field) == ["outputs.enable.activeLow"] && $0[0].value == "yes"
        }
        fails(rig(replacing: "stepper:\n", with: "stepper: [1, 2]\nx:\n")) { $0.contains { $0.field == "stepper" } }
        do { _ = try RigFile.load(path: "/nonexistent/rig.yaml"); Issue.record("loaded") } catch {
            #expect(error.diagnostics.map(\.file) == ["/nonexistent/rig.yaml"])
            #expect(error.diagnostics.map(\.line) == [0])
        }
    }

    /// A rig with several errors of form is reported whole, in file order, not up to its first error.
    @Test func everyErrorOfFormIsListedInFileOrder() throws {
        var yaml = rig(replacing: "stepRate: 1000", with: "stepRate: fast")
        yaml = yaml.replacingOccurrences(of: "driver: a4988", with: "driver: l298n")
        yaml = yaml.replacingOccurrences(of: "bias: pull-up", with: "bias: sideways")
        yaml = yaml.replacingOccurrences(of: "  step: STEP", with: "  stepp: STEP")
        let d = RigFile.check(yaml: yaml, file: "m.yaml")
        #expect(d.count == 5, "\(d)")
        #expect(Set(d.map(\.field)) == ["driver", "stepper.stepRate", "outputs.stepp", "outputs.step", "inputs.occlusion.bias"], "\(d)")
        #expect(d.map(\.line) == d.map(\.line).sorted(), "\(d)")
        #expect(d.first { $0.field == "driver" }?.allowed == "a4988, drv8825, tmc2209", "\(d)")
        #expect(d.first { $0.field == "inputs.occlusion.bias" }?.allowed == "as-is, disabled, pull-up, pull-down", "\(d)")
    }

    /// Line selectors: a plain number is an offset, other text a name; a quoted number is refused
    /// (it could be either), as is a signed or out-of-range offset.
    @Test func lineSelectors() throws {
        let offset = try RigFile.parse(yaml: rig(replacing: "buzzer: BUZZER", with: "buzzer: 17"), file: "o.yaml")
        #expect(offset.lines[.buzzer]?.line == .offset(17))
        let mapped = try RigFile.parse(yaml: rig(replacing: "buzzer: BUZZER", with: "buzzer: { line: 4294967295 }"), file: "o.yaml")
        #expect(mapped.lines[.buzzer]?.line == .offset(UInt32.max))
        let named = try RigFile.parse(yaml: rig(replacing: "buzzer: BUZZER", with: "buzzer: GPIO17"), file: "o.yaml")
        #expect(named.lines[.buzzer]?.line == .name("GPIO17"))
        for (text, message) in [("\"17\"", "quoted line name made only of digits"), ("'17'", "quoted line name made only of digits"),
                                ("{ line: \"17\" }", "quoted line name made only of digits"), ("-1", "cannot be signed"),
                                ("4294967296", "out of range"), ("99999999999999999999", "out of range")] {
            let yaml = rig(replacing: "buzzer: BUZZER", with: "buzzer: \(text)")
            let d = RigFile.check(yaml: yaml, file: "q.yaml")
            #expect(d.count == 1 && d.first?.message.contains(message) == true && d.first?.line == lineNumber(of: "buzzer:", in: yaml), "\(text): \(d)")
            #expect(d.first?.allowed.contains("plain number 0 … 4294967295") == true, "\(d)")
            #expect(d.first?.field.hasPrefix("outputs.buzzer") == true, "\(d)")
        }
    }

    /// Durations follow the files' one grammar: compound forms and decimals read as in any itpump file.
    @Test func durationsUseTheFilesGrammar() throws {
        let r = try RigFile.parse(yaml: rig(replacing: "enableSetup: 2ms", with: "enableSetup: 1ms500us") + "\nfeedbackTimeout: 0.05s\n", file: "d.yaml")
        #expect(r.stepper.enableSetup == TimeSpan(nanoseconds: 1_500_000))
        #expect(r.feedbackTimeout == .milliseconds(50))
        let d = RigFile.check(yaml: rig(replacing: "pulseWidth: 10us", with: "pulseWidth: 1.5ns"), file: "d.yaml")
        #expect(d.count == 1 && d.first?.message.contains("finer than 1 ns") == true, "\(d)")
    }

    @Test func alarmPatternsAreCheckedAgainstIEC60601_1_8() throws {
        let base = validRigYAML + "\nalarms:\n"
        #expect(throws: Never.self) {
            try RigFile.parse(yaml: base + "  high: { led: { on: 200ms, period: 400ms }, buzzer: { beeps: 6, on: 100ms, off: 100ms } }\n  low: { led: steady }\n", file: "a")
        }
        for (text, field) in [
            ("  high: { led: { on: 1s, period: 2s } }\n", "alarms.high.led"),            // 0.5 Hz is medium's rate
            ("  low: { led: { on: 1s, period: 2s } }\n", "alarms.low.led"),              // low must be steady
            ("  medium: { led: { on: 100ms, period: 2s } }\n", "alarms.medium.led"),     // 5 % on-time
            ("  medium: { buzzer: { beeps: 5, on: 100ms, off: 100ms } }\n", "alarms.buzzer"), // same as high
            ("  low: { buzzer: { beeps: 1, on: 10ms, off: 100ms } }\n", "alarms.low.buzzer.on"),
        ] {
            do { _ = try RigFile.parse(yaml: base + text, file: "a"); Issue.record("accepted \(text)") } catch {
                #expect(error.diagnostics.map(\.field) == [field] && error.diagnostics[0].line > 20, "\(error)")
            }
        }
    }
}
