import Foundation
import PumpCore

extension Journal {
    func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try decoder.decode(T.self, from: Data(text.utf8))
    }

    func read<T>(_ body: () throws -> T) throws(JournalError) -> T {
        do { return try body() } catch let e as JournalError { throw e } catch let e as SQLiteError {
            throw JournalError.from(e, path: path)
        } catch { throw JournalError.corrupt(path: path, detail: "a stored record does not decode: \(error)") }
    }

    /// Events in commit order, optionally from instant `since` on and of the kinds named (see
    /// `EventKind.journalName`).
    public func events(since: Instant? = nil, kinds: Set<String>? = nil) throws(JournalError) -> [JournalEventRecord] {
        try read {
            let s = try db.prepare("SELECT seq, body, command_seq FROM events WHERE at_ns >= ? ORDER BY seq")
            try s.bind(1, since?.nanoseconds ?? Int64.min)
            var out: [JournalEventRecord] = []
            while try s.step() {
                let e = try decode(Event.self, s.text(1) ?? "")
                if let kinds, !kinds.contains(e.kind.journalName) { continue }
                out.append(JournalEventRecord(seq: s.int(0), event: e, commandSeq: s.optionalInt(2)))
            }
            return out
        }
    }

    /// Commands in commit order, optionally from instant `since` on.
    public func commands(since: Instant? = nil) throws(JournalError) -> [JournalCommandRecord] {
        try read {
            let s = try db.prepare("SELECT seq, at_ns, wall_ns, source, command, outcome, detail FROM commands WHERE at_ns >= ? ORDER BY seq")
            try s.bind(1, since?.nanoseconds ?? Int64.min)
            var out: [JournalCommandRecord] = []
            while try s.step() {
                out.append(JournalCommandRecord(seq: s.int(0), at: Instant(nanoseconds: s.int(1)), wallNanoseconds: s.int(2),
                                                source: s.text(3) ?? "", command: try decode(Command.self, s.text(4) ?? ""),
                                                accepted: s.text(5) == "accepted", detail: s.text(6) ?? ""))
            }
            return out
        }
    }

    /// Every restart, oldest first.
    public func restarts() throws(JournalError) -> [JournalRestartRecord] {
        try read {
            let s = try db.prepare("""
                SELECT seq, last_seen_ns, resumed_ns, last_wall_ns, wall_ns, duration_known, missed_pg, strokes_in_doubt,
                       requires_confirmation FROM restarts ORDER BY seq
                """)
            var out: [JournalRestartRecord] = []
            while try s.step() {
                out.append(JournalRestartRecord(seq: s.int(0), lastSeen: Instant(nanoseconds: s.int(1)), resumedAt: Instant(nanoseconds: s.int(2)),
                                                lastWallNanoseconds: s.int(3), wallNanoseconds: s.int(4), durationKnown: s.int(5) != 0,
                                                missedPicograms: s.int(6), strokesInDoubt: s.int(7), requiresConfirmation: s.int(8) != 0))
            }
            return out
        }
    }

    /// The newest full checkpoint.
    public func latestCheckpoint() throws(JournalError) -> JournalCheckpoint {
        let found: JournalCheckpoint? = try read {
            let s = try db.prepare("SELECT seq, at_ns, wall_ns, strokes, reason, state FROM checkpoints ORDER BY seq DESC LIMIT 1")
            guard try s.step() else { return nil }
            let seq = s.int(0)
            let controller: PumpController
            do { controller = try decode(PumpController.self, s.text(5) ?? "") } catch {
                throw JournalError.undecodableCheckpoint(path: path, seq: seq, detail: "\(error)")
            }
            return JournalCheckpoint(seq: seq, at: Instant(nanoseconds: s.int(1)), wallNanoseconds: s.int(2), strokes: s.int(3),
                                     reason: s.text(4) ?? "", controller: controller)
        }
        guard let found else { throw JournalError.invariantViolated(path: path, problems: ["no checkpoint: the journal holds no controller state"]) }
        return found
    }

    /// The last committed state: the newest full checkpoint, with the strokes committed after it (in
    /// `progress`) replayed through the deterministic core. Every committed stroke counts as given, so
    /// the reservoir estimate is never above the truth and at most `strokesInDoubt` strokes below it.
    public func recover() throws(JournalError) -> RecoveredState {
        // One snapshot: a runner committing meanwhile must not pair a checkpoint with a later progress row.
        try readSnapshot { () throws(JournalError) in try recoverInSnapshot() }
    }

    /// Runs `body` on one snapshot of the journal (one read transaction), however many reads it does,
    /// while a writer keeps committing. Nested calls share the outer snapshot.
    func readSnapshot<T>(_ body: () throws(JournalError) -> T) throws(JournalError) -> T {
        do { return try db.snapshot { () throws -> T in try body() } } catch let e as JournalError { throw e } catch let e as SQLiteError {
            throw JournalError.from(e, path: path)
        } catch { throw JournalError.io(path: path, detail: "\(error)") }
    }

    func recoverInSnapshot() throws(JournalError) -> RecoveredState {
        let checkpoint = try latestCheckpoint()
        let progress: (seq: Int64, strokes: Int64, inDoubt: Int64, at: Int64, wall: Int64)? = try read {
            let s = try db.prepare("SELECT checkpoint_seq, strokes, in_doubt, at_ns, wall_ns FROM progress WHERE id = 1")
            guard try s.step() else { return nil }
            return (s.int(0), s.int(1), s.int(2), s.int(3), s.int(4))
        }
        guard let progress else { throw JournalError.invariantViolated(path: path, problems: ["the progress row is missing"]) }
        guard progress.seq == checkpoint.seq else {
            throw JournalError.invariantViolated(path: path, problems: [
                "progress refers to checkpoint \(progress.seq) but the newest is \(checkpoint.seq)"])
        }
        guard progress.strokes >= checkpoint.strokes, progress.at >= checkpoint.at.nanoseconds else {
            throw JournalError.invariantViolated(path: path, problems: [
                "progress (\(progress.strokes) strokes at \(progress.at) ns) is behind its checkpoint (\(checkpoint.strokes) at \(checkpoint.at.nanoseconds) ns)"])
        }
        // Replay only what the checkpoint allows: fewer strokes than a periodic checkpoint's interval,
        // no more than the reservoir held, within the replay span. Anything else is refused before
        // replaying (a forged or damaged row must not make recovery run for ever or fill memory).
        let expected = progress.strokes - checkpoint.strokes
        let (span, spanOverflow) = progress.at.subtractingReportingOverflow(checkpoint.at.nanoseconds)
        let sv = checkpoint.controller.profile.strokeVolume.nanolitres
        let fits = sv <= 0 || expected <= checkpoint.controller.reservoir.estimate.nanolitres / sv
        guard expected < Journal.maxStrokesBetweenCheckpoints, !spanOverflow, span <= Journal.maxReplaySpan.nanoseconds, fits else {
            throw JournalError.invariantViolated(path: path, problems: [
                "progress claims \(expected) strokes over \(spanOverflow ? "an overflowing span" : "\(TimeSpan(nanoseconds: span))") after "
                    + "checkpoint \(checkpoint.seq); a journal holds at most \(Journal.maxStrokesBetweenCheckpoints - 1) strokes and "
                    + "\(Journal.maxReplaySpan) between full checkpoints, and no more strokes than the reservoir held"])
        }
        // Step by step with a stroke budget: a divergence stops the replay at once.
        var controller = checkpoint.controller
        let target = Instant(nanoseconds: progress.at)
        var replayed: Int64 = 0
        while controller.now < target && replayed <= expected {
            let (next, effects) = WriteAhead.nextStep(from: controller, until: target, strokesPerStep: expected - replayed + 1)
            if effects.contains(where: { if case .event = $0 { return true } else { return false } }) { replayed = expected + 1; break }
            replayed += effects.strokeCount
            controller = next
        }
        guard replayed == expected, controller.totalStrokes == progress.strokes else {
            throw JournalError.replayDiverged(path: path, checkpointSeq: checkpoint.seq, expectedStrokes: progress.strokes,
                                              replayedStrokes: checkpoint.strokes + replayed)
        }
        let earlier: Int64 = try read {
            let s = try db.prepare("SELECT coalesce(sum(strokes_in_doubt), 0) FROM restarts WHERE resumed_ns >= ?")
            try s.bind(1, controller.reservoir.filledAt?.nanoseconds ?? Int64.min)
            return try s.step() ? s.int(0) : 0
        }
        return RecoveredState(controller: controller, lastSeen: controller.now, lastWallNanoseconds: progress.wall,
                              strokes: progress.strokes, strokesInDoubt: progress.inDoubt, checkpointSeq: checkpoint.seq,
                              strokesInDoubtSinceFill: earlier + progress.inDoubt)
    }
}
