import Foundation
import PropertyBased
import Testing
import PumpCore
import PumpSim
@testable import PumpJournal

/// The write-ahead engine's guarantees, stated once for both journaled loops (`JournaledPump` and the
/// bench-rig runner go through `WriteAhead.prepare` and `WriteAheadTransaction.commit`), on random
/// runs of every kind of change (steps, priming, commands, sensor changes, downtime) on a real journal:
/// no commit covers more than N strokes; a failed commit leaves the controller as it was; what is
/// adopted is what was committed (and only after it was).
@Suite("Write-ahead engine: one transaction for both journaled loops", .shrinking(false))
struct WriteAheadTransactionTests {
    typealias Prepare = @Sendable (WriteAheadChange, PumpController, Int64) -> WriteAheadTransaction
    typealias Commit = @Sendable (WriteAheadTransaction, Journal, inout PumpController, Int64) throws(JournalError) -> Void

    static let realCommit: Commit = { tx, journal, controller, n throws(JournalError) in
        _ = try tx.commit(to: journal, adopting: &controller, strokesPerStep: n, wallNanoseconds: wall(60))
    }

    /// Deliberately broken: advances straight to the target in one commit (no stroke bound).
    static let unboundedPrepare: Prepare = { change, controller, n in
        guard case let .advance(until) = change else { return WriteAhead.prepare(change, from: controller, strokesPerStep: n) }
        var next = controller
        let effects = next.advance(to: until)
        return WriteAheadTransaction(change: change, base: controller, next: next, effects: effects, response: nil,
                                     downtime: nil, record: .step)
    }

    /// Deliberately broken: adopts the new state, then writes it.
    static let adoptFirstCommit: Commit = { tx, journal, controller, n throws(JournalError) in
        controller = tx.next
        try journal.recordStep(tx.effects, state: tx.next, wallNanoseconds: wall(60), checkpointInterval: n)
    }

