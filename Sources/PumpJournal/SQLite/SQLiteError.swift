import CSQLite

/// A failed SQLite call: the operation, SQLite's extended result code and its message.
///
/// Used inside the journal; callers of the journal see `JournalError`, which says what to do.
public struct SQLiteError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was being done (`open`, `prepare`, `step`, the SQL's first words…).
    public var operation: String
    /// SQLite's extended result code (`SQLITE_CORRUPT` = 11, `SQLITE_NOTADB` = 26, …).
    public var code: Int32
    /// `sqlite3_errmsg` at the time of the failure.
    public var message: String

    /// The primary result code (the low 8 bits of the extended one).
    public var primaryCode: Int32 { code & 0xFF }
    /// The file is damaged (SQLITE_CORRUPT) or is not a database at all (SQLITE_NOTADB).
    public var isCorruption: Bool { primaryCode == SQLITE_CORRUPT || primaryCode == SQLITE_NOTADB }

    public var description: String { "\(operation): \(message) (SQLite code \(code))" }
}
