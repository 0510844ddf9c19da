import Foundation
import Testing
import PumpCore
@testable import PumpJournal
@testable import PumpRig
@testable import PumpRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Delivery safety through the real binary (`itpump run --backend sim`): a stopped process or a held
/// journal lock never ends in a burst of late strokes; every catchable terminating signal stops the
/// run cleanly with the stop in the journal; a driver failure ends the run with one outcome; a journal
/// outage shows in `status` and `history`; no commit covers more than N strokes at high time scales.
@Suite("itpump run delivery safety", .serialized)
struct RunSafetyBinaryTests {
    /// The first run: a new journal, brought up at 2,000× until therapy runs, then stopped by SIGTERM.
    static func broughtUp(_ dir: String) throws {
        let run = try RunningBinary(dir: dir, journal: .create, timeScale: 2_000, strokesPerStep: 16, strokeLog: true)
        _ = try #require(run.connect(), "the run never listened; see \(dir)/run.err")
        try #require(try run.waitUntil { ($0["phase"] as? String)?.hasPrefix("running") == true }, "therapy never started; see \(dir)/run.err")
        try #require(run.stop() == 0, "see \(dir)/run.err")
    }

    static func history(_ journal: String) throws -> String {
        try RunningBinary.itpump(["history", "--journal", journal]).stdout
    }

    /// The most strokes in any 1 s window of `times` (monotonic ns, ascending).
    static func busiestSecond(_ times: [Int64]) -> Int {
        var best = 0, j = 0
        for i in times.indices {
            while times[i] - times[j] >= 1_000_000_000 { j += 1 }
            best = max(best, i - j + 1)
        }
        return best
    }

    /// A brought-up pump resumed at 60× with `extra` arguments: 1.5 s of delivery, SIGSTOP for 3 s,
    /// 1.5 s, the journal's write lock held by this process for 3 s, 1.5 s, then SIGTERM. Returns the
    /// stroke start times, the last status and the journaled late wake-ups.
    static func stopAndLock(_ dir: String, extra: [String]) throws -> (times: [Int64], status: [String: Any], late: [JournalInterruptionRecord]) {
        try broughtUp(dir)
        // Late wake-ups of the bring-up run (a loaded machine) are not this run's: count only the ones after.
        let before = try Journal.open(at: dir + "/pump.journal", access: .readOnly).interruptions().count
        let times = dir + "/times.log"
        let run = try RunningBinary(dir: dir, journal: .resume, timeScale: 60, strokesPerStep: 16, strokeLog: true, extra: ["--sim-stroke-times", times] + extra)
        let client = try #require(run.connect(), "see \(dir)/run.err")
        usleep(1_500_000)
        let pid = run.process.processIdentifier
        kill(pid, SIGSTOP)
        usleep(3_000_000)
        kill(pid, SIGCONT)
        usleep(1_500_000)
        // Another process (this one) holds the journal's write lock for 3 s: the runner's commit waits.
        let db = try SQLiteDatabase(path: run.journal, mode: .readWrite)
        try db.execute("BEGIN EXCLUSIVE")
        usleep(3_000_000)
        try db.execute("COMMIT")
        usleep(1_500_000)
        let status = try #require(Reply(try client.request(#"{"cmd":"status"}"#))?.status)
        #expect(run.stop() == 0)
        let late = try Journal.open(at: run.journal, access: .readOnly).interruptions().dropFirst(before).filter { $0.reason.hasPrefix("late wake:") }
        return (RunningBinary.strokeInstants(times), status, late)
    }

