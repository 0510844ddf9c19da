import PumpCore

/// One journaled event, as stored.
public struct JournalEventRecord: Hashable, Sendable {
    /// Position in the journal (1, 2, …; strictly increasing with commit order).
    public let seq: Int64
    public let event: Event
    /// The command whose handling produced it, if any (`JournalCommandRecord.seq`).
    public let commandSeq: Int64?
    public var kindName: String { event.kind.journalName }
}

/// One journaled command with its outcome.
public struct JournalCommandRecord: Hashable, Sendable {
    public let seq: Int64
    /// Controller instant the command was applied at.
    public let at: Instant
    /// Wall clock when it was committed, ns since 1970-01-01 UTC.
    public let wallNanoseconds: Int64
    /// Who sent it (`control-socket`, `scenario`, …).
    public let source: String
    public let command: Command
    public let accepted: Bool
    /// The refusal's text, or a summary of what was done.
    public let detail: String
}

/// A full checkpoint: the controller's whole state at an instant.
public struct JournalCheckpoint: Sendable {
    public let seq: Int64
    public let at: Instant
    public let wallNanoseconds: Int64
    /// `controller.totalStrokes` at the checkpoint.
    public let strokes: Int64
    /// Why it was written: `created`, `command`, `event`, `strokes`, `restart`.
    public let reason: String
    public let controller: PumpController
}

/// One controller restart as journaled: the downtime and what it cost.
public struct JournalRestartRecord: Hashable, Sendable {
    public let seq: Int64
    public let lastSeen: Instant
    public let resumedAt: Instant
    public let lastWallNanoseconds: Int64
    public let wallNanoseconds: Int64
    public let durationKnown: Bool
    /// Drug not delivered during the downtime, exact pg.
    public let missedPicograms: Int64
    /// Strokes committed in the last step before the crash that may not have been carried out; the
    /// recovered estimate counts them as given (conservative).
    public let strokesInDoubt: Int64
    public let requiresConfirmation: Bool
}

/// The state a runner resumes from: the last committed state, replayed to the last committed step.
public struct RecoveredState: Sendable {
    /// The controller as of `lastSeen`, every committed stroke counted as given.
    public let controller: PumpController
    /// The controller instant of the last committed step.
    public let lastSeen: Instant
    /// The wall clock at that commit, ns since 1970-01-01 UTC.
    public let lastWallNanoseconds: Int64
    /// `controller.totalStrokes`.
    public let strokes: Int64
    /// Strokes of the last committed step, which may or may not have been carried out before the
    /// crash (0 … the step cap N). The true reservoir volume is within
    /// `[estimate, estimate + strokesInDoubt × strokeVolume]`.
    public let strokesInDoubt: Int64
    /// The full checkpoint replayed from.
    public let checkpointSeq: Int64
    /// `strokesInDoubt` added up over this crash and every journaled restart since the last fill: each
    /// crash may leave up to N committed strokes not given, and nothing but a refill's measured residual
    /// tells how many. The true volume lies in `[estimate, estimate + strokesInDoubtSinceFill × strokeVolume]`.
    public let strokesInDoubtSinceFill: Int64

    /// The largest volume the reservoir can really hold now (the estimate is the smallest).
    public var reservoirUpperBound: Volume {
        controller.reservoir.estimate + controller.profile.strokeVolume * strokesInDoubtSinceFill
    }
}
