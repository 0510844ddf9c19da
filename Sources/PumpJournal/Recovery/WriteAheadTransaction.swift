import PumpCore

/// One change of the controller made under the write-ahead rule (`WriteAhead.prepare`): what both
/// journaled loops (`JournaledPump` and the bench-rig runner) do to the controller, each the same way.
public enum WriteAheadChange {
    /// The next bounded step towards `until` (`WriteAhead.nextStep`): at most `strokesPerStep`
    /// strokes (plus any due at the very same instant). Repeat while the controller is before `until`.
    case advance(until: Instant)
    /// A sensor reading, sensed at the controller's instant (`WriteAhead.sensed`): reach the change's
    /// instant first with `.advance`.
    case sense(SensorReading)
    /// A command at the controller's instant, journaled with its outcome and `source` (e.g. `control`,
    /// `bring-up`): the core advances nothing inside it, so its effects are the command's own. Reach
    /// the command's instant first with `.advance`.
    case command(Command, source: String)
    /// The time from the last instant seen to `until` accounted as downtime
    /// (`PumpController.recoverAfterDowntime`: missed, never caught up), journaled as the interruption
    /// `kind` (one of `Journal.interruptionReasons`) with the text `detail` makes of the report.
    case downtime(until: Instant, kind: String, detail: (DowntimeReport) -> String)
}

/// A change computed on a copy of the controller and not yet committed: `WriteAhead.prepare` makes it,
/// `commit(to:adopting:…)` journals it and only then adopts `next`, and the caller carries out
/// `effects` after that.
public struct WriteAheadTransaction {
    public let change: WriteAheadChange
    /// The controller the change was computed from (the one `commit` may adopt over).
    public let base: PumpController
    /// The controller after the change; adopted by `commit` once it is durable.
    public let next: PumpController
    /// What must be carried out once committed, in order: strokes to drive, alerts, events.
    public let effects: [Effect]
    /// The command's outcome (`.command`).
    public let response: CommandResponse?
    /// The downtime accounted (`.downtime`).
    public let downtime: DowntimeReport?
    /// How the journal records it.
    let record: Record

    /// The interruption's text as journaled (`.downtime`), else nil.
    public var interruptionDetail: String? {
        if case let .interruption(_, detail) = record { return detail }
        return nil
    }

    enum Record {
        case step
        case command(Command, source: String, response: CommandResponse)
        case interruption(kind: String, detail: String)
    }

    /// Strokes the commit covers (and the caller must drive): never above the step bound for
    /// `.advance`, only those due at the controller's instant for the other changes.
    public var strokes: Int64 { effects.strokeCount }

    /// True for a step with nothing in it (no stroke, event or alert): it changes nothing a recovery
    /// could not recompute from the last committed state, so a caller may leave it unwritten
    /// (`commit(… writeIdle: false)`).
    public var isIdle: Bool {
        if case .advance = change { return effects.isEmpty }
        return false
    }
}

/// What a successful commit wrote.
public struct WriteAheadCommit: Hashable, Sendable {
    /// True when the journal was written (false without a journal, or for an idle step left unwritten).
    public let written: Bool
    /// The command's row in the journal's `commands` (`.command` written to a journal), else nil.
    public let commandSeq: Int64?
}

extension WriteAhead {
    /// Computes `change` on a copy of `controller`; nothing is committed, adopted or carried out.
    public static func prepare(_ change: WriteAheadChange, from controller: PumpController,
                               strokesPerStep: Int64) -> WriteAheadTransaction {
        switch change {
        case let .advance(until):
            let (next, effects) = nextStep(from: controller, until: until, strokesPerStep: max(1, strokesPerStep))
            return WriteAheadTransaction(change: change, base: controller, next: next, effects: effects, response: nil,
                                         downtime: nil, record: .step)
        case let .sense(reading):
            let (next, effects) = sensed(reading, by: controller)
            return WriteAheadTransaction(change: change, base: controller, next: next, effects: effects, response: nil,
                                         downtime: nil, record: .step)
        case let .command(command, source):
            var next = controller
            let response = next.handle(command, at: controller.now)
            return WriteAheadTransaction(change: change, base: controller, next: next, effects: response.effects,
                                         response: response, downtime: nil,
                                         record: .command(command, source: source, response: response))
        case let .downtime(until, kind, detail):
            var next = controller
            let report = next.recoverAfterDowntime(until: until)
            return WriteAheadTransaction(change: change, base: controller, next: next, effects: report.effects,
                                         response: nil, downtime: report, record: .interruption(kind: kind, detail: detail(report)))
        }
    }

    /// Computes, commits and adopts `change` in one call (`prepare`, then `commit`). Returns the
    /// transaction, whose `effects` the caller carries out next. A failed commit throws and leaves
    /// `controller` as it was: nothing of the change may be carried out.
    public static func transact(_ change: WriteAheadChange, controller: inout PumpController, journal: Journal?,
                                strokesPerStep: Int64, wallNanoseconds: Int64,
                                writeIdle: Bool = true) throws(JournalError) -> (transaction: WriteAheadTransaction, commit: WriteAheadCommit) {
        let tx = prepare(change, from: controller, strokesPerStep: strokesPerStep)
        let commit = try tx.commit(to: journal, adopting: &controller, strokesPerStep: strokesPerStep,
                                   wallNanoseconds: wallNanoseconds, writeIdle: writeIdle)
        return (tx, commit)
    }
}

extension WriteAheadTransaction {
    /// Journals the transaction (its events and strokes with the state after it: a step as
    /// `Journal.recordStep`, a command as `recordCommand`, downtime as `recordInterruption`) and,
    /// once that is durable, sets `controller` to `next`. Without a journal, or for an idle step when
    /// `writeIdle` is false, it adopts without writing.
    ///
    /// The one outcome of a failed commit: it throws the `JournalError` and `controller` is left as it
    /// was; nothing of the change may be carried out. `controller` must be `base` (the state the
    /// change was computed from).
    public func commit(to journal: Journal?, adopting controller: inout PumpController, strokesPerStep: Int64,
                       wallNanoseconds: Int64, writeIdle: Bool = true) throws(JournalError) -> WriteAheadCommit {
        assert(controller == base, "a write-ahead transaction adopted over a state it was not computed from")
        var seq: Int64?
        var written = false
        if let journal, writeIdle || !isIdle {
            switch record {
            case .step:
                try journal.recordStep(effects, state: next, wallNanoseconds: wallNanoseconds,
                                       checkpointInterval: max(1, strokesPerStep))
            case let .command(command, source, response):
                seq = try journal.recordCommand(command, source: source, response: response, state: next,
                                                wallNanoseconds: wallNanoseconds)
            case let .interruption(kind, detail):
                try journal.recordInterruption(kind, detail: detail, effects: effects, state: next,
                                               wallNanoseconds: wallNanoseconds)
            }
            written = true
        }
        controller = next
        return WriteAheadCommit(written: written, commandSeq: seq)
    }
}