    /// The bench profile filled with 20 mL at 500 μg/mL at 0, not primed: priming is a 1,344-stroke bolus.
    static func filledController() throws -> PumpController {
        var c = try PumpController(profile: .bench20)
        let c500 = Concentration(microgramsPerMillilitre: 500)
        _ = c.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: c500)), at: .zero)
        return c
    }

    /// What a random run saw: the most strokes in one commit, and the first broken guarantee.
    struct Outcome {
        var n: Int64
        var maxStrokes: Int64 = 0
        var commits = 0
        var failedCommits = 0
        var violation: String?
    }

    /// A random run of `actions` changes from `seed`, N = 4…16. Every transaction is first committed to
    /// a read-only handle of the journal (the commit fails: the controller must be as before), then to
    /// the journal itself (the controller must then be the transaction's `next`). After each action the
    /// journal's recovered state must equal the controller. Stops at the first broken guarantee.
    static func run(seed: UInt64, actions: Int = 8, prepare: Prepare = WriteAhead.prepare,
                    commit: Commit = realCommit) throws -> Outcome {
        var g = SplitMix64(seed: seed)
        var out = Outcome(n: 4 + Int64(g.next() % 13))
        let path = try temporaryDirectory() + "/j"
        var controller = try filledController()
        let journal = try Journal.create(at: path, controller: controller, wallNanoseconds: wall())
        let failing = try Journal.open(at: path, access: .readOnly)
        var trace: [String] = ["N = \(out.n)"]

        func transact(_ change: WriteAheadChange) throws -> Bool {
            let tx = prepare(change, controller, out.n)
            let before = controller
            do throws(JournalError) {
                try commit(tx, failing, &controller, out.n)
                out.violation = "a commit to a read-only journal succeeded"
                return false
            } catch {
                out.failedCommits += 1
            }
            guard controller == before else {
                out.violation = "a failed commit of \(change) changed the controller\n" + trace.joined(separator: "\n")
                return false
            }
            try commit(tx, journal, &controller, out.n)
            out.commits += 1
            out.maxStrokes = max(out.maxStrokes, tx.strokes)
            guard controller == tx.next else {
                out.violation = "a committed transaction was not adopted"
                return false
            }
            guard tx.strokes <= out.n else {
                out.violation = "one commit of \(change) covered \(tx.strokes) strokes (N = \(out.n))\n" + trace.joined(separator: "\n")
                return false
            }
            return true
        }

        for _ in 0..<actions {
            let now = controller.now
            let dose = DoseRate.microgramsPerDay(100 + Int64(g.next() % 1400))
            let change: WriteAheadChange
            switch g.next() % 6 {
            case 0, 1:
                let target = now + .seconds(60 + Int64(g.next() % 7_200))
                trace.append("advance to \(target)")
                while controller.now < target {
                    guard try transact(.advance(until: target)) else { return out }
                }
                continue
            case 2:
                change = !controller.primed ? .command(.prime(confirmVolume: controller.primingVolume), source: "test")
                    : g.next() % 2 == 0 ? .command(.startTherapy(.continuous(dose), basis: .transfer(previousDailyDose: dose)), source: "test")
                    : .command(.program(.continuous(dose)), source: "test")
            case 3:
                change = .sense(.occlusion(g.next() % 2 == 0))
            case 4:
                let until = now + .seconds(60 + Int64(g.next() % 108_000))
                change = .downtime(until: until, kind: "late wake", detail: { "test: \($0.gap) of downtime" })
            default:
                change = .command(.setRefillDate(now + .days(30 + Int64(g.next() % 60))), source: "test")
            }
            trace.append("\(change)")
            guard try transact(change) else { return out }
            let recovered = try Journal.open(at: path, access: .readOnly).recover().controller
            guard recovered == controller else {
                out.violation = "the adopted state is not the committed one after \(change)\n" + trace.joined(separator: "\n")
                return out
            }
        }
        return out
    }

    @Test("no commit covers more than N strokes, a failed commit leaves the controller as it was, and the adopted state is the committed one: priming, commands, sensor changes, downtime")
    func theEngineKeepsItsGuarantees() async throws {
        await propertyCheck(count: 20, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            do {
                let o = try Self.run(seed: seed)
                #expect(o.violation == nil, "seed \(seed): \(o.violation ?? "")")
                #expect(o.failedCommits == o.commits, "every transaction was tried on the failing journal first")
            } catch { Issue.record("seed \(seed): \(error)") }
        }
    }

    @Test("the bound is not vacuous: priming committed through the engine needs many commits of N strokes")
    func primingTakesManyBoundedCommits() throws {
        // The priming command commits no stroke ahead; the bolus is then reached in full steps of N.
        var controller = try Self.filledController()
        let path = try temporaryDirectory() + "/j"
        let journal = try Journal.create(at: path, controller: controller, wallNanoseconds: wall())
        let n: Int64 = 16
        _ = try WriteAhead.transact(.command(.prime(confirmVolume: controller.primingVolume), source: "test"),
                                    controller: &controller, journal: journal, strokesPerStep: n, wallNanoseconds: wall(1))
        var commits: [Int64] = []
        let target = controller.now + .hours(1)
        while controller.now < target {
            commits.append(try WriteAhead.transact(.advance(until: target), controller: &controller, journal: journal,
                                                   strokesPerStep: n, wallNanoseconds: wall(2)).transaction.strokes)
        }
        #expect(controller.primed)
        #expect(commits.max() == n, "\(commits.max() ?? 0)")
        #expect(commits.reduce(0, +) >= 1_344)
    }

    @Test("anti-vacuity: an engine that advances to the target in one commit breaks the N-stroke bound")
    func anUnboundedStepIsCaught() throws {
        let caught = try (0..<8 as Range<UInt64>).filter { seed in
            (try Self.run(seed: seed, prepare: Self.unboundedPrepare).violation ?? "").contains("strokes (N =")
        }
        #expect(!caught.isEmpty, "no seed of 8 exposed an unbounded step")
    }

    @Test("anti-vacuity: an engine that adopts before it commits changes the controller on a failed commit")
    func adoptingFirstIsCaught() throws {
        let o = try Self.run(seed: 1, commit: Self.adoptFirstCommit)
        #expect(o.violation?.contains("a failed commit") == true, "\(o.violation ?? "no violation")")
    }

    @Test("without a journal the engine adopts at once and writes nothing; an idle step may be left unwritten")
    func withoutAJournalItAdopts() throws {
        var controller = try Self.filledController()
        let target = controller.now + .minutes(5)
        let (tx, commit) = try WriteAhead.transact(.advance(until: target), controller: &controller, journal: nil,
                                                   strokesPerStep: 4, wallNanoseconds: wall())
        #expect(controller == tx.next && controller.now == target && !commit.written)
        let path = try temporaryDirectory() + "/j"
        let journal = try Journal.create(at: path, controller: controller, wallNanoseconds: wall())
        let idle = try WriteAhead.transact(.advance(until: target + .minutes(5)), controller: &controller, journal: journal,
                                           strokesPerStep: 4, wallNanoseconds: wall(1), writeIdle: false)
        #expect(idle.transaction.isIdle && !idle.commit.written && controller.now == target + .minutes(5))
    }
}
