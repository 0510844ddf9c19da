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

    @Test("an occlusion sensor slower than the pump's labelled detection strokes is refused at its field")
    func occlusionTripAboveLabel() throws {
        func problems(pump: String, trip: Int64) -> [String] {
            let text = """
            kind: scenario
            pump: \(pump)
            prescription: {concentration: 500 ug/mL, schedule: {continuous: 600 ug/day}}
            duration: 10d
            mechanics: {occlusionTripStrokes: \(trip)}
            """
            return FileKinds.validate(text: text, file: "s.yaml", directory: ".").map { "\($0.line) \($0.field) \($0.allowed): \($0.message)" }
        }
        #expect(problems(pump: "bench20", trip: 40).isEmpty)
        let above = problems(pump: "bench20", trip: 41)
        #expect(above.count == 1 && above[0].hasPrefix("5 mechanics.occlusionTripStrokes 1 … 40:"), "\(above)")
        #expect(above.first?.contains("occlusionDetectionStrokes 40") == true, "\(above)")
        let inline = "{reservoirCapacity: 20 mL, strokeVolume: 0.25 uL, internalDeadVolume: 0.05 mL, catheterLength: 110 cm, bolusRate: 16667 nL/min, minimumPatencyRate: 0.048 mL/day, occlusionDetectionStrokes: 100}"
        #expect(problems(pump: inline, trip: 100).isEmpty)
        // The library refuses it too (a scenario built in code).
        var s = try ScenarioFile.load(path: "\(profilesDir)/scenarios/occlusion.yaml")
        s.mechanics.occlusionTripStrokes = 41
        #expect(throws: ScenarioError.self) { try SimulationRunner.run(s, fidelity: .fast) }
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

    static func load(_ timeline: String) throws -> Scenario {
        let text = """
        kind: scenario
        pump: bench20
        prescription: {concentration: 500 ug/mL, schedule: {continuous: 600 ug/day}}
        duration: 20d
        timeline:
        \(timeline)
        """
        return try FileKinds.load(text: text, file: "<test>", directory: ".", kind: "scenario", read: ScenarioFile.read)
    }

    @Test("a refill reads as an act and an entry: the entry defaults to the act, `entry: none` is not entered, `refillEntry` is an entry alone")
    func refillActAndEntry() throws {
        let c500 = Concentration(microgramsPerMillilitre: 500), c1000 = Concentration(microgramsPerMillilitre: 1_000)
        let s = try Self.load("""
          - {at: 1d, refill: {volume: 20 mL, withdrawn: 5 mL}}
          - {at: 2d, refill: {volume: 20 mL, concentration: 1000 ug/mL, entry: {concentration: 500 ug/mL}}}
          - {at: 3d, refill: {volume: 18 mL, entry: none}}
          - {at: 4d, refillEntry: {volume: 18 mL, withdrawn: 4 mL, concentration: 1000 ug/mL, confirmConcentrationChange: true}}
        """)
        #expect(s.timeline.map(\.action) == [
            .refill(added: .millilitres(20), concentration: c500, confirmConcentrationChange: false, withdrawn: .millilitres(5)),
            .refillDone(RefillAct(added: .millilitres(20), concentration: c1000), entered: RefillEntry(added: .millilitres(20), concentration: c500)),
            .refillDone(RefillAct(added: .millilitres(18), concentration: c500), entered: nil),
            .refillEntered(RefillEntry(added: .millilitres(18), concentration: c1000, confirmConcentrationChange: true, withdrawn: .millilitres(4))),
        ])
    }

    @Test("a stop's clinician without an overrideReason is refused, not dropped; with one it is kept")
    func stopClinicianNeedsAnOverrideReason() throws {
        let text = """
        kind: scenario
        pump: bench20
        prescription: {concentration: 500 ug/mL, schedule: {continuous: 600 ug/day}}
        duration: 20d
        timeline:
          - {at: 1d, stop: {taperDays: 14, clinician: Dr Who}}
        """
        let d = FileKinds.validate(text: text, file: "s.yaml", directory: ".")
        #expect(d.map { "\($0.line) \($0.field)" } == ["6 timeline[0].stop.clinician"], "\(d)")
        #expect(d.first?.message.contains("overrideReason") == true, "\(d)")
        let s = try Self.load("  - {at: 1d, stop: {overrideReason: intrathecal granuloma, clinician: Dr Who}}")
        #expect(s.timeline.map(\.action) == [.stop(taperDays: nil, override: EmergencyOverride(reason: "intrathecal granuloma", clinician: "Dr Who"))])
    }

    @Test("refill act and entry errors name the field and what to do")
    func refillActAndEntryErrors() throws {
        let text = """
        kind: scenario
        pump: bench20
        prescription: {concentration: 500 ug/mL, schedule: {continuous: 600 ug/day}}
        duration: 20d
        timeline:
          - {at: 1d, refill: {volume: 20 mL, withdrawn: 5 mL, entry: {volume: 20 mL}}}
          - {at: 2d, refill: {volume: 20 mL, entry: later}}
          - {at: 3d, refillEntry: {volume: 20 mL}}
          - {at: 4d, refill: {volume: 25 mL, entry: {volume: 25 mL, colour: red}}}
        """
        let d = FileKinds.validate(text: text, file: "s.yaml", directory: ".")
        let fields = d.map { "\($0.line) \($0.field)" }
        #expect(fields.contains("6 timeline[0].refill.withdrawn"), "\(fields)")
        #expect(fields.contains("7 timeline[1].refill.entry"), "\(fields)")
        #expect(fields.contains("8 timeline[2].refillEntry.withdrawn"), "\(fields)")
        #expect(fields.contains("9 timeline[3].refill.volume"), "\(fields)")
        #expect(fields.contains("9 timeline[3].refill.entry.colour"), "\(fields)")
        #expect(d.first { $0.field == "timeline[1].refill.entry" }?.allowed.hasPrefix("none") == true)
        #expect(d.first { $0.field == "timeline[3].refill.volume" }?.allowed.contains("20") == true)
        #expect(d.count == 5, "\(d)")
    }

    @Test("shipped: a new concentration entered as the old one doubles the delivered dose, as its comment derives")
    func shippedWrongConcentration() throws {
        let s = try ScenarioFile.load(path: "\(profilesDir)/scenarios/refill-wrong-concentration.yaml")
        let r = try SimulationRunner.run(s, fidelity: .fast)
        let ug: Int64 = 1_000_000_000
        // 1,345 strokes of 0.125 μg and 3,455 of 0.25 μg on day 13; 4,800 of 0.25 μg after.
        #expect(r.recorder.dailyFemtograms[12] == 1_345 * ug / 8 + 3_455 * ug / 4)
        #expect(r.recorder.dailyFemtograms[13] == 1_200 * ug && r.recorder.dailyFemtograms[14] == 1_200 * ug)
        #expect(r.recorder.refusals.isEmpty && r.recorder.alarms.allSatisfy { $0.kind == .refillDue })
    }

    @Test("shipped: a refused refill entry leaves the pump full and the controller warning of an empty one, as its comment derives")
    func shippedRefusedEntry() throws {
        let s = try ScenarioFile.load(path: "\(profilesDir)/scenarios/refill-entry-refused.yaml")
        let r = try SimulationRunner.run(s, fidelity: .fast)
        #expect(r.recorder.refusals.count == 1)
        #expect(r.controller.reservoir.estimate == .microlitres(514))
        #expect(r.pump.reservoir == Picolitres(.microlitres(15_200)))
        // 13d+02:16:48 = 1,131,408 s.
        #expect(r.recorder.alarms.contains { $0.kind == .lowReservoir && $0.raisedAt == .zero + .seconds(1_131_408) })
    }

    @Test("shipped: the occlusion releases the 50 μL its line took up, 25 μg, into the delivered figures")
    func shippedOcclusion() throws {
        let s = try ScenarioFile.load(path: "\(profilesDir)/scenarios/occlusion.yaml")
        let r = try SimulationRunner.run(s, fidelity: .fast, keepSeries: true)
        #expect(r.recorder.releases.map(\.volume) == [Picolitres(.microlitres(50))])
        #expect(r.recorder.releases.map(\.toCSF) == [Femtograms(25_000_000_000)])
        #expect(r.recorder.releases.map(\.at) == [.zero + .days(5) + .hours(6)])
        #expect(r.recorder.series.reduce(Femtograms.zero) { $0 + $1.released } == Femtograms(25_000_000_000))
        // 6 h of strokes = 1,200 occluded; 200 fill the 50 μL, 1,000 move nothing: 600 − 125 μg on day 6.
        #expect(r.recorder.dailyFemtograms[5] == 475_000_000_000)
    }
}
