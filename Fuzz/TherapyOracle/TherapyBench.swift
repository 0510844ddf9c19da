import PumpCore
import PumpSim

/// A controller driving a simulated pump, stroke by stroke (or in runs the pump proves cannot change a
/// sensor), with the oracle watching every stroke, sensor change, command and refill. What the fuzz
/// target and the property tests run a `TherapyScript` on.
///
/// Sensor changes reach the controller at the instant they happen, as in `SimulationRunner`: the
/// bench lets the controller run ahead only as far as `SimulatedPump.strokesBeforeNextChange()` allows.
public struct TherapyBench {
    public private(set) var controller: PumpController
    var sink: Sink
    /// Everything done, one line a step, for a finding's report.
    public private(set) var trace: [String] = []

    public var pump: SimulatedPump { sink.pump }
    public var oracle: TherapyOracle { sink.oracle }
    public var violations: [Violation] { sink.oracle.violations }

    struct Sink: EffectSink {
        var pump: SimulatedPump
        var oracle: TherapyOracle
        var evidenceActive = false
        var interruptionLimit: TimeSpan
        /// A deliberately broken pump line for the oracle's anti-vacuity tests: strokes are lost on the
        /// way to the motor (neither moved nor logged).
        var dropStrokes = false
        var acceptsStrokeBatches: Bool { true }
        var wantsEachAlert: Bool { false }

        mutating func receive(_ effect: Effect) {
            if case let .stroke(s) = effect { receiveStroke(s) }
        }
        mutating func receiveStroke(_ s: Stroke) {
            if dropStrokes { return }
            let before = pump.toPatient + pump.toPocket
            try? pump.perform(s)
            guard s.purpose == .basal else { return }
            oracle.strokes(first: s.at, last: s.at, count: 1, picogramsEach: s.picograms,
                           delivered: pump.toPatient + pump.toPocket > before, evidenceActive: evidenceActive, interruptionLimit: interruptionLimit)
        }
        mutating func receiveStrokes(_ b: StrokeBatch) {
            if dropStrokes { return }
            let before = pump.toPatient + pump.toPocket
            try? pump.perform(batch: b)
            oracle.strokes(first: b.first, last: b.last, count: b.count, picogramsEach: b.picogramsEach,
                           delivered: pump.toPatient + pump.toPocket > before, evidenceActive: evidenceActive, interruptionLimit: interruptionLimit)
        }
    }

    /// A fresh pump and controller, filled with `fill` at `concentration` (physically and entered) and
    /// primed at instant zero, with therapy started at 1 h as a transfer at `schedule`'s daily dose.
    public init(profile: PumpProfile, mechanics: PumpMechanics, settings: ControllerSettings, concentration: Concentration,
                fill: Volume, schedule: Schedule, options: TherapyOracle.Options = .init()) throws {
        controller = try PumpController(profile: profile, settings: settings)
        sink = Sink(pump: try SimulatedPump(profile: profile, mechanics: mechanics), oracle: TherapyOracle(options: options),
                    interruptionLimit: settings.interruptionLimit)
        refill(physical: (fill, concentration), entered: RefillRequest(withdrawn: .zero, added: fill, concentration: concentration,
                                                                       confirmConcentrationChange: true))
        command(.prime(confirmVolume: controller.primingVolume))
        advance(by: .hours(1))
        command(.startTherapy(schedule, basis: .transfer(previousDailyDose: schedule.dailyDose)))
    }

    // MARK: Steps

    /// Lets time pass.
    public mutating func advance(by span: TimeSpan) {
        step("advance \(span)") { b in b.run(to: b.controller.now + span) }
    }

    /// A clinician's command at the controller's now.
    @discardableResult
    public mutating func command(_ command: Command) -> CommandResponse? {
        var response: CommandResponse?
        step("\(command)") { b in response = b.handle(command) }
        return response
    }

    /// A refill: the physical act on the pump (nil: none) and the programmer entry (nil: none). The
    /// controller sees only the entry.
    public mutating func refill(physical: (added: Volume, concentration: Concentration)?, entered: RefillRequest?) {
        let what = "refill: physical \(physical.map { "\($0.added) at \($0.concentration)" } ?? "none"), entered \(entered.map { "\(Command.refill($0))" } ?? "none")"
        step(what) { b in
            var accepted = false
            if let e = entered { accepted = b.handle(.refill(e))?.isAccepted ?? false }
            if let p = physical {
                let exact = accepted && entered?.added == p.added && entered?.concentration == p.concentration
                b.sink.oracle.physicalRefill(pump: b.sink.pump, added: p.added, concentration: p.concentration, enteredExactly: exact)
                b.sink.pump.refill(added: p.added, concentration: p.concentration, at: b.controller.now)
            } else if accepted {
                b.sink.oracle.entryWithoutRefill()
            }
        }
    }

