import Foundation
import Testing
import PumpCore
import PumpSim
@testable import PumpJournal
#if canImport(Glibc)
import Glibc
#endif


/// The kill test of issue 5: the journaled driver loop (`itpump journal exercise`, an accelerated
/// therapy on the core with a stroke-log pump whose file is the true delivery) is killed with SIGKILL
/// at seeded random moments — during start-up, recovery, commits and strokes — and restarted, 200
/// times. After every kill: the journal opens; every acknowledged command is in it; the recovered
/// reservoir estimate is never above the true volume and never more than N strokes below it; and the
/// strokes the journal counts match the strokes the pump really gave, less at most N.
@Suite("Kill test", .serialized)
struct KillTest {
    static let kills = 200
    static let n: Int64 = 16
    static let seed: UInt64 = 0x1745_2026

    static var itpump: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("itpump").path
    }

    @Test("SIGKILL at 200 random moments: journal opens, no acknowledged command lost, each crash adds at most N strokes of conservative error")
    func killAndRestart() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.itpump), "build itpump first: swift build --build-tests")
        let dir = try temporaryDirectory()
        let journal = dir + "/pump.journal", strokeLog = dir + "/strokes.log"
        var rng = SplitMix64(seed: Self.seed)
        var acked: [String] = []
        var worstDrift: Int64 = 0, previousDrift: Int64 = 0, worstStep: Int64 = 0
        var crashesInWindow = 0
        var maxStrokes: Int64 = 0
        let fill = Volume.millilitres(20), stroke = Volume(nanolitres: 250)
        let clock = ContinuousClock()
        let began = clock.now
        for round in 0..<Self.kills {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Self.itpump)
            p.arguments = ["journal", "exercise", "--journal", journal, "--stroke-log", strokeLog, "--scale", "3600",
                           "--strokes-per-step", String(Self.n), "--command-every", "60"] + (round == 0 ? ["--create"] : [])
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            if round == 0 {
                // Let the first run create the journal, prime, start therapy and give some basal strokes
                // before the kills begin, however busy the machine is (priming is 1,344 strokes).
                var seen = Data()
                func basalStarted() -> Bool {
                    let size = (try? FileManager.default.attributesOfItem(atPath: strokeLog)[.size] as? Int) ?? 0
                    return size / 8 > 1_344 + 60
                }
                let giveUp = clock.now + .seconds(300)
                while !String(decoding: seen, as: UTF8.self).contains("startTherapy") || !basalStarted(), clock.now < giveUp {
                    let chunk = out.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    seen += chunk
                }
                acked += Self.acks(seen)
            }
            let delay = UInt32.random(in: 0...200_000, using: &rng)
            usleep(delay)
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            acked += Self.acks(out.fileHandleForReading.readDataToEndOfFile())

            // The journal always opens and recovers.
            let j = try Journal.open(at: journal, access: .readOnly)
            let r = try j.recover()
            // Every acknowledged command is journaled, in order.
            let journaled = try j.commands().map(\.command.description)
            var it = journaled.makeIterator()
            for a in acked { #expect(Self.advance(&it, to: a), "round \(round): acknowledged command missing: \(a)") }
            // The estimate against the truth.
            let size = try #require(try FileManager.default.attributesOfItem(atPath: strokeLog)[.size] as? Int)
            #expect(size % 8 == 0)
            let given = Int64(size / 8)
            let truth = fill - stroke * given
            let estimate = r.controller.reservoir.estimate
            #expect(estimate <= truth, "round \(round): estimate \(estimate) above the true \(truth)")
            // This crash added at most the strokes of the last committed step (≤ N) to the error…
            let drift = r.strokes - given
            #expect(drift >= previousDrift && drift - previousDrift <= min(Self.n, r.strokesInDoubt),
                    "round \(round): error grew from \(previousDrift) to \(drift) strokes, \(r.strokesInDoubt) in doubt")
            // …and the journal's own bound holds: the truth lies in [estimate, estimate + in doubt since the fill].
            #expect(truth <= r.reservoirUpperBound, "round \(round): true \(truth) above the journal's bound \(r.reservoirUpperBound)")
            // Total delivery: the journal's strokes against the pump's, the same error in strokes.
            #expect(truth - estimate == stroke * drift)
            if drift > previousDrift { crashesInWindow += 1 }
            worstStep = max(worstStep, drift - previousDrift)
            previousDrift = drift
            worstDrift = max(worstDrift, drift)
            maxStrokes = max(maxStrokes, given)
            if round % 50 == 49 {
                let v = try j.verify()
                #expect(v.isSound, "round \(round): \(v.problems)")
            }
        }
        let v = try Journal.open(at: journal, access: .readOnly).verify()
        #expect(v.isSound, "\(v.problems)")
        // Priming is 1,344 strokes; more means basal delivery ran between kills. (Not a stroke count
        // target: how far the loop gets before each kill depends on how busy the machine is.)
        #expect(maxStrokes > 1_344 + 50, "the test must exercise delivery, not only start-up")
        print("kill test: \(Self.kills) kills (seed \(Self.seed)), \(v.restarts) restarts recovered, \(maxStrokes) strokes given, \(acked.count) commands acknowledged, "
              + "N = \(Self.n): worst error added by one crash \(worstStep) strokes (\(stroke * worstStep)); \(crashesInWindow) crashes fell between "
              + "a commit and its strokes; cumulative error \(worstDrift) strokes (\(stroke * worstDrift)), always within the journal's bound; \(clock.now - began)")
    }

    static func acks(_ data: Data) -> [String] {
        String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard line.hasPrefix("ack ") else { return nil }
            let rest = line.dropFirst(4)
            return rest.split(separator: " ", maxSplits: 1).last.map(String.init)
        }
    }

    static func advance(_ it: inout IndexingIterator<[String]>, to wanted: String) -> Bool {
        while let x = it.next() { if x == wanted { return true } }
        return false
    }
}
