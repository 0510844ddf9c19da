import Logging
import PumpCore
import PumpJournal
import PumpSim
#if canImport(Glibc)
import Glibc
#endif

/// Drives the control core in real time: reads the clock (through `MonotonicClock`, the only clock it
/// has), advances the controller to now, carries out strokes on the driver, shows alarms, feeds
/// sensor changes in, and applies control-channel requests. One thread calls it; `RunLoop` adds the
/// waiting, the socket and the signals around it.
///
/// Invariants: the controller only moves forward in time; every effect is handed to the driver in the
/// order the core produced it; a driver failure puts the rig in its safe state and ends the run
/// (`RunnerError.driverFailed`), it never silently drops a stroke.
public final class Runner {
    public internal(set) var controller: PumpController
    public private(set) var driver: any PumpDriver
    public let clock: any MonotonicClock
    public let timeLine: TherapyTimeLine
    public private(set) var bringUp: BringUp?
    public var logger: Logger
    /// Stroke start lateness against the schedule (all backends); the rig driver adds STEP timing.
    public private(set) var strokeTiming = TimingStats()
    public private(set) var strokesPerformed: Int64 = 0
    /// Events of the run, newest last (bounded to the last 200 for `status`).
    public private(set) var recentEvents: [Event] = []
    /// Wall-clock period at which inputs are polled when nothing else is due (default 10 ms).
    public var inputPollInterval: UInt64 = 10_000_000
    private var lastIndication: AlarmIndication?
    private var pendingAlert: AlarmKind?
    private var outputsDeadline = UInt64.max
    /// The therapy journal, when the run journals (`itpump run --journal`): every step, command and
    /// event is committed to it before it is carried out or replied to (see `commitStep`).
    public private(set) var journal: Journal?
    /// N: the most strokes committed ahead of the pump in one step, and between full checkpoints.
    public let strokesPerStep: Int64
    /// The wall clock (ns since 1970) stamped on journal commits; tests replace it.
    public var wallClock: () -> Int64 = Runner.realTimeNanoseconds
    /// Set while journal commits fail: delivery is held and the outputs show a high-priority alarm
    /// until a commit succeeds again (see README "Journal commit failures").
    /// The downtime accounted when this run resumed from its journal (nil for a new or unjournaled run).
    public internal(set) var restart: DowntimeReport?
    public internal(set) var journalOutage: JournalOutage?
    /// Sensor changes read from the driver but not yet committed (kept across a failed commit).
    private var pendingChanges: [(at: Instant, reading: SensorReading)] = []
    /// The sim backend's durable record of the strokes really performed (the kill test's truth).
    var strokeLog: StrokeLog?

    /// Starts the time line now: `controller.now` corresponds to the clock's present reading.
    ///
    /// With a `journal`, `controller` must be the state last committed to it (a new journal's first
    /// checkpoint, or the state `Runner.recover` committed at the restart).
    public init(controller: PumpController, driver: any PumpDriver, clock: any MonotonicClock, timeScale: Int64,
                bringUp: BringUp?, logger: Logger, journal: Journal? = nil,
                strokesPerStep: Int64 = JournaledPump<SimulatedPump>.defaultStrokesPerStep) {
        self.journal = journal
        self.strokesPerStep = max(1, strokesPerStep)
        self.controller = controller
        self.driver = driver
        self.clock = clock
        self.timeLine = TherapyTimeLine(origin: controller.now, monotonicAtOrigin: clock.now(), scale: timeScale)
        self.bringUp = bringUp
        self.logger = logger
        if let rig = driver as? RigDriver { rig.timeLine = timeLine }
    }

    /// The controller instant now.
    public var now: Instant { max(timeLine.instant(atMonotonic: clock.now()), controller.now) }

    /// When `step()` next has work (monotonic ns): the core's next deadline, an alarm pattern change,
    /// or the input poll.
    /// In a journal outage the core's deadlines are not pursued (they would be due at once, a busy
    /// loop): the runner retries the commit every `journalRetryInterval`.
    public var nextWakeup: UInt64 {
        if journalOutage != nil { return min(outputsDeadline, clock.now() + journalRetryInterval) }
        return min(timeLine.monotonic(at: controller.nextDeadline), outputsDeadline, clock.now() + inputPollInterval)
    }

