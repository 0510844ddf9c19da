import Foundation
import Logging
import Testing
@testable import PumpCore
@testable import PumpJournal
@testable import PumpRig
@testable import PumpRuntime
import RigTestSupport
@testable import PumpSim

/// Delivery safety of the runner on a manual clock: a late wake-up is downtime, never a burst; no
/// commit covers more than N strokes on any path; a driver failure on the control path ends the run
/// with one outcome; the highest-priority active alarm drives the buzzer; a journal outage shows in
/// `status`.
@Suite struct RunnerSafetyTests {
    static let n: Int64 = 16

    /// A journaled sim runner with therapy running (bring-up done), on a manual clock, at 100×.
    static func runningSim(maxLateness: UInt64 = Runner.defaultMaxStrokeLateness) throws -> (runner: Runner, clock: ManualClock, path: String) {
        let path = try RunnerJournalTests.directory() + "/pump.journal"
        let clock = ManualClock()
        let r = try RunnerJournalTests.runner(path, create: true, wall: RunnerJournalTests.wall0, clock: clock)
        r.maxStrokeLateness = maxLateness
        try RunnerJournalTests.run(r, until: .zero + .hours(1))
        #expect(r.bringUp == nil || r.bringUp?.stage == .done)
        return (r, clock, path)
    }

    @Test("a wake-up 5 s late is downtime: no stroke of the gap given, the gap journaled, the interruption alarm raised")
    func aLateWakeIsDowntimeNotABurst() throws {
        let (r, clock, path) = try Self.runningSim()
        let before = r.strokesPerformed
        // 5 s of wall time at 100× is 500 s of therapy: about 27 strokes of 600 μg/day were due.
        clock.advance(by: 5_000_000_000)
        try r.step()
        #expect(r.strokesPerformed == before, "\(r.strokesPerformed - before) strokes given late in a burst")
        #expect(r.lateWakes == 1)
        #expect(r.controller.alarms.isActive(.therapyInterruption))
        let late = try Journal.open(at: path, access: .readOnly).interruptions().filter { $0.reason.hasPrefix("late wake:") }
        #expect(late.count == 1, "\(late)")
        // Delivery goes on from now on schedule (no catch-up): the next 60 s of therapy hold the
        // schedule's 3 or 4 strokes.
        try RunnerJournalTests.run(r, until: r.controller.now + .seconds(60))
        #expect((3...4).contains(r.strokesPerformed - before), "\(r.strokesPerformed - before)")
    }

    @Test("anti-vacuity: without the lateness bound the same stall delivers the gap's strokes at once")
    func withoutTheBoundTheStallIsABurst() throws {
        let (r, clock, _) = try Self.runningSim(maxLateness: .max)
        let before = r.strokesPerformed
        clock.advance(by: 5_000_000_000)
        try r.step()
        #expect(r.strokesPerformed - before > 20)
        #expect(r.lateWakes == 0)
    }

