import CSQLite

/// One connection to an SQLite database file: the only place the journal calls SQLite's C API for
/// connections (statements are in `SQLiteStatement`). Closed in `deinit`.
///
/// Not `Sendable`: a connection belongs to one task or thread at a time.
final class SQLiteDatabase {
    /// How the file is opened.
    enum Mode {
        /// Read only; the file must exist.
        case readOnly
        /// Read only with SQLite's `immutable=1`: no locks, no `-shm`, no `-wal` (for a journal on
        /// read-only storage whose writer stopped cleanly; nothing may write the file meanwhile).
        case readOnlyImmutable
        /// Read and write; the file must exist.
        case readWrite
        /// Read and write, creating the file if it does not exist.
        case create
    }

    let handle: OpaquePointer
    let path: String

    init(path: String, mode: Mode) throws(SQLiteError) {
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE
        var name = path
        switch mode {
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .readOnlyImmutable:
            flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
            name = "file:" + Self.uriPath(path) + "?immutable=1"
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .create: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        }
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(name, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(operation: "open \(path)", code: rc, message: message)
        }
        sqlite3_extended_result_codes(db, 1)
        // A writer waiting on a reader (history, verify) retries for up to 5 s instead of failing.
        sqlite3_busy_timeout(db, 5_000)
        self.handle = db
        self.path = path
    }

    private var isOpen = true

    deinit { close() }

    /// Closes the connection (the last connection to a WAL database folds the WAL in and removes the
    /// -wal). Every later call fails with SQLITE_MISUSE. Idempotent.
    func close() {
        guard isOpen else { return }
        isOpen = false
        sqlite3_close_v2(handle)
    }

    private func checkOpen(_ operation: String) throws(SQLiteError) {
        guard isOpen else { throw SQLiteError(operation: operation, code: SQLITE_MISUSE, message: "the connection is closed") }
    }

    /// `path` as the path of a `file:` URI: `%`, `?` and `#` percent-encoded.
    static func uriPath(_ path: String) -> String {
        var out = ""
        for ch in path.unicodeScalars {
            switch ch {
            case "%": out += "%25"
            case "?": out += "%3f"
            case "#": out += "%23"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// Copies this whole database into `destination` with SQLite's online backup API
    /// (`sqlite3_backup_*`): a consistent snapshot of the last commit, taken while a writer keeps
    /// committing. All pages are copied in one step, inside one read transaction: in WAL mode that
    /// never blocks the writer, and the copy is never restarted by the writer's commits (as a copy in
    /// several steps would be). Retries a busy source for up to `busyRetries` × 10 ms.
    func backup(into destination: SQLiteDatabase, busyRetries: Int = 1_000) throws(SQLiteError) {
        guard let b = sqlite3_backup_init(destination.handle, "main", handle, "main") else {
            throw destination.error("backup_init", sqlite3_errcode(destination.handle))
        }
        var retries = 0
        while true {
            let rc = sqlite3_backup_step(b, -1)
            if rc == SQLITE_DONE { break }
            if rc == SQLITE_OK { continue }
            if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && retries < busyRetries {
                retries += 1
                sqlite3_sleep(10)
                continue
            }
            sqlite3_backup_finish(b)
            throw destination.error("backup_step", rc)
        }
        let rc = sqlite3_backup_finish(b)
        guard rc == SQLITE_OK else { throw destination.error("backup_finish", rc) }
    }

    func error(_ operation: String, _ rc: Int32) -> SQLiteError {
        SQLiteError(operation: operation, code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)))
    }

    /// Runs one or more statements that return no rows needed by the caller.
    func execute(_ sql: String) throws(SQLiteError) {
        try checkOpen(String(sql.prefix(60)))
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error(String(sql.prefix(60)), rc) }
    }

    /// Compiles one statement.
    func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        try checkOpen("prepare \(sql.prefix(60))")
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error("prepare \(sql.prefix(60))", rc) }
        return SQLiteStatement(stmt, database: self)
    }

    /// The first column of the first row of `sql` as an integer (nil if there is no row or it is NULL).
    func scalarInt(_ sql: String) throws(SQLiteError) -> Int64? {
        let s = try prepare(sql)
        guard try s.step() else { return nil }
        return s.isNull(0) ? nil : s.int(0)
    }

    /// Every row's first column of `sql` as text.
    func texts(_ sql: String) throws(SQLiteError) -> [String] {
        let s = try prepare(sql)
        var out: [String] = []
        while try s.step() { out.append(s.text(0) ?? "NULL") }
        return out
    }

    /// Runs `body` in one `BEGIN IMMEDIATE … COMMIT` transaction; rolls back if it throws. With
    /// `synchronous=FULL` in WAL mode, `COMMIT` returns only after the WAL is on stable storage.
    func transaction<T>(_ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
            throw error
        }
    }

    /// Runs `body` inside one read transaction (one snapshot of the database, however many
    /// statements `body` runs, while a writer keeps committing). Inside a transaction already, just
    /// runs `body`.
    func snapshot<T>(_ body: () throws -> T) throws -> T {
        guard sqlite3_get_autocommit(handle) != 0 else { return try body() }
        try execute("BEGIN DEFERRED")
        defer { _ = sqlite3_exec(handle, "COMMIT", nil, nil, nil) }
        return try body()
    }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
}
