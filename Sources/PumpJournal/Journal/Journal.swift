import CSQLite
import Foundation
import PumpCore

/// The pump's durable therapy journal: one SQLite file in WAL mode with `synchronous=FULL`, so a
/// commit returns only once it is on stable storage and a power cut loses nothing committed.
///
/// What it holds: every command with its acceptance or refusal, every `Event` the controller
/// produced, full checkpoints of the controller's state (at every command, every event, at least every
/// N strokes, at every restart) and one `progress` row updated by every committed step in between.
///
/// The write-ahead rule (what makes recovery conservative): a caller commits the controller state
/// *after* a step — including the strokes the step commands — *before* it carries those strokes out,
/// sounds alarms or replies. A crash can then only leave strokes committed but not given, never given
/// but not committed, so the recovered reservoir estimate is never above the truth. `JournaledPump`
/// follows the rule; a caller using `Journal` directly must too.
///
/// Not `Sendable`: one owner (one task or thread) at a time. Readers (`itpump history`) may open the
/// same file read-only while a runner writes it.
public final class Journal {
    /// How a journal is opened.
    public enum Access: Sendable {
        /// For interrogation and verification; never writes, never migrates.
        case readOnly
        /// For the runner; migrates an older schema.
        case readWrite
    }

    public let path: String
    public let access: Access
    let db: SQLiteDatabase
    let encoder: JSONEncoder
    let decoder = JSONDecoder()
    /// Strokes at the last full checkpoint (the periodic-checkpoint clock).
    var strokesAtCheckpoint: Int64 = 0
    var lastCheckpointSeq: Int64 = 0
    var lastEventAt = Instant(nanoseconds: .min)
    /// Instant of the last full checkpoint (the replay-span clock).
    var checkpointAt = Instant(nanoseconds: .min)
    /// The writer lock, held by a read-write journal until `close()`.
    var lock: JournalLock?
    /// Set by `close()`: nothing more is read or written.
    var closed = false
    /// Commits since the last WAL checkpoint.
    var commitsSinceWALCheckpoint = 0

    private init(path: String, access: Access, db: SQLiteDatabase) {
        self.path = path
        self.access = access
        self.db = db
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        self.encoder = e
    }

    // MARK: - Create and open

    /// Creates a new journal at `path` holding `controller` as its first checkpoint. Refuses to touch
    /// an existing file (`alreadyExists`).
    ///
    /// The journal is built complete (schema and first checkpoint) under a temporary name and then
    /// renamed into place, so a crash during creation never leaves a half-made journal at `path`.
    public static func create(at path: String, controller: PumpController, wallNanoseconds: Int64) throws(JournalError) -> Journal {
        let lock = try JournalLock(journal: path)
        if JournalFile.exists(path) { throw .alreadyExists(path: path) }
        let building = path + ".creating"
        for suffix in ["", "-wal", "-shm"] { JournalFile.remove(building + suffix) }
        do throws(JournalError) {
            try build(at: building, controller: controller, wallNanoseconds: wallNanoseconds)
            try JournalFile.rename(building, to: path)
        } catch {
            for suffix in ["", "-wal", "-shm"] { JournalFile.remove(building + suffix) }
            throw error
        }
        return try open(at: path, access: .readWrite, lock: lock)
    }

    static func build(at path: String, controller: PumpController, wallNanoseconds: Int64) throws(JournalError) {
        let db: SQLiteDatabase
        // Owner-only from the first byte: SQLite gives the -wal and -shm files the main file's mode.
        try JournalFile.createPrivate(path)
        do throws(SQLiteError) {
            db = try SQLiteDatabase(path: path, mode: .create)
            try db.execute("PRAGMA journal_mode=WAL")
            try configure(db)
            try db.transaction { () throws(SQLiteError) in
                try db.execute("PRAGMA application_id=\(JournalSchema.applicationID)")
                try applyMigrations(db, from: 0)
                let meta = try db.prepare("INSERT INTO meta(key, value) VALUES (?, ?)")
                for (k, v) in [("format", "itpump journal"), ("profile", controller.profile.name),
                               ("created_wall_ns", String(wallNanoseconds))] {
                    try meta.bindAll([.text(k), .text(v)])
                    try meta.run()
                    meta.reset()
                }
            }
        } catch { throw .io(path: path, detail: "could not create the journal: \(error)") }
        let journal = Journal(path: path, access: .readWrite, db: db)
        try journal.write { () throws(SQLiteError) in
            try journal.insertCheckpoint(controller, wallNanoseconds: wallNanoseconds, reason: "created", inDoubt: 0)
        }
        // Fold the WAL into the main file before the rename: the -wal file keeps the old name.
        do throws(SQLiteError) { try db.execute("PRAGMA wal_checkpoint(TRUNCATE)") } catch { throw JournalError.from(error, path: path) }
    }

