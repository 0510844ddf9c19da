import Foundation
import Testing
import PumpCore
import PumpSim
import PumpJournal
@testable import PumpRig
@testable import PumpRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The kill test of issue 5 through the real binary: `itpump run --backend sim` on a journal, at an
/// accelerated time scale, SIGKILLed at 200 seeded random moments (during start-up, recovery, control
/// commands, commits and strokes) and restarted each time, while a client sends seeded control
/// commands. The stroke log the simulated pump writes after each stroke it performs is the truth.
/// After every kill:
/// - the journal opens and recovers, and still holds every event and command it held after the
///   previous kill, unchanged;
/// - every acknowledged command (a reply with `accepted` or `refused`) is the journal row its reply
///   names (`journal_seq`), with the same outcome;
/// - the recovered reservoir estimate is never above the true volume, and this crash made it at most
///   N strokes (and at most the journal's strokes in doubt) lower than the previous one;
/// - the journal's delivered strokes minus the true ones equal the estimate's error, and the truth is
///   within the journal's own bracket (`reservoirUpperBound`);
/// - no stroke was given twice: the true stroke instants increase strictly across all restarts.
@Suite("itpump run kill test", .serialized)
struct RunKillTest {
    static let kills = 200
    static let n: Int64 = 16
    static let seed: UInt64 = 0x0005_1745_2026
    /// 20,000×: 600 μg/day is about 1,100 strokes per wall second, so a kill often falls between a
    /// commit and its strokes; a restart's ~0.2 s downtime is about an hour of therapy.
    static let scale: Int64 = 20_000

    /// The seeded control traffic: accepted and refused commands alike are acknowledged events.
    static let requests: [String] = [
        #"{"cmd":"status"}"#,
        #"{"cmd":"acknowledge","alarm":"therapyInterruption"}"#,
        #"{"cmd":"acknowledge","alarm":"therapyInterruption"}"#,
        #"{"cmd":"program","ug_per_day":540}"#,
        #"{"cmd":"program","ug_per_day":600}"#,
        #"{"cmd":"program","ug_per_day":660}"#,
        #"{"cmd":"set_refill_date","in_hours":720}"#,
        #"{"cmd":"set_refill_date","in_hours":null}"#,
        #"{"cmd":"bolus","ug":50}"#,
        #"{"cmd":"confirm_resumption","ug_per_day":600}"#,
        #"{"cmd":"stop","taper_days":14}"#,
        #"{"cmd":"resume"}"#,
        #"{"cmd":"resume"}"#,
    ]