    /// Wall-clock period between commit retries during a journal outage (default 100 ms).
    public var journalRetryInterval: UInt64 = 100_000_000

    /// Does everything due now: sensor changes, bring-up, the core's strokes and alarms, outputs.
    ///
    /// Write-ahead (as `JournaledPump`): each change is computed on a copy of the controller, committed
    /// to the journal, and only then adopted and carried out. A commit that fails leaves the controller
    /// as it was, carries nothing out, and puts the runner in a journal outage (`journalOutage`).
    public func step() throws(RunnerError) {
        let t = now
        if journalOutage != nil {
            try retryAfterOutage(at: t)
            if journalOutage != nil { try updateOutputs(); return }
        }
        do { pendingChanges += try driver.sensorChanges(upTo: t) } catch { throw fail("reading the inputs", error) }
        while let change = pendingChanges.first {
            var next = controller
            let e = next.sense(change.reading, at: max(change.at, controller.now))
            guard try commitStep(e, next) else { try updateOutputs(); return }
            pendingChanges.removeFirst()
        }
        if var b = bringUp, let cmd = bringUpCommand(&b) {
            var next = controller
            let r = next.handle(cmd, at: t)
            guard commitCommand(cmd, source: "bring-up", response: r, state: next) != nil else { try updateOutputs(); return }
            controller = next
            b.record(r)
            bringUp = b
            mirrorPhysically(cmd, r)
            logger.info("bring-up: \(cmd) → \(r.refusal.map { "REFUSED: \($0)" } ?? "accepted")")
            try perform(r.effects)
        }
        while controller.now < t {
            let (next, effects) = WriteAhead.nextStep(from: controller, until: t, strokesPerStep: strokesPerStep)
            guard try commitStep(effects, next) else { break }
        }
        try updateOutputs()
    }

    /// The bring-up's next command; a stage change that gives none (priming done → `screening`) is kept.
    private func bringUpCommand(_ b: inout BringUp) -> Command? {
        let cmd = b.nextCommand(for: controller)
        if cmd == nil { bringUp = b }
        return cmd
    }

    /// Handles one control-channel line and returns the reply line (no newline). A malformed request
    /// changes nothing.
    public func handle(line: some Collection<UInt8>) -> String {
        let request: ControlRequest
        do { request = try ControlRequest.parse(line) } catch {
            return JSONValue.object(["ok": .bool(false), "error": .string(error.description)]).line
        }
        do {
            try step()
            switch request {
            case .status:
                return JSONValue.object(["ok": .bool(true), "status": status()]).line
            case let .command(c):
                return try apply(c)
            case let .setRefillDate(hours):
                return try apply(.setRefillDate(hours.map { now + .hours($0) }))
            }
        } catch {
            return JSONValue.object(["ok": .bool(false), "error": .string(error.description)]).line
        }
    }

    func apply(_ c: Command) throws(RunnerError) -> String {
        if let o = journalOutage {
            logger.warning("control: \(c) NOT APPLIED: the journal cannot be written")
            return JSONValue.object(["ok": .bool(false), "command": .string(c.description),
                                     "error": .string("not applied: \(o.description)")]).line
        }
        var next = controller
        let r = next.handle(c, at: now)
        guard let commit = commitCommand(c, source: "control", response: r, state: next) else {
            let detail = journalOutage?.description ?? "the journal cannot be written"
            return JSONValue.object(["ok": .bool(false), "command": .string(c.description), "error": .string("not applied: \(detail)")]).line
        }
        controller = next
        mirrorPhysically(c, r)
        try perform(r.effects)
        try updateOutputs()
        // A journaled command's reply names its journal row, so a client can find it in `history`.
        var reply: [String: JSONValue] = ["command": .string(c.description)]
        if let seq = commit.seq { reply["journal_seq"] = .int(seq) }
        switch r.result {
        case let .success(a):
            logger.notice("control: \(c) accepted: \(AcceptanceText.describe(a))")
            reply["ok"] = .bool(true)
            reply["accepted"] = .string(AcceptanceText.describe(a))
        case let .failure(refusal):
            logger.warning("control: \(c) REFUSED: \(refusal)")
            reply["ok"] = .bool(false)
            reply["refused"] = .string(refusal.description)
        }
        return JSONValue.object(reply).line
    }