    /// Opens an existing journal, after checking that it is an intact itpump journal this build can
    /// read: a missing, empty, truncated, corrupt, foreign or newer-schema file throws the matching
    /// `JournalError` and is left untouched. `readWrite` migrates an older schema.
    ///
    /// `readWrite` takes the journal's writer lock (`JournalLock`) and holds it until `close()`: a
    /// second writer is refused with `.locked`, naming the holder's PID. It then marks the main file
    /// "open" (folded into the main file at once, cleared by `close()`), so a copy of the main file
    /// taken without its `-wal` while a writer had it open is refused (`.walMissing`) instead of
    /// silently recovering an older state. `readOnly` takes no lock and never writes; on read-only
    /// storage (where SQLite cannot create the `-shm`) a journal without a `-wal` is read as immutable.
    public static func open(at path: String, access: Access = .readWrite) throws(JournalError) -> Journal {
        try open(at: path, access: access, lock: nil)
    }

    static func open(at path: String, access: Access, lock given: JournalLock?) throws(JournalError) -> Journal {
        // Checked before locking too, so a missing or bad file leaves no lock file behind.
        try JournalFile.check(path)
        var lock = given
        if access == .readWrite, lock == nil { lock = try JournalLock(journal: path) }
        try JournalFile.check(path)
        // Before SQLite sees the file: a read-write connection creates a missing -wal.
        let walPresent = JournalFile.exists(path + "-wal")
        var db: SQLiteDatabase
        do throws(SQLiteError) {
            db = try SQLiteDatabase(path: path, mode: access == .readOnly ? .readOnly : .readWrite)
            do throws(SQLiteError) { _ = try db.scalarInt("PRAGMA application_id") } catch {
                // Read-only storage: SQLite cannot create the -shm ("attempt to write a readonly
                // database"). Without a -wal, everything is in the main file: read it as immutable.
                let primary = error.primaryCode
                guard access == .readOnly, !walPresent, primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN else { throw error }
                db = try SQLiteDatabase(path: path, mode: .readOnlyImmutable)
            }
        } catch {
            if access == .readOnly, walPresent, error.primaryCode == SQLITE_READONLY || error.primaryCode == SQLITE_CANTOPEN {
                throw .io(path: path, detail: "cannot read it on read-only storage with its -wal but no -shm (\(error)); copy the "
                    + "journal with its -wal to writable storage, or read it where it was written")
            }
            throw JournalError.from(error, path: path)
        }
        do throws(any Error) {
            let appID = Int32(truncatingIfNeeded: try db.scalarInt("PRAGMA application_id") ?? 0)
            guard appID == JournalSchema.applicationID else { throw JournalError.foreignDatabase(path: path, applicationID: appID) }
            let version = try db.scalarInt("PRAGMA user_version") ?? 0
            if version > JournalSchema.version {
                throw JournalError.newerSchema(path: path, found: version, supported: JournalSchema.version)
            }
            let quick = try db.texts("PRAGMA quick_check")
            guard quick == ["ok"] else { throw JournalError.corrupt(path: path, detail: "quick_check: " + quick.prefix(5).joined(separator: "; ")) }
            if access == .readWrite {
                try configure(db)
                if version < JournalSchema.version {
                    try db.transaction { () throws(SQLiteError) in try applyMigrations(db, from: version) }
                }
            } else if version < JournalSchema.version {
                throw JournalError.olderSchema(path: path, found: version, current: JournalSchema.version)
            }
            let tables = Set(try db.texts("SELECT name FROM sqlite_schema WHERE type = 'table'"))
            let missing = JournalSchema.requiredTables.filter { !tables.contains($0) }
            guard missing.isEmpty else {
                throw JournalError.invariantViolated(path: path, problems: ["missing tables: " + missing.joined(separator: ", ")])
            }
        } catch let e as JournalError {
            throw e
        } catch let e as SQLiteError {
            throw JournalError.from(e, path: path)
        } catch {
            throw JournalError.io(path: path, detail: "\(error)")
        }
        let journal = Journal(path: path, access: access, db: db)
        journal.lock = lock
        let openedBy: String?
        do throws(any Error) {
            try journal.loadCounters()
            openedBy = try db.texts("SELECT value FROM meta WHERE key = '\(openMarkKey)'").first
        } catch let e as JournalError { throw e } catch let e as SQLiteError { throw JournalError.from(e, path: path) } catch {
            throw JournalError.io(path: path, detail: "\(error)")
        }
        // The mark with no -wal: a copy of the main file alone. (A reader that looked just before a
        // runner started sees the runner's own mark: the runner holds the lock.)
        if let openedBy, !walPresent, !(access == .readOnly && JournalLock.isHeld(journal: path)) {
            journal.closed = true
            db.close()
            // Opening created an empty -wal; left there, it would let the next open accept the copy.
            JournalFile.removeIfEmpty(path + "-wal")
            throw JournalError.walMissing(path: path, openedBy: openedBy)
        }
        if access == .readWrite { try journal.markOpen() }
        return journal
    }

