import Foundation
import PumpCore
import PumpJournal
import PumpRig

/// What the runner leaves behind when it stops: the whole controller (the core is `Codable`), the
/// therapy interruption the stop is, and the run's timing. JSON, written atomically (`StateFile.save`)
/// with mode 0600: a human-readable export; the journal is the durable state.
public struct RunState: Codable, Sendable {
    /// Format version of this file.
    public var version = 1
    public var controller: PumpController
    public var interruption: TherapyInterruption
    public var strokes: Int64
    public var timing: [String: TimingStats.Summary]
}

/// A stop of the controller: from `at` on the therapy time line no stroke is given until a runner
/// starts again; `reason` says why (`SIGTERM`, `SIGINT`, a driver failure).
public struct TherapyInterruption: Codable, Sendable, Hashable, CustomStringConvertible {
    public var at: Instant
    public var reason: String
    /// The dose being delivered when the controller stopped.
    public var deliveringNanogramsPerDay: Int64
    public var description: String {
        "THERAPY INTERRUPTION at \(at): controller stopped (\(reason)) while delivering \(DoseRate(nanogramsPerDay: deliveringNanogramsPerDay)); no drug is delivered until it runs again"
    }
}

/// Why the state file could not be written.
public struct StateFileError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "could not save the state to \(path): \(reason); check the directory exists and is writable" }
}

public enum StateFile {
    /// Writes `state` to `path` atomically, owner-only (0600): the JSON goes to a new temporary file
    /// beside `path`, created with `O_EXCL|O_NOFOLLOW` under a name no one can predict (a symlink or file
    /// planted there is never followed or reused), fsynced, then renamed over `path`, and the directory
    /// fsynced. Refuses a `path` that exists and is not a regular file (a device such as `/dev/null`, a
    /// FIFO, a directory, a symlink): it is never replaced.
    public static func save(_ state: RunState, to path: String) throws(StateFileError) {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try e.encode(state) } catch { throw StateFileError(path: path, reason: "\(error)") }
        var st = stat()
        if lstat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFREG else {
                throw StateFileError(path: path, reason: "it exists and is not a regular file (a device, FIFO, directory or "
                    + "symlink), and is never replaced; give --state the path of a regular file or a new one")
            }
        } else if errno != ENOENT {
            throw StateFileError(path: path, reason: String(cString: strerror(errno)))
        }
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let tmp = (slash == nil ? "" : (dir == "/" ? "/" : dir + "/")) + ".\(name).\(getpid()).\(UInt64.random(in: 0 ... .max)).tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StateFileError(path: path, reason: "cannot create \(tmp): \(String(cString: strerror(errno)))") }
        let ok = data.withUnsafeBytes { buf -> Bool in
            var off = 0
            while off < buf.count {
                let n = write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 { if errno == EINTR { continue }; return false }
                off += n
            }
            return fsync(fd) == 0
        }
        let writeErrno = errno
        close(fd)
        guard ok else {
            unlink(tmp)
            throw StateFileError(path: path, reason: String(cString: strerror(writeErrno)))
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw StateFileError(path: path, reason: reason)
        }
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    /// Reads a state file written by `save`.
    public static func load(from path: String) throws -> RunState {
        try JSONDecoder().decode(RunState.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

extension Runner {
    /// Ends the run: safe state, the interruption logged (critical) and the state saved to `statePath`.
    /// Returns the interruption; a failure to save is logged and rethrown after the safe state is set.
    @discardableResult
    public func stop(reason: String, statePath: String?) throws(StateFileError) -> TherapyInterruption {
        let safeError = enterSafeState()
        // Last of all, whatever else fails: the journal's clean close (see `closeJournal`).
        defer { closeJournal() }
        if safeError == nil { logger.notice("outputs in safe state: motor disabled, STEP low, buzzer off") }
        let interruption = TherapyInterruption(at: now, reason: reason, deliveringNanogramsPerDay: controller.deliveringDose.nanogramsPerDay)
        logger.critical("\(interruption)")
        let t = timing
        logger.notice("timing against the schedule:\n\(t.report)")
        if let statePath {
            let state = RunState(controller: controller, interruption: interruption, strokes: strokesPerformed,
                                 timing: ["stroke_lateness": t.strokes, "step_high_time_error": t.pulses, "step_period_error": t.periods])
            try StateFile.save(state, to: statePath)
            logger.notice("state saved to \(statePath)")
        }
        return interruption
    }
}

extension Runner {
    /// Closes the journal cleanly at the end of a run: clears its "open" mark, folds the WAL into the
    /// main file and releases the writer lock (`Journal.close`). A failure is logged: nothing
    /// committed is lost, the next start recovers as after a crash.
    func closeJournal() {
        guard let journal else { return }
        commitIdleSteps()
        do throws(JournalError) { try journal.close() } catch {
            logger.error("closing the journal failed (nothing committed is lost; the next start recovers as after a crash): \(error)")
        }
    }
}
