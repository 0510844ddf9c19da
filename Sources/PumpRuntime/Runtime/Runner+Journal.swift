import Logging
import PumpCore
import PumpJournal
#if canImport(Glibc)
import Glibc
#endif

/// A period in which the runner could not commit to its journal (disk full, I/O error, card removed).
///
/// What the runner does meanwhile (README "Journal commit failures"): it gives no stroke that is not
/// committed (an uncommitted stroke would make the recovered reservoir estimate optimistic), shows a
/// high-priority alarm on the outputs, logs at `critical`, answers every control command with an error
/// (nothing applied), and retries the commit at every step. When a commit succeeds again the outage
/// is accounted like a restart's downtime (`PumpController.recoverAfterDowntime`): missed delivery,
/// never caught up as a burst, a therapy-interruption alarm, and the floor over the interruption limit.
public struct JournalOutage: Sendable, CustomStringConvertible {
    /// The controller instant of the first failed commit (delivery stopped there).
    public let since: Instant
    /// The first failure.
    public let firstError: JournalError
    /// The latest failure.
    public internal(set) var lastError: JournalError
    /// Failed commits so far.
    public internal(set) var failures: Int64

    public var description: String {
        "the therapy journal cannot be written since \(since) (\(failures) failed commits; latest: \(lastError)); "
            + "DELIVERY IS HELD until a commit succeeds: free space on or replace the journal's storage"
    }
}

extension Runner {
    /// Wall-clock nanoseconds since 1970 (`CLOCK_REALTIME`), the time base of the journal's downtime.
    public static func realTimeNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// The runner's side of the write-ahead engine (`WriteAhead`, shared with `JournaledPump`): commits
    /// `tx` (a step with nothing in it only when `idleCommitInterval` has passed) and, once it is
    /// durable, adopts its state. Returns nil, adopting nothing, when the commit failed: the one
    /// outcome of a failed commit on every path is a journal outage (`journalOutage`; delivery held,
    /// later accounted as downtime). Without a journal it adopts at once. The caller carries out
    /// `tx.effects` after it returns.
    func commit(_ tx: WriteAheadTransaction) -> WriteAheadCommit? {
        let commit: WriteAheadCommit
        do throws(JournalError) {
            commit = try tx.commit(to: journal, adopting: &controller, strokesPerStep: strokesPerStep,
                                   wallNanoseconds: wallClock(), writeIdle: idleCommitDue())
        } catch {
            journalFailed(error)
            return nil
        }
        if commit.written { noteJournalWrite() } else if journal != nil { idleStepsUncommitted = true }
        noteCommit(tx.effects)
        if case let .command(command, source) = tx.change, let response = tx.response {
            eventStream.noteCommand(command, source: source, response: response, seq: commit.commandSeq, at: controller.now)
        }
        return commit
    }

    /// Prepares, commits and carries out one step, sensing or downtime accounting (`change`): false,
    /// carrying nothing out, when the commit failed (the runner is then in a journal outage).
    func commitStep(_ change: WriteAheadChange) throws(RunnerError) -> Bool {
        try commitStep(WriteAhead.prepare(change, from: controller, strokesPerStep: strokesPerStep))
    }

    /// Commits a prepared step (`commit`) and carries it out: false, carrying nothing out, when the
    /// commit failed.
    func commitStep(_ tx: WriteAheadTransaction) throws(RunnerError) -> Bool {
        guard commit(tx) != nil else { return false }
        // A commit that stalled (a lock or disk wait) past the lateness bound: its strokes are durable
        // and are given now, late (at most the strokes due before the step began); the gap after them is
        // accounted as downtime at the next step. Counted and logged, so it is never silent.
        if let late = lateness(of: tx.effects), late > maxStrokeLateness {
            lateCommits += 1
            logger.critical("a journal commit stalled: its \(noteStrokes(tx.effects)) committed strokes are given \(late / 1_000_000) ms late (bound \(maxStrokeLateness / 1_000_000) ms); the time after them is downtime")
        }
        try perform(tx.effects)
        walCheckpoint()
        return true
    }

    /// True when a step with no effects must still be committed (`idleCommitInterval` has passed).
    func idleCommitDue() -> Bool {
        guard let last = lastJournalWrite else { return true }
        return clock.now() &- last >= idleCommitInterval
    }

