/// Why a journal cannot be used, each with what to do about it. A runner that gets any of these at
/// start must refuse to start: starting with a fresh journal would lose the patient's history (the
/// reservoir estimate, the dose history, the screening and priming state).
public enum JournalError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No file at the path.
    case missingFile(path: String)
    /// The path exists but is a directory or another non-regular file.
    case notAFile(path: String)
    /// The file has zero bytes.
    case emptyFile(path: String)
    /// The file does not start with SQLite's header: it is not an SQLite database.
    case notSQLite(path: String)
    /// The file is shorter than its own header says (`expectedBytes`): cut off by a copy, a full disk
    /// or a bad card.
    case truncated(path: String, bytes: Int64, expectedBytes: Int64)
    /// SQLite reports damage (`integrity_check`, `SQLITE_CORRUPT`, `SQLITE_NOTADB`).
    case corrupt(path: String, detail: String)
    /// A valid SQLite database that is not an itpump journal (another application id).
    case foreignDatabase(path: String, applicationID: Int32)
    /// Written by a newer itpump whose schema this build does not know.
    case newerSchema(path: String, found: Int64, supported: Int64)
    /// An older schema opened read-only: it must be migrated first.
    case olderSchema(path: String, found: Int64, current: Int64)
    /// `create` found a file already there.
    case alreadyExists(path: String)
    /// The file is an itpump journal but breaks the journal's own invariants (see `verify`).
    case invariantViolated(path: String, problems: [String])
    /// A checkpoint's controller state does not decode.
    case undecodableCheckpoint(path: String, seq: Int64, detail: String)
    /// Replaying the strokes after the last full checkpoint did not reproduce the committed progress.
    case replayDiverged(path: String, checkpointSeq: Int64, expectedStrokes: Int64, replayedStrokes: Int64)
    /// Another process holds the journal's writer lock (`JOURNAL.lock`): only one runner, migration
    /// or journaled loop may write a journal at a time. `holderPID` is the PID written in the lock file.
    case locked(path: String, holderPID: Int32?)
    /// The main file says a writer had it open and did not close it cleanly (`openedBy`), but no
    /// `-wal` file is beside it: a copy made without its `-wal`, whose last commits are missing.
    case walMissing(path: String, openedBy: String)
    /// A read or write failed for a reason other than damage (permissions, full disk, I/O error).
    case io(path: String, detail: String)

    public var description: String {
        switch self {
        case let .missingFile(p):
            return "no journal at \(p). If this is a new pump, create its journal explicitly (itpump run --create-journal); "
                + "if the pump had one, restore it from its backup — never start without the patient's history"
        case let .notAFile(p):
            return "\(p) is not a regular file; give the path of the journal file itself"
        case let .emptyFile(p):
            return "\(p) is empty (0 bytes): not a journal (creation was cut off, or the file was truncated). "
                + "Restore the journal from its backup; delete the file only if this pump never delivered therapy"
        case let .notSQLite(p):
            return "\(p) is not an SQLite database (no SQLite header): wrong file? Check the path; restore the journal from its backup"
        case let .truncated(p, bytes, expected):
            return "\(p) is truncated: \(bytes) bytes but its header describes \(expected). Do not start on it: restore the journal "
                + "from its backup, and keep this file for investigation"
        case let .corrupt(p, detail):
            return "\(p) is corrupt (\(detail)). Do not start on it: restore the journal from its backup, keep this file for "
                + "investigation, and reconcile the reservoir at the next refill"
        case let .foreignDatabase(p, id):
            return "\(p) is an SQLite database but not an itpump journal (application id \(id), expected \(JournalSchema.applicationID)): "
                + "wrong file? Check the path"
        case let .newerSchema(p, found, supported):
            return "\(p) was written by a newer itpump (journal schema \(found); this build reads up to \(supported)). "
                + "Run the itpump that wrote it, or a newer one; never downgrade a pump's journal"
        case let .olderSchema(p, found, current):
            return "\(p) has journal schema \(found), this build uses \(current): migrate it first with `itpump journal migrate \(p)`"
        case let .alreadyExists(p):
            return "\(p) already exists: refusing to overwrite a journal. Open it instead, or choose another path"
        case let .invariantViolated(p, problems):
            return "\(p) breaks the journal's invariants: " + problems.joined(separator: "; ")
                + ". Do not start on it: restore the journal from its backup and keep this file for investigation"
        case let .undecodableCheckpoint(p, seq, detail):
            return "\(p): checkpoint \(seq) does not decode (\(detail)); it was written by an incompatible build or is damaged. "
                + "Restore the journal from its backup"
        case let .replayDiverged(p, seq, expected, replayed):
            return "\(p): replaying from checkpoint \(seq) gave \(replayed) strokes but \(expected) were committed; the journal and "
                + "this build disagree. Do not start: keep the file and report it"
        case let .locked(p, pid):
            let who = pid.map { "process \($0)" } ?? "another process"
            return "\(p) is in use: \(who) holds its writer lock (\(JournalLock.path(of: p))). Only one runner may write a "
                + "journal; a second would deliver on top of a state it never recovered. Stop \(who) first "
                + "(`itpump history` and `itpump journal verify` read alongside it; `itpump journal backup` copies it)"
        case let .walMissing(p, openedBy):
            return "\(p) was open in a writer that did not stop cleanly (\(openedBy)), but \(p)-wal is not beside it: "
                + "the file was copied without its -wal, which holds the last commits (strokes, commands, alarms). Starting "
                + "on it would lose them and make the reservoir estimate optimistic. Put the -wal taken with this file beside "
                + "it (same name plus -wal), or restore the journal from a backup; make copies with `itpump journal backup "
                + "\(p) DEST`, which takes a consistent snapshot even while a runner writes, never by copying files"
        case let .io(p, detail):
            return "\(p): \(detail). Check the disk (space, permissions, health); the journal itself may be intact"
        }
    }

    /// Maps an SQLite failure on `path` to the journal error that says what to do.
    static func from(_ e: SQLiteError, path: String) -> JournalError {
        e.isCorruption ? .corrupt(path: path, detail: e.description) : .io(path: path, detail: e.description)
    }
}
