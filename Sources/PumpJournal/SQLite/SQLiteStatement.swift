import CSQLite

/// One compiled statement: bind parameters (1-based), step through rows, read columns (0-based).
/// Finalized in `deinit`.
final class SQLiteStatement {
    let handle: OpaquePointer
    let database: SQLiteDatabase

    init(_ handle: OpaquePointer, database: SQLiteDatabase) {
        self.handle = handle
        self.database = database
    }

    deinit { sqlite3_finalize(handle) }

    private func check(_ rc: Int32, _ what: String) throws(SQLiteError) {
        guard rc == SQLITE_OK else { throw database.error(what, rc) }
    }

    func bind(_ index: Int32, _ value: Int64) throws(SQLiteError) {
        try check(sqlite3_bind_int64(handle, index, value), "bind #\(index)")
    }
    func bind(_ index: Int32, _ value: Int64?) throws(SQLiteError) {
        if let value { try bind(index, value) } else { try check(sqlite3_bind_null(handle, index), "bind #\(index)") }
    }
    func bind(_ index: Int32, _ value: String) throws(SQLiteError) {
        try check(sqlite3_bind_text(handle, index, value, -1, csqlite_transient()), "bind #\(index)")
    }
    func bind(_ index: Int32, _ value: String?) throws(SQLiteError) {
        if let value { try bind(index, value) } else { try check(sqlite3_bind_null(handle, index), "bind #\(index)") }
    }

    /// Binds every value in order from parameter 1.
    func bindAll(_ values: [SQLiteValue]) throws(SQLiteError) {
        for (i, v) in values.enumerated() {
            let index = Int32(i + 1)
            switch v {
            case let .int(x): try bind(index, x)
            case let .text(x): try bind(index, x)
            case .null: try check(sqlite3_bind_null(handle, index), "bind #\(index)")
            }
        }
    }

    /// Advances to the next row: true if there is one, false when done.
    func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw database.error("step \(String(cString: sqlite3_sql(handle)).prefix(60))", rc)
        }
    }

    /// Steps a statement that returns no rows.
    func run() throws(SQLiteError) { _ = try step() }

    func reset() { sqlite3_reset(handle); sqlite3_clear_bindings(handle) }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func optionalInt(_ column: Int32) -> Int64? { isNull(column) ? nil : int(column) }
    func text(_ column: Int32) -> String? {
        guard let p = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: p)
    }
}

/// A value to bind.
enum SQLiteValue {
    case int(Int64)
    case text(String)
    case null
}