    /// Puts the rig in its safe state (motor disabled, STEP low, buzzer off). Never throws: a failure
    /// is logged and returned.
    @discardableResult
    public func enterSafeState() -> (any Error)? {
        do { try driver.enterSafeState(); return nil } catch {
            logger.critical("could not drive the safe state: \(error)")
            return error
        }
    }

    /// Timing of the run: stroke lateness from the runner, STEP timing from the rig driver if any.
    public var timing: TimingStats {
        var t = (driver as? RigDriver)?.timing ?? TimingStats()
        t.replaceStrokes(with: strokeTiming)
        return t
    }

    // MARK: Internals

    /// What a clinician does by hand alongside an accepted command: on the simulated pump, an accepted
    /// refill puts the drug into its reservoir (on the bench rig the operator fills it).
    private func mirrorPhysically(_ c: Command, _ r: CommandResponse) {
        guard r.isAccepted, case let .refill(req) = c, var sim = driver as? SimulatedPump else { return }
        sim.refill(added: req.added, concentration: req.concentration, at: controller.now)
        driver = sim
    }

    func perform(_ effects: [Effect]) throws(RunnerError) {
        for e in effects {
            switch e {
            case let .stroke(s):
                let started = clock.now()
                strokeTiming.recordStroke(scheduled: timeLine.monotonic(at: s.at), started: started)
                do { try driver.perform(s) } catch { throw fail("a \(s.purpose) stroke at \(s.at)", error) }
                strokesPerformed += 1
                if let strokeLog {
                    do { try strokeLog.append(s) } catch { throw fail("logging a stroke to \(strokeLog.path)", error) }
                }
            case let .event(ev):
                record(ev)
            case let .alert(kind, _, _):
                pendingAlert = kind
            }
        }
    }

    private func record(_ ev: Event) {
        recentEvents.append(ev)
        if recentEvents.count > 200 { recentEvents.removeFirst(recentEvents.count - 200) }
        let level: Logger.Level = ev.kind.isCritical ? .critical : {
            if case .alarmRaised = ev.kind { return .warning }
            if case .commandRefused = ev.kind { return .warning }
            return .info
        }()
        logger.log(level: level, "\(ev)")
    }

    func updateOutputs() throws(RunnerError) {
        // During a journal outage the outputs show a high-priority alarm whatever the core says.
        let ind = journalOutage != nil
            ? AlarmIndication(highestPriority: .high, alert: lastIndication?.highestPriority == .high ? nil : .therapyInterruption)
            : AlarmIndication(highestPriority: controller.alarms.highestPriority, alert: pendingAlert)
        do {
            if ind != lastIndication {
                try driver.indicate(ind, at: controller.now)
                lastIndication = AlarmIndication(highestPriority: ind.highestPriority)
                pendingAlert = nil
            }
            outputsDeadline = try (driver as? RigDriver)?.serviceOutputs() ?? .max
        } catch { throw fail("setting the alarm outputs", error) }
    }

    func fail(_ what: String, _ error: any Error) -> RunnerError {
        logger.critical("driver failed \(what): \(error); putting the rig in its safe state")
        enterSafeState()
        return .driverFailed(what: what, reason: "\(error)")
    }
}

extension TimingStats {
    mutating func replaceStrokes(with other: TimingStats) { strokeLatenessStorage = other.strokeLatenessStorage }
}

/// Why the run ended abnormally.
public enum RunnerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The driver threw while carrying out `what`; the rig was put in its safe state.
    case driverFailed(what: String, reason: String)
    public var description: String {
        switch self {
        case let .driverFailed(what, reason):
            "the pump driver failed \(what): \(reason). The rig is in its safe state (motor disabled); check the wiring and the rig file, then restart"
        }
    }
}
