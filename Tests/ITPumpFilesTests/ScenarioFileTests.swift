import Foundation
import Testing
@testable import PumpCore
@testable import PumpSim
@testable import ITPumpFiles

/// The repository's `profiles/` directory, found from this file's path.
let profilesDir: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path + "/profiles"
}()

@Suite("Scenario files")
struct ScenarioFileTests {
    @Test("every shipped pump, prescription and scenario file validates")
    func shippedFilesValidate() throws {
        let fm = FileManager.default
        var count = 0
        for dir in ["pumps", "prescriptions", "scenarios"] {
            for f in try fm.contentsOfDirectory(atPath: "\(profilesDir)/\(dir)") where f.hasSuffix(".yaml") {
                let d = FileKinds.validate(path: "\(profilesDir)/\(dir)/\(f)")
                #expect(d.isEmpty, "\(f): \(d)")
                count += 1
            }
        }
        #expect(count >= 14)
    }

    @Test("the 7-days-late scenario reads as written: prescription by reference, instants in clock form")
    func refillLate() throws {
        let s = try ScenarioFile.load(path: "\(profilesDir)/scenarios/refill-late-7d.yaml")
        #expect(s.profile == .bench20)
        #expect(s.schedule == .continuous(.microgramsPerDay(600)))
        #expect(s.concentration == Concentration(microgramsPerMillilitre: 500))
        #expect(s.duration == .days(45))
        // 23d+10:16:48 = 1,419,408 s (the hand-derived empty instant) + 7 days.
        #expect(s.timeline[0].at == Instant.zero + TimeSpan.seconds(1_419_408 + 7 * 86_400))
        #expect(s.timeline[1].action == .confirmResumption(nil))
    }

    @Test("scenario errors name the line, including errors in a referenced file")
    func scenarioErrors() throws {
        let dir = FileManager.default.temporaryDirectory.path + "/itpump-scenario-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "kind: prescription\nconcentration: 500 ug/mL\nschedule: {continuous: 2000 ug/day}\n".write(toFile: dir + "/rx.yaml", atomically: true, encoding: .utf8)
        let text = """
        kind: scenario
        pump: bench20
        prescription: rx.yaml
        duration: 10d
        mechanics: {calibrationBias: -60%}
        timeline:
          - {at: 11d, refill: {volume: 20 mL}}
          - {at: 2d, refill: {volume: 20 mL}, resume: {}}
        faults:
          - {kind: leak, at: 3d}
        """
        let d = FileKinds.validate(text: text, file: dir + "/s.yaml", directory: dir)
        let lines = d.map { "\($0.file.hasSuffix("rx.yaml") ? "rx" : "s"):\($0.line) \($0.field)" }
        #expect(lines.contains("rx:3 schedule.continuous"))
        #expect(lines.contains("s:3 prescription"))
        #expect(lines.contains("s:5 mechanics.calibrationBias"))
        #expect(lines.contains("s:7 timeline[0].at"))
        #expect(lines.contains("s:8 timeline[1]"))
        #expect(lines.contains("s:10 faults[0].fraction"))
    }

    @Test("the simulated well-managed year never runs empty and delivers the prescription to the stroke")
    func wellManagedYear() throws {
        let s = try ScenarioFile.load(path: "\(profilesDir)/scenarios/well-managed-year.yaml")
        let r = try SimulationRunner.run(s, fidelity: .fast)
        #expect(r.recorder.emptyOnsets.isEmpty)
        #expect(r.recorder.withdrawal == .zero)
        // 600 μg/day from 1 h to 365 d: 364 d 23 h = 8,759 h × 25 μg/h = 218,975 μg (one stroke = 0.125 μg).
        #expect(abs(r.recorder.totalToPatient.value - 218_975_000_000_000) <= 125_000_000)
        #expect(!r.recorder.alarms.contains { $0.kind == .lowReservoir || $0.kind == .reservoirEmpty })
    }
}
