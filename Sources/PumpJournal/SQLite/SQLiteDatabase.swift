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
        /// Read and write; the file must exist.
        case readWrite
        /// Read and write, creating the file if it does not exist.
        case create
    }

    let handle: OpaquePointer
    let path: String

    init(path: String, mode: Mode) throws(SQLiteError) {
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE
        switch mode {
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .create: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        }
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
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

    deinit { sqlite3_close_v2(handle) }

    func error(_ operation: String, _ rc: Int32) -> SQLiteError {
        SQLiteError(operation: operation, code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)))
    }

    /// Runs one or more statements that return no rows needed by the caller.
    func execute(_ sql: String) throws(SQLiteError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error(String(sql.prefix(60)), rc) }
    }

    /// Compiles one statement.
    func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
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

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
}
