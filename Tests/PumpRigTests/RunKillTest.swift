import Foundation
import Testing
import PumpCore
import PumpJournal
@testable import PumpRig
#if canImport(Glibc)
import Glibc
#endif

/// The kill test of issue 5 through the real binary: `itpump run --backend sim` on a journal, at an
/// accelerated time scale, SIGKILLed at 200 seeded random moments (during start-up, recovery, control
/// commands, commits and strokes) and restarted each time, while a client sends seeded control
/// commands. The stroke log the simulated pump writes after each stroke it performs is the truth.
/// After every kill:
/// - the journal opens and recovers;
/// - every acknowledged command (a reply with `accepted` or `refused`) is in the journal, in order,
///   with the same outcome;
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
        try #require(FileManager.default.isExecutableFile(atPath: RunProcess.itpump), "build itpump first: swift build --build-tests")
        let dir = try RunProcess.temporaryDirectory("kill")
        let profile = PumpProfile.bench20
        let fill = profile.reservoirCapacity, stroke = profile.strokeVolume
        var rng = SplitMix64(seed: Self.seed)
        var acked: [(command: String, accepted: Bool)] = []
        var previousDrift: Int64 = 0, worstStep: Int64 = 0, crashesWithError = 0, checkedInstants = 0
        var lastInstant = Int64.min
        var killedBeforeReady = 0, commandsSent = 0
        let clock = ContinuousClock()
        let began = clock.now
        for round in 0..<Self.kills {
            let run = try RunProcess(dir: dir, create: round == 0, timeScale: Self.scale, strokesPerStep: Self.n)
            if round == 0 {
                // The first run creates the journal and brings the pump up before the kills begin.
                let client = try #require(run.connect(), "the first run never listened; see \(dir)/run.log")
                var running = false
                for _ in 0..<4_000 where !running {
                    let s = Reply(try client.request(#"{"cmd":"status"}"#))?.status
                    running = (s?["phase"] as? String)?.hasPrefix("running") == true
                    if !running { usleep(5_000) }
                }
                try #require(running, "therapy never started; see \(dir)/run.log")
            }
            // This round's seeded choices: when to kill (µs after the start), and the traffic.
            let killAfter = UInt32.random(in: 0...250_000, using: &rng)
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
                guard let c else { return }
                box.ready()
                for (line, pause) in zip(lines, pauses) {
                    usleep(pause)
                    if box.isStopped { return }
                    guard let reply = try? c.request(line) else { return }
                    box.append(line, reply)
                }
            }
            client.start()
            usleep(killAfter)
            box.stop()
            run.kill()
            done.wait()
            if !box.wasReady { killedBeforeReady += 1 }
            commandsSent += box.all.count
            for (_, reply) in box.all { if let a = Reply(reply)?.acknowledged { acked.append(a) } }

            // The journal always opens and recovers.
            let j = try Journal.open(at: run.journal, access: .readOnly)
            let r = try j.recover()
            // Every acknowledged command is journaled, in order, with its outcome.
            let journaled = try j.commands().filter { $0.source == "control" }.map { ($0.command.description, $0.accepted) }
            var next = journaled.makeIterator()
            for a in acked {
                var found = false
                while let x = next.next() { if x.0 == a.command && x.1 == a.accepted { found = true; break } }
                #expect(found, "round \(round): acknowledged \(a.accepted ? "accepted" : "refused") command missing from the journal: \(a.command)")
                if !found { break }
            }
            // The truth: every stroke the simulated pump performed, over all runs.
            let instants = RunProcess.strokeInstants(run.strokeLog)
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
              + "\(killedBeforeReady) killed before the socket listened; \(checkedInstants) strokes given, \(acked.count) of \(commandsSent) replies "
              + "acknowledged commands; worst error added by one crash \(worstStep) strokes (\(stroke * worstStep)); \(crashesWithError) crashes "
              + "added error; cumulative error \(previousDrift) strokes (\(stroke * previousDrift)), journal bracket \(bracket) strokes "
              + "(\(stroke * bracket)); \(clock.now - began)")
        try? FileManager.default.removeItem(atPath: dir)
    }
}
