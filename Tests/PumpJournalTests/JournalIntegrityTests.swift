import Foundation
import Testing
import PumpCore
@testable import PumpJournal
#if canImport(Glibc)
import Glibc
#endif

/// One writer, copies that keep their last commits, a bounded replay, owner-only files, and refusals
/// that cost their text rather than a checkpoint.
@Suite("Journal integrity")
struct JournalIntegrityTests {
    /// Bytes the journal occupies once its WAL is folded in: what it costs on the card.
    static func bytes(_ j: Journal) throws -> Int64 {
        try j.foldWAL()
        let pages = try j.db.scalarInt("PRAGMA page_count") ?? 0
        let free = try j.db.scalarInt("PRAGMA freelist_count") ?? 0
        return (pages - free) * (try j.db.scalarInt("PRAGMA page_size") ?? 0)
    }

    /// The journal error `JournaledPump.resume` refuses with, if it does.
    static func resumeError(_ path: String, _ wall: Int64) -> JournalError? {
        do {
            _ = try JournaledPump<RecordingDriver>.resume(at: path, driver: RecordingDriver(), wallNanoseconds: wall)
            return nil
        } catch { if case let .journal(e) = error { return e } else { return nil } }
    }

    static func mode(_ path: String) -> mode_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & 0o777 : nil
    }

    // MARK: - One writer

    @Test("a second writer and a migration are refused naming the holder's PID; readers read alongside")
    func secondWriterRefused() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/j"
        var pump = try JournaledPump.create(at: path, controller: try runningController(), driver: RecordingDriver(), wallNanoseconds: wall())
        try pump.run(until: .zero + .hours(2), wallNanoseconds: wall(1))
        let locked = JournalError.locked(path: path, holderPID: getpid())
        #expect(journalError { _ = try Journal.open(at: path, access: .readWrite) } == locked)
        #expect(journalError { _ = try Journal.migrate(at: path) } == locked)
        #expect(Self.resumeError(path, wall(2)) == locked)
        #expect(locked.description.contains("process \(getpid())"))
        // Readers take no lock.
        let reader = try Journal.open(at: path, access: .readOnly)
        #expect(try reader.verify().isSound)
        #expect(try reader.recover().controller == pump.controller)
        // The refused writers changed nothing; the writer goes on.
        try pump.run(until: .zero + .hours(3), wallNanoseconds: wall(3))
        #expect(try reader.recover().controller == pump.controller)
        try pump.journal.close()
        // Released at close: the next writer resumes.
        let (resumed, _) = try JournaledPump.resume(at: path, driver: RecordingDriver(), wallNanoseconds: wall(4))
        #expect(resumed.controller.totalStrokes == pump.controller.totalStrokes)
    }

    @Test("a writer refused for a missing journal leaves no lock file behind")
    func missingJournalLeavesNoLockFile() throws {
        let dir = try temporaryDirectory()
        #expect(journalError { _ = try Journal.open(at: dir + "/none", access: .readWrite) } == .missingFile(path: dir + "/none"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    // MARK: - Copies

    @Test("a copy of the main file without its -wal, taken while a writer had it open, is refused; with it, or after a clean close, accepted")
    func copyWithoutWAL() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/j"
        var pump = try JournaledPump.create(at: path, controller: try runningController(), driver: RecordingDriver(), wallNanoseconds: wall())
        try pump.run(until: .zero + .hours(5), wallNanoseconds: wall(1))
        let fm = FileManager.default
        #expect(fm.fileExists(atPath: path + "-wal"))
        // As after a crash: the writer never closed. The main file alone holds an older state.
        try fm.copyItem(atPath: path, toPath: dir + "/main-only")
        let e = journalError { _ = try Journal.open(at: dir + "/main-only", access: .readWrite) }
        guard case .walMissing? = e else { Issue.record("expected walMissing, got \(String(describing: e))"); return }
        #expect(e!.description.contains("itpump journal backup"))
        let ro = journalError { _ = try Journal.open(at: dir + "/main-only", access: .readOnly) }
        guard case .walMissing? = ro else { Issue.record("read-only: expected walMissing, got \(String(describing: ro))"); return }
        // A refused open leaves no empty -wal that would let the next open accept the copy.
        #expect(!fm.fileExists(atPath: dir + "/main-only-wal"))
        guard case .walMissing? = journalError({ _ = try Journal.open(at: dir + "/main-only", access: .readWrite) }) else {
            Issue.record("second open accepted the copy"); return
        }
        // With its -wal the copy is whole.
        try fm.copyItem(atPath: path, toPath: dir + "/both")
        try fm.copyItem(atPath: path + "-wal", toPath: dir + "/both-wal")
        #expect(try Journal.open(at: dir + "/both", access: .readOnly).recover().controller == pump.controller)
        // After a clean close everything is in the main file: a copy of it alone is whole.
        try pump.journal.close()
        #expect(!fm.fileExists(atPath: path + "-wal"))
        try fm.copyItem(atPath: path, toPath: dir + "/clean")
        let clean = try Journal.open(at: dir + "/clean", access: .readWrite)
        #expect(try clean.recover().controller == pump.controller)
    }

    @Test("backup while the writer writes: a consistent, sound, owner-only copy with the writer's last commit, which opens without a -wal")
    func backupWhileWriting() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/j"
        var pump = try JournaledPump.create(at: path, controller: try runningController(), driver: RecordingDriver(), wallNanoseconds: wall())
        try pump.run(until: .zero + .hours(7), wallNanoseconds: wall(1))
        _ = try pump.handle(.program(.continuous(.microgramsPerDay(1300))), at: .zero + .hours(7), source: "test", wallNanoseconds: wall(2))
        try pump.run(until: .zero + .hours(8), wallNanoseconds: wall(3))
        let reader = try Journal.open(at: path, access: .readOnly)
        let v = try reader.backup(to: dir + "/copy")
        #expect(v.isSound, "\(v.problems)")
        #expect(Self.mode(dir + "/copy") == 0o600)
        // Everything is in the main file, without the writer's "open" mark: it alone is the copy.
        for f in ["/copy-wal", "/copy-shm"] { try? FileManager.default.removeItem(atPath: dir + f) }
        let copy = try Journal.open(at: dir + "/copy", access: .readWrite)
        #expect(try copy.recover().controller == pump.controller)
        #expect(try copy.commands().count == 1)
        // The writer was not disturbed, and an existing destination is refused.
        try pump.run(until: .zero + .hours(9), wallNanoseconds: wall(4))
        #expect(journalError { _ = try reader.backup(to: dir + "/copy") } == .alreadyExists(path: dir + "/copy"))
    }

    // MARK: - Sound before writing, bounded replay

    @Test("resume refuses a journal verify calls NOT SOUND, and writes nothing to it")
    func resumeRefusesUnsound() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/j"
        do {
            var pump = try JournaledPump.create(at: path, controller: try runningController(), driver: RecordingDriver(), wallNanoseconds: wall())
            _ = try pump.handle(.program(.continuous(.microgramsPerDay(1300))), at: .zero + .hours(2), source: "test", wallNanoseconds: wall(1))
            try pump.run(until: .zero + .hours(3), wallNanoseconds: wall(2))
            // An event moved back in time: recovery alone would not notice; verify does.
            try pump.journal.db.execute("UPDATE events SET at_ns = at_ns - 7200000000000 WHERE seq = (SELECT max(seq) FROM events)")
            try pump.journal.close()
        }
        #expect(try Journal.open(at: path, access: .readOnly).recover().strokes > 0)
        let e = Self.resumeError(path, wall(3))
        guard case let .invariantViolated(_, problems)? = e else { Issue.record("expected invariantViolated, got \(String(describing: e))"); return }
        #expect(problems.contains { $0.contains("earlier than the event before it") })
        #expect(try Journal.open(at: path, access: .readOnly).restarts().isEmpty)
    }

    @Test("a progress row 2^62 ns or 10^9 strokes past its checkpoint is refused at once, without replaying it")
    func implausibleProgressRefused() throws {
        for forgery in ["at_ns = at_ns + 4611686018427387904", "strokes = strokes + 1000000000", "strokes = strokes + 5000"] {
            let dir = try temporaryDirectory()
            let path = dir + "/j"
            do {
                var pump = try JournaledPump.create(at: path, controller: try runningController(), driver: RecordingDriver(), wallNanoseconds: wall())
                try pump.run(until: .zero + .hours(2), wallNanoseconds: wall(1))
                try pump.journal.db.execute("UPDATE progress SET \(forgery)")
                try pump.journal.close()
            }
            let start = Date()
            let j = try Journal.open(at: path, access: .readOnly)
            let e = journalError { _ = try j.recover() }
            guard case let .invariantViolated(_, problems)? = e else { Issue.record("\(forgery): got \(String(describing: e))"); continue }
            #expect(problems.joined().contains("between full checkpoints"), "\(forgery)")
            #expect(try !j.verify().isSound)
            #expect(Date().timeIntervalSince(start) < 5, "\(forgery): not refused at once")
        }
    }

    @Test("a long quiet stretch writes a full checkpoint at least once per replay span, so recovery stays within it")
    func longQuietStretchStaysReplayable() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/j"
        var c = try PumpController(profile: .bench20)   // never filled: no strokes, no deadlines
        _ = c.advance(to: .zero + .hours(1))
        var pump = try JournaledPump.create(at: path, controller: c, driver: RecordingDriver(), wallNanoseconds: wall())
        for h in stride(from: Int64(2), through: 24 * 10, by: 7) {
            try pump.run(until: .zero + .hours(h), wallNanoseconds: wall(h))
        }
        let r = try Journal.open(at: path, access: .readOnly).recover()
        #expect(r.controller == pump.controller)
        #expect(try Journal.open(at: path, access: .readOnly).verify().isSound)
    }

    // MARK: - Files

    @Test("the journal, its -wal, -shm and lock file are owner-only (0600) whatever the umask")
    func ownerOnlyFiles() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/j"
        let old = umask(0o002)
        defer { umask(old) }
        var pump = try JournaledPump.create(at: path, controller: try runningController(), driver: RecordingDriver(), wallNanoseconds: wall())
        try pump.run(until: .zero + .hours(2), wallNanoseconds: wall(1))
        for f in [path, path + "-wal", path + "-shm", path + ".lock"] {
            #expect(Self.mode(f) == 0o600, "\(f): \(String(describing: Self.mode(f).map { String($0, radix: 8) }))")
        }
    }

    // MARK: - Refusals

    @Test("a repeated refusal journals its command and event (< 1 KiB), not a 15 KiB checkpoint; recovery still equals the live state")
    func refusalsCostTheirText() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/j"
        var pump = try JournaledPump.create(at: path, controller: try runningController(dose: 600), driver: RecordingDriver(), wallNanoseconds: wall())
        try pump.run(until: .zero + .hours(26), wallNanoseconds: wall(1))
        var t = Instant.zero + .hours(26)
        // The first refusal raises the interlock-refusal alarm: a state change, so a checkpoint.
        let tooLow = Command.program(.continuous(.microgramsPerDay(100)))
        #expect(try !pump.handle(tooLow, at: t, source: "test", wallNanoseconds: wall(2)).isAccepted)
        let before = try Self.bytes(pump.journal)
        let checkpoints = try pump.journal.db.scalarInt("SELECT count(*) FROM checkpoints")
        let refusals: Int64 = 200
        for i in 0..<refusals {
            // As the runner does: delivery up to now is its own step, so the refusal moves only time.
            t = t + .seconds(1)
            try pump.run(until: t, wallNanoseconds: wall(3 + i))
            #expect(try !pump.handle(tooLow, at: t, source: "test", wallNanoseconds: wall(3 + i)).isAccepted)
        }
        let perRefusal = (try Self.bytes(pump.journal) - before) / refusals
        #expect(try pump.journal.db.scalarInt("SELECT count(*) FROM checkpoints") == checkpoints)
        #expect(perRefusal < 1_024, "\(perRefusal) bytes per refused command")
        // Accepted commands still checkpoint.
        let beforeAccepted = try Self.bytes(pump.journal)
        let accepted: Int64 = 20
        for i in 0..<accepted {
            t = t + .seconds(1)
            try pump.run(until: t, wallNanoseconds: wall(300 + i))
            #expect(try pump.handle(.setRefillDate(.zero + .hours(24 * 60 + i)), at: t, source: "test", wallNanoseconds: wall(300 + i)).isAccepted)
        }
        let perAccepted = (try Self.bytes(pump.journal) - beforeAccepted) / accepted
        print("journal bytes per command: refused \(perRefusal), accepted \(perAccepted)")
        #expect(perAccepted > 4 * perRefusal)
        try pump.run(until: t + .minutes(30), wallNanoseconds: wall(400))
        let j = try Journal.open(at: path, access: .readOnly)
        #expect(try j.recover().controller == pump.controller)
        #expect(try j.verify().isSound)
        #expect(try j.commands().filter { !$0.accepted }.count == Int(refusals) + 1)
        #expect(try j.events(kinds: ["commandRefused"]).count == Int(refusals) + 1)
    }

    @Test("recovery right after a refusal that wrote only the progress row reproduces the state")
    func recoveryAfterRefusalProgress() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/j"
        var pump = try JournaledPump.create(at: path, controller: try runningController(dose: 600), driver: RecordingDriver(), wallNanoseconds: wall())
        try pump.run(until: .zero + .hours(26), wallNanoseconds: wall(1))
        let tooLow = Command.program(.continuous(.microgramsPerDay(100)))
        _ = try pump.handle(tooLow, at: .zero + .hours(26), source: "test", wallNanoseconds: wall(2))
        try pump.run(until: .zero + .hours(26) + .minutes(3), wallNanoseconds: wall(3))
        _ = try pump.handle(tooLow, at: .zero + .hours(26) + .minutes(3), source: "test", wallNanoseconds: wall(4))
        let r = try Journal.open(at: path, access: .readOnly).recover()
        #expect(r.controller == pump.controller)
        #expect(r.lastSeen == .zero + .hours(26) + .minutes(3))
    }
}
