import PumpCore

/// A stop or a gap of the runner itself, journaled as a full checkpoint whose reason names it: a
/// clean stop (a signal, a driver failure), a late wake-up accounted as downtime, the end of a
/// journal outage. `itpump journal history` lists them beside the restarts.
public struct JournalInterruptionRecord: Hashable, Sendable {
    /// The checkpoint's sequence number.
    public let seq: Int64
    /// The controller instant of the checkpoint (the stop, or the end of the gap).
    public let at: Instant
    /// Wall clock of the commit, ns since 1970.
    public let wallNanoseconds: Int64
    /// What happened, e.g. `stop: SIGTERM` or `late wake: …`.
    public let reason: String
}

extension Journal {
    /// Checkpoint reasons that mark an interruption (prefix before the colon).
    /// `sim fault`: a fault injected into (or cleared from) the simulated pump on the control channel;
    /// not a therapy command, journaled so a HIL run's history shows when its faults acted.
    public static let interruptionReasons = ["stop", "late wake", "journal outage", "sim fault"]

    /// Journals an interruption of the runner: `effects` (the downtime accounting's events, if any)
    /// and the state after it, as one full checkpoint with `reason` (`kind: detail`, kind one of
    /// `interruptionReasons`). Strokes in doubt: `inDoubt` (committed strokes the runner may not have
    /// carried out, e.g. after a driver failure), else the strokes in `effects` like a step's.
    public func recordInterruption(_ kind: String, detail: String, effects: [Effect] = [], state: PumpController,
                                   inDoubt: Int64? = nil, wallNanoseconds: Int64) throws(JournalError) {
        precondition(Self.interruptionReasons.contains(kind), "unknown interruption kind \(kind)")
        try write { () throws(SQLiteError) in
            try insertEvents(effects, commandSeq: nil)
            try insertCheckpoint(state, wallNanoseconds: wallNanoseconds, reason: "\(kind): \(detail)", inDoubt: inDoubt ?? effects.strokeCount)
        }
    }

    /// Every journaled interruption (stops, late wake-ups, journal outages), oldest first.
    public func interruptions() throws(JournalError) -> [JournalInterruptionRecord] {
        try read {
            let like = Self.interruptionReasons.map { _ in "reason LIKE ?" }.joined(separator: " OR ")
            let s = try db.prepare("SELECT seq, at_ns, wall_ns, reason FROM checkpoints WHERE \(like) ORDER BY seq")
            try s.bindAll(Self.interruptionReasons.map { .text("\($0):%") })
            var out: [JournalInterruptionRecord] = []
            while try s.step() {
                out.append(JournalInterruptionRecord(seq: s.int(0), at: Instant(nanoseconds: s.int(1)), wallNanoseconds: s.int(2),
                                                     reason: s.text(3) ?? ""))
            }
            return out
        }
    }
}