    @Test("SIGSTOP for 3 s and a journal write lock held for 3 s: the gaps are downtime, no 1 s window holds more than the schedule's strokes plus one")
    func stoppedOrLockedRunnerNeverBursts() throws {
        try #require(FileManager.default.isExecutableFile(atPath: RunningBinary.itpump), "build itpump first: swift build --build-tests")
        let dir = try RunningBinary.temporaryDirectory("burst")
        // At 60×, 600 μg/day (one 0.25 μL stroke per 18 s of therapy) is a stroke every 0.3 s: a 1 s
        // window of the schedule holds at most 4.
        let (instants, status, late) = try Self.stopAndLock(dir, extra: [])
        #expect(instants.count >= 8, "delivery must have run: \(instants.count) strokes")
        let busiest = Self.busiestSecond(instants)
        #expect(busiest <= 4 + 1, "\(busiest) strokes in one second: a catch-up burst")
        #expect((status["late_wakes"] as? Int ?? 0) >= 2, "\(status)")
        // At most the commit under way when each stall began (the stop, the lock: two) gave its strokes
        // late (usually a commit of the 10 ms input poll, with none); the busiest-second check above
        // bounds what they gave.
        #expect((status["late_commits"] as? Int ?? 0) <= 2, "\(status)")
        #expect((status["alarms"] as? [[String: Any]])?.contains { $0["alarm"] as? String == "therapyInterruption" } == true)
        #expect(late.count >= 2, "\(late)")
        #expect(try Journal.open(at: dir + "/pump.journal", access: .readOnly).verify().isSound)
        print("itpump run stop/lock test: \(instants.count) strokes at 60×, busiest second \(busiest) (schedule 4), \(late.count) late wake-ups accounted as downtime")
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("anti-vacuity: with the lateness bound at 10 s the same stop and lock deliver the gaps in bursts")
    func withoutTheBoundTheBinaryBursts() throws {
        try #require(FileManager.default.isExecutableFile(atPath: RunningBinary.itpump), "build itpump first: swift build --build-tests")
        let dir = try RunningBinary.temporaryDirectory("burst")
        let (instants, _, late) = try Self.stopAndLock(dir, extra: ["--max-stroke-lateness", "10000"])
        #expect(Self.busiestSecond(instants) > 4 + 1, "busiest second \(Self.busiestSecond(instants)): no burst without the bound")
        #expect(late.isEmpty, "late wake-ups with a 10 s bound: \(late.map { "\($0.at): \($0.reason)" })")
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("every catchable terminating signal: safe state, the stop journaled and in history, the socket removed, exit 0; SIGPIPE is ignored",
          arguments: ["SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGALRM"])
    func signalsStopCleanly(_ name: String) throws {
        try #require(FileManager.default.isExecutableFile(atPath: RunningBinary.itpump), "build itpump first: swift build --build-tests")
        let sig: Int32 = ["SIGHUP": SIGHUP, "SIGINT": SIGINT, "SIGQUIT": SIGQUIT, "SIGTERM": SIGTERM, "SIGUSR1": SIGUSR1,
                          "SIGUSR2": SIGUSR2, "SIGALRM": SIGALRM][name]!
        let dir = try RunningBinary.temporaryDirectory("sig")
        let run = try RunningBinary(dir: dir, journal: .create, timeScale: 2_000, strokesPerStep: 16, strokeLog: true)
        let client = try #require(run.connect(), "see \(dir)/run.err")
        #expect(try run.waitUntil { ($0["phase"] as? String)?.hasPrefix("running") == true })
        kill(run.process.processIdentifier, SIGPIPE)
        #expect(Reply(try client.request(#"{"cmd":"status"}"#))?.status != nil, "SIGPIPE must not stop the pump")
        kill(run.process.processIdentifier, sig)
        run.process.waitUntilExit()
        #expect(run.process.terminationReason == .exit && run.process.terminationStatus == 0, "\(name): \(run.process.terminationReason.rawValue) \(run.process.terminationStatus)")
        #expect(!FileManager.default.fileExists(atPath: run.socket), "\(name): the socket was left behind")
        let log = String(decoding: FileManager.default.contents(atPath: dir + "/run.err") ?? Data(), as: UTF8.self)
        #expect(log.contains("\(name) received") && log.contains("safe state"), "\(name): \(log.suffix(2_000))")
        let stops = try Journal.open(at: run.journal, access: .readOnly).interruptions().filter { $0.reason.hasPrefix("stop:") }
        #expect(stops.count == 1 && stops.first?.reason.contains("stopped by \(name)") == true, "\(stops)")
        #expect(try Self.history(run.journal).contains("stop: stopped by \(name)"))
        #expect(try Journal.open(at: run.journal, access: .readOnly).verify().isSound)
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("a driver failure (the stroke log on a full device): safe state, the stop journaled, the socket removed, exit 1")
    func driverFailureEndsTheRunWithOneOutcome() throws {
        try #require(FileManager.default.isExecutableFile(atPath: RunningBinary.itpump), "build itpump first: swift build --build-tests")
        let dir = try RunningBinary.temporaryDirectory("drv")
        let run = try RunningBinary(dir: dir, journal: .create, timeScale: 2_000, strokesPerStep: 16,
                                 extra: ["--sim-stroke-log", "/dev/full"])
        run.process.waitUntilExit()
        #expect(run.process.terminationReason == .exit && run.process.terminationStatus == 1)
        #expect(!FileManager.default.fileExists(atPath: run.socket))
        let log = String(decoding: FileManager.default.contents(atPath: dir + "/run.err") ?? Data(), as: UTF8.self)
        #expect(log.contains("safe state"), "\(log.suffix(2_000))")
        let stops = try Journal.open(at: run.journal, access: .readOnly).interruptions().filter { $0.reason.hasPrefix("stop:") }
        #expect(stops.count == 1 && stops.first?.reason.contains("driver failure") == true, "\(stops)")
        // The failure came mid-step: the committed strokes not carried out stay in doubt after the stop.
        let j = try Journal.open(at: run.journal, access: .readOnly)
        #expect(try j.recover().strokesInDoubt > 0)
        #expect(try j.verify().isSound)
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("a journal outage (writes fail: a file-size limit of 0) is an active high alarm in status with delivery held, and in history once it ends")
    func journalOutageShowsInStatusAndHistory() throws {
        try #require(FileManager.default.isExecutableFile(atPath: RunningBinary.itpump), "build itpump first: swift build --build-tests")
        let dir = try RunningBinary.temporaryDirectory("full")
        let run = try RunningBinary(dir: dir, journal: .create, timeScale: 2_000, strokesPerStep: 16)
        _ = try #require(run.connect(), "see \(dir)/run.err")
        #expect(try run.waitUntil { ($0["phase"] as? String)?.hasPrefix("running") == true })
        let pid = run.process.processIdentifier
        func fsize(_ limit: String) throws -> Int32 { try setFileSizeLimit(pid: pid, limit) }
        try #require(try fsize("0:unlimited") == 0)
        var seen: [String: Any] = [:]
        let held = try run.waitUntil { s in
            seen = s
            return (s["alarms"] as? [[String: Any]])?.first.map { $0["alarm"] as? String == "journalOutage" && $0["priority"] as? String == "high" } == true
        }
        #expect(held, "\(seen)")
        #expect(seen["delivering_ng_per_day"] as? Int == 0)
        #expect(try fsize("unlimited:unlimited") == 0)
        #expect(try run.waitUntil { $0["journal_outage"] == nil })
        #expect(run.stop() == 0)
        #expect(try Self.history(run.journal).contains("journal outage:"))
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("at 100,000× with N = 4, priming and commands included, no commit covers more than N strokes")
    func writeAheadBoundHoldsAtHighTimeScales() throws {
        try #require(FileManager.default.isExecutableFile(atPath: RunningBinary.itpump), "build itpump first: swift build --build-tests")
        let dir = try RunningBinary.temporaryDirectory("wab")
        // A lateness bound of 2 s (55 h of therapy here), so the runner works through long backlogs in
        // bounded steps.
        let run = try RunningBinary(dir: dir, journal: .create, timeScale: 100_000, strokesPerStep: 4, strokeLog: true, extra: ["--max-stroke-lateness", "2000"])
        let client = try #require(run.connect(), "see \(dir)/run.err")
        #expect(try run.waitUntil { ($0["phase"] as? String)?.hasPrefix("running") == true })
        for line in [#"{"cmd":"program","ug_per_day":540}"#, #"{"cmd":"set_refill_date","in_hours":100}"#,
                     #"{"cmd":"stop","taper_days":14}"#, #"{"cmd":"resume"}"#] {
            _ = try client.request(line)
            usleep(100_000)
        }
        let status = try #require(Reply(try client.request(#"{"cmd":"status"}"#))?.status)
        let wa = status["write_ahead"] as? [String: Any]
        #expect(wa?["max_strokes_per_commit"] as? Int == 4, "\(String(describing: wa))")
        #expect((status["strokes"] as? Int ?? 0) > 1_344, "priming and delivery must have run")
        run.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
