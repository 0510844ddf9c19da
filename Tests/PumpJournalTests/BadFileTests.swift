import Foundation
import Testing
import CSQLite
import PumpCore
@testable import PumpJournal

/// Every way a journal file can be wrong gets its own typed error, and nothing is started fresh.
@Suite("Bad journal files")
struct BadFileTests {
    /// A real journal with some therapy in it.
    static func makeJournal(in dir: String) throws -> String {
        let path = dir + "/pump.journal"
        var pump = try JournaledPump.create(at: path, controller: try runningController(), driver: RecordingDriver(), wallNanoseconds: wall())
        try pump.run(until: .zero + .hours(30), wallNanoseconds: wall(10))
        return path
    }

    @Test("missing file")
    func missing() throws {
        let dir = try temporaryDirectory()
        let e = journalError { _ = try Journal.open(at: dir + "/nope.journal") }
        #expect(e == .missingFile(path: dir + "/nope.journal"))
        #expect(e?.description.contains("restore it from its backup") == true)
        #expect(!FileManager.default.fileExists(atPath: dir + "/nope.journal"), "opening must not create a file")
    }

    @Test("a directory")
    func directory() throws {
        let dir = try temporaryDirectory()
        #expect(journalError { _ = try Journal.open(at: dir) } == .notAFile(path: dir))
    }

