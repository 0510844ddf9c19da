import Logging
import PumpCore
import PumpJournal
import PumpSim
import PumpRig
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
    public internal(set) var driver: any PumpDriver
    public let clock: any MonotonicClock
    public let timeLine: TherapyTimeLine
    public private(set) var bringUp: BringUp?
    public var logger: Logger
    /// Stroke start lateness against the schedule (all backends); the rig driver adds STEP timing.
    public private(set) var strokeTiming = TimingStats()
    public private(set) var strokesPerformed: Int64 = 0
    /// Events of the run, newest last (bounded to the last 200 for `status`).
    public private(set) var recentEvents: [Event] = []
    /// The control channel's event stream: transitions observed for subscribers (see `EventStream`).
    public let eventStream = EventStream()
    /// Wall-clock period at which inputs are polled when nothing else is due (default 10 ms).
    public var inputPollInterval: UInt64 = 10_000_000
    private var lastIndication: AlarmIndication?
    private var pendingAlert: (kind: AlarmKind, priority: AlarmPriority)?
    private var outputsDeadline = UInt64.max
    /// The therapy journal, when the run journals (`itpump run --journal`): every step, command and
    /// event is committed to it before it is carried out or replied to (`WriteAhead`, through `commit`).
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
    /// The sim backend's record of when each stroke started (`CLOCK_MONOTONIC` ns; burst checks).
    public var strokeTimesLog: StrokeLog?
    /// The first driver failure; once set the run is ending (see `fail`).
    public private(set) var failure: RunnerError?
    /// The most a runner may reach a stroke after it was ready before the gap counts as downtime
    /// (monotonic ns; default 200 ms; see `advance(to:)`).
    public var maxStrokeLateness: UInt64 = Runner.defaultMaxStrokeLateness
    /// 200 ms of wall time.
    public static let defaultMaxStrokeLateness: UInt64 = 200_000_000
    /// Late wake-ups accounted as downtime in this run.
    public private(set) var lateWakes: Int64 = 0
    /// Commits that stalled past the lateness bound, whose committed strokes were then given late.
    public internal(set) var lateCommits: Int64 = 0
    /// Journal writes (each a durable SQLite commit: an fsync) made by this run.
    public internal(set) var journalCommits: Int64 = 0
    /// The longest a step with nothing in it (no stroke, event or alarm) goes uncommitted (monotonic
    /// ns; default 1 s). Such a step changes nothing a recovery could not recompute from the last
    /// committed state, so the loop's 10 ms polls do not each cost an fsync (SD-card wear on a board);
    /// the journal's "last seen" is at most this stale, which makes a crash's downtime start that much
    /// earlier (no drug was due in it), never later.
    public var idleCommitInterval: UInt64 = 1_000_000_000
    /// When the journal was last written (monotonic ns).
    var lastJournalWrite: UInt64?
    /// True when steps with nothing in them were adopted after the last journal write (a clean stop
    /// writes the state then, so the next start resumes from the instant the run really ended).
    var idleStepsUncommitted = false
    /// The most strokes one commit covered in this run (never above `strokesPerStep`).
    public internal(set) var maxStrokesPerCommit: Int64 = 0
    /// Strokes of the last commit not carried out yet (nonzero after a driver failure mid-step).
    var strokesNotCarriedOut: Int64 = 0
    /// When the last stroke performed was ready (monotonic ns; see `readyTime(of:)`).
    private var lastStrokeReady: UInt64?
    /// The mechanism's time for one stroke (monotonic ns): the rig's enable/DIR setup and STEP
    /// pulses; zero on the simulated pump.
    var strokeDuration: UInt64 { rigDriver?.strokeDuration ?? 0 }

    /// The STEP/ENABLE and alarm-output driver: the GPIO rig's, or the one pacing the simulated pump
    /// (`SimulatedRig`); nil on the plain simulated pump (strokes take no time).
    public var rigDriver: RigDriver? { (driver as? RigDriver) ?? (driver as? SimulatedRig)?.rig }

    /// The simulated pump (plain, or paced by `SimulatedRig`); nil on the GPIO rig. Setting it
    /// replaces the simulated pump's state.
    var simulatedPump: SimulatedPump? {
        get { (driver as? SimulatedPump) ?? (driver as? SimulatedRig)?.pump }
        set {
            guard let newValue else { return }
            if let r = driver as? SimulatedRig { r.pump = newValue } else if driver is SimulatedPump { driver = newValue }
        }
    }

    /// True while strokes are being carried out (`perform`): a control request or an input change
    /// served then (`serviceDuringStrokes()`, from the rig driver's waits) is handled at the
    /// controller's instant without advancing it, and any stroke it produces waits for the strokes
    /// already committed.
    public private(set) var carryingOut = false
    /// Effects produced while carrying out strokes, from their first stroke on: carried out after them.
    private var deferredEffects: [Effect] = []
    /// `status`'s timing object and the stroke counts it was computed at (see `timingStatus`).
    var timingCache: (key: [Int64], value: JSONValue)?
    /// Committed strokes not performed yet (the step being carried out), as `status` shows them.
    public var strokesInProgress: Int64 { strokesNotCarriedOut }

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
        if let rig = rigDriver { rig.timeLine = timeLine }
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
    /// Write-ahead, through the engine `JournaledPump` uses too (`WriteAhead.prepare`, then `commit`):
    /// each change is computed on a copy of the controller, committed to the journal, and only then
    /// adopted and carried out. A commit that fails leaves the controller
    /// as it was, carries nothing out, and puts the runner in a journal outage (`journalOutage`).
    /// Every path advances the controller through `advance(to:)`: no commit covers more than
    /// `strokesPerStep` strokes, and a stroke the runner reaches more than `maxStrokeLateness` late is
    /// not given: the gap is downtime (see `advance(to:)`).
    ///
    /// After a driver failure (`failure`) it throws that failure again and does nothing.
    public func step() throws(RunnerError) {
        if let failure { throw failure }
        let t = now
        if journalOutage != nil {
            try retryAfterOutage(at: t)
            if journalOutage != nil { try updateOutputs(); return }
        }
        do { pendingChanges += try driver.sensorChanges(upTo: t) } catch { throw fail("reading the inputs", error) }
        while let change = pendingChanges.first {
            // Reach the change's instant in bounded steps, then sense it there (a change observed during a
            // gap accounted as downtime is sensed at the end of the gap).
            _ = try advance(to: change.at)
            if journalOutage != nil { try updateOutputs(); return }
            guard try commitStep(.sense(change.reading)) else { try updateOutputs(); return }
            pendingChanges.removeFirst()
        }
        if var b = bringUp, let cmd = bringUpCommand(&b) {
            // At the controller's instant: the core advances nothing inside the command, so its effects
            // are the command's own.
            let tx = WriteAhead.prepare(.command(cmd, source: "bring-up"), from: controller, strokesPerStep: strokesPerStep)
            guard commit(tx) != nil, let r = tx.response else { try updateOutputs(); return }
            b.record(r)
            bringUp = b
            mirrorPhysically(cmd)
            logger.info("bring-up: \(cmd) → \(r.refusal.map { "REFUSED: \($0)" } ?? "accepted")")
            try perform(r.effects)
        }
        try advance(to: t)
        try updateOutputs()
    }

    /// Advances the controller to `target` in committed steps of at most `strokesPerStep` strokes.
    /// Returns false when it stopped short: in a journal outage, or after a late wake-up.
    ///
    /// Late wake-up: before each step it checks the step's first stroke. That stroke is ready at its
    /// due time, or once the previous stroke has had the mechanism's time (`readyTime(of:)`) if
    /// later. If the runner reaches it more than `maxStrokeLateness` after it was ready (the
    /// process was stopped, waited on a lock or a slow disk, was not scheduled, the machine
    /// suspended), nothing of the gap is given late: the time from the last instant seen to now is
    /// accounted as downtime (`PumpController.recoverAfterDowntime`: missed and not caught up, the
    /// therapy-interruption alarm while therapy runs, the floor over the interruption limit),
    /// journaled as a `late wake` interruption, and the schedule resumes from now.
    @discardableResult
    func advance(to target: Instant) throws(RunnerError) -> Bool {
        while controller.now < target {
            let tx = WriteAhead.prepare(.advance(until: target), from: controller, strokesPerStep: strokesPerStep)
            if let late = lateness(of: tx.effects), late > maxStrokeLateness {
                try accountLateWake(late)
                return false
            }
            guard try commitStep(tx) else { return false }
        }
        return true
    }

    /// How late (monotonic ns) the first stroke of `effects` would start if started now, against
    /// when it is ready (`readyTime`).
    func lateness(of effects: [Effect]) -> UInt64? {
        guard let first = effects.lazy.compactMap({ if case let .stroke(s) = $0 { s } else { nil } }).first else { return nil }
        let ready = readyTime(of: first)
        let t = clock.now()
        return t > ready ? t - ready : 0
    }

    /// When a stroke is ready (monotonic ns): its due time, or, when the schedule asks for strokes
    /// faster than the mechanism moves (a priming bolus at a high time scale on a slow rig), one
    /// mechanism time (`strokeDuration`) after the previous stroke was ready. The chain runs on ready
    /// times, not actual starts, so lag the runner accumulates is lateness, however it arose.
    func readyTime(of stroke: Stroke) -> UInt64 {
        max(timeLine.monotonic(at: stroke.at), lastStrokeReady.map { $0 &+ strokeDuration } ?? 0)
    }

    /// The gap since the last instant seen is downtime: commit its accounting, then carry it out.
    func accountLateWake(_ late: UInt64) throws(RunnerError) {
        let until = now
        let bound = maxStrokeLateness
        let tx = WriteAhead.prepare(.downtime(until: until, kind: "late wake", detail: { report in
            "a stroke was reached \(late / 1_000_000) ms after it was due (bound \(bound / 1_000_000) ms): "
                + "\(report.gap.roundedDescription) from \(report.lastSeen) to \(until) is downtime, "
                + "\(Mass(nanograms: report.missedPicograms / 1_000)) missed and not caught up"
        }), from: controller, strokesPerStep: strokesPerStep)
        guard commit(tx) != nil, let report = tx.downtime, let detail = tx.interruptionDetail else { return }
        lateWakes += 1
        logger.critical("LATE WAKE-UP: \(detail)\(report.requiresConfirmation ? "; at the floor until a clinician confirms the dose" : "")")
        try perform(report.effects)
        walCheckpoint()
    }

    /// The bring-up's next command; a stage change that gives none (priming done → `screening`) is kept.
    private func bringUpCommand(_ b: inout BringUp) -> Command? {
        let cmd = b.nextCommand(for: controller)
        if cmd == nil { bringUp = b }
        return cmd
    }

    /// Handles one control-channel line and returns the reply line (no newline). A malformed request
    /// changes nothing.
    ///
    /// A driver failure while handling it (in the step before the command, or carrying the command
    /// out) ends the run like one in `step()`: the rig is put in its safe state, `failure` is set and
    /// `RunLoop` ends with it after the reply is sent. The reply tells the truth about the command: a
    /// command committed before the failure took effect (`"ok":true`, `accepted`, its `journal_seq`)
    /// and the reply adds `driver_failure`; one not committed was not applied (`"ok":false`).
    public func handle(line: some Collection<UInt8>) -> String {
        let request: ControlRequest
        do { request = try ControlRequest.parse(line) } catch {
            return ControlProtocol.reply(["ok": .bool(false), "error": .string(error.description)])
        }
        if let failure {
            return ControlProtocol.reply(["ok": .bool(false), "error": .string("not applied: the run is ending: \(failure)")])
        }
        do {
            // A command is handled at now, after a step; within a stroke the controller is not advanced
            // (the committed strokes are still being given) and it is handled at the controller's
            // instant. A request that only reads or touches the simulated pump never steps, so its reply
            // never waits for strokes: the inputs are sensed and the outputs serviced, then it is answered.
            switch request {
            case .command, .setRefillDate:
                if carryingOut { try serviceDuringStrokes() } else { try step() }
            case .status, .subscribe, .inject, .clearFault:
                try serviceDuringStrokes()
            }
        } catch {
            return ControlProtocol.reply(["ok": .bool(false), "error": .string("not applied: \(error)")])
        }
        switch request {
        case .status:
            return ControlProtocol.reply(["ok": .bool(true), "status": status()])
        case let .command(c):
            return apply(c)
        case let .setRefillDate(span):
            return apply(.setRefillDate(span.map { controller.now + $0 }))
        case let .inject(f):
            return inject(f)
        case let .clearFault(f):
            return clearFault(f)
        case let .subscribe(kinds):
            return subscribeReply(kinds)
        }
    }

    /// Applies one control command at the controller's instant: committed before it is adopted,
    /// carried out or answered. Never throws: a driver failure while carrying it out sets `failure`
    /// (the rig is in its safe state) and is reported in the reply beside the command's outcome.
    func apply(_ c: Command) -> String {
        if let o = journalOutage {
            logger.warning("control: \(c) NOT APPLIED: the journal cannot be written")
            return ControlProtocol.reply(["ok": .bool(false), "command": .string(c.description),
                                          "error": .string("not applied: \(o.description)")])
        }
        let tx = WriteAhead.prepare(.command(c, source: "control"), from: controller, strokesPerStep: strokesPerStep)
        guard let commit = commit(tx), let r = tx.response else {
            let detail = journalOutage?.description ?? "the journal cannot be written"
            return ControlProtocol.reply(["ok": .bool(false), "command": .string(c.description), "error": .string("not applied: \(detail)")])
        }
        mirrorPhysically(c)
        // A journaled command's reply names its journal row, so a client can find it in `history`.
        var reply: [String: JSONValue] = ["command": .string(c.description)]
        if let seq = commit.commandSeq { reply["journal_seq"] = .int(seq) }
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
        do {
            try perform(r.effects)
            try updateOutputs()
        } catch {
            reply["driver_failure"] = .string(error.description)
        }
        return ControlProtocol.reply(reply)
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
        var t = rigDriver?.timing ?? TimingStats()
        t.replaceStrokes(with: strokeTiming)
        return t
    }

    // MARK: Internals

    /// What a clinician does by hand alongside a command: on the simulated pump, a refill entry puts
    /// its drug into the reservoir whether the entry is accepted or refused. The refill is a physical
    /// act; the entry is only the controller's record of it, and a refused entry does not take the
    /// drug back out (the controller then knows less than the pump holds, as on a real pump). On the
    /// bench rig the operator fills it.
    private func mirrorPhysically(_ c: Command) {
        guard case let .refill(req) = c, var sim = simulatedPump else { return }
        sim.refill(added: req.added, concentration: req.concentration, at: controller.now)
        simulatedPump = sim
    }

    /// Carries out `effects` in order. Called while strokes are being carried out (from a request or
    /// an input change served in a stroke's waits), it does the effects before their first stroke at
    /// once (an alarm reaches the outputs mid-stroke) and queues the rest behind the strokes in hand.
    func perform(_ effects: [Effect]) throws(RunnerError) {
        if carryingOut {
            var rest = effects[...]
            while deferredEffects.isEmpty, let e = rest.first, !e.isStroke {
                try performOne(e)
                rest.removeFirst()
            }
            deferredEffects += rest
            return
        }
        carryingOut = true
        defer { carryingOut = false }
        var queue = effects[...]
        while true {
            while let e = queue.popFirst() {
                do { try performOne(e) } catch { deferredEffects.removeAll(); throw error }
            }
            guard !deferredEffects.isEmpty else { return }
            queue = deferredEffects[...]
            deferredEffects.removeAll()
        }
    }

    /// Within a stroke's waits (the rig driver's `whileWaiting`), and before answering a request that
    /// does not step: senses the inputs' changes up to the controller's instant, there (committed,
    /// zero strokes: the write-ahead bound holds), and services the alarm outputs. The controller is
    /// not advanced. Throws the run's failure, if any.
    public func serviceDuringStrokes() throws(RunnerError) {
        if let failure { throw failure }
        if journalOutage == nil {
            // Only changes up to the controller's instant: one after it (an injected fault's end) waits
            // for the step that reaches it, never sensed before it happened.
            do { pendingChanges += try driver.sensorChanges(upTo: controller.now) } catch { throw fail("reading the inputs", error) }
            while let change = pendingChanges.first {
                guard try commitStep(.sense(change.reading)) else { break }
                pendingChanges.removeFirst()
            }
        }
        try updateOutputs()
    }

    private func performOne(_ e: Effect) throws(RunnerError) {
            switch e {
            case let .stroke(s):
                let started = clock.now()
                strokeTiming.recordStroke(scheduled: timeLine.monotonic(at: s.at), started: started)
                lastStrokeReady = readyTime(of: s)
                // Through a local reference: a request served in the stroke's waits uses `driver` too.
                var d = driver
                do { try d.perform(s) } catch { throw fail("a \(s.purpose) stroke at \(s.at)", error) }
                driver = d
                strokesPerformed += 1
                eventStream.noteStroke(s, wall: started)
                strokesNotCarriedOut = max(0, strokesNotCarriedOut - 1)
                if let strokeLog {
                    do { try strokeLog.append(s) } catch { throw fail("logging a stroke to \(strokeLog.path)", error) }
                }
                if let strokeTimesLog {
                    do { try strokeTimesLog.append(raw: Int64(clamping: started)) } catch {
                        throw fail("logging a stroke time to \(strokeTimesLog.path)", error)
                    }
                }
            case let .event(ev):
                record(ev)
            case let .alert(kind, priority, _):
                // The batch's most urgent alert, not its last (`updateOutputs` lifts it further to the
                // highest active alarm's).
                if pendingAlert.map({ priority > $0.priority }) ?? true { pendingAlert = (kind, priority) }
            }
    }

    private func record(_ ev: Event) {
        recentEvents.append(ev)
        eventStream.noteCoreEvent(ev)
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
            : AlarmIndication(highestPriority: controller.alarms.highestPriority, alert: Self.alertToSound(pendingAlert, active: controller.alarms.active))
        do {
            if ind != lastIndication {
                try driver.indicate(ind, at: controller.now)
                lastIndication = AlarmIndication(highestPriority: ind.highestPriority)
                pendingAlert = nil
            }
            outputsDeadline = try rigDriver?.serviceOutputs() ?? .max
        } catch { throw fail("setting the alarm outputs", error) }
    }

    /// The alert the outputs sound for a batch whose most urgent alert is `pending`: the highest-priority
    /// active alarm drives the pattern, so a new low alert while a high alarm is active sounds the high
    /// alarm's pattern (re-alerting it), never the low one.
    static func alertToSound(_ pending: (kind: AlarmKind, priority: AlarmPriority)?, active: [Alarm]) -> AlarmKind? {
        guard let pending else { return nil }
        guard let top = active.max(by: { $0.priority < $1.priority }), top.priority > pending.priority else { return pending.kind }
        return top.kind
    }

    /// A driver failure: the safe state, a critical log, and `failure` set so the run ends (`step()`
    /// throws it from now on; `RunLoop` ends with it). The first failure is kept.
    func fail(_ what: String, _ error: any Error) -> RunnerError {
        logger.critical("driver failed \(what): \(error); putting the rig in its safe state")
        enterSafeState()
        let f = RunnerError.driverFailed(what: what, reason: "\(error)")
        if failure == nil { failure = f }
        return f
    }
}

extension Effect {
    var isStroke: Bool { if case .stroke = self { true } else { false } }
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
