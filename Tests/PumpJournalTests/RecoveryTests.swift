import Foundation
import Testing
import PumpCore
@testable import PumpJournal

@Suite("Journal recovery")
struct RecoveryTests {
    static let stroke = Volume(nanolitres: 250)

    @Test("schema: WAL, synchronous FULL, application id and version after create")
    func schema() throws {
        let dir = try temporaryDirectory()
        let j = try Journal.create(at: dir + "/j", controller: try runningController(), wallNanoseconds: wall())
        #expect(try j.db.texts("PRAGMA journal_mode") == ["wal"])
        #expect(try j.db.scalarInt("PRAGMA synchronous") == 2)  // FULL
        #expect(try j.db.scalarInt("PRAGMA application_id") == Int64(JournalSchema.applicationID))
        #expect(try j.schemaVersion() == JournalSchema.version)
        #expect(try j.verify().isSound)
    }

    @Test("migration from an empty version-0 journal brings it to the current version")
    func migrationFromZero() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/old.journal"
        do {
            let db = try SQLiteDatabase(path: path, mode: .create)
            try db.execute("PRAGMA journal_mode=WAL; PRAGMA application_id=\(JournalSchema.applicationID)")
        }
        #expect(journalError { _ = try Journal.open(at: path, access: .readOnly) }
                == .olderSchema(path: path, found: 0, current: JournalSchema.version))
        let (from, to) = try Journal.migrate(at: path)
        #expect(from == 0 && to == JournalSchema.version)
        let j = try Journal.open(at: path, access: .readOnly)
        #expect(try j.schemaVersion() == JournalSchema.version)
        // Migrated but never given a state: recovery says so instead of inventing one.
        #expect(journalError { _ = try j.recover() } != nil)
    }

    @Test("commands, refusals and events round-trip; the recovered state equals the live one")
    func roundTrip() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/j"
        var pump = try JournaledPump.create(at: path, controller: try runningController(dose: 600), driver: RecordingDriver(), wallNanoseconds: wall())
        try pump.run(until: .zero + .hours(26), wallNanoseconds: wall(1))
        let ok = try pump.handle(.program(.continuous(.microgramsPerDay(700))), at: .zero + .hours(26), source: "test", wallNanoseconds: wall(2))
        #expect(ok.isAccepted)
        let refused = try pump.handle(.program(.continuous(.microgramsPerDay(100))), at: .zero + .hours(27), source: "test", wallNanoseconds: wall(3))
        #expect(!refused.isAccepted)
        try pump.run(until: .zero + .hours(27) + .minutes(7), wallNanoseconds: wall(4))

        let j = try Journal.open(at: path, access: .readOnly)
        let commands = try j.commands()
        #expect(commands.map(\.accepted) == [true, false])
        #expect(commands.map(\.command) == [.program(.continuous(.microgramsPerDay(700))), .program(.continuous(.microgramsPerDay(100)))])
        let kinds = try j.events().map(\.kindName)
        #expect(kinds.contains("scheduleProgrammed") && kinds.contains("commandRefused") && kinds.contains("dailyDelivery"))
        #expect(try j.events(kinds: ["commandRefused"]).count == 1)
        let r = try j.recover()
        let before = try runningController(dose: 600).totalStrokes
        #expect(r.controller == pump.controller)
        #expect(r.strokes == pump.controller.totalStrokes)
        #expect(r.controller.totalStrokes == before + Int64(pump.driver.strokes.count))
        #expect(try j.verify().isSound)
    }

    @Test("a crash between commit and stroke: the estimate is never above the truth and at most N strokes below",
          arguments: [1, 7, 500, 2_345])
    func conservativeAfterCrash(failAfter: Int) throws {
        let dir = try temporaryDirectory()
        let path = dir + "/j"
        let start = try runningController()
        var driver = RecordingDriver()
        driver.failAfter = failAfter
        var pump = try JournaledPump.create(at: path, controller: start, driver: driver, wallNanoseconds: wall())
        // The driver "dies" after `failAfter` strokes, like a killed process: the step that was
        // committed is only partly carried out.
        #expect(throws: JournaledPumpError.self) { try pump.run(until: .zero + .days(2), wallNanoseconds: wall(5)) }
        let truth = start.reservoir.estimate - pump.driver.volume
        pump.journal.abandon()
        let r = try Journal.open(at: path).recover()
        let estimate = r.controller.reservoir.estimate
        #expect(estimate <= truth, "recovered estimate \(estimate) above the true \(truth)")
        #expect(truth - estimate <= Self.stroke * pump.strokesPerStep)
        #expect(truth - estimate <= Self.stroke * r.strokesInDoubt)
    }

    @Test("resume accounts the downtime: no strokes for the gap, interruption journaled, over 24 h needs confirmation")
    func resumeAfterDowntime() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/j"
        var pump = try JournaledPump.create(at: path, controller: try runningController(), driver: RecordingDriver(), wallNanoseconds: wall())
        try pump.run(until: .zero + .hours(2), wallNanoseconds: wall(0))
        let seen = pump.controller.now
        let strokes = pump.controller.totalStrokes
        // Down for 2 h of wall time.
        pump.journal.abandon()
        var (resumed, report) = try JournaledPump.resume(at: path, driver: RecordingDriver(), wallNanoseconds: wall(7_200))
        #expect(report.lastSeen == seen && report.gap == .hours(2))
        #expect(resumed.controller.totalStrokes == strokes)
        #expect(resumed.driver.strokes.isEmpty)
        #expect(!report.requiresConfirmation)
        #expect(resumed.controller.alarms.isActive(.therapyInterruption))
        #expect(!resumed.controller.primed == false)
        // Down again for 25 h: confirmation needed.
        try resumed.run(until: resumed.controller.now + .hours(1), wallNanoseconds: wall(10_800))
        resumed.journal.abandon()
        (resumed, report) = try JournaledPump.resume(at: path, driver: RecordingDriver(), wallNanoseconds: wall(10_800 + 25 * 3600))
        #expect(report.requiresConfirmation)
        #expect(resumed.controller.deliveringDose == .floor)
        let j = try Journal.open(at: path, access: .readOnly)
        let restarts = try j.restarts()
        #expect(restarts.count == 2)
        #expect(restarts.map(\.requiresConfirmation) == [false, true])
        #expect(try j.verify().isSound)
        // A wall clock that went backwards: unknown downtime, confirmation needed.
        resumed.journal.abandon()
        (resumed, report) = try JournaledPump.resume(at: path, driver: RecordingDriver(), wallNanoseconds: wall(0))
        #expect(!report.durationKnown && report.requiresConfirmation)
    }

    @Test("verify reports broken invariants that SQLite's own check cannot see")
    func verifyInvariants() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/j"
        var pump = try JournaledPump.create(at: path, controller: try runningController(), driver: RecordingDriver(), wallNanoseconds: wall())
        try pump.run(until: .zero + .hours(50), wallNanoseconds: wall(1))
        do {
            let db = try SQLiteDatabase(path: path, mode: .readWrite)
            #expect(try db.scalarInt("SELECT count(*) FROM events") == 2)  // two therapy-day totals
            try db.execute("UPDATE events SET at_ns = at_ns + 2 * 86400000000000 WHERE seq = (SELECT min(seq) FROM events)")
            try db.execute("UPDATE checkpoints SET reservoir_nl = capacity_nl + 1 WHERE seq = (SELECT min(seq) FROM checkpoints)")
        }
        let v = try Journal.open(at: path, access: .readOnly).verify()
        #expect(!v.isSound)
        #expect(v.problems.contains { $0.contains("earlier than the event before it") })
        #expect(v.problems.contains { $0.contains("outside 0…") })
    }
}
