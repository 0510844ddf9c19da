import PumpCore

/// The write-ahead engine shared by `JournaledPump` and the bench-rig runner (`PumpRuntime.Runner`):
/// how far the controller may move in one commit (`nextStep`, `sensed`), and the transaction that
/// computes a change on a copy, commits it and only then adopts it (`prepare`, `transact`,
/// `WriteAheadTransaction.commit`).
public enum WriteAhead {
    /// The next step of advancing `controller` towards `t`: deadline by deadline until `t` or until
    /// `strokesPerStep` strokes are due, so a step never commands more than `strokesPerStep` strokes
    /// ahead of the pump (plus any due at the very same instant). Returns the state after the step and
    /// its effects; `controller` itself is not changed. Call repeatedly while `controller.now < t`.
    public static func nextStep(from controller: PumpController, until t: Instant,
                                strokesPerStep: Int64) -> (next: PumpController, effects: [Effect]) {
        var next = controller
        var effects: [Effect] = []
        var strokes: Int64 = 0
        while next.now < t && strokes < strokesPerStep {
            let before = next.now
            var e = next.advance(to: max(before, min(t, next.nextDeadline)))
            // Nothing moved (a deadline that produced nothing at `now`): go straight to `t`.
            if next.now == before && e.isEmpty { e = next.advance(to: t) }
            strokes += e.strokeCount
            effects += e
        }
        return (next, effects)
    }

    /// Senses `reading` at the controller's instant: the one rule both journaled loops follow for a
    /// sensor change. The caller first reaches the change's instant in bounded steps (`nextStep`), so a
    /// change is never sensed ahead of the controller (`sense` would advance the core to it inside one
    /// commit, past the stroke bound); a change already behind the controller (reported late, or seen
    /// during a gap accounted as downtime) is sensed now, never dropped: the reading is still what the
    /// sensor says. Returns the state after sensing and its effects; `controller` is not changed.
    public static func sensed(_ reading: SensorReading, by controller: PumpController) -> (next: PumpController, effects: [Effect]) {
        var next = controller
        let effects = next.sense(reading, at: controller.now)
        return (next, effects)
    }
}