    @Test("empty file")
    func empty() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/empty.journal"
        FileManager.default.createFile(atPath: path, contents: Data())
        #expect(journalError { _ = try Journal.open(at: path) } == .emptyFile(path: path))
    }

    @Test("not SQLite at all")
    func notSQLite() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/notes.txt"
        FileManager.default.createFile(atPath: path, contents: Data(String(repeating: "pump notes\n", count: 500).utf8))
        #expect(journalError { _ = try Journal.open(at: path) } == .notSQLite(path: path))
    }

    @Test("truncated to half its size, and to a few bytes")
    func truncated() throws {
        let dir = try temporaryDirectory()
        let path = try Self.makeJournal(in: dir)
        try checkpointWAL(path)
        let data = try #require(FileManager.default.contents(atPath: path))
        #expect(data.count >= 4 * 4096)
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        // Remove the WAL too, as a copy of the main file alone would be.
        try? FileManager.default.removeItem(atPath: path + "-wal")
        guard case .truncated(_, let bytes, let expected)? = journalError({ _ = try Journal.open(at: path) }) else {
            Issue.record("expected .truncated"); return
        }
        #expect(bytes == Int64(data.count / 2) && expected == Int64(data.count))
        try data.prefix(50).write(to: URL(fileURLWithPath: path))
        #expect(journalError { _ = try Journal.open(at: path) } == .truncated(path: path, bytes: 50, expectedBytes: 100))
    }

    /// A crash during a WAL checkpoint that grew the file: page 1 (with the new page count) is written,
    /// the last page is not, and every page is still in the WAL. That journal is sound and must open
    /// and recover; "truncated" is only for a main file without its WAL (the kill test met this).
    @Test("a checkpoint cut off by a crash (main file shorter than its header, the pages in the WAL) opens and recovers")
    func checkpointCutOffByACrash() throws {
        let dir = try temporaryDirectory()
        let path = try Self.makeJournal(in: dir)
        try checkpointWAL(path)
        let before = try Journal.open(at: path, access: .readOnly).recover()
        let grown: Data, wal: Data, pageSize: Int
        do {
            let db = try SQLiteDatabase(path: path, mode: .readWrite)
            try db.execute("PRAGMA wal_autocheckpoint=0")
            // Grow the file by ~256 KiB of pages (freed again, so the journal's content is unchanged).
            try db.execute("CREATE TABLE pad(b BLOB)")
            try db.execute("INSERT INTO pad SELECT zeroblob(4000) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 64) SELECT i FROM n)")
            try db.execute("DROP TABLE pad")
            wal = try #require(FileManager.default.contents(atPath: path + "-wal"))
            try db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            grown = try #require(FileManager.default.contents(atPath: path))
            pageSize = Int(grown[16]) << 8 | Int(grown[17])
            db.close()
        }
        #expect(wal.count > 64 * 4000 && grown.count > 64 * 4000)
        // The state a crash mid-checkpoint leaves: the grown file without its last page, and the WAL.
        try grown.prefix(grown.count - pageSize).write(to: URL(fileURLWithPath: path))
        try wal.write(to: URL(fileURLWithPath: path + "-wal"))
        let j = try Journal.open(at: path, access: .readOnly)
        let after = try j.recover()
        #expect(after.controller.totalStrokes == before.controller.totalStrokes && after.lastSeen == before.lastSeen)
        #expect(try j.verify().isSound)
        // Anti-vacuity: the same file without its WAL is truncated.
        try FileManager.default.removeItem(atPath: path + "-wal")
        try? FileManager.default.removeItem(atPath: path + "-shm")
        guard case .truncated? = journalError({ _ = try Journal.open(at: path, access: .readOnly) }) else {
            Issue.record("expected .truncated without the WAL"); return
        }
    }

    @Test("corrupt bytes in the middle of the file")
    func corruptBytes() throws {
        let dir = try temporaryDirectory()
        let path = try Self.makeJournal(in: dir)
        try checkpointWAL(path)
        var data = try #require(FileManager.default.contents(atPath: path))
        // Overwrite page 2 onwards (the schema's b-tree pages) with garbage, keeping the header page.
        for i in 4096..<min(data.count, 3 * 4096) { data[i] = UInt8(truncatingIfNeeded: i &* 31 &+ 7) }
        try data.write(to: URL(fileURLWithPath: path))
        let e = journalError { _ = try Journal.open(at: path) }
        guard case .corrupt? = e else { Issue.record("expected .corrupt, got \(String(describing: e))"); return }
        #expect(e?.description.contains("restore the journal from its backup") == true)
    }

    @Test("a foreign SQLite database")
    func foreign() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/other.db"
        let db = try SQLiteDatabase(path: path, mode: .create)
        try db.execute("PRAGMA application_id=1234; CREATE TABLE songs(title TEXT); INSERT INTO songs VALUES ('x')")
        #expect(journalError { _ = try Journal.open(at: path) } == .foreignDatabase(path: path, applicationID: 1234))
        // Plain SQLite with no application id at all is foreign too.
        let plain = dir + "/plain.db"
        let db2 = try SQLiteDatabase(path: plain, mode: .create)
        try db2.execute("CREATE TABLE t(a)")
        #expect(journalError { _ = try Journal.open(at: plain) } == .foreignDatabase(path: plain, applicationID: 0))
    }

    @Test("a journal from a newer schema is refused, read-only and read-write, and left unchanged")
    func newerSchema() throws {
        let dir = try temporaryDirectory()
        let path = try Self.makeJournal(in: dir)
        do {
            let db = try SQLiteDatabase(path: path, mode: .readWrite)
            try db.execute("PRAGMA user_version=\(JournalSchema.version + 1)")
        }
        for access in [Journal.Access.readOnly, .readWrite] {
            #expect(journalError { _ = try Journal.open(at: path, access: access) }
                    == .newerSchema(path: path, found: JournalSchema.version + 1, supported: JournalSchema.version))
        }
        let db = try SQLiteDatabase(path: path, mode: .readOnly)
        #expect(try db.scalarInt("PRAGMA user_version") == JournalSchema.version + 1)
    }

    @Test("the runner refuses to resume on any bad file and does not create one")
    func runnerRefuses() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/missing.journal"
        #expect(throws: JournaledPumpError.self) {
            _ = try JournaledPump.resume(at: path, driver: RecordingDriver(), wallNanoseconds: wall())
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        FileManager.default.createFile(atPath: path, contents: Data())
        #expect(throws: JournaledPumpError.self) {
            _ = try JournaledPump.resume(at: path, driver: RecordingDriver(), wallNanoseconds: wall())
        }
        #expect(FileManager.default.contents(atPath: path)?.count == 0, "a bad file is left as it was")
    }

    @Test("create refuses to overwrite an existing file")
    func createExisting() throws {
        let dir = try temporaryDirectory()
        let path = try Self.makeJournal(in: dir)
        #expect(journalError { _ = try Journal.create(at: path, controller: try runningController(), wallNanoseconds: wall()) }
                == .alreadyExists(path: path))
    }

    /// Moves the WAL's content into the main file, as a clean shutdown would.
    func checkpointWAL(_ path: String) throws {
        let db = try SQLiteDatabase(path: path, mode: .readWrite)
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }
}