    /// Reads the checkpoint and event clocks a writer continues from.
    func loadCounters() throws(SQLiteError) {
        let s = try db.prepare("""
            SELECT checkpoint_seq, (SELECT strokes FROM checkpoints WHERE seq = checkpoint_seq),
                   (SELECT at_ns FROM checkpoints WHERE seq = checkpoint_seq) FROM progress WHERE id = 1
            """)
        if try s.step() {
            lastCheckpointSeq = s.int(0)
            strokesAtCheckpoint = s.optionalInt(1) ?? 0
            checkpointAt = Instant(nanoseconds: s.optionalInt(2) ?? .min)
        }
        lastEventAt = Instant(nanoseconds: try db.scalarInt("SELECT max(at_ns) FROM events") ?? .min)
    }

    /// The `meta` key present while a writer has the journal open (value: who, since when).
    static let openMarkKey = "open_by"

    /// Writes the "open" mark and folds the WAL into the main file, so the main file alone says that
    /// later commits may sit in the `-wal`.
    func markOpen() throws(JournalError) {
        let who = "process \(getpid()), opened \(Date(timeIntervalSince1970: Double(Self.wallNow()) / 1e9))"
        try write { () throws(SQLiteError) in
            let s = try db.prepare("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            try s.bindAll([.text(Self.openMarkKey), .text(who)])
            try s.run()
        }
        try foldWAL()
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)`: every committed frame into the main file (fsynced), the
    /// -wal emptied. Waits for readers up to the busy timeout; fails if one still holds old frames.
    func foldWAL() throws(JournalError) {
        do throws(SQLiteError) {
            let s = try db.prepare("PRAGMA wal_checkpoint(TRUNCATE)")
            guard try s.step(), s.int(0) == 0 else {
                throw SQLiteError(operation: "wal_checkpoint(TRUNCATE)", code: SQLITE_BUSY,
                                  message: "a reader kept the WAL from being folded into the main file; retry")
            }
        } catch { throw JournalError.from(error, path: path) }
        commitsSinceWALCheckpoint = 0
    }

    /// Ends a read-write journal cleanly: clears the "open" mark, folds the WAL into the main file,
    /// closes the connection (SQLite then removes the -wal) and releases the writer lock. Nothing can
    /// be written afterwards. A read-only journal just closes. Idempotent; `deinit` calls it.
    public func close() throws(JournalError) {
        guard !closed else { return }
        defer {
            closed = true
            db.close()
            lock = nil
        }
        guard access == .readWrite else { return }
        try write { () throws(SQLiteError) in try db.execute("DELETE FROM meta WHERE key = '\(Self.openMarkKey)'") }
        try foldWAL()
    }

    deinit { try? close() }

    /// Leaves the journal as a killed process would: the connection closed without folding the WAL in
    /// (the -wal and the "open" mark stay), the writer lock released. For tests of crash and restart
    /// within one process.
    func abandon() {
        guard !closed else { return }
        closed = true
        _ = csqlite_no_checkpoint_on_close(db.handle, 1)
        db.close()
        lock = nil
    }

    static func wallNow() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }

    /// Brings the journal at `path` to the current schema. Returns the versions before and after.
    @discardableResult
    public static func migrate(at path: String) throws(JournalError) -> (from: Int64, to: Int64) {
        try JournalFile.check(path)
        let before: Int64
        do throws(SQLiteError) {
            let db = try SQLiteDatabase(path: path, mode: .readOnly)
            before = try db.scalarInt("PRAGMA user_version") ?? 0
        } catch { throw JournalError.from(error, path: path) }
        _ = try open(at: path, access: .readWrite)
        return (before, JournalSchema.version)
    }

    /// Per-connection settings: full fsync on every commit, and corruption checks while reading.
    static func configure(_ db: SQLiteDatabase) throws(SQLiteError) {
        let mode = try db.texts("PRAGMA journal_mode=WAL")
        guard mode == ["wal"] else {
            throw SQLiteError(operation: "PRAGMA journal_mode=WAL", code: 1, message: "journal mode is \(mode), WAL is required")
        }
        // No automatic WAL checkpoints: one would run inside a COMMIT, after the commit is durable and
        // before the caller carries out the step's strokes, widening the window in which a crash leaves
        // committed strokes not given. `checkpointIfDue()` runs them after the strokes instead.
        try db.execute("""
            PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0; PRAGMA cell_size_check=ON; PRAGMA trusted_schema=OFF;
            PRAGMA foreign_keys=ON
            """)
    }

    static func applyMigrations(_ db: SQLiteDatabase, from version: Int64) throws(SQLiteError) {
        for (i, sql) in JournalSchema.migrations.enumerated() where Int64(i + 1) > version {
            try db.execute(sql)
            try db.execute("PRAGMA user_version=\(i + 1)")
        }
    }

    /// The schema version stored in the file.
    public func schemaVersion() throws(JournalError) -> Int64 {
        do throws(SQLiteError) { return try db.scalarInt("PRAGMA user_version") ?? 0 } catch { throw JournalError.from(error, path: path) }
    }

    // MARK: - Writing (each call is one durable transaction)

    func write<T>(_ body: () throws(SQLiteError) -> T) throws(JournalError) -> T {
        guard access == .readWrite else { throw .io(path: path, detail: "the journal was opened read-only and cannot be written") }
        guard !closed else { throw .io(path: path, detail: "the journal was closed and cannot be written") }
        do throws(SQLiteError) {
            let value = try db.transaction(body)
            commitsSinceWALCheckpoint += 1
            return value
        } catch { throw JournalError.from(error, path: path) }
    }

    /// Copies the WAL back into the main file once `every` commits have accumulated (a passive
    /// checkpoint: it never waits for readers). Call when nothing committed is waiting to be carried out.
    public func checkpointIfDue(every: Int = 256) throws(JournalError) {
        guard access == .readWrite, !closed, commitsSinceWALCheckpoint >= every else { return }
        do throws(SQLiteError) { try db.execute("PRAGMA wal_checkpoint(PASSIVE)") } catch { throw JournalError.from(error, path: path) }
        commitsSinceWALCheckpoint = 0
    }

    func json<T: Encodable>(_ value: T) throws(SQLiteError) -> String {
        do { return String(decoding: try encoder.encode(value), as: UTF8.self) } catch {
            throw SQLiteError(operation: "encode \(T.self)", code: 1, message: "\(error)")
        }
    }

    /// Journals `command`, its outcome and every event of `response`, and the state after it (`state`),
    /// in one transaction. Returns the command's sequence number.
    ///
    /// An accepted command, or a refusal that changed the state (it raised the interlock-refusal
    /// alarm), writes a full checkpoint of `state` (about 15 KiB). A refusal that changed nothing but
    /// the time (the alarm already active) stores only the command, its `commandRefused` event and the
    /// `progress` row (about 0.5 KiB): recovery reproduces its state by replay. So a client repeating
    /// a refused command grows the journal by its text, not by a checkpoint each time.
    ///
    /// Call before carrying out the response's strokes or replying to the sender.
    @discardableResult
    public func recordCommand(_ command: Command, source: String, response: CommandResponse, state: PumpController,
                              wallNanoseconds: Int64) throws(JournalError) -> Int64 {
        let strokes = response.effects.strokeCount
        let stateUnchanged = !response.isAccepted && strokes == 0 && response.effects.allSatisfy {
            if case let .event(e) = $0, case .commandRefused = e.kind { return true }
            if case .event = $0 { return false }
            return true
        }
        return try write { () throws(SQLiteError) -> Int64 in
            let s = try db.prepare("""
                INSERT INTO commands(at_ns, wall_ns, source, summary, command, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            let detail: String
            switch response.result {
            case let .success(a): detail = "\(a)"
            case let .failure(r): detail = r.description
            }
            try s.bindAll([.int(state.now.nanoseconds), .int(wallNanoseconds), .text(source), .text(command.description),
                           .text(try json(command)), .text(response.isAccepted ? "accepted" : "refused"), .text(detail)])
            try s.run()
            let seq = db.lastInsertRowID
            try insertEvents(response.effects, commandSeq: seq)
            if stateUnchanged && !checkpointDue(state, strokeInterval: Self.maxStrokesBetweenCheckpoints) {
                try updateProgress(state, inDoubt: 0, wallNanoseconds: wallNanoseconds)
            } else {
                try insertCheckpoint(state, wallNanoseconds: wallNanoseconds, reason: "command", inDoubt: strokes)
            }
            return seq
        }
    }

    /// Recovery replays at most this many strokes minus one after a full checkpoint: a periodic
    /// checkpoint is written at `min(checkpointInterval, this)` strokes.
    public static let maxStrokesBetweenCheckpoints: Int64 = 4_096
    /// Recovery replays at most this much controller time after a full checkpoint: a step or a
    /// refusal that would reach past it writes a full checkpoint instead of the `progress` row.
    public static let maxReplaySpan = TimeSpan.hours(24)

    /// True when the `progress` row may not carry `state`: too many strokes or too long since the last
    /// full checkpoint for recovery's replay bound.
    func checkpointDue(_ state: PumpController, strokeInterval: Int64) -> Bool {
        let (span, overflow) = state.now.nanoseconds.subtractingReportingOverflow(checkpointAt.nanoseconds)
        return overflow || span >= Self.maxReplaySpan.nanoseconds
            || state.totalStrokes - strokesAtCheckpoint >= min(max(1, strokeInterval), Self.maxStrokesBetweenCheckpoints)
    }

    func updateProgress(_ state: PumpController, inDoubt: Int64, wallNanoseconds: Int64) throws(SQLiteError) {
        let s = try db.prepare("UPDATE progress SET strokes = ?, in_doubt = ?, at_ns = ?, wall_ns = ? WHERE id = 1")
        try s.bindAll([.int(state.totalStrokes), .int(inDoubt), .int(state.now.nanoseconds), .int(wallNanoseconds)])
        try s.run()
    }

    /// Journals one step of the controller (`effects` of advancing or sensing, `state` after it).
    /// Events and strokes due: a full checkpoint when the step has an event or `checkpointInterval`
    /// strokes have passed since the last one; otherwise only the `progress` row (recovery replays the
    /// strokes from the last full checkpoint).
    ///
    /// Call before carrying out the step's strokes and alerts.
    public func recordStep(_ effects: [Effect], state: PumpController, wallNanoseconds: Int64,
                           checkpointInterval: Int64) throws(JournalError) {
        let events = effects.contains { if case .event = $0 { return true } else { return false } }
        let strokes = effects.strokeCount
        try write { () throws(SQLiteError) in
            try insertEvents(effects, commandSeq: nil)
            if events || checkpointDue(state, strokeInterval: checkpointInterval) {
                try insertCheckpoint(state, wallNanoseconds: wallNanoseconds, reason: events ? "event" : "strokes", inDoubt: strokes)
            } else {
                try updateProgress(state, inDoubt: strokes, wallNanoseconds: wallNanoseconds)
            }
        }
    }

    /// Journals a restart: the downtime, the recovery's events and the resumed state.
    public func recordRestart(_ report: DowntimeReport, recovered: RecoveredState, state: PumpController,
                              wallNanoseconds: Int64) throws(JournalError) {
        try write { () throws(SQLiteError) in
            let s = try db.prepare("""
                INSERT INTO restarts(last_seen_ns, resumed_ns, last_wall_ns, wall_ns, duration_known, missed_pg,
                                     strokes_in_doubt, requires_confirmation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            try s.bindAll([.int(report.lastSeen.nanoseconds), .int(report.resumedAt.nanoseconds), .int(recovered.lastWallNanoseconds),
                           .int(wallNanoseconds), .int(report.durationKnown ? 1 : 0), .int(report.missedPicograms),
                           .int(recovered.strokesInDoubt), .int(report.requiresConfirmation ? 1 : 0)])
            try s.run()
            try insertEvents(report.effects, commandSeq: nil)
            try insertCheckpoint(state, wallNanoseconds: wallNanoseconds, reason: "restart", inDoubt: 0)
        }
    }

    func insertEvents(_ effects: [Effect], commandSeq: Int64?) throws(SQLiteError) {
        var stmt: SQLiteStatement?
        for case let .event(e) in effects {
            let s: SQLiteStatement
            if let prepared = stmt { s = prepared } else {
                s = try db.prepare("INSERT INTO events(at_ns, kind, critical, text, body, command_seq) VALUES (?, ?, ?, ?, ?, ?)")
                stmt = s
            }
            try s.bindAll([.int(e.at.nanoseconds), .text(e.kind.journalName), .int(e.kind.isCritical ? 1 : 0),
                           .text(EventFormatter.describe(e.kind)), .text(try json(e)), commandSeq.map { .int($0) } ?? .null])
            try s.run()
            s.reset()
            lastEventAt = max(lastEventAt, e.at)
        }
    }

    func insertCheckpoint(_ state: PumpController, wallNanoseconds: Int64, reason: String, inDoubt: Int64) throws(SQLiteError) {
        let strokes = state.totalStrokes
        let lastEvent = try db.scalarInt("SELECT max(seq) FROM events") ?? 0
        let s = try db.prepare("""
            INSERT INTO checkpoints(at_ns, wall_ns, strokes, reservoir_nl, capacity_nl, reason, last_event_seq, state)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try s.bindAll([.int(state.now.nanoseconds), .int(wallNanoseconds), .int(strokes), .int(state.reservoir.estimate.nanolitres),
                       .int(state.reservoir.capacity.nanolitres), .text(reason), .int(lastEvent), .text(try json(state))])
        try s.run()
        let seq = db.lastInsertRowID
        // Periodic checkpoints only bound the replay: keep the newest. The others mark a command, an
        // event or a restart and stay as the state history.
        try db.execute("DELETE FROM checkpoints WHERE reason = 'strokes' AND seq < \(seq)")
        let p = try db.prepare("""
            INSERT INTO progress(id, checkpoint_seq, strokes, in_doubt, at_ns, wall_ns) VALUES (1, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET checkpoint_seq = excluded.checkpoint_seq, strokes = excluded.strokes,
                in_doubt = excluded.in_doubt, at_ns = excluded.at_ns, wall_ns = excluded.wall_ns
            """)
        try p.bindAll([.int(seq), .int(strokes), .int(inDoubt), .int(state.now.nanoseconds), .int(wallNanoseconds)])
        try p.run()
        strokesAtCheckpoint = strokes
        checkpointAt = state.now
        lastCheckpointSeq = seq
    }
}

extension Array where Element == Effect {
    /// Strokes among the effects.
    var strokeCount: Int64 { Int64(reduce(0) { if case .stroke = $1 { return $0 + 1 } else { return $0 } }) }
}
