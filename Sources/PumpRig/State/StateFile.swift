import Foundation
import PumpCore

/// What the runner leaves behind when it stops: the whole controller (the core is `Codable`), the
/// therapy interruption the stop is, and the run's timing. JSON, written atomically (temporary file,
/// fsync, rename) with mode 0600. Issue 5 replaces it with the SQLite journal.
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
    /// Writes `state` to `path` atomically, owner-only.
    public static func save(_ state: RunState, to path: String) throws(StateFileError) {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try e.encode(state) } catch { throw StateFileError(path: path, reason: "\(error)") }
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StateFileError(path: path, reason: String(cString: strerror(errno))) }
        let ok = data.withUnsafeBytes { buf -> Bool in
            var off = 0
            while off < buf.count {
                let n = write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 { if errno == EINTR { continue }; return false }
                off += n
            }
            return fsync(fd) == 0
        }
        close(fd)
        guard ok, rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw StateFileError(path: path, reason: reason)
        }
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
