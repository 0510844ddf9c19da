import Testing
import PumpCore
@testable import ITPumpFiles

/// Runs `text` through the validator as file `t.yaml`.
func diagnose(_ text: String) -> [Diagnostic] { FileKinds.validate(text: text, file: "t.yaml") }

let validPump = """
kind: pump
name: bench 20 mL
reservoirCapacity: 20 mL
strokeVolume: 0.25 uL
internalDeadVolume: 0.05 mL
catheterLength: 110 cm
bolusRate: 16667 nL/min
minimumPatencyRate: 0.048 mL/day
"""

let validPrescription = """
kind: prescription
name: flex
patientGroup: cerebral
concentration: 1000 ug/mL
schedule:
  flex:
    - {start: "00:00", rate: 360 ug/day}
    - {start: "08:00", rate: 240 ug/day}
settings:
  decreaseLimit: 10%
  reservoirPolicy: reserveTaper
  clockAtStart: "06:30"
  alarms: {lowReservoirThreshold: 3 mL, refillLeadTime: 10d}
"""

@Suite("Pump and prescription files")
struct FileValidationTests {
    @Test("the bench pump file reads back as PumpProfile.bench20, field for field")
    func pumpFile() throws {
        let p = try FileKinds.load(text: validPump, file: "t.yaml", directory: ".", kind: "pump", read: PumpFile.read)
        var expected = PumpProfile.bench20
        expected.name = "bench 20 mL"
        #expect(p == expected)
    }

    @Test("a pump file's emptySwitch: true gives a profile with an empty switch; absent means none; not a boolean is refused")
    func pumpEmptySwitch() throws {
        let p = try FileKinds.load(text: validPump + "\nemptySwitch: true\n", file: "t.yaml", directory: ".", kind: "pump", read: PumpFile.read)
        #expect(p.hasEmptySwitch)
        let q = try FileKinds.load(text: validPump, file: "t.yaml", directory: ".", kind: "pump", read: PumpFile.read)
        #expect(!q.hasEmptySwitch)
        let d = diagnose(validPump + "\nemptySwitch: maybe\n")
        #expect(d.first { $0.field == "emptySwitch" }?.allowed == "true or false")
    }

    @Test("a prescription reads with its schedule and every setting")
    func prescriptionFile() throws {
        let p = try FileKinds.load(text: validPrescription, file: "t.yaml", directory: ".", kind: "prescription", read: PrescriptionFile.read)
        #expect(p.concentration == Concentration(microgramsPerMillilitre: 1000))
        // 360 × 8 h + 240 × 16 h over 24 h = 120 + 160 = 280 μg/day.
        #expect(p.dailyDose == .microgramsPerDay(280))
        #expect(p.settings.patientGroup == .cerebral)
        #expect(p.settings.decreaseLimit == .percent(10))
        #expect(p.settings.reservoirPolicy == .reserveTaper)
        #expect(p.settings.clock.timeOfDayAtOrigin == TimeOfDay(hour: 6, minute: 30)!)
        #expect(p.settings.alarms.lowReservoirThreshold == .millilitres(3))
        #expect(p.settings.alarms.refillLeadTime == .days(10))
        #expect(diagnose(validPrescription).isEmpty)
    }

    @Test("every error is listed with its line, field, value and allowed range")
    func everyErrorListed() {
        let text = """
        kind: prescription
        concentration: 750 ug/mL
        schedule:
          flex:
            - {start: "08:00", rate: 1300 ug/day}
            - {start: "07:00", rate: 300 ug/day}
        settings:
          decreaseLimit: 25%
          alarms: {lowReservoirThreshold: 1 mL, refillLeadTim: 7d}
        extra: 1
        """
        let d = diagnose(text)
        let summary = d.map { "\($0.line) \($0.field)" }
        #expect(summary == ["2 concentration", "5 schedule.flex[0].rate", "6 schedule.flex[1].start", "8 settings.decreaseLimit",
                            "9 settings.alarms.lowReservoirThreshold", "9 settings.alarms.refillLeadTim", "10 extra"])
        let rate = d.first { $0.field == "schedule.flex[0].rate" }
        #expect(rate?.value == "1300 ug/day")
        #expect(rate?.allowed == "50 μg/day … 1200 μg/day")
        #expect(d.allSatisfy { $0.file == "t.yaml" && !$0.message.isEmpty })
    }

    @Test("bounds are inclusive and one unit past them is refused (no clamping)", arguments: [
        ("lowReservoirThreshold: 2 mL", true), ("lowReservoirThreshold: 8 mL", true),
        ("lowReservoirThreshold: 1.999999 mL", false), ("lowReservoirThreshold: 8.000001 mL", false),
        ("refillLeadTime: 1d", true), ("refillLeadTime: 30d", true), ("refillLeadTime: 23h", false), ("refillLeadTime: 30d1s", false),
    ])
    func alarmBounds(line: String, ok: Bool) {
        let text = "kind: prescription\nconcentration: 500 ug/mL\nschedule: {continuous: 600 ug/day}\nsettings:\n  alarms:\n    \(line)\n"
        let d = diagnose(text)
        #expect(d.isEmpty == ok, "\(d)")
        if !ok { #expect(d.first?.line == 6) }
    }

    @Test("wrong or missing kind, YAML syntax errors and non-mappings are diagnosed with a line")
    func documentErrors() {
        #expect(diagnose("name: x\n").first?.field == "kind")
        #expect(diagnose("kind: rocket\n").first?.message == "unknown file kind")
        let syntax = diagnose("kind: pump\nname: [unclosed\n")
        #expect(syntax.count == 1 && syntax[0].line >= 2 && syntax[0].message.contains("YAML syntax error"))
        #expect(diagnose("- a\n- b\n").first?.allowed == "a mapping")
        #expect(diagnose("").first?.value == "empty")
        // Aliases expand; an exponential "billion laughs" document is refused by the node budget.
        var laughs = "kind: pump\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1..<12 { laughs += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        #expect(diagnose(laughs).first?.message.contains("too large") == true)
    }

    @Test("a pump file: missing fields, both catheter forms, odd reservoir size")
    func pumpErrors() {
        let d = diagnose("kind: pump\nreservoirCapacity: 30 mL\nstrokeVolume: 20 nL\ncatheterLength: 110 cm\ncatheterVolume: 0.2 mL\n")
        let fields = Set(d.map(\.field))
        #expect(fields.isSuperset(of: ["reservoirCapacity", "strokeVolume", "internalDeadVolume", "bolusRate", "minimumPatencyRate", "catheterVolume"]))
        #expect(d.first { $0.field == "reservoirCapacity" }?.allowed == "20 mL or 40 mL")
    }
}
