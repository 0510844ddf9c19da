import Foundation
import PumpCore

/// The result of `Journal.verify()`.
public struct JournalVerification: Sendable {
    /// The schema version in the file.
    public var schemaVersion: Int64
    /// Counts of what was checked.
    public var events = 0, commands = 0, checkpoints = 0, restarts = 0
    /// Everything wrong, in words; empty when the journal is sound.
    public var problems: [String] = []
    /// The recovered state's reservoir estimate and capacity, when recovery succeeded.
    public var recoveredEstimate: Volume?
    public var capacity: Volume?
    public var isSound: Bool { problems.isEmpty }
}

extension Journal {
    /// Checks the whole file: SQLite's `integrity_check`, then the journal's invariants —
    /// event, command and checkpoint instants never go backwards in commit order; every event and
    /// command decodes; every checkpoint decodes, matches its own columns, has 0 ≤ estimate ≤ capacity
    /// and never fewer strokes than the one before; the progress row points at the newest checkpoint;
    /// and recovery (replay) reproduces the committed progress.
    public func verify() throws(JournalError) -> JournalVerification {
        // One snapshot, so a runner committing meanwhile cannot make a sound journal look unsound.
        try readSnapshot { () throws(JournalError) in try verifyInSnapshot() }
    }

    func verifyInSnapshot() throws(JournalError) -> JournalVerification {
        var v = JournalVerification(schemaVersion: try schemaVersion())
        do {
            let integrity = try db.texts("PRAGMA integrity_check")
            if integrity != ["ok"] { v.problems.append("integrity_check: " + integrity.prefix(10).joined(separator: "; ")) }
            if v.schemaVersion != JournalSchema.version {
                v.problems.append("schema version \(v.schemaVersion), this build expects \(JournalSchema.version)")
            }
            // Events: decodable, instants monotonic in commit order.
            var s = try db.prepare("SELECT seq, at_ns, kind, body FROM events ORDER BY seq")
            var previous = Int64.min
            while try s.step() {
                v.events += 1
                let seq = s.int(0), at = s.int(1)
                if at < previous { v.problems.append("event \(seq) at \(Instant(nanoseconds: at)) is earlier than the event before it") }
                previous = max(previous, at)
                do {
                    let e = try decode(Event.self, s.text(3) ?? "")
                    if e.at.nanoseconds != at || e.kind.journalName != s.text(2) {
                        v.problems.append("event \(seq): stored columns disagree with its body")
                    }
                } catch { v.problems.append("event \(seq) does not decode: \(error)") }
            }
            s = try db.prepare("SELECT seq, at_ns, command FROM commands ORDER BY seq")
            previous = .min
            while try s.step() {
                v.commands += 1
                let seq = s.int(0), at = s.int(1)
                if at < previous { v.problems.append("command \(seq) is earlier than the command before it") }
                previous = max(previous, at)
                do { _ = try decode(Command.self, s.text(2) ?? "") } catch { v.problems.append("command \(seq) does not decode: \(error)") }
            }
            s = try db.prepare("SELECT seq, at_ns, strokes, reservoir_nl, capacity_nl, state FROM checkpoints ORDER BY seq")
            previous = .min
            var previousStrokes = Int64.min
            while try s.step() {
                v.checkpoints += 1
                let seq = s.int(0), at = s.int(1), strokes = s.int(2), estimate = s.int(3), capacity = s.int(4)
                if at < previous { v.problems.append("checkpoint \(seq) is earlier than the checkpoint before it") }
                if strokes < previousStrokes { v.problems.append("checkpoint \(seq) has fewer strokes (\(strokes)) than the one before (\(previousStrokes))") }
                previous = max(previous, at)
                previousStrokes = max(previousStrokes, strokes)
                if estimate < 0 || estimate > capacity {
                    v.problems.append("checkpoint \(seq): reservoir estimate \(Volume(nanolitres: estimate)) outside 0…\(Volume(nanolitres: capacity))")
                }
                do {
                    let c = try decode(PumpController.self, s.text(5) ?? "")
                    if c.now.nanoseconds != at || c.totalStrokes != strokes || c.reservoir.estimate.nanolitres != estimate
                        || c.reservoir.capacity.nanolitres != capacity {
                        v.problems.append("checkpoint \(seq): stored columns disagree with its state")
                    }
                } catch { v.problems.append("checkpoint \(seq) does not decode: \(error)") }
            }
            if v.checkpoints == 0 { v.problems.append("no checkpoint: the journal holds no controller state") }
            v.restarts = Int(try db.scalarInt("SELECT count(*) FROM restarts") ?? 0)
        } catch let e as SQLiteError {
            if e.isCorruption { v.problems.append("SQLite: \(e)") } else { throw JournalError.from(e, path: path) }
        } catch {
            v.problems.append("\(error)")
        }
        do throws(JournalError) {
            let r = try recover()
            v.recoveredEstimate = r.controller.reservoir.estimate
            v.capacity = r.controller.reservoir.capacity
            if r.controller.reservoir.estimate < .zero || r.controller.reservoir.estimate > r.controller.reservoir.capacity {
                v.problems.append("recovered estimate \(r.controller.reservoir.estimate) outside 0…\(r.controller.reservoir.capacity)")
            }
        } catch {
            v.problems.append("recovery: \(error)")
        }
        return v
    }
}

extension Journal {
    /// Runs `verify()` and throws `.invariantViolated` with its problems unless the journal is sound:
    /// what a writer runs before it starts on a journal, so it never commits on top of one that
    /// `itpump journal verify` calls NOT SOUND.
    public func requireSound() throws(JournalError) {
        let v = try verify()
        guard v.isSound else { throw .invariantViolated(path: path, problems: v.problems) }
    }
}
