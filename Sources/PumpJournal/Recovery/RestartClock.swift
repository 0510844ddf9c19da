import PumpCore

/// Where the controller's time line stands when a runner restarts: the last committed instant plus
/// the wall-clock time that passed, scaled by the runner's time scale (1 in real time, more when a
/// simulation runs accelerated).
public struct RestartClock: Hashable, Sendable {
    /// The instant to resume at (never before `lastSeen`).
    public let resumeAt: Instant
    /// False when the wall clock reads earlier than at the last commit (a reset real-time clock after
    /// a power loss): the downtime is unknown and must be treated as longer than the limit.
    public let durationKnown: Bool

    /// - Parameters:
    ///   - lastSeen: the recovered controller instant (`RecoveredState.lastSeen`).
    ///   - lastWallNanoseconds: the wall clock at that commit, ns since 1970.
    ///   - wallNanoseconds: the wall clock now, ns since 1970.
    ///   - timeScale: controller nanoseconds per wall nanosecond (≥ 1).
    public init(lastSeen: Instant, lastWallNanoseconds: Int64, wallNanoseconds: Int64, timeScale: Int64 = 1) {
        let elapsed = wallNanoseconds - lastWallNanoseconds
        if elapsed < 0 {
            resumeAt = lastSeen
            durationKnown = false
        } else {
            let (scaled, overflow) = elapsed.multipliedReportingOverflow(by: max(1, timeScale))
            resumeAt = lastSeen + TimeSpan(nanoseconds: overflow ? .max : scaled)
            durationKnown = true
        }
    }
}
