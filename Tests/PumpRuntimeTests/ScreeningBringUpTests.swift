import Foundation
import Testing
@testable import PumpCore
@testable import PumpRig
@testable import PumpRuntime

/// `itpump run --bring-up screening`: fill and prime, then the clinician's test doses over the control
/// channel, under the core's screening rules, as the HIL test-dose scenario drives it.
@Suite struct ScreeningBringUpTests {
    func status(_ f: RunnerFixture) -> [String: Any] { f.request(#"{"cmd":"status"}"#)["status"] as? [String: Any] ?? [:] }

    /// Runs until the bolus in progress has ended (at most `limit` therapy time).
    func runUntilBolusEnds(_ f: RunnerFixture, limit: TimeSpan = .hours(1)) throws {
        let end = f.runner.controller.now + limit
        while f.runner.controller.bolus != nil && f.runner.controller.now < end {
            try f.run(until: f.runner.controller.now + .minutes(1))
        }
    }

    @Test func screeningStopsAfterPrimingWithoutStartingTherapy() throws {
        let f = try RunnerFixture(mode: .screening)
        try f.run(until: .zero + .hours(1))
        let c = f.runner.controller
        #expect(f.runner.bringUp?.stage == .screening)
        #expect(c.primed)
        guard case .notStarted = c.phase else { Issue.record("therapy started: \(c.phase)"); return }
        // Only the 1,344 priming strokes: nothing is delivered while waiting for the test dose.
        #expect(f.runner.strokesPerformed == 1_344)
        let s = status(f)
        #expect(s["bring_up"] as? String == "screening")
        #expect(s["bolus"] as? String == "none")
        #expect(f.lines.levels[.enable] == false)
    }

    /// 50 μg at 500 μg/mL = 100 μL = 400 strokes of 250 nL = 3,200 STEP pulses; during the 8 h
    /// observation lockout another dose and the start of therapy are refused and drive nothing; after a
    /// non-response the next dose (75 μg) is allowed 24 h after the first, and an effective one
    /// permits the start once its lockout is over.
    @Test func testDoseStepsThenLockoutThenEscalationAfterNonResponse() throws {
        let f = try RunnerFixture(scale: 1_000, mode: .screening)
        try f.run(until: .zero + .hours(1))
        let primingSteps = f.lines.risingEdges(.step)
        let dose = f.request(#"{"cmd":"bolus","ug":50}"#)
        #expect(dose["ok"] as? Bool == true, "\(dose)")
        #expect((status(f)["bolus"] as? String)?.hasPrefix("testDose 50.000 μg") == true)
        try runUntilBolusEnds(f)
        #expect(f.runner.controller.bolus == nil)
        #expect(f.lines.risingEdges(.step) - primingSteps == 400 * 8)
        let afterDose = f.lines.risingEdges(.step)
        let firstDoseAt = f.runner.controller.screening.doses.first!.startedAt

        // During the lockout: a second dose, an escalation and the start are refused; no STEP edge.
        try f.run(until: f.runner.controller.now + .hours(1))
        for req in [#"{"cmd":"bolus","ug":50}"#, #"{"cmd":"start","ug_per_day":100}"#] {
            let r = f.request(req)
            #expect(r["ok"] as? Bool == false)
            #expect((r["refused"] as? String)?.contains("observation lockout") == true, "\(r)")
        }
        #expect(f.request(#"{"cmd":"test_dose_response","response":"no_response"}"#)["ok"] as? Bool == true)
        let early = f.request(#"{"cmd":"bolus","ug":75}"#)
        #expect((early["refused"] as? String)?.contains("observation lockout") == true, "\(early)")
        try f.run(until: f.runner.controller.now + .hours(2))
        #expect(f.lines.risingEdges(.step) == afterDose)
        guard case .notStarted = f.runner.controller.phase else { Issue.record("therapy started"); return }

        // After the lockout but before 24 h: too soon for the next dose.
        try f.run(until: firstDoseAt + .hours(10))
        let soon = f.request(#"{"cmd":"bolus","ug":75}"#)
        #expect(soon["ok"] as? Bool == false, "\(soon)")
        #expect(f.lines.risingEdges(.step) == afterDose)

        // 24 h after the first: escalation to 75 μg (600 strokes), effective; the start waits for its lockout.
        try f.run(until: firstDoseAt + .hours(24))
        let second = f.request(#"{"cmd":"bolus","ug":75}"#)
        #expect(second["ok"] as? Bool == true, "\(second)")
        try runUntilBolusEnds(f)
        #expect(f.lines.risingEdges(.step) - afterDose == 600 * 8)
        #expect(f.request(#"{"cmd":"test_dose_response","response":"effective"}"#)["ok"] as? Bool == true)
        let startTooEarly = f.request(#"{"cmd":"start","ug_per_day":100}"#)
        #expect((startTooEarly["refused"] as? String)?.contains("observation lockout") == true, "\(startTooEarly)")
        try f.run(until: f.runner.controller.now + .hours(9))
        let start = f.request(#"{"cmd":"start","ug_per_day":100}"#)
        #expect(start["ok"] as? Bool == true, "\(start)")
        guard case .running = f.runner.controller.phase else { Issue.record("not running: \(f.runner.controller.phase)"); return }
        // The clinician's start ends the bring-up.
        try f.run(until: f.runner.controller.now + .minutes(1))
        #expect(f.runner.bringUp?.stage == .done)
    }

    /// A screened pump recovered from its journal waits for the clinician even when the restart's
    /// mode is `therapy`: its start depends on the test dose's response, not on a transfer.
    @Test func aResumedScreeningNeverStartsTherapyByItself() throws {
        let f = try RunnerFixture(scale: 1_000, mode: .screening)
        try f.run(until: .zero + .hours(1))
        #expect(f.request(#"{"cmd":"bolus","ug":50}"#)["ok"] as? Bool == true)
        try runUntilBolusEnds(f)
        let resumed = BringUp(prescription: try #require(f.runner.bringUp?.prescription), mode: .therapy,
                              resuming: f.runner.controller)
        #expect(resumed.mode == .screening)
        var b = resumed
        #expect(b.nextCommand(for: f.runner.controller) == nil)
        #expect(b.stage == .screening)
    }

    @Test func theDefaultBringUpStillStartsTherapy() throws {
        let f = try RunnerFixture()
        try f.run(until: .zero + .minutes(30))
        #expect(f.runner.bringUp?.mode == .therapy)
        #expect(f.runner.bringUp?.stage == .done)
    }
}
