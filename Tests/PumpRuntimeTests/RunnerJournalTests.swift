import Foundation
import Logging
import Testing
@testable import PumpCore
@testable import PumpJournal
@testable import PumpRig
@testable import PumpRuntime
@testable import PumpSim

/// The runner's journal path (`itpump run --journal`): resume after a clean stop and after a crash,
/// refusal of bad journals, the therapy-interruption alarm, the floor after more than 24 h, and what a
/// failing commit does.
@Suite struct RunnerJournalTests {
    static let wall0: Int64 = 1_760_000_000_000_000_000
    static let rx = RunnerFixture.rx
    static let scale: Int64 = 100

    static func logger() -> Logger { var l = Logger(label: "test"); l.logLevel = .critical; return l }

    static func directory() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("runjournal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// A sim runner on a manual clock; its journal commits are stamped `wall`.
    static func runner(_ path: String, create: Bool, wall: Int64, clock: ManualClock = ManualClock()) throws(RunSetupError) -> Runner {
        let r = try Runner.sim(prescription: rx, timeScale: scale, clock: clock, logger: logger(),
                               journal: JournalSetup(path: path, create: create, wallNanoseconds: wall))
        r.wallClock = { wall }
        return r
    }

    /// Steps `r` at every wake-up it asks for until therapy time `t`.
    static func run(_ r: Runner, until t: Instant) throws {
        let clock = try #require(r.clock as? ManualClock)
        let end = r.timeLine.monotonic(at: t)
        while clock.now() < end {
            try r.step()
            clock.sleep(until: min(r.nextWakeup, end))
        }
        try r.step()
    }

    /// A journal with therapy running: bring-up done, 2 h of basal delivery.
    static func runningJournal() throws -> (path: String, runner: Runner) {
        let path = try directory() + "/pump.journal"
        let r = try runner(path, create: true, wall: wall0)
        try run(r, until: .zero + .minutes(30))
        #expect(r.bringUp?.stage == .done)
        try run(r, until: .zero + .hours(2))
        return (path, r)
    }

    static func sim(_ r: Runner) throws -> SimulatedPump { try #require(r.driver as? SimulatedPump) }

    /// The loop polls every 10 ms; a poll with nothing due is not an fsync. Over 10 wall seconds of
    /// basal delivery (1,000 polls) the journal is written once per step with strokes plus at most one
    /// idle commit a second; with the idle interval at 0 (every poll committed, the old behaviour) the
    /// same run writes at every poll, which is what the bound catches.
    @Test(arguments: [(interval: UInt64(1_000_000_000), bounded: true), (interval: UInt64(0), bounded: false)])
    func idlePollsAreNotEachAJournalCommit(interval: UInt64, bounded: Bool) throws {
        let (_, r) = try Self.runningJournal()
        r.idleCommitInterval = interval
        let commits0 = r.journalCommits, strokes0 = r.strokesPerformed
        let clock = try #require(r.clock as? ManualClock)
        let end = clock.now() + 10_000_000_000
        var polls = 0
        while clock.now() < end {
            try r.step()
            polls += 1
            clock.sleep(until: min(r.nextWakeup, end))
        }
        let commits = r.journalCommits - commits0, strokes = r.strokesPerformed - strokes0
        #expect(strokes > 10 && polls > 500, "strokes \(strokes), polls \(polls)")
        if bounded {
            #expect(commits <= strokes + 11, "\(commits) commits for \(strokes) strokes in \(polls) polls")
        } else {
            #expect(commits > strokes + 11, "anti-vacuity: \(commits) commits for \(strokes) strokes in \(polls) polls")
        }
    }

    @Test func resumeAfterACleanStopContinuesWithoutBringUpAndAlarmsTheGap() throws {
        let (path, first) = try Self.runningJournal()
        let before = first.controller
        _ = try first.stop(reason: "SIGTERM", statePath: nil)
        // 10 wall minutes later at 100× = 1,000 therapy minutes (16 h 40 min): under the 24 h limit.
        let r = try Self.runner(path, create: false, wall: Self.wall0 + 600_000_000_000)
        #expect(r.bringUp == nil)
        let report = try #require(r.restart)
        #expect(report.lastSeen == before.now)
        #expect(report.gap == .minutes(1_000))
        #expect(!report.requiresConfirmation)
        // The time line continues from the recovered controller instant.
        #expect(r.timeLine.origin == r.controller.now && r.controller.now == before.now + .minutes(1_000))
        #expect(r.controller.primed && r.controller.totalStrokes == before.totalStrokes)
        #expect(r.controller.alarms.isActive(.therapyInterruption))
        #expect(r.controller.deliveringDose == before.deliveringDose)
        // No second priming bolus: the next hour is basal only (one stroke per 18 s: 200 ± 1).
        try Self.run(r, until: r.controller.now + .hours(1))
        #expect((199...201).contains(r.strokesPerformed))
        #expect(r.controller.bolus == nil)
        // The restart is in the journal, and a second runner on the same file sees it.
        let j = try Journal.open(at: path, access: .readOnly)
        #expect(try j.restarts().count == 1)
        #expect(try j.verify().isSound)
    }

    @Test func resumeAfterACrashIsConservativeAndWithinNStrokes() throws {
        let (path, first) = try Self.runningJournal()
        // A crash: the runner is abandoned with nothing written at stop.
        let truth = try Self.sim(first).reservoir
        let given = first.strokesPerformed
        first.journal?.abandon()
        let r = try Self.runner(path, create: false, wall: Self.wall0 + 1_000_000_000)
        let estimate = Picolitres(r.controller.reservoir.estimate)
        #expect(estimate <= truth)
        let drift = r.controller.totalStrokes - given
        #expect(drift >= 0 && drift <= first.strokesPerStep)
        #expect(r.bringUp == nil && r.controller.primed)
        // The new simulated pump starts from the (conservative) recovered estimate.
        #expect(try Self.sim(r).reservoir == estimate)
    }

    /// Where a crash can cut the bring-up (fill, prime, priming bolus, start).
    enum BringUpCut: String, CaseIterable, Sendable {
        case beforeFill, afterFill, midPriming, primedNotStarted
        func reached(_ c: PumpController) -> Bool {
            switch self {
            case .beforeFill: return true
            case .afterFill: return c.reservoir.filledAt != nil
            case .midPriming: return (c.bolus?.given ?? 0) > 100
            case .primedNotStarted: return c.primed
            }
        }
    }

    @Test(arguments: BringUpCut.allCases)
    func aCrashDuringBringUpResumesItWhereItStopped(_ cut: BringUpCut) throws {
        let path = try Self.directory() + "/pump.journal"
        let clock = ManualClock()
        let first = try Self.runner(path, create: true, wall: Self.wall0, clock: clock)
        // Step the first run in 10 ms wall steps (1 s of therapy) until the cut, then abandon it (a crash).
        while !cut.reached(first.controller) {
            try first.step()
            clock.sleep(until: clock.now() + 1_000_000_000 / 100)
        }
        let crashed = first.controller
        #expect(crashed.phase == .notStarted, "\(cut): the cut came after therapy started")
        first.journal?.abandon()
        let r = try Self.runner(path, create: false, wall: Self.wall0 + 1_000_000_000)
        let expected: BringUp.Stage = switch cut {
        case .beforeFill: .fill
        case .afterFill: .prime
        case .midPriming: .prime        // the recovery ended the bolus; what is left is primed next
        case .primedNotStarted: .priming
        }
        #expect(r.bringUp?.stage == expected, "\(cut)")
        if cut == .midPriming {
            // The rest of the priming, not a second one: the recovered column knows what was pushed.
            let given = r.controller.ledger.priming.strokes
            #expect(given > 100 && r.controller.primingVolume == r.controller.profile.strokeVolume * (1_344 - given))
        }
        try Self.run(r, until: r.controller.now + .hours(2))
        let c = r.controller
        #expect(r.bringUp?.stage == .done && c.primed && { if case .running = c.phase { true } else { false } }(), "\(cut): \(c.phase)")
        // One fill, one priming's worth of strokes, one start, no test dose; the estimate is one fill
        // less every stroke.
        let commands = try Journal.open(at: path, access: .readOnly).commands().filter(\.accepted)
        func count(_ name: String) -> Int { commands.filter { $0.command.description.hasPrefix(name) }.count }
        #expect(count("refill") == 1 && count("startTherapy") == 1 && count("testDose") == 0, "\(cut): \(commands.map(\.command.description))")
        #expect(count("prime") == (cut == .midPriming ? 2 : 1))
        #expect(c.ledger.priming.strokes == 1_344 && c.ledger.testDose.strokes == 0)
        #expect(c.catheter.isUniform(Self.rx.concentration))
        #expect(c.reservoir.estimate == .millilitres(20) - c.profile.strokeVolume * c.totalStrokes)
    }

    @Test func refusesMissingEmptyForeignAndExistingJournals() throws {
        let dir = try Self.directory()
        func refusal(_ path: String, create: Bool) -> JournalError? {
            do { _ = try Self.runner(path, create: create, wall: Self.wall0); return nil } catch {
                if case let .journal(e) = error { return e }
                Issue.record("not a journal error: \(error)")
                return nil
            }
        }
        // Missing: no silent fresh start; the message says how to create one explicitly.
        let missing = dir + "/none.journal"
        guard case .missingFile? = refusal(missing, create: false) else { Issue.record("missing accepted"); return }
        #expect(!FileManager.default.fileExists(atPath: missing))
        #expect(RunSetupError.journal(.missingFile(path: missing)).description.contains("--create-journal"))
        // Empty, not SQLite, and a foreign database: refused and left as they were.
        let empty = dir + "/empty.journal"
        FileManager.default.createFile(atPath: empty, contents: Data())
        guard case .emptyFile? = refusal(empty, create: false) else { Issue.record("empty accepted"); return }
        let text = dir + "/text.journal"
        let junk = Data(String(repeating: "not a journal\n", count: 400).utf8)
        FileManager.default.createFile(atPath: text, contents: junk)
        guard case .notSQLite? = refusal(text, create: false) else { Issue.record("text accepted"); return }
        #expect(FileManager.default.contents(atPath: text) == junk)
        // --create-journal over an existing journal: refused, the journal untouched.
        let (path, _) = try Self.runningJournal()
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        guard case .alreadyExists? = refusal(path, create: true) else { Issue.record("overwrite accepted"); return }
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == size)
        // A truncated journal.
        let cut = dir + "/cut.journal"
        let whole = try #require(FileManager.default.contents(atPath: path))
        FileManager.default.createFile(atPath: cut, contents: whole.prefix(whole.count / 2))
        let e = refusal(cut, create: false)
        #expect(e != nil, "a truncated journal must be refused")
    }

    @Test func anInterruptionOverTwentyFourHoursRunsTheFloorUntilAClinicianConfirms() throws {
        let (path, first) = try Self.runningJournal()
        let programmed = first.controller.deliveringDose
        first.journal?.abandon()
        // 15 wall minutes at 100× = 25 therapy hours.
        let r = try Self.runner(path, create: false, wall: Self.wall0 + 900_000_000_000)
        let report = try #require(r.restart)
        #expect(report.gap == .hours(25) && report.requiresConfirmation)
        #expect(r.controller.deliveringDose == DoseRate.floor)
        #expect(r.controller.alarms.isActive(.therapyInterruption))
        // The floor holds over time…
        try Self.run(r, until: r.controller.now + .hours(2))
        #expect(r.controller.deliveringDose == DoseRate.floor)
        // …until the clinician's confirm_resumption, which is journaled before the reply.
        let reply = r.handle(line: Array(#"{"cmd":"confirm_resumption","ug_per_day":600}"#.utf8))
        #expect(reply.contains("\"accepted\""), "\(reply)")
        #expect(r.controller.deliveringDose == programmed)
        let commands = try Journal.open(at: path, access: .readOnly).commands()
        #expect(commands.last?.command.description.contains("confirmResumption") == true)
        #expect(commands.last?.source == "control")
    }

    @Test func wallClockGoingBackwardsCountsAsAnUnknownLongGap() throws {
        let (path, first) = try Self.runningJournal()
        first.journal?.abandon()
        let r = try Self.runner(path, create: false, wall: Self.wall0 - 1_000_000_000)
        #expect(r.restart?.durationKnown == false && r.restart?.requiresConfirmation == true)
        #expect(r.controller.deliveringDose == DoseRate.floor)
    }

    @Test func everyControlCommandIsJournaledBeforeTheReply() throws {
        let (path, r) = try Self.runningJournal()
        let replies = [#"{"cmd":"set_refill_date","in_hours":240}"#, #"{"cmd":"bolus","ug":50}"#, #"{"cmd":"program","ug_per_day":5000}"#]
            .map { r.handle(line: Array($0.utf8)) }
        let journaled = try Journal.open(at: path, access: .readOnly).commands().filter { $0.source == "control" }
        #expect(journaled.count == replies.count)
        for (reply, record) in zip(replies, journaled) {
            #expect(reply.contains("\"command\""))
            #expect(!record.accepted == reply.contains("\"refused\""), "\(reply) vs \(record.detail)")
            #expect(reply.contains("\"journal_seq\":\(record.seq)"), "the reply names the command's journal row: \(reply)")
        }
    }

    @Test func aFailingCommitHoldsDeliveryAlarmsAndAccountsTheOutageWhenTheJournalReturns() throws {
        let (path, r) = try Self.runningJournal()
        let j = try #require(r.journal)
        let strokes = r.strokesPerformed
        let committed = try Journal.open(at: path, access: .readOnly).recover().strokes
        // Writes now fail (as on a full disk).
        try j.db.execute("PRAGMA query_only=ON")
        try Self.run(r, until: r.controller.now + .hours(1))
        let outage = try #require(r.journalOutage)
        #expect(outage.failures >= 1)
        // Nothing uncommitted was given, and the outputs show a high-priority alarm.
        #expect(r.strokesPerformed == strokes)
        #expect(try Self.sim(r).indication.highestPriority == .high)
        #expect(try Journal.open(at: path, access: .readOnly).recover().strokes == committed)
        // Commands are refused with the reason and not applied.
        let reply = r.handle(line: Array(#"{"cmd":"set_refill_date","in_hours":100}"#.utf8))
        #expect(reply.contains("not applied") && reply.contains("DELIVERY IS HELD"), "\(reply)")
        // The journal returns: the outage is accounted as missed delivery (no catch-up burst) with the
        // therapy-interruption alarm, then delivery resumes.
        try j.db.execute("PRAGMA query_only=OFF")
        let resumedAt = r.controller.now
        try Self.run(r, until: resumedAt + .hours(2) + .minutes(1))
        #expect(r.journalOutage == nil)
        #expect(r.controller.alarms.isActive(.therapyInterruption))
        // The outage took 1 of these 2 h 1 min: 1 h 1 min of delivery at one stroke per 18 s = 203,
        // not the 403 a catch-up of the held hour would give.
        let after = r.strokesPerformed - strokes
        #expect((200...206).contains(after), "\(after) strokes after the outage")
        #expect(try Journal.open(at: path, access: .readOnly).verify().isSound)
    }
}
