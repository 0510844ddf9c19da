import PumpCore

/// The journaled driver loop: the control core, its journal and a pump driver (simulated or the GPIO
/// rig), wired so that nothing reaches the pump or the sender before it is committed.
///
/// Every call goes through the write-ahead engine the bench-rig runner uses too (`WriteAhead.transact`):
/// the controller's next state is computed on a copy, committed (events, command, checkpoint or
/// progress), and only then adopted, and the strokes and alerts are carried out after that. A commit
/// that fails throws before anything is carried out and leaves the controller as it was.
///
/// Invariants (the kill test checks them):
/// - no acknowledged command or event is ever missing from the journal;
/// - after a crash, the recovered reservoir estimate is ≤ the true volume and ≥ the true volume less
///   `strokesPerStep` strokes (the strokes committed in the last step may not have been carried out);
/// - a step commands at most `strokesPerStep` strokes (plus any due at the very same instant).
public struct JournaledPump<Driver: PumpDriver> {
    public private(set) var controller: PumpController
    public let journal: Journal
    public var driver: Driver
    /// N: the most strokes committed ahead of the pump, and the most strokes between full checkpoints.
    public let strokesPerStep: Int64
    /// The alarm indication last sent to the driver.
    public private(set) var indication = AlarmIndication(highestPriority: nil)

    /// Default N = 16 strokes: 4 μL at the bench profile's 0.25 μL stroke (2 μg at 500 μg/mL).
    public static var defaultStrokesPerStep: Int64 { 16 }

    /// Starts on a new journal created at `path` for `controller`.
    public static func create(at path: String, controller: PumpController, driver: Driver, wallNanoseconds: Int64,
                              strokesPerStep: Int64 = defaultStrokesPerStep) throws(JournalError) -> JournaledPump {
        let journal = try Journal.create(at: path, controller: controller, wallNanoseconds: wallNanoseconds)
        return JournaledPump(controller: controller, journal: journal, driver: driver, strokesPerStep: max(1, strokesPerStep))
    }

    /// Resumes from the journal at `path` after a restart: recovers the last committed state, accounts
    /// the downtime (`PumpController.recoverAfterDowntime`), journals the restart, then shows the alarms.
    /// Any journal problem throws; the caller must not start delivery then.
    public static func resume(at path: String, driver: Driver, wallNanoseconds: Int64, timeScale: Int64 = 1,
                              strokesPerStep: Int64 = defaultStrokesPerStep) throws(JournaledPumpError) -> (JournaledPump, DowntimeReport) {
        let journal: Journal
        let recovered: RecoveredState
        do throws(JournalError) {
            journal = try Journal.open(at: path, access: .readWrite)
            try journal.requireSound()
            recovered = try journal.recover()
        } catch { throw .journal(error) }
        let clock = RestartClock(lastSeen: recovered.lastSeen, lastWallNanoseconds: recovered.lastWallNanoseconds,
                                 wallNanoseconds: wallNanoseconds, timeScale: timeScale)
        var controller = recovered.controller
        let report = controller.recoverAfterDowntime(until: clock.resumeAt, durationKnown: clock.durationKnown)
        do throws(JournalError) {
            try journal.recordRestart(report, recovered: recovered, state: controller, wallNanoseconds: wallNanoseconds)
        } catch { throw .journal(error) }
        var pump = JournaledPump(controller: controller, journal: journal, driver: driver, strokesPerStep: max(1, strokesPerStep))
        try pump.carryOut(report.effects)
        return (pump, report)
    }

    init(controller: PumpController, journal: Journal, driver: Driver, strokesPerStep: Int64) {
        self.controller = controller
        self.journal = journal
        self.driver = driver
        self.strokesPerStep = strokesPerStep
    }

    /// Runs the controller up to `t`: each sensor change at its instant, reached in steps of at most
    /// `strokesPerStep` strokes (a change behind the controller is sensed now, never dropped:
    /// `WriteAhead.sensed`), then strokes and deadlines up to `t` in such steps, each committed before it
    /// is carried out (`WriteAhead.transact`). The same order of work as the bench-rig runner's `step()`.
    public mutating func run(until t: Instant, wallNanoseconds: Int64) throws(JournaledPumpError) {
        let changes: [(at: Instant, reading: SensorReading)]
        do { changes = try driver.sensorChanges(upTo: t) } catch { throw .driver("\(error)") }
        for change in changes {
            try advance(to: min(change.at, t), wallNanoseconds)
            try transact(.sense(change.reading), wallNanoseconds)
        }
        try advance(to: t, wallNanoseconds)
    }

    /// Strokes and deadlines up to `t`, in committed steps of at most `strokesPerStep` strokes.
    mutating func advance(to t: Instant, _ wallNanoseconds: Int64) throws(JournaledPumpError) {
        while controller.now < t { try transact(.advance(until: t), wallNanoseconds) }
    }

    /// Applies a command at `t` (≥ `controller.now`): the controller first reaches `t` in committed
    /// steps of at most `strokesPerStep` strokes, then the command is handled there. The command, its
    /// outcome and its events are committed before any of its strokes is carried out and before this
    /// returns, so a reply sent after it returns is never lost.
    public mutating func handle(_ command: Command, at t: Instant, source: String, wallNanoseconds: Int64) throws(JournaledPumpError) -> CommandResponse {
        try advance(to: t, wallNanoseconds)
        let tx = try transact(.command(command, source: source), wallNanoseconds)
        guard let response = tx.response else { preconditionFailure("a command's transaction always holds its response") }
        return response
    }

    /// One write-ahead transaction (`WriteAhead.transact`): computed on a copy, committed, adopted, then
    /// carried out. A failed commit throws `.journal` with nothing adopted or carried out.
    @discardableResult
    mutating func transact(_ change: WriteAheadChange, _ wall: Int64) throws(JournaledPumpError) -> WriteAheadTransaction {
        let tx: WriteAheadTransaction
        do throws(JournalError) {
            tx = try WriteAhead.transact(change, controller: &controller, journal: journal, strokesPerStep: strokesPerStep,
                                         wallNanoseconds: wall).transaction
        } catch { throw .journal(error) }
        try carryOut(tx.effects)
        return tx
    }

    /// Strokes to the motor, alerts and the alarm level to the outputs, in order.
    mutating func carryOut(_ effects: [Effect]) throws(JournaledPumpError) {
        do {
            for effect in effects {
                switch effect {
                case let .stroke(s): try driver.perform(s)
                case let .alert(kind, _, at):
                    try driver.indicate(AlarmIndication(highestPriority: controller.alarms.highestPriority, alert: kind), at: at)
                case .event: break
                }
            }
            let level = AlarmIndication(highestPriority: controller.alarms.highestPriority)
            if level != indication {
                try driver.indicate(level, at: controller.now)
                indication = level
            }
        } catch { throw .driver("\(error)") }
        do throws(JournalError) { try journal.checkpointIfDue() } catch { throw .journal(error) }
    }
}

/// Why the journaled loop stopped.
public enum JournaledPumpError: Error, Sendable, CustomStringConvertible {
    /// The journal could not be opened, recovered or written; nothing of the failed step was carried out.
    case journal(JournalError)
    /// The pump driver failed (after the step was committed): put the pump in its safe state and
    /// restart; recovery counts the step's strokes as given.
    case driver(String)

    public var description: String {
        switch self {
        case let .journal(e): return "journal: \(e)"
        case let .driver(d): return "pump driver failed: \(d). Put the pump in its safe state; on restart the journal's recovery counts the committed strokes as given"
        }
    }
}
