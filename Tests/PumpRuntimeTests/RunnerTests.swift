import Foundation
import Testing
@testable import PumpCore
@testable import PumpRig
@testable import PumpRuntime

@Suite struct RunnerTests {
    /// Bring-up primes 336,000 nL = 1,344 strokes at 16,667 nL/min (20.16 min), then 600 μg/day at
    /// 500 μg/mL = 1.2 mL/day = 4,800 strokes/day, one every 18 s.
    @Test func bringUpPrimesThenDeliversOnSchedule() throws {
        let f = try RunnerFixture()
        try f.run(until: .zero + .minutes(30))
        let c = f.runner.controller
        #expect(f.runner.bringUp?.stage == .done)
        guard case let .running(since) = c.phase else { Issue.record("not running: \(c.phase)"); return }
        #expect(c.primed)
        let afterPriming = f.runner.strokesPerformed
        #expect(afterPriming >= 1_344)
        try f.run(until: since + .hours(2))
        // 2 h at one stroke per 18 s = 400 strokes (±1 for the phase of the first).
        let basal = f.runner.strokesPerformed - afterPriming
        #expect((399...401).contains(basal + (afterPriming - 1_344)))
        // Every stroke is 8 STEP pulses on the lines; the motor is off between strokes.
        #expect(Int64(f.lines.risingEdges(.step)) == f.runner.strokesPerformed * 8)
        #expect(f.lines.levels[.enable] == false)
        #expect(f.runner.timing.strokes.count == UInt64(f.runner.strokesPerformed))
        #expect(f.runner.timing.pulses.count == UInt64(f.runner.strokesPerformed * 8))
    }

    @Test func occlusionInputRaisesTheCriticalAlarmAndTheOutputsShowIt() throws {
        let f = try RunnerFixture()
        try f.run(until: .zero + .minutes(30))
        f.lines.input(.occlusion, true)
        try f.run(until: .zero + .minutes(31))
        #expect(f.runner.controller.alarms.isActive(.occlusion))
        #expect(f.lines.risingEdges(.ledHigh) > 0 && f.lines.risingEdges(.buzzer) >= 1)
        let s = f.request(#"{"cmd":"status"}"#)["status"] as? [String: Any]
        let alarms = s?["alarms"] as? [[String: Any]]
        #expect(alarms?.contains { $0["alarm"] as? String == "occlusion" && $0["priority"] as? String == "high" } == true)
        // Delivery goes on (sensor faults never stop it).
        #expect(f.runner.controller.isDelivering)
    }

    @Test func controlCommandsGoThroughTheInterlock() throws {
        let f = try RunnerFixture()
        try f.run(until: .zero + .minutes(30))
        // An increase in the first 24 h is refused with the core's reason; nothing changes.
        let before = f.runner.controller.programmedDose
        let r = f.request(#"{"cmd":"program","ug_per_day":700}"#)
        #expect(r["ok"] as? Bool == false)
        #expect((r["refused"] as? String)?.contains("first") == true)
        #expect(f.runner.controller.programmedDose == before)
        // A 10 % decrease is accepted.
        let ok = f.request(#"{"cmd":"program","ug_per_day":540}"#)
        #expect(ok["ok"] as? Bool == true, "\(ok)")
        #expect(f.runner.controller.programmedDose == .microgramsPerDay(540))
        // Stop becomes a 14-day taper; resume cancels it.
        let stop = f.request(#"{"cmd":"stop"}"#)
        #expect((stop["accepted"] as? String)?.contains("taper") == true, "\(stop)")
        #expect(f.runner.controller.taper != nil)
        #expect(f.request(#"{"cmd":"resume"}"#)["ok"] as? Bool == true)
        // Acknowledge the interlock-refusal alarm raised by the refused increase.
        #expect(f.request(#"{"cmd":"acknowledge","alarm":"interlockRefusal"}"#)["ok"] as? Bool == true)
        // Test doses are for screening only: refused once therapy runs.
        #expect(f.request(#"{"cmd":"bolus","ug":50}"#)["refused"] != nil)
    }

    @Test func aDriverFailureEndsTheRunInTheSafeState() throws {
        let f = try RunnerFixture()
        f.lines.failOnStepWrite = 3
        var failure: RunnerError?
        do { try f.run(until: .zero + .minutes(5)) } catch { failure = error as? RunnerError }
        #expect(failure != nil)
        #expect(failure?.description.contains("safe state") == true)
        #expect(f.lines.levels[.enable] == false && f.lines.levels[.step] == false && f.lines.levels[.buzzer] == false)
    }

    @Test func stopSavesTheStateAndLogsTheInterruption() throws {
        let f = try RunnerFixture()
        try f.run(until: .zero + .minutes(40))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("itpump-state-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("state.json").path
        let i = try f.runner.stop(reason: "SIGTERM", statePath: path)
        #expect(i.reason == "SIGTERM" && i.deliveringNanogramsPerDay == 600_000)
        #expect(i.description.hasPrefix("THERAPY INTERRUPTION at "))
        let saved = try StateFile.load(from: path)
        #expect(saved.controller == f.runner.controller)
        #expect(saved.interruption == i)
        #expect(saved.timing["stroke_lateness"]?.count == UInt64(f.runner.strokesPerformed))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(f.lines.levels[.enable] == false && f.lines.levels[.step] == false && f.lines.levels[.buzzer] == false)
    }

    @Test func timeLineMapsBothWaysExactly() {
        let tl = TherapyTimeLine(origin: .zero + .hours(1), monotonicAtOrigin: 5_000, scale: 60)
        #expect(tl.instant(atMonotonic: 5_000 + 1_000_000_000) == .zero + .hours(1) + .minutes(1))
        #expect(tl.monotonic(at: .zero + .hours(1) + .minutes(1)) == 5_000 + 1_000_000_000)
        // Rounds up: never early.
        #expect(tl.monotonic(at: .zero + .hours(1) + TimeSpan(nanoseconds: 1)) == 5_001)
        #expect(tl.monotonic(at: .distantFuture) == .max)
        #expect(tl.instant(atMonotonic: 0) == .zero + .hours(1))
    }
}
