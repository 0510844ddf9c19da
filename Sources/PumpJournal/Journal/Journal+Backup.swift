import CSQLite

extension Journal {
    /// Copies this journal to a new file at `destination` with SQLite's online backup API: a
    /// consistent snapshot of the last commit, safe while a runner keeps writing (open the source
    /// read-only: a backup takes no writer lock). The copy is built under a temporary name (0600),
    /// made durable, renamed into place and checked with `verify()`, whose result is returned.
    ///
    /// Copying the files by hand is what this replaces: a copy of the main file without its `-wal`
    /// loses the last commits. The copy holds everything in its main file and no writer's "open" mark.
    /// Refuses an existing `destination` (`alreadyExists`).
    public func backup(to destination: String) throws(JournalError) -> JournalVerification {
        if JournalFile.exists(destination) { throw .alreadyExists(path: destination) }
        let building = destination + ".creating"
        for suffix in ["", "-wal", "-shm"] { JournalFile.remove(building + suffix) }
        do throws(JournalError) {
            try JournalFile.createPrivate(building)
            do throws(SQLiteError) {
                let copy = try SQLiteDatabase(path: building, mode: .readWrite)
                try copy.execute("PRAGMA synchronous=FULL")
                try db.backup(into: copy)
                _ = try copy.texts("PRAGMA journal_mode=WAL")
                try copy.execute("DELETE FROM meta WHERE key = '\(Self.openMarkKey)'")
                _ = try copy.texts("PRAGMA wal_checkpoint(TRUNCATE)")
                copy.close()
            } catch { throw JournalError.from(error, path: destination) }
            try JournalFile.rename(building, to: destination)
        } catch {
            for suffix in ["", "-wal", "-shm"] { JournalFile.remove(building + suffix) }
            throw error
        }
        let copy = try Journal.open(at: destination, access: .readOnly)
        defer { try? copy.close() }
        return try copy.verify()
    }
}