    /// A fault starting or ending on the pump now.
    public mutating func fault(_ kind: FaultKind, active: Bool) {
        step("\(kind) \(active ? "starts" : "ends")") { b in
            // FaultChange has no public initialiser: take the start or the end of a fault at now.
            let now = b.controller.now
            let one = TimeSpan(nanoseconds: 1)
            let plan = active ? FaultPlan([Fault(kind: kind, from: now, until: now + one)]) : FaultPlan([Fault(kind: kind, from: now - one, until: now)])
            if let change = plan.changes.first(where: { $0.active == active }) { b.sink.pump.apply(change) }
        }
    }

    /// A sensor reading given to the controller without the pump's say (a faulty sensor or wiring).
    public mutating func spurious(_ reading: SensorReading) {
        step("spurious \(reading)") { b in
            // A "clear" over a true occlusion or stall hides that cessation from the controller.
            switch reading {
            case .occlusion(false) where b.sink.pump.occluded, .motorStall(false) where b.sink.pump.stalled:
                b.sink.oracle.sensorLiedClear()
            default: break
            }
            let effects = b.controller.sense(reading, at: b.controller.now)
            b.perform(effects)
        }
    }

    /// The controller is down (process killed, power lost) for `span`; the pump gets no strokes.
    public mutating func downtime(_ span: TimeSpan) {
        step("downtime \(span)") { b in
            let from = b.controller.now
            b.sink.oracle.downtime(from: from, to: from + span)
            let report = b.controller.recoverAfterDowntime(until: from + span)
            b.perform(report.effects)
        }
    }

    // MARK: Machinery

    mutating func step(_ what: String, _ body: (inout TherapyBench) -> Void) {
        let start = controller.now
        let before = envelope()
        trace.append("\(start) \(what)")
        body(&self)
        pollSensors()
        sink.oracle.stepEnded(from: start, controller: controller, pump: sink.pump, envelope: max(before, envelope()))
    }

    /// The highest basal rate the accepted commands allow now, pg/day: the schedule's highest step,
    /// the taper's level, the floor.
    func envelope() -> Int64 {
        var r = DoseRate.floor.picogramsPerDay
        if let s = controller.schedule { r = max(r, s.steps.map(\.rate.picogramsPerDay).max() ?? 0) }
        if let t = controller.taper { r = max(r, t.levels.map(\.picogramsPerDay).max() ?? 0) }
        return r
    }

    mutating func handle(_ command: Command) -> CommandResponse? {
        let t = controller.now
        let before = controller
        let r = controller.handle(command, at: t)
        perform(r.effects)
        switch r.result {
        case .success: sink.oracle.accepted(command, at: t, controller: controller, before: before)
        case .failure: sink.oracle.refused(command, at: t, before: before, after: controller, effects: r.effects)
        }
        pollSensors()
        return r
    }

    mutating func perform(_ effects: [Effect]) {
        for e in effects { sink.receive(e) }
    }

    /// Runs the controller to `target`, never past a possible sensor change.
    mutating func run(to target: Instant) {
        while controller.now < target {
            let k = sink.pump.strokesBeforeNextChange()
            var limit = target
            if k != .max {
                let deadline = controller.nextDeadline(forEachAlert: false)
                if k <= 1 || controller.bolus != nil {
                    limit = min(target, deadline)
                } else if let gap = minimumStrokeGap() {
                    let horizon = controller.now + TimeSpan(nanoseconds: Int64(clamping: Int128(gap.nanoseconds) * Int128(k - 1)))
                    limit = min(target, max(horizon, deadline))
                } else {
                    limit = min(target, deadline)
                }
            }
            controller.advance(to: limit, into: &sink)
            pollSensors()
        }
    }

    /// The lightest stroke's spacing at the 1200 μg/day ceiling; nil while some of the column holds no drug.
    func minimumStrokeGap() -> TimeSpan? {
        var c = controller.reservoir.concentration.microgramsPerMillilitre
        for seg in controller.catheter.segments { c = min(c, seg.concentration.microgramsPerMillilitre) }
        guard c > 0 else { return nil }
        let pg = Int128(controller.profile.strokeVolume.nanolitres) * Int128(c)
        return TimeSpan(nanoseconds: Int64(pg * Int128(TimeConstants.nanosecondsPerDay) / Int128(DoseRate.ceiling.picogramsPerDay)))
    }

    /// Feeds the pump's sensor changes to the controller, and tells the oracle what evidence of a stop
    /// the controller has.
    mutating func pollSensors() {
        if let changes = try? sink.pump.sensorChanges(upTo: controller.now) {
            for ch in changes { perform(controller.sense(ch.reading, at: controller.now)) }
        }
        let c = controller
        let active = c.emptySwitch || c.motorStall || c.occlusion || c.haltedSince != nil
        if active { sink.oracle.evidence(at: c.haltedSince ?? c.now) }
        sink.evidenceActive = active
    }
}