    @Test("a refill is a physical act on the sim backend: a refused entry still refills the simulated pump, and the controller keeps its estimate")
    func aRefusedRefillEntryStillRefillsThePump() throws {
        let (r, _, _) = try Self.runningSim()
        let estimate = r.controller.reservoir
        #expect(estimate.concentration == Concentration(microgramsPerMillilitre: 500))
        // A new concentration entered without confirming the change: the entry is refused.
        let reply = r.handle(line: Array(#"{"cmd":"refill","withdrawn_ul":1000,"added_ul":10000,"ug_per_ml":1000}"#.utf8))
        #expect(reply.contains("\"refused\""), "\(reply)")
        #expect(r.controller.reservoir == estimate)
        // The drug is in the pump all the same.
        let pump = try RunnerJournalTests.sim(r)
        #expect(pump.reservoir == Picolitres(.millilitres(10)))
        #expect(pump.reservoirConcentration == Concentration(microgramsPerMillilitre: 1000))
    }

    @Test("a wake-up within the bound gives its stroke: scheduler jitter is not downtime")
    func aWakeWithinTheBoundIsNotDowntime() throws {
        let (r, clock, _) = try Self.runningSim()
        let before = r.strokesPerformed
        clock.sleep(until: r.nextWakeup)
        clock.advance(by: Runner.defaultMaxStrokeLateness - 1_000_000)
        try r.step()
        #expect(r.lateWakes == 0 && r.strokesPerformed >= before + 1)
    }

    @Test("no commit covers more than N strokes: priming, commands and sensor changes after long waits, with the lateness bound off")
    func noCommitCoversMoreThanNStrokes() throws {
        // The priming bolus (1,344 strokes) with waits of 10 s wall (1,000 s of therapy) between steps.
        let f = try RunnerFixture(scale: 100)
        f.runner.maxStrokeLateness = .max
        for _ in 0..<200 {
            try f.runner.step()
            f.clock.advance(by: 10_000_000_000)
        }
        #expect(f.runner.controller.primed)
        #expect(f.runner.maxStrokesPerCommit <= Self.n, "\(f.runner.maxStrokesPerCommit)")
        // A command after an hour of therapy: it is handled at the controller's instant, after bounded steps.
        f.clock.advance(by: 36_000_000_000)
        let reply = f.request(#"{"cmd":"program","ug_per_day":540}"#)
        #expect(reply["ok"] as? Bool == true, "\(reply)")
        // A sensor change observed an hour after the last step.
        f.clock.advance(by: 36_000_000_000)
        f.lines.input(.occlusion, true)
        f.clock.advance(by: 36_000_000_000)
        try f.runner.step()
        #expect(f.runner.controller.alarms.isActive(.occlusion))
        #expect(f.runner.maxStrokesPerCommit <= Self.n, "\(f.runner.maxStrokesPerCommit)")
        #expect(f.runner.maxStrokesPerCommit >= Self.n / 2, "the waits must have made steps with many strokes")
    }

    @Test("a driver failure carrying out a committed command: ok with the failure, the safe state, and the run ends")
    func aDriverFailureAfterACommittedCommandIsReportedAsTakingEffect() throws {
        let f = try RunnerFixture()
        try f.run(until: .zero + .minutes(30))
        #expect(f.runner.controller.alarms.highestPriority == nil)
        // A refill whose withdrawn residual disagrees with the estimate is accepted and raises the high
        // refill-discrepancy alarm: carrying it out lights the high LED, and that write fails.
        f.lines.failNextWriteOf = .ledHigh
        let reply = f.request(#"{"cmd":"refill","withdrawn_ul":1000,"added_ul":19000,"ug_per_ml":500}"#)
        // The refill was committed and took effect: not ok:false.
        #expect(reply["ok"] as? Bool == true && reply["accepted"] != nil && reply["journal_seq"] == nil, "\(reply)")
        #expect(f.runner.controller.alarms.isActive(.refillDiscrepancy))
        #expect((reply["driver_failure"] as? String)?.contains("safe state") == true, "\(reply)")
        #expect(f.runner.failure != nil)
        #expect(f.lines.levels[.enable] == false && f.lines.levels[.step] == false && f.lines.levels[.buzzer] != true)
        // Nothing more is carried out: the next step throws the same failure, a request is not applied.
        let strokes = f.runner.strokesPerformed
        f.clock.advance(by: 1_000_000_000)
        #expect(throws: RunnerError.self) { try f.runner.step() }
        let next = f.request(#"{"cmd":"status"}"#)
        #expect(next["ok"] as? Bool == false && (next["error"] as? String)?.contains("run is ending") == true, "\(next)")
        #expect(f.runner.strokesPerformed == strokes && f.lines.levels[.enable] == false)
    }

    @Test("the run loop ends with a driver failure on the control path, after the client got its reply")
    func theLoopEndsAfterAControlPathDriverFailure() throws {
        let f = try RunnerFixture()
        try f.run(until: .zero + .minutes(30))
        let dir = "/tmp/itps-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try ControlSocketServer(path: dir + "/c.sock")
        defer { server.close() }
        let signals = try SignalWatcher()
        f.lines.failNextWriteOf = .ledHigh
        let box = ReplyBox()
        let done = DispatchSemaphore(value: 0)
        let socket = server.path
        Thread {
            defer { done.signal() }
            guard let c = try? ControlClient(path: socket, timeoutSeconds: 20) else { return }
            let line = #"{"cmd":"refill","withdrawn_ul":1000,"added_ul":19000,"ug_per_ml":500}"#
            if let reply = try? c.request(line) { box.append(line, reply) }
        }.start()
        var failure: RunnerError?
        do { _ = try RunLoop(runner: f.runner, server: server, signals: signals).run() } catch { failure = error }
        done.wait()
        #expect(failure != nil && f.runner.failure == failure)
        let reply = try #require(box.all.first.flatMap { Reply($0.reply) }?.object)
        #expect(reply["ok"] as? Bool == true && reply["driver_failure"] != nil, "\(reply)")
        #expect(f.lines.levels[.enable] == false && f.lines.levels[.step] == false)
    }

    @Test("a driver failure in the step before a command: the command is not applied and the run ends")
    func aDriverFailureBeforeTheCommandIsNotApplied() throws {
        let f = try RunnerFixture()
        try f.run(until: .zero + .minutes(30))
        f.lines.failNextStepWrite()
        f.clock.sleep(until: f.runner.nextWakeup)
        // Wake at the next stroke's deadline: the step before the command fails on it.
        let dueStroke = f.runner.controller.nextDeadline
        f.clock.sleep(until: f.runner.timeLine.monotonic(at: dueStroke))
        let reply = f.request(#"{"cmd":"program","ug_per_day":540}"#)
        #expect(reply["ok"] as? Bool == false && (reply["error"] as? String)?.hasPrefix("not applied") == true, "\(reply)")
        #expect(f.runner.failure != nil && f.runner.controller.programmedDose == .microgramsPerDay(600))
        #expect(f.lines.levels[.enable] == false)
    }

    @Test("a low alert while a high alarm is active sounds the high alarm's pattern")
    func theHighestPriorityActiveAlarmDrivesTheBuzzer() throws {
        let f = try RunnerFixture()
        try f.run(until: .zero + .minutes(30))
        // A high alarm (occlusion): its pattern's beeps.
        f.lines.input(.occlusion, true)
        let m0 = f.clock.now()
        // 150 s of therapy at 100× is 1.5 s: longer than one alert (5 beeps, 1.15 s), shorter than a re-alert.
        try f.run(until: f.runner.controller.now + .seconds(150))
        func beeps(from: UInt64, to: UInt64) -> Int {
            var last = false, n = 0
            for w in f.lines.writes where w.role == .buzzer && w.at >= from && w.at < to { if w.active && !last { n += 1 }; last = w.active }
            return n
        }
        let high = beeps(from: m0, to: f.clock.now())
        let low = f.runner.driver is RigDriver ? fastRig().alarms.buzzer(.low).beeps : 0
        #expect(high > 0 && high != low, "the patterns must differ for this test: high \(high), low \(low)")
        // A refused increase raises the low interlock-refusal alarm: the buzzer sounds the high pattern again.
        let m1 = f.clock.now()
        let r = f.request(#"{"cmd":"program","ug_per_day":900}"#)
        #expect(r["refused"] != nil)
        try f.run(until: f.runner.controller.now + .seconds(150))
        #expect(beeps(from: m1, to: f.clock.now()) == high)
    }

    @Test("the highest active alarm wins over a batch's alerts")
    func alertChoice() throws {
        var c = try PumpController(profile: .bench20)
        _ = c.sense(.occlusion(true), at: c.now)
        let occlusion = try #require(c.alarms[.occlusion])
        #expect(Runner.alertToSound((.interlockRefusal, .low), active: [occlusion]) == .occlusion)
        #expect(Runner.alertToSound((.interlockRefusal, .low), active: []) == .interlockRefusal)
        #expect(Runner.alertToSound((.motorStall, .high), active: [occlusion]) == .motorStall)
        #expect(Runner.alertToSound(nil, active: [occlusion]) == nil)
    }

    @Test("a journal outage is an active high alarm in status, delivery shown held, and in history once it ends")
    func aJournalOutageShowsInStatusAndHistory() throws {
        let (r, clock, path) = try Self.runningSim()
        let journal = try #require(r.journal)
        try journal.db.execute("PRAGMA query_only=ON")
        // A step with nothing in it is committed at least once per idle interval: the outage is seen by then.
        clock.sleep(until: max(r.nextWakeup, clock.now() + r.idleCommitInterval))
        try r.step()
        #expect(r.journalOutage != nil)
        let reply = r.handle(line: Array(#"{"cmd":"status"}"#.utf8))
        let status = try #require((try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])?["status"] as? [String: Any])
        let alarms = status["alarms"] as? [[String: Any]] ?? []
        #expect(alarms.first?["alarm"] as? String == "journalOutage" && alarms.first?["priority"] as? String == "high", "\(alarms)")
        #expect(status["delivering_ng_per_day"] as? Int == 0)
        try journal.db.execute("PRAGMA query_only=OFF")
        clock.advance(by: 1_000_000_000)
        try r.step()
        #expect(r.journalOutage == nil)
        let outages = try Journal.open(at: path, access: .readOnly).interruptions().filter { $0.reason.hasPrefix("journal outage:") }
        #expect(outages.count == 1, "\(outages)")
        let text = try HistoryReport(journal: Journal.open(at: path, access: .readOnly), query: HistoryQuery()).render(.text)
        #expect(text.contains("journal outage:"))
    }
}