    func noteJournalWrite() {
        journalCommits += 1
        lastJournalWrite = clock.now()
        idleStepsUncommitted = false
    }

    /// At a clean end: commits the state of idle steps adopted since the last write (only when every
    /// committed stroke was carried out: after a driver failure the last commit's strokes stay in doubt).
    func commitIdleSteps() {
        guard let journal, idleStepsUncommitted, failure == nil, journalOutage == nil else { return }
        do throws(JournalError) {
            // The empty step to the controller's instant: the engine writes the state as it is.
            _ = try WriteAhead.transact(.advance(until: controller.now), controller: &controller, journal: journal,
                                        strokesPerStep: strokesPerStep, wallNanoseconds: wallClock())
            noteJournalWrite()
        } catch {
            logger.error("the last idle state could not be journaled (the next start resumes from the last commit): \(error)")
        }
    }

    func noteStrokes(_ effects: [Effect]) -> Int64 {
        effects.reduce(Int64(0)) { n, e in if case .stroke = e { n + 1 } else { n } }
    }

    /// Counts a commit's strokes into `maxStrokesPerCommit`.
    func noteCommit(_ effects: [Effect]) {
        let strokes = noteStrokes(effects)
        maxStrokesPerCommit = max(maxStrokesPerCommit, strokes)
        strokesNotCarriedOut += strokes
    }

    /// Journals the end of the run (a signal, a driver failure) as a `stop` interruption with the state
    /// as last committed, so `itpump journal history` shows the stop at once, not only at the next
    /// start. Never throws: without a journal, or in a journal outage, it only logs.
    public func journalStop(reason: String) {
        guard let journal else { return }
        let detail = "\(reason) at \(now) while delivering \(controller.deliveringDose); no drug is delivered until the runner starts again"
        guard journalOutage == nil else {
            logger.critical("the stop (\(detail)) could not be journaled: the journal cannot be written")
            return
        }
        do throws(JournalError) {
            // Strokes committed but not carried out (a driver failure mid-step) stay in doubt.
            try journal.recordInterruption("stop", detail: detail, state: controller, inDoubt: strokesNotCarriedOut, wallNanoseconds: wallClock())
            noteJournalWrite()
            logger.notice("stop journaled in \(journal.path)")
        } catch {
            logger.critical("the stop (\(detail)) could not be journaled: \(error)")
        }
    }

    /// Folds the WAL back into the journal file when due, after the step's strokes were carried out.
    /// A failure here loses nothing committed; it is logged and retried later.
    func walCheckpoint() {
        do throws(JournalError) { try journal?.checkpointIfDue() } catch {
            logger.error("journal WAL checkpoint failed (nothing committed is lost; retried later): \(error)")
        }
    }

    func journalFailed(_ error: JournalError) {
        if var o = journalOutage {
            o.failures += 1
            o.lastError = error
            journalOutage = o
            // Every failure is a retry; say so periodically, not at every 100 ms retry.
            if o.failures % 100 == 0 { logger.critical("\(o)") }
        } else {
            let o = JournalOutage(since: controller.now, firstError: error, lastError: error, failures: 1)
            journalOutage = o
            logger.critical("journal commit failed: \(error). \(o)")
        }
    }

    /// In an outage: tries to commit the outage's accounting (the time since the first failure as
    /// downtime). On success the outage ends and the recovery's effects are carried out.
    func retryAfterOutage(at t: Instant) throws(RunnerError) {
        guard let outage = journalOutage, journal != nil else { return }
        let tx = WriteAhead.prepare(.downtime(until: t, kind: "journal outage", detail: { report in
            "\(outage.failures) failed commits from \(outage.since) to \(t) (first: \(outage.firstError)); delivery held, "
                + "\(Mass(nanograms: report.missedPicograms / 1_000)) missed and not caught up"
        }), from: controller, strokesPerStep: strokesPerStep)
        guard commit(tx) != nil, let report = tx.downtime else { return }
        journalOutage = nil
        let floor = report.requiresConfirmation ? "; at the floor until a clinician confirms the dose" : ""
        logger.critical("journal writable again after \(outage.failures) failed commits; delivery held from \(outage.since) to \(t): \(Mass(nanograms: report.missedPicograms / 1_000)) missed, not caught up\(floor)")
        try perform(report.effects)
        walCheckpoint()
    }
}
