import Foundation
import GPIO
@testable import PumpCore
import Testing
@testable import PumpRig
import RigTestSupport

@Suite struct RigDriverTests {
    func make(_ rig: RigDescription = fastRig()) throws -> (RigDriver, FakeLines, ManualClock) {
        let clock = ManualClock()
        let lines = FakeLines(clock: clock)
        let tl = TherapyTimeLine(origin: .zero, monotonicAtOrigin: clock.now(), scale: 1)
        return (try RigDriver(rig: rig, lines: lines, clock: clock, timeLine: tl), lines, clock)
    }

    @Test func strokeIsEnableDirThenStepsWithTheConfiguredTiming() throws {
        let (d, lines, clock) = try make()
        #expect(fastRig().problems().isEmpty)
        let start = clock.now()
        try d.perform(Stroke(at: .zero, purpose: .basal, volume: Volume(nanolitres: 250), picograms: 0))
        // ENABLE and DIR first, both before the first STEP edge by at least the setup time (10 µs).
        #expect(lines.writes[0].role == .enable && lines.writes[0].active)
        #expect(lines.writes[1].role == .dir && lines.writes[1].active)
        let steps = lines.writes.filter { $0.role == .step }
        #expect(steps.count == 16)
        #expect(steps[0].at - start == 10_000)
        // Highs every 10 µs, each 2 µs long.
        for k in 0..<8 {
            #expect(steps[2 * k].active && steps[2 * k].at == start + 10_000 + UInt64(k) * 10_000)
            #expect(!steps[2 * k + 1].active && steps[2 * k + 1].at - steps[2 * k].at == 2_000)
        }
        // Motor disabled after the last step's period; exact clock → zero timing error.
        #expect(lines.levels[.enable] == false)
        #expect(lines.writes.last(where: { $0.role == .enable })!.at == start + 10_000 + 80_000)
        #expect(d.timing.pulses.count == 8 && d.timing.pulses.max == 0)
        #expect(d.timing.periods.count == 7 && d.timing.periods.max == 0)
    }

    @Test func missingStrokeFeedbackIsAMotorStallAndItsReturnClearsIt() throws {
        let (d, lines, _) = try make()
        let stroke = { (s: Int64) in Stroke(at: .zero + .seconds(s), purpose: .basal, volume: Volume(nanolitres: 250), picograms: 0) }
        try d.perform(stroke(0))
        #expect(try d.sensorChanges(upTo: .zero + .seconds(1)).isEmpty)
        lines.feedbackWorks = false
        try d.perform(stroke(1))
        let stall = try d.sensorChanges(upTo: .zero + .seconds(2))
        #expect(stall.map(\.reading) == [.motorStall(true)])
        #expect(stall.first?.at == .zero + .seconds(1))
        try d.perform(stroke(2))
        #expect(try d.sensorChanges(upTo: .zero + .seconds(3)).isEmpty)  // still stalled: reported once
        lines.feedbackWorks = true
        try d.perform(stroke(3))
        #expect(try d.sensorChanges(upTo: .zero + .seconds(4)).map(\.reading) == [.motorStall(false)])
    }

    @Test func inputsBecomeSensorReadingsAtTheEdgeTime() throws {
        let (d, lines, clock) = try make()
        clock.advance(by: 5_000_000_000)
        lines.input(.occlusion, true)
        clock.advance(by: 1_000_000_000)
        let changes = try d.sensorChanges(upTo: .zero + .seconds(7))
        #expect(changes.count == 1)
        #expect(changes[0].reading == .occlusion(true) && changes[0].at == .zero + .seconds(5) + TimeSpan(nanoseconds: 1_000_000_000 - 1_000_000_000))
        lines.input(.reservoirEmpty, true)
        lines.input(.occlusion, false)
        #expect(Set(try d.sensorChanges(upTo: .zero + .seconds(8)).map(\.reading)) == [.occlusion(false), .reservoirEmpty(true)])
    }

    @Test func alarmPatternsBlinkTheLEDOfThePriorityAndBeepPerAlert() throws {
        let (d, lines, clock) = try make()
        try d.indicate(AlarmIndication(highestPriority: .high, alert: .occlusion), at: .zero)
        let t0 = clock.now()
        // Service until 3 s later at every deadline the driver asks for.
        while clock.now() < t0 + 3_000_000_000 {
            let next = try d.serviceOutputs()
            clock.sleep(until: min(next, t0 + 3_000_000_000))
        }
        // High: 2 Hz for 3 s = 6 flashes; 5 beeps; other LEDs never on.
        #expect(lines.risingEdges(.ledHigh) == 6)
        #expect(lines.risingEdges(.buzzer) == 5)
        #expect(lines.risingEdges(.ledMedium) == 0 && lines.risingEdges(.ledLow) == 0)
        #expect(lines.levels[.buzzer] == false)
        // Low priority: steady LED, one beep.
        try d.indicate(AlarmIndication(highestPriority: .low, alert: .interlockRefusal), at: .zero)
        #expect(lines.levels[.ledLow] == true && lines.levels[.ledHigh] == false && lines.levels[.buzzer] == true)
    }

    @Test func safeStateAndShutDownDriveEverythingInactiveThenRelease() throws {
        let (d, lines, _) = try make()
        try d.indicate(AlarmIndication(highestPriority: .high, alert: .motorStall), at: .zero)
        #expect(lines.levels[.buzzer] == true)
        try d.shutDown()
        for role in RigRole.allCases where role.isOutput && role != .dir { #expect(lines.levels[role] == false, "\(role)") }
        #expect(lines.released)
        #expect(throws: RigDriverError.released) { try d.perform(Stroke(at: .zero, purpose: .basal, volume: Volume(nanolitres: 250), picograms: 0)) }
        try d.shutDown()  // idempotent
    }

    @Test func aLineFailureMidStrokeLeavesTheMotorDisabled() throws {
        let (d, lines, _) = try make()
        lines.failOnStepWrite = 5
        #expect(throws: FakeLines.Broken.self) { try d.perform(Stroke(at: .zero, purpose: .basal, volume: Volume(nanolitres: 250), picograms: 0)) }
        #expect(lines.levels[.enable] == false && lines.levels[.buzzer] == false)
    }
}

@Suite struct GPIORigLinesErrorTests {
    /// This machine has no GPIO chip: requesting a rig's lines is a typed GPIOError naming the chip;
    /// nothing crashes and nothing stays requested (the runner's set-up wrapping it: `RunSetupTests`).
    @Test func noChipIsATypedError() throws {
        guard !FileManager.default.fileExists(atPath: "/dev/gpiochip0") else { return }
        let rig = try RigFile.parse(yaml: validRigYAML, file: "t")
        #expect {
            _ = try GPIORigLines(rig: rig)
        } throws: { e in
            guard let g = e as? GPIOError, case let .chipNotFound(chip, available, _) = g else { return false }
            return chip.contains("hil-gpio-sim") && available.isEmpty
        }
    }
}
