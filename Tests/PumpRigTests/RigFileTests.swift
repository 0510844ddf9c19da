import Foundation
@testable import PumpCore
import Testing
@testable import PumpRig

/// A valid rig (the shape of profiles/rigs/hil-gpio-sim.yaml), edited per test.
let validRigYAML = """
kind: rig
name: test rig
chip: hil-gpio-sim
driver: a4988
stepper:
  stepsPerStroke: 8
  pulseWidth: 10us
  stepRate: 1000
  dirSetup: 10us
  enableSetup: 2ms
outputs:
  step: STEP
  dir: DIR
  enable: { line: ENABLE, activeLow: true }
  buzzer: BUZZER
  ledLow: LED_LOW
  ledMedium: LED_MEDIUM
  ledHigh: LED_HIGH
inputs:
  occlusion: { line: OCCLUSION, activeLow: true, bias: pull-up }
  reservoirEmpty: RESERVOIR_EMPTY
  strokeFeedback: STROKE_FEEDBACK
"""

func rig(replacing old: String, with new: String) -> String {
    precondition(validRigYAML.contains(old), "fixture lacks \(old)")
    return validRigYAML.replacingOccurrences(of: old, with: new)
}

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
            guard let e = error as? RigFileError, case let .invalid(file, line, p) = e else { return false }
            let expectedLine = lineNumber(of: lineText, in: yaml)
            return file == "bad.yaml" && p.field == field && line == expectedLine && !p.allowed.isEmpty
                && e.description.hasPrefix("bad.yaml:\(expectedLine): \(field) = ")
        }
    }

    @Test func pulseWidthErrorSaysTheDataSheetRange() throws {
        let yaml = rig(replacing: "pulseWidth: 10us", with: "pulseWidth: 500ns")
        do { _ = try RigFile.parse(yaml: yaml, file: "r.yaml"); Issue.record("accepted") } catch {
            #expect(error.description == "r.yaml:7: stepper.pulseWidth = 500ns: shorter than the A4988's minimum STEP high time; allowed: 1us … 999us at 1000 steps/s", "\(error)")
        }
    }

    @Test func structuralErrors() throws {
        func fails(_ yaml: String, _ check: (RigFileError) -> Bool) {
            do { _ = try RigFile.parse(yaml: yaml, file: "s.yaml"); Issue.record("accepted: \(yaml)") } catch { #expect(check(error), "\(error)") }
        }
        fails("kind: [rig") { if case let .syntax(f, l, _, _) = $0 { f == "s.yaml" && l >= 1 } else { false } }
        fails("") { if case .missingField(_, _, "kind") = $0 { true } else { false } }
        fails(rig(replacing: "name: test rig\n", with: "")) { if case .missingField(_, 1, "name") = $0 { true } else { false } }
        fails(rig(replacing: "  dirSetup: 10us\n", with: "")) { if case .missingField(_, 6, "stepper.dirSetup") = $0 { true } else { false } }
        fails(rig(replacing: "  step: STEP", with: "  stepp: STEP")) {
            if case let .unknownField(_, 12, "outputs.stepp", allowed) = $0 { allowed.contains("step") } else { false }
        }
        fails(rig(replacing: "driver: a4988", with: "driver: a4988\ndriver: drv8825")) {
            if case .duplicateKey = $0 { true } else { false }
        }
        fails(rig(replacing: "stepRate: 1000", with: "stepRate: fast")) {
            if case .wrongType(_, 8, "stepper.stepRate", "fast", _) = $0 { true } else { false }
        }
        fails(rig(replacing: "pulseWidth: 10us", with: "pulseWidth: 10")) {
            if case .wrongType(_, 7, "stepper.pulseWidth", "10", _) = $0 { true } else { false }
        }
        fails(rig(replacing: "activeLow: true }\n  buzzer", with: "activeLow: yes }\n  buzzer")) {
            if case .wrongType(_, _, "outputs.enable.activeLow", "yes", _) = $0 { true } else { false }
        }
        fails(rig(replacing: "stepper:\n", with: "stepper: [1, 2]\nx:\n")) {
            if case .wrongType(_, _, "stepper", _, _) = $0 { true } else if case .unknownField = $0 { true } else { false }
        }
        do { _ = try RigFile.load(path: "/nonexistent/rig.yaml"); Issue.record("loaded") } catch {
            #expect(error.file == "/nonexistent/rig.yaml")
            if case .unreadable = error {} else { Issue.record("\(error)") }
        }
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
                if case let .invalid(_, line, p) = error { #expect(p.field == field && line > 20, "\(error)") } else { Issue.record("\(error)") }
            }
        }
    }

    @Test(arguments: [("5us", 5_000), ("1.9us", 1_900), ("250ms", 250_000_000), ("2s", 2_000_000_000), ("100ns", 100), ("1.5ms", 1_500_000), ("1m", 60_000_000_000)] as [(String, Int64)])
    func durations(text: String, ns: Int64) { #expect(DurationText.parse(text) == TimeSpan(nanoseconds: ns)) }

    @Test(arguments: ["", "5", "us", "-5us", "1.us", "0.1ns", "5 parsecs", "1e3us", "99999999999999999999d", "1.2.3ms"])
    func badDurations(text: String) { #expect(DurationText.parse(text) == nil) }
}
