/// The journal's on-disk format: an application id that marks the file as an itpump journal, and
/// numbered migrations whose count is `PRAGMA user_version`.
///
/// Rule for new versions: append a migration, never edit a shipped one; readers refuse a version newer
/// than `version` (`JournalError.newerSchema`).
public enum JournalSchema {
    /// `PRAGMA application_id`: the bytes "ITPJ".
    public static let applicationID: Int32 = 0x4954_504A
    /// The schema version this build writes and reads.
    public static var version: Int64 { Int64(migrations.count) }

    /// Tables every journal of the current version has.
    static let requiredTables = ["meta", "commands", "events", "checkpoints", "progress", "restarts"]

    /// Migration k (1-based) brings a journal from version k−1 to k.
    static let migrations: [String] = [
        // 1: the first schema. Instants are the controller's time line in ns; wall times ns since 1970.
        """
        CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) STRICT;
        CREATE TABLE commands(
            seq INTEGER PRIMARY KEY, at_ns INTEGER NOT NULL, wall_ns INTEGER NOT NULL, source TEXT NOT NULL,
            summary TEXT NOT NULL, command TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'refused')), detail TEXT NOT NULL) STRICT;
        CREATE TABLE events(
            seq INTEGER PRIMARY KEY, at_ns INTEGER NOT NULL, kind TEXT NOT NULL, critical INTEGER NOT NULL,
            text TEXT NOT NULL, body TEXT NOT NULL, command_seq INTEGER REFERENCES commands(seq)) STRICT;
        CREATE INDEX events_by_time ON events(at_ns);
        CREATE INDEX events_by_kind ON events(kind, at_ns);
        CREATE TABLE checkpoints(
            seq INTEGER PRIMARY KEY, at_ns INTEGER NOT NULL, wall_ns INTEGER NOT NULL, strokes INTEGER NOT NULL,
            reservoir_nl INTEGER NOT NULL, capacity_nl INTEGER NOT NULL, reason TEXT NOT NULL,
            last_event_seq INTEGER NOT NULL, state TEXT NOT NULL) STRICT;
        CREATE TABLE progress(
            id INTEGER PRIMARY KEY CHECK (id = 1), checkpoint_seq INTEGER NOT NULL, strokes INTEGER NOT NULL,
            in_doubt INTEGER NOT NULL, at_ns INTEGER NOT NULL, wall_ns INTEGER NOT NULL) STRICT;
        CREATE TABLE restarts(
            seq INTEGER PRIMARY KEY, last_seen_ns INTEGER NOT NULL, resumed_ns INTEGER NOT NULL,
            last_wall_ns INTEGER NOT NULL, wall_ns INTEGER NOT NULL, duration_known INTEGER NOT NULL,
            missed_pg INTEGER NOT NULL, strokes_in_doubt INTEGER NOT NULL, requires_confirmation INTEGER NOT NULL) STRICT;
        """,
    ]
}
