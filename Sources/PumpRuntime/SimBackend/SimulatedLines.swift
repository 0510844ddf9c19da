import PumpRig
#if canImport(Glibc)
import Glibc
#endif

/// A rig's lines without hardware (`itpump run --backend sim --sim-rig-timing`): outputs are held in
/// memory, inputs stay inactive, and every ENABLE rise is answered with a stroke-feedback edge (a
/// mechanism that always moves; the simulated pump models stalls itself). With a line log, every
/// write of a line other than STEP is appended to it as one text line
/// `MONOTONIC_NS ROLE 0|1` (one `write(2)` each), so a benchmark or a test sees when the alarm
/// outputs and ENABLE changed (STEP is left out: 400 writes a stroke on the Raspberry Pi rig).
public final class SimulatedLines: RigLineIO {
    private let clock: any MonotonicClock
    private var levels: [RigRole: Bool] = [:]
    private var edges: [RigEdge] = []
    private let logFD: Int32
    /// The line log's path, if any.
    public let logPath: String?

    /// Opens (creating, appending) the line log at `logPath` when given.
    public init(clock: any MonotonicClock, logPath: String? = nil) throws(StrokeLogError) {
        self.clock = clock
        self.logPath = logPath
        if let logPath {
            logFD = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard logFD >= 0 else { throw StrokeLogError(path: logPath, reason: String(cString: strerror(errno))) }
        } else {
            logFD = -1
        }
    }

    deinit { if logFD >= 0 { close(logFD) } }

    public func set(_ values: [(role: RigRole, active: Bool)]) throws {
        for (role, active) in values {
            let was = levels[role] ?? false
            levels[role] = active
            if role == .enable, active, !was {
                edges.append(RigEdge(role: .strokeFeedback, rising: true, monotonicNanoseconds: clock.now()))
            }
            if role != .step, logFD >= 0 {
                let line = Array("\(clock.now()) \(role.rawValue) \(active ? 1 : 0)\n".utf8)
                let n = line.withUnsafeBytes { write(logFD, $0.baseAddress, $0.count) }
                guard n == line.count else { throw StrokeLogError(path: logPath ?? "", reason: String(cString: strerror(errno))) }
            }
        }
    }

    public func read(_ role: RigRole) throws -> Bool { levels[role] ?? false }

    public func pendingEdges() throws -> [RigEdge] {
        defer { edges.removeAll() }
        return edges
    }

    public func release() {}
}
