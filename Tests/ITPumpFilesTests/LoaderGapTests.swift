import Foundation
import Testing
@testable import PumpCore
@testable import PumpSim
@testable import ITPumpFiles

/// Gaps between what the loaders accept and what the commands do or say: each closed with the field,
/// the line and what is allowed.
@Suite("Loader gaps closed")
struct LoaderGapTests {
    static let scenario = """
    kind: scenario
    name: start
    pump: bench20
    prescription: ../prescriptions/spinal-600.yaml
    duration: 2d
    """

    static func validateScenario(_ text: String) -> [Diagnostic] {
        FileKinds.validate(text: text, file: "s.yaml", directory: profilesDir + "/scenarios")
    }

    @Test("a therapyStart before priming ends is refused by validate, naming the field and the allowed range")
    func therapyStartBeforePrimingEnds() throws {
        let text = Self.scenario + "\ntherapyStart: 10m\n"
        let d = Self.validateScenario(text)
        try #require(d.count == 1, "\(d)")
        #expect(d[0].field == "therapyStart" && d[0].value == "10m" && d[0].line == 6, "\(d)")
        #expect(d[0].message.contains("before the priming bolus ends"), "\(d)")
        #expect(d[0].allowed.hasPrefix("after ") && d[0].allowed.hasSuffix("… 2d+00:00:00"), "\(d)")
        // The loader and simulate agree: what validate refuses, `SimulationRunner` refuses too, and
        // the first start validate allows, it runs.
        let s = try FileKinds.load(text: Self.scenario, file: "s.yaml", directory: profilesDir + "/scenarios", kind: "scenario", read: ScenarioFile.read)
        let primed = try #require(try SimulationRunner.primingEnd(of: s))
        #expect(primed > Instant.zero + .minutes(10) && primed < Instant.zero + .hours(1), "\(primed)")
        var early = s
        early.therapyStart = .zero + .minutes(10)
        #expect(throws: ScenarioError.self) { _ = try SimulationRunner.run(early, fidelity: .fast) }
        let atPriming = Self.validateScenario(Self.scenario + "\ntherapyStart: \(primed.nanoseconds / 1_000_000)ms\n")
        #expect(atPriming.map(\.field) == ["therapyStart"], "\(atPriming)")
        let after = Self.validateScenario(Self.scenario + "\ntherapyStart: \(primed.nanoseconds / 1_000_000 + 1)ms\n")
        #expect(after.isEmpty, "\(after)")
    }

    @Test("without a therapyStart, a pump whose priming outlasts the 1 h default is refused at therapyStart")
    func defaultTherapyStartBeforePriming() throws {
        // 1 mL of catheter at 1 uL/min primes for over 16 h.
        let text = Self.scenario.replacingOccurrences(of: "pump: bench20", with: """
        pump: {reservoirCapacity: 20 mL, strokeVolume: 0.25 uL, internalDeadVolume: 0.05 mL, catheterVolume: 1 mL, bolusRate: 1000 nL/min, minimumPatencyRate: 0.048 mL/day}
        """)
        let d = Self.validateScenario(text)
        try #require(d.count == 1, "\(d)")
        #expect(d[0].field == "therapyStart" && d[0].value == "1h (default)" && d[0].message.contains("add a later therapyStart"), "\(d)")
    }

    @Test("loaders report in file order, as validate does, whatever order they read fields in")
    func diagnosticsInFileOrder() throws {
        // `duration` (line 2) is read after `pump` (line 5): found second, listed first.
        let text = "kind: scenario\nduration: 2 days\nname: order\nprescription: ../prescriptions/spinal-600.yaml\npump: bench99\n"
        let v = Self.validateScenario(text)
        #expect(v.map(\.line) == [2, 5], "\(v)")
        do { _ = try FileKinds.load(text: text, file: "s.yaml", directory: profilesDir + "/scenarios", kind: "scenario", read: ScenarioFile.read); Issue.record("loaded") } catch {
            #expect(error.diagnostics == v)
        }
    }

    @Test("simulate prints its diagnostics as validate does: same lines, same order (binary)")
    func simulateMatchesValidate() throws {
        let dir = profilesDir + "/scenarios"
        let path = dir + "/.order-\(getpid()).yaml"
        try "kind: scenario\nduration: 2 days\nname: order\nprescription: ../prescriptions/spinal-600.yaml\npump: bench99\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let validate = try Self.itpump(["validate", path])
        let simulate = try Self.itpump(["simulate", path])
        #expect(validate.status == 1 && simulate.status == 1)
        let lines = validate.stderr.split(separator: "\n").dropLast().map(String.init)
        #expect(lines.count == 2 && lines[0].hasPrefix("\(path):2: duration:") && lines[1].hasPrefix("\(path):5: pump:"), "\(validate.stderr)")
        #expect(simulate.stderr.split(separator: "\n").map(String.init) == lines, "\(simulate.stderr)")
    }

    static func itpump(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLIOutputTests.itpump)
        p.arguments = arguments
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: e, as: UTF8.self))
    }

    @Test("a sweep's concentration (or reservoir, or policy) as `uniform` says what is allowed there", arguments: [
        ("concentration: 500 ug/mL", "concentration: {uniform: [500 ug/mL, 2000 ug/mL]}", "concentration"),
        ("reservoir: 20 mL", "reservoir: {uniform: [20 mL, 40 mL]}", "reservoir"),
        ("alarmPolicy: {choice: [alarmOnly, reserveTaper]}", "alarmPolicy: {uniform: [alarmOnly, reserveTaper]}", "alarmPolicy"),
    ])
    func sweepUniformOnDiscreteValues(old: String, new: String, field: String) throws {
        let original = try String(contentsOfFile: profilesDir + "/sweeps/late-refills-small.yaml", encoding: .utf8)
        let text = original.replacingOccurrences(of: old, with: new)
        try #require(text != original)
        let d = FileKinds.validate(text: text, file: "w.yaml", directory: profilesDir + "/sweeps")
        try #require(d.count == 1, "\(d)")
        #expect(d[0].field == "\(field).uniform", "\(d)")
        #expect(d[0].message.contains("`uniform` draws from a range") && d[0].message.contains(field), "\(d)")
        #expect(d[0].allowed == "a single value, or {choice: [a, b, …]}", "\(d)")
        #expect(!d[0].message.contains("required field is missing"))
    }

    @Test("pump and prescription files take an optional description, as scenario, sweep and rig files do")
    func descriptions() throws {
        let pump = validPump + "\ndescription: the bench pump with a 110 cm catheter\n"
        #expect(diagnose(pump).isEmpty, "\(diagnose(pump))")
        #expect(throws: Never.self) { _ = try FileKinds.load(text: pump, file: "p.yaml", directory: ".", kind: "pump", read: PumpFile.read) }
        let rx = validPrescription + "\ndescription: lower at night\n"
        #expect(diagnose(rx).isEmpty, "\(diagnose(rx))")
        // Still text, and still bounded.
        let long = validPump + "\ndescription: " + String(repeating: "x", count: 2_001) + "\n"
        #expect(diagnose(long).map(\.field) == ["description"])
        #expect(diagnose(validPrescription + "\ndescription: [a, b]\n").map(\.field) == ["description"])
    }
}