    @Test("itpump run SIGKILLed at 200 seeded moments: journal opens, acknowledged commands kept, estimate conservative and within N strokes per crash")
    func killTheRunner() throws {
        try #require(FileManager.default.isExecutableFile(atPath: RunningBinary.itpump), "build itpump first: swift build --build-tests")
        let dir = try RunningBinary.temporaryDirectory("kill")
        let profile = PumpProfile.bench20
        let fill = profile.reservoirCapacity, stroke = profile.strokeVolume
        var rng = SplitMix64(seed: Self.seed)
        var acked: [(command: String, accepted: Bool, seq: Int64?)] = []
        var previousDrift: Int64 = 0, worstStep: Int64 = 0, crashesWithError = 0, checkedInstants = 0
        var lastInstant = Int64.min
        var seenEvents: [JournalEventRecord] = [], seenCommands: [JournalCommandRecord] = []
        var killedBeforeReady = 0, earlyKills = 0, commandsSent = 0
        let clock = ContinuousClock()
        let began = clock.now
        for round in 0..<Self.kills {
            let run = try RunningBinary(dir: dir, journal: round == 0 ? .create : .resume, timeScale: Self.scale, strokesPerStep: Self.n, strokeLog: true)
            if round == 0 {
                // The first run creates the journal and brings the pump up before the kills begin.
                let client = try #require(run.connect(), "the first run never listened; see \(dir)/run.err")
                var running = false
                for _ in 0..<4_000 where !running {
                    let s = Reply(try client.request(#"{"cmd":"status"}"#))?.status
                    running = (s?["phase"] as? String)?.hasPrefix("running") == true
                    if !running { usleep(5_000) }
                }
                try #require(running, "therapy never started; see \(dir)/run.err")
            }
            // This round's seeded choices: when to kill, and the traffic. A third of the kills come 0–250 ms
            // after the start (start-up, journal recovery, the restart's commit); the others 0–150 ms after
            // the runner first answered, while the client sends its commands (so a loaded machine that
            // starts slowly still gets kills during delivery and commands).
            let early = UInt32.random(in: 0..<3, using: &rng) == 0
            let killAfter = early ? UInt32.random(in: 0...250_000, using: &rng) : UInt32.random(in: 0...150_000, using: &rng)
            let lines = (0..<Int.random(in: 0...4, using: &rng)).map { _ in Self.requests.randomElement(using: &rng)! }
            let pauses = lines.map { _ in UInt32.random(in: 0...30_000, using: &rng) }
            let box = ReplyBox()
            let done = DispatchSemaphore(value: 0)
            let socket = run.socket
            let client = Thread {
                defer { done.signal() }
                var c: ControlClient?
                while c == nil && !box.isStopped {
                    c = try? ControlClient(path: socket, timeoutSeconds: 20)
                    if c == nil { usleep(2_000) }
                }
                guard let c, let first = try? c.request(#"{"cmd":"status"}"#) else { return }
                box.append(#"{"cmd":"status"}"#, first)
                box.ready()
                for (line, pause) in zip(lines, pauses) {
                    usleep(pause)
                    if box.isStopped { return }
                    guard let reply = try? c.request(line) else { return }
                    box.append(line, reply)
                }
            }
            client.start()
            if !early {
                let deadline = Date().addingTimeInterval(20)
                while !box.wasReady && Date() < deadline && run.process.isRunning { usleep(1_000) }
            }
            usleep(killAfter)
            box.stop()
            run.stop(SIGKILL)
            done.wait()
            if !box.wasReady { killedBeforeReady += 1 }
            if early { earlyKills += 1 }
            commandsSent += box.all.count
            for (_, reply) in box.all { if let a = Reply(reply)?.acknowledged { acked.append(a) } }

            // The journal always opens and recovers.
            let j = try Journal.open(at: run.journal, access: .readOnly)
            let r = try j.recover()
            // Every acknowledged command is journaled, in order, with its outcome.
            // Nothing committed before is lost or changed: the events and commands the journal held after
            // the previous kill are the start of what it holds now.
            let events = try j.events(), commands = try j.commands()
            #expect(events.starts(with: seenEvents) && commands.starts(with: seenCommands),
                    "round \(round): the journal lost or changed committed records (\(seenEvents.count) → \(events.count) events, \(seenCommands.count) → \(commands.count) commands)")
            seenEvents = events
            seenCommands = commands
            // Every acknowledged command is the journal row its reply named, with the same outcome.
            let bySeq = Dictionary(uniqueKeysWithValues: commands.map { ($0.seq, $0) })
            for a in acked {
                let row = a.seq.flatMap { bySeq[$0] }
                #expect(row?.source == "control" && row?.command.description == a.command && row?.accepted == a.accepted,
                        "round \(round): acknowledged \(a.accepted ? "accepted" : "refused") command \(a.command) is not journal row \(a.seq.map(String.init) ?? "(no journal_seq in the reply)")")
            }
            // The truth: every stroke the simulated pump performed, over all runs.
            let instants = RunningBinary.strokeInstants(run.strokeLog)
            for t in instants[checkedInstants...] {
                #expect(t > lastInstant, "round \(round): a stroke at \(t) ns not after the previous one at \(lastInstant) ns (given twice?)")
                lastInstant = t
            }
            checkedInstants = instants.count
            let given = Int64(instants.count)
            let truth = fill - stroke * given
            let estimate = r.controller.reservoir.estimate
            #expect(estimate <= truth, "round \(round): estimate \(estimate) above the true \(truth)")
            // This crash added at most N strokes, and at most the journal's strokes in doubt, to the error.
            let drift = r.strokes - given
            #expect(drift >= previousDrift && drift - previousDrift <= min(Self.n, r.strokesInDoubt),
                    "round \(round): error grew from \(previousDrift) to \(drift) strokes, \(r.strokesInDoubt) in doubt")
            // Total delivery: the journal's strokes against the pump's are the estimate's error exactly,
            // and the truth is within the journal's bracket.
            #expect(truth - estimate == stroke * drift)
            #expect(truth <= r.reservoirUpperBound, "round \(round): true \(truth) above the journal's bound \(r.reservoirUpperBound)")
            if drift > previousDrift { crashesWithError += 1 }
            worstStep = max(worstStep, drift - previousDrift)
            previousDrift = drift
            if round % 50 == 49 {
                let v = try j.verify()
                #expect(v.isSound, "round \(round): \(v.problems)")
            }
        }
        let j = try Journal.open(at: dir + "/pump.journal", access: .readOnly)
        let v = try j.verify()
        #expect(v.isSound, "\(v.problems)")
        let r = try j.recover()
        // Priming is 1,344 strokes; basal delivery must have run between the kills.
        #expect(checkedInstants > 1_344 + 1_000, "the test must exercise delivery, not only start-up")
        #expect(acked.count >= 50, "the test must exercise the control channel")
        let bracket = r.strokesInDoubtSinceFill
        print("itpump run kill test: \(Self.kills) kills (seed \(Self.seed), \(Self.scale)×, N = \(Self.n)), \(v.restarts) restarts recovered, "
              + "\(earlyKills) kills timed from the start, \(killedBeforeReady) before the runner first answered; \(checkedInstants) strokes given, \(acked.count) of \(commandsSent) replies "
              + "acknowledged commands; worst error added by one crash \(worstStep) strokes (\(stroke * worstStep)); \(crashesWithError) crashes "
              + "added error; cumulative error \(previousDrift) strokes (\(stroke * previousDrift)), journal bracket \(bracket) strokes "
              + "(\(stroke * bracket)); \(clock.now - began)")
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Bring-up kills: each of `bringUpTrials` new pumps is created with `itpump run --create-journal`
    /// and SIGKILLed at seeded random moments of its bring-up (before or while the journal is created,
    /// after the fill, during the priming bolus, before the start), restarted (with `--create-journal`
    /// again only while no journal exists, as an operator would) and killed again until therapy runs.
    static let bringUpTrials = 8
    /// At 2,000× the bring-up (fill, 20-minute priming bolus, start) takes about 0.7 s of wall time.
    static let bringUpScale: Int64 = 2_000

    @Test("itpump run SIGKILLed during its bring-up resumes it: one fill, one priming's strokes, one start, no test dose")
    func killDuringBringUp() throws {
        try #require(FileManager.default.isExecutableFile(atPath: RunningBinary.itpump), "build itpump first: swift build --build-tests")
        var rng = SplitMix64(seed: Self.seed ^ 0xB21)
        let profile = PumpProfile.bench20
        var kills = 0
        // Where the kills left the pump: no journal, unfilled, filled, priming cut short, primed, running.
        var leftAt: [String: Int] = [:]
        let clock = ContinuousClock()
        let began = clock.now
        for trial in 0..<Self.bringUpTrials {
            let dir = try RunningBinary.temporaryDirectory("bringup")
            var running = false
            var starts = 0
            while !running {
                let exists = FileManager.default.fileExists(atPath: dir + "/pump.journal")
                let run = try RunningBinary(dir: dir, journal: exists ? .resume : .create, timeScale: Self.bringUpScale, strokesPerStep: Self.n, strokeLog: true)
                starts += 1
                // Kill at a seeded moment for the first few starts, then let it finish: the first start 0–0.3 s
                // after it began (before or while the journal is created, the fill), later ones 0–0.7 s after
                // the socket listens (recovery, priming, start; timed from the socket so a slow start-up on a
                // loaded machine does not push every kill before the journal).
                if starts <= 4 {
                    if starts > 1 { _ = run.connect() }
                    usleep(UInt32.random(in: 0...(starts == 1 ? 300_000 : 700_000), using: &rng))
                    run.stop(SIGKILL)
                    kills += 1
                    if !FileManager.default.fileExists(atPath: run.journal) { leftAt["no journal", default: 0] += 1 }
                    if FileManager.default.fileExists(atPath: run.journal) {
                        let r = try Journal.open(at: run.journal, access: .readOnly).recover()
                        let c = r.controller
                        let stage = c.phase != .notStarted ? "running" : c.primed ? "primed" : c.ledger.priming.strokes > 0 ? "priming cut short"
                            : c.reservoir.filledAt != nil ? "filled" : "unfilled"
                        leftAt[stage, default: 0] += 1
                        // Never more than one fill's and one priming's worth, at any moment.
                        #expect(c.ledger.priming.strokes <= 1_344, "trial \(trial): \(c.ledger.priming.strokes) priming strokes")
                        #expect(c.reservoir.estimate == profile.reservoirCapacity - profile.strokeVolume * c.totalStrokes || c.reservoir.filledAt == nil)
                    }
                    continue
                }
                let client = try #require(run.connect(), "trial \(trial): no socket; see \(dir)/run.err")
                for _ in 0..<4_000 where !running {
                    let s = Reply(try client.request(#"{"cmd":"status"}"#))?.status
                    running = (s?["phase"] as? String)?.hasPrefix("running") == true
                    if !running { usleep(5_000) }
                }
                run.stop(SIGKILL)
                try #require(running, "trial \(trial): therapy never started after \(starts) starts; see \(dir)/run.err")
            }
            let j = try Journal.open(at: dir + "/pump.journal", access: .readOnly)
            #expect(try j.verify().isSound)
            let c = try j.recover().controller
            let accepted = try j.commands().filter(\.accepted).map(\.command.description)
            func count(_ name: String) -> Int { accepted.filter { $0.hasPrefix(name) }.count }
            #expect(count("refill") == 1 && count("startTherapy") == 1 && count("testDose") == 0, "trial \(trial): \(accepted)")
            #expect(c.primed && c.ledger.priming.strokes == 1_344 && c.ledger.testDose.strokes == 0,
                    "trial \(trial): \(c.ledger.priming.strokes) priming strokes")
            #expect(c.reservoir.estimate == profile.reservoirCapacity - profile.strokeVolume * c.totalStrokes)
            // The truth: no more strokes than the journal counts, none given twice.
            let instants = RunningBinary.strokeInstants(dir + "/strokes.log")
            #expect(Int64(instants.count) <= c.totalStrokes)
            #expect(zip(instants, instants.dropFirst()).allSatisfy { $0 < $1 }, "trial \(trial): a stroke given twice")
            try? FileManager.default.removeItem(atPath: dir)
        }
        let stages = ["no journal", "unfilled", "filled", "priming cut short", "primed", "running"].map { "\($0) \(leftAt[$0] ?? 0)" }
        #expect((leftAt["priming cut short"] ?? 0) > 0, "no kill fell in the priming bolus: \(stages)")
        print("itpump run bring-up kill test: \(Self.bringUpTrials) pumps, \(kills) kills (seed \(Self.seed ^ 0xB21), \(Self.bringUpScale)×) left the pump at: "
              + stages.joined(separator: ", ") + "; each ended with one fill, 1,344 priming strokes and one start; \(clock.now - began)")
    }
}
