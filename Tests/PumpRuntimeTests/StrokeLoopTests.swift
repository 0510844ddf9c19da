import Foundation
import Testing
@testable import PumpCore
@testable import PumpRig
@testable import PumpRuntime
import RigTestSupport

/// A loop that never blocks, on a manual clock: the rig driver hands a stroke's waits to the loop
/// (`RigDriver.whileWaiting`), which answers requests there without advancing the controller, senses
/// the inputs and drives the alarm outputs, while every stroke stays whole and the write-ahead bound holds.
@Suite struct StrokeLoopTests {
    /// The fixture's rig driver, calling `hook` in every wait of a stroke (no rate limit on the manual clock).
    static func hooked(_ f: RunnerFixture, _ hook: @escaping () throws -> Void) -> RigDriver {
        let rig = f.runner.rigDriver!
        rig.serviceInterval = 0
        rig.serviceSlack = 0
        rig.whileWaiting = hook
        return rig
    }

    /// ENABLE writes strictly alternate on, off: no stroke started inside another.
    static func strokesAreWhole(_ lines: FakeLines) -> Bool {
        var on = false
        for w in lines.writes where w.role == .enable {
            if w.active == on { return false }
            on = w.active
        }
        return !on
    }

    @Test("status asked within a step's strokes is answered there, at the controller's instant, showing the strokes still to give")
    func statusIsAnsweredMidStep() throws {
        let f = try RunnerFixture(scale: 100_000)
        var replies: [(inProgress: Int64, enableOn: Bool, controllerMoved: Bool)] = []
        _ = Self.hooked(f) {
            guard replies.count < 50, f.runner.strokesInProgress > 1 else { return }
            let before = f.runner.controller.now
            let reply = f.request(#"{"cmd":"status"}"#)
            let wa = (reply["status"] as? [String: Any])?["write_ahead"] as? [String: Any]
            replies.append(((wa?["strokes_in_progress"] as? Int).map(Int64.init) ?? -1, f.lines.levels[.enable] == true,
                            f.runner.controller.now != before))
        }
        try f.run(until: .zero + .hours(2))
        #expect(!replies.isEmpty, "no request was served within a stroke")
        #expect(replies.allSatisfy { $0.inProgress > 0 && $0.enableOn }, "\(replies.prefix(5))")
        #expect(!replies.contains { $0.controllerMoved }, "a request mid-stroke advanced the controller")
        #expect(Self.strokesAreWhole(f.lines))
        #expect(f.runner.maxStrokesPerCommit <= f.runner.strokesPerStep)
        #expect(f.runner.strokesInProgress == 0)
    }

    /// Closes the occlusion switch once, inside the third stroke of a multi-stroke step, servicing the
    /// loop there (`serviced`, as the run loop does) or not (the old loop); runs two hours. Returns the
    /// fixture and the line writes from the closing on, and where the high LED lit and ENABLE first fell
    /// in them.
    static func occlusionMidStroke(serviced: Bool) throws -> (f: RunnerFixture, led: Int, enableOff: Int) {
        let f = try RunnerFixture(scale: 100_000)
        var injectedAt: Int?
        _ = hooked(f) {
            guard injectedAt == nil, f.runner.strokesInProgress > 3, f.lines.risingEdges(.enable) >= 3 else { return }
            f.lines.input(.occlusion, true)
            injectedAt = f.lines.writes.count
            if serviced { try f.runner.serviceDuringStrokes() }
        }
        try f.run(until: .zero + .hours(2))
        let at = try #require(injectedAt, "never inside a multi-stroke step")
        let after = f.lines.writes[at...]
        let led = try #require(after.firstIndex { $0.role == .ledHigh && $0.active }, "the high LED never lit")
        let enableOff = try #require(after.firstIndex { $0.role == .enable && !$0.active })
        return (f, led, enableOff)
    }

    @Test("an occlusion closing mid-stroke drives the high-priority LED before that stroke's ENABLE falls")
    func alarmReachesTheOutputsMidStroke() throws {
        let (f, led, enableOff) = try Self.occlusionMidStroke(serviced: true)
        #expect(f.runner.controller.alarms.isActive(.occlusion))
        #expect(led < enableOff, "the LED lit only after the stroke ended")
        #expect(Self.strokesAreWhole(f.lines))
    }

    @Test("anti-vacuity: without the loop in the stroke's waits, the same occlusion lights the LED only after the step's strokes")
    func withoutTheHookTheAlarmWaitsForTheStep() throws {
        let (_, led, enableOff) = try Self.occlusionMidStroke(serviced: false)
        #expect(led > enableOff)
    }

    @Test("a command applied mid-stroke is committed at the controller's instant; any stroke it yields waits for the strokes in hand")
    func commandsMidStrokeKeepStrokesWholeAndTheBound() throws {
        let f = try RunnerFixture(scale: 100_000)
        var answered: [String: Any]?
        _ = Self.hooked(f) {
            guard answered == nil, f.runner.strokesInProgress > 2 else { return }
            answered = f.request(#"{"cmd":"acknowledge","alarm":"interlockRefusal"}"#)
        }
        try f.run(until: .zero + .hours(2))
        #expect(answered != nil)
        #expect(Self.strokesAreWhole(f.lines))
        #expect(f.runner.maxStrokesPerCommit <= f.runner.strokesPerStep)
        #expect(f.runner.strokesInProgress == 0)
        #expect(f.runner.failure == nil)
    }

    @Test("a stroke produced while strokes are carried out waits behind them: after the event before it, never inside another stroke")
    func aStrokeProducedMidStrokeIsQueued() throws {
        let f = try RunnerFixture(scale: 100_000)
        var queuedAt: (writes: Int, inHand: Int64)?
        var performedBefore: Int64 = 0
        _ = Self.hooked(f) {
            guard queuedAt == nil, f.runner.strokesInProgress > 2 else { return }
            queuedAt = (f.lines.writes.count, f.runner.strokesInProgress)
            performedBefore = f.runner.strokesPerformed
            let extra = Stroke(at: f.runner.controller.now, purpose: .priming, volume: .zero, picograms: 0)
            try f.runner.perform([.stroke(extra)])
            // Not performed here: queued behind the strokes in hand.
            #expect(f.runner.strokesPerformed == performedBefore)
        }
        try f.run(until: .zero + .hours(2))
        let q = try #require(queuedAt, "never inside a multi-stroke step")
        #expect(Self.strokesAreWhole(f.lines))
        // The strokes in hand (the current one included) came first, then the queued one.
        let enableRises = f.lines.writes[q.writes...].filter { $0.role == .enable && $0.active }.count
        #expect(enableRises >= Int(q.inHand))
        #expect(f.runner.strokesInProgress == 0)
    }
}
