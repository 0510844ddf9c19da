import Foundation
import Testing
import PumpCore
@testable import PumpJournal

/// Sensor changes go through the journaled loop the way the bench-rig runner takes them
/// (`WriteAhead.sensed`): reached in bounded steps, sensed at the controller's instant, never dropped.
@Suite("Write-ahead: sensor changes in the journaled loop")
struct WriteAheadSensingTests {
    /// 1200 μg/day at 500 μg/mL on the bench profile: 400 strokes of 0.25 μL an hour.
    func pump(_ dir: String, n: Int64 = 4) throws -> JournaledPump<RecordingDriver> {
        try JournaledPump.create(at: dir + "/j.db", controller: try runningController(), driver: RecordingDriver(),
                                 wallNanoseconds: wall(), strokesPerStep: n)
    }

    @Test("a change reported after the controller passed its instant is sensed then, not dropped")
    func aLateChangeIsSensed() throws {
        let dir = try temporaryDirectory()
        var p = try pump(dir)
        let start = p.controller.now
        try p.run(until: start + .minutes(10), wallNanoseconds: wall(600))
        #expect(!p.controller.alarms.isActive(.occlusion))
        // The occlusion switch tripped at minute 5; the driver reports it only now.
        p.driver.changes = [(start + .minutes(5), .occlusion(true))]
        try p.run(until: start + .minutes(11), wallNanoseconds: wall(660))
        #expect(p.controller.alarms.isActive(.occlusion), "the late report was dropped")
        let sensedAt = try Journal.open(at: dir + "/j.db", access: .readOnly).events()
            .first { $0.event.kind == .sensor(.occlusion(true)) }?.event.at
        #expect(sensedAt == start + .minutes(10), "sensed at the controller's instant when reported")
    }

    @Test("a change an hour ahead is reached in steps of at most N strokes, then sensed at its instant")
    func aChangeAheadIsReachedInBoundedSteps() throws {
        let dir = try temporaryDirectory()
        let n: Int64 = 4
        var p = try pump(dir, n: n)
        let start = p.controller.now
        p.driver.changes = [(start + .hours(1), .occlusion(true))]
        try p.run(until: start + .hours(1), wallNanoseconds: wall(3_600))
        #expect(p.controller.alarms.isActive(.occlusion))
        #expect(p.driver.strokes.count >= 399, "an hour at 1200 μg/day is 400 strokes")
        // The sensing commit is the run's last: the journal's progress row holds its strokes (in doubt
        // until carried out). Sensing at the change's instant from an hour behind it made that one
        // commit the whole hour (400 strokes); reached in bounded steps, it carries none.
        let db = try SQLiteDatabase(path: dir + "/j.db", mode: .readOnly)
        let last = try db.scalarInt("SELECT in_doubt FROM progress")
        #expect(last.map { $0 <= n } == true, "the sensing commit carried \(last ?? -1) strokes")
    }
}
