import PumpCore

/// Everything a finished run measured.
public struct SimulationResult: Sendable {
    public var scenario: Scenario
    public var fidelity: Fidelity
    public var end: Instant
    public var recorder: Recorder
    /// The controller and the pump as the run left them.
    public var controller: PumpController
    public var pump: SimulatedPump
    public var alerts: Int64
}

/// The discrete-event runner: advances the core from event to event in virtual time (scenario time
/// line, fault changes, auto-refills, the core's own deadlines), never tick by tick.
///
/// Sensor changes reach the controller at the instant they happen: the runner lets the core run
/// ahead only as far as `SimulatedPump.strokesBeforeNextChange()` proves no sensor can change, and
/// steps deadline by deadline near a change. So both fidelities see the same alarm instants.
public struct SimulationRunner {
    var controller: PumpController
    var sink: RunSink
    let scenario: Scenario
    let fidelity: Fidelity
    let end: Instant
    var nextAutoRefill: Instant = .distantFuture

    /// True once the therapy-start event has run (before it, the only strokes are a bolus's).
    var therapyStarted = false
    /// Step a bolus deadline by deadline however far the pump is from a sensor change (the reference
    /// behaviour the tests compare `bolusHorizon` with).
    var bolusByDeadline = false

    /// Runs `scenario` to its end. `pk`: how the CSF model is integrated (`.intervals`, the reference,
    /// or `.events`, O(events), the sweeps'); a series, when kept, is always the intervals'.
    public static func run(_ scenario: Scenario, fidelity: Fidelity, keepSeries: Bool = false, pk: PKMethod = .intervals) throws(ScenarioError) -> SimulationResult {
        try run(scenario, fidelity: fidelity, keepSeries: keepSeries, perBinPK: false, pk: pk)
    }

    /// Runs `scenario` with its time series streamed to `series` as each interval closes instead of
    /// kept in `Recorder.series` (the result's series is empty; memory stays flat in the run's length).
    public static func run(_ scenario: Scenario, fidelity: Fidelity, streamingSeriesTo series: SeriesStream) throws(ScenarioError) -> SimulationResult {
        try run(scenario, fidelity: fidelity, keepSeries: true, perBinPK: false) { $0.seriesStream = series }
    }

    /// `perBinPK`: close the PK intervals with the per-interval reference implementation;
    /// `bolusByDeadline`: step every bolus stroke on its own; `bolusStrokeByStroke`: move every bolus
    /// stroke on the pump on its own (tests compare both with the fast paths).
    /// `dropsReleasedDrug`: a deliberately broken run for the anti-vacuity tests (see `RunSink`).
    static func run(_ scenario: Scenario, fidelity: Fidelity, keepSeries: Bool, perBinPK: Bool,
                    bolusByDeadline: Bool = false, bolusStrokeByStroke: Bool = false, dropsReleasedDrug: Bool = false, pk: PKMethod = .intervals,
                    configure: (inout Recorder) -> Void = { _ in }) throws(ScenarioError) -> SimulationResult {
        var r = try SimulationRunner(scenario: scenario, fidelity: fidelity, keepSeries: keepSeries, pk: pk)
        configure(&r.sink.recorder)
        r.sink.recorder.perBinReference = perBinPK
        r.sink.dropsReleasedDrug = dropsReleasedDrug
        r.sink.aggregatesBolus = !bolusStrokeByStroke
        r.bolusByDeadline = bolusByDeadline
        try r.runToEnd()
        return SimulationResult(scenario: scenario, fidelity: fidelity, end: r.end, recorder: r.sink.recorder,
                                controller: r.controller, pump: r.sink.pump, alerts: r.sink.alerts)
    }

    init(scenario s: Scenario, fidelity: Fidelity, keepSeries: Bool, pk: PKMethod = .intervals) throws(ScenarioError) {
        do throws(ConfigurationError) {
            try s.mechanics.validate()
            try s.pk.validate()
            controller = try PumpController(profile: s.profile, settings: s.settings, at: .zero)
            sink = RunSink(pump: try SimulatedPump(profile: s.profile, mechanics: s.mechanics),
                           recorder: Recorder(pk: s.pk, interval: s.interval, keepSeries: keepSeries, pkMethod: pk), batching: fidelity == .fast)
        } catch { throw .configuration(error) }
        do throws(FaultPlan.Problem) { try s.faults.validate() } catch { throw .faults(error) }
        do throws(ScheduleError) {
            try s.schedule.validate(concentration: s.concentration, profile: s.profile, maximumSteps: s.settings.maximumFlexSteps)
        } catch { throw .schedule(error) }
        guard s.duration >= .hours(1), s.duration <= Scenario.maximumDuration else { throw .durationOutOfRange(s.duration) }
        guard Scenario.intervalRange.contains(s.interval), TimeConstants.nanosecondsPerDay % s.interval.nanoseconds == 0,
              s.duration.nanoseconds % s.interval.nanoseconds == 0 else { throw .intervalOutOfRange(s.interval) }
        guard s.initialFill > .zero, s.initialFill <= s.profile.reservoirCapacity else {
            throw .initialFillOutOfRange(s.initialFill, capacity: s.profile.reservoirCapacity)
        }
        end = .zero + s.duration
        sink.recorder.endNs = end.nanoseconds
        for (i, e) in s.timeline.enumerated() {
            if e.at > end { throw .eventAfterEnd(index: i, at: e.at, end: end) }
            var act: RefillAct?
            switch e.action {
            case let .refill(added, c, _, _): act = RefillAct(added: added, concentration: c)
            case let .refillDone(a, _): act = a
            default: break
            }
            if let act, act.added < .zero || act.added > s.profile.reservoirCapacity {
                throw .refillOverCapacity(index: i, added: act.added, capacity: s.profile.reservoirCapacity)
            }
        }
        scenario = s
        self.fidelity = fidelity
    }

    // MARK: The loop

    enum Due { case start, timeline(Int), fault(FaultChange) }

    mutating func runToEnd() throws(ScenarioError) {
        let s = scenario
        try fillAndPrime()
        if let b = controller.bolus, b.endsAt >= s.therapyStart { throw .therapyStartTooEarly(s.therapyStart, primingEndsAt: b.endsAt) }
        // Static events in time order: at one instant, fault changes first, then the time line in file order.
        var due: [(at: Instant, order: Int, what: Due)] = [(s.therapyStart, 0, .start)]
        for c in s.faults.changes { due.append((c.at, 1, .fault(c))) }
        for (i, e) in s.timeline.enumerated() { due.append((e.at, 2, .timeline(i))) }
        due = due.enumerated().sorted { ($0.element.at, $0.element.order, $0.offset) < ($1.element.at, $1.element.order, $1.offset) }.map(\.element)
        var next = 0
        let keepSeries = sink.recorder.keepSeries
        var nextBoundary = keepSeries ? Instant.zero + s.interval : .distantFuture
        while true {
            let tStatic = next < due.count ? due[next].at : .distantFuture
            let t = min(tStatic, nextAutoRefill, nextBoundary, end)
            try advance(to: t)
            // The last interval is closed at both ends: what happens at the end instant is in it, so
            // its snapshot waits for the end's events.
            if t == nextBoundary && t != end {
                sink.recorder.snapshot(trueReservoir: sink.pump.reservoir, estimate: controller.reservoir.estimate, at: t)
                nextBoundary = nextBoundary + s.interval
                if nextBoundary > end { nextBoundary = .distantFuture }
            }
            while next < due.count && due[next].at == t {
                switch due[next].what {
                case .start:
                    therapyStarted = true
                    let dose = s.schedule.dailyDose
                    try setup("start therapy", .startTherapy(s.schedule, basis: .transfer(previousDailyDose: dose)), at: t)
                    planAutoRefill(at: t)
                case let .timeline(i): perform(s.timeline[i].action, at: t)
                case let .fault(change):
                    sink.apply(change)
                    pollSensors()
                }
                next += 1
            }
            if t == nextAutoRefill, let auto = s.autoRefill {
                nextAutoRefill = .distantFuture
                let volume = auto.volume ?? s.profile.reservoirCapacity
                perform(.refill(added: volume, concentration: controller.reservoir.concentration, confirmConcentrationChange: false, withdrawn: nil), at: t)
                if auto.confirmResumption, controller.awaitingConfirmationSince != nil, let schedule = controller.schedule {
                    perform(.confirmResumption(schedule), at: t)
                    // Plan the next refill from the dose now confirmed, not the floor delivered before.
                    planAutoRefill(at: t)
                }
            }
            if t == end {
                if t == nextBoundary { sink.recorder.snapshot(trueReservoir: sink.pump.reservoir, estimate: controller.reservoir.estimate, at: t) }
                break
            }
        }
        sink.recorder.finish(at: end)
        if let f = sink.failure { throw .pump(f.description) }
        let problems = sink.recorder.conservationProblems(pump: sink.pump)
        if !problems.isEmpty { throw .drugNotConserved(problems) }
    }

    mutating func setup(_ step: String, _ c: Command, at t: Instant) throws(ScenarioError) {
        if case let .failure(refusal) = controller.handle(c, at: t, into: &sink) {
            throw .setupRefused(step: step, refusal: refusal.description)
        }
        pollSensors()
    }

    /// Applies a time-line action (a refused command is recorded, not fatal: that is what scenarios test).
    mutating func perform(_ action: ScenarioAction, at t: Instant) {
        let command: Command
        switch action {
        case let .refill(added, c, confirm, withdrawn):
            refill(RefillAct(added: added, concentration: c),
                   entered: RefillEntry(added: added, concentration: c, confirmConcentrationChange: confirm, withdrawn: withdrawn), at: t)
            return
        case let .refillDone(act, entry):
            refill(act, entered: entry, at: t)
            return
        case let .refillEntered(entry):
            enter(entry, measuredResidual: sink.pump.measurableResidual, at: t)
            pollSensors()
            return
        case let .program(s): command = .program(s)
        case let .stop(d, o): command = .stop(taperDays: d, override: o)
        case .resume: command = .resume
        case let .confirmResumption(s):
            guard let schedule = s ?? controller.schedule else { command = .confirmResumption(.continuous(.zero)); break }
            command = .confirmResumption(schedule)
        case let .acknowledge(k): command = .acknowledge(k)
        case let .setRefillDate(d): command = .setRefillDate(d)
        }
        _ = controller.handle(command, at: t, into: &sink)
        pollSensors()
    }

    /// A refill: the act on the simulated pump (the residual measured, withdrawn, `act` put in), then
    /// the programmer entry if one is made. The act happens whatever becomes of the entry; the
    /// controller learns of it only through the entry and the pump's sensors.
    mutating func refill(_ act: RefillAct, entered entry: RefillEntry?, at t: Instant) {
        let residual = sink.pump.measurableResidual
        sink.pump.refill(added: act.added, concentration: act.concentration, at: t)
        sink.checkBlocking(at: t)
        if let entry { enter(entry, measuredResidual: residual, at: t) }
        pollSensors()
    }

    /// A refill entry: the controller's interlock checks it like any command (a refusal is recorded).
    mutating func enter(_ entry: RefillEntry, measuredResidual: Volume, at t: Instant) {
        let request = RefillRequest(withdrawn: entry.withdrawn ?? measuredResidual, added: entry.added,
                                    concentration: entry.concentration, confirmConcentrationChange: entry.confirmConcentrationChange)
        if case .success = controller.handle(.refill(request), at: t, into: &sink) { planAutoRefill(at: t) }
    }

    mutating func planAutoRefill(at t: Instant) {
        guard let auto = scenario.autoRefill, let empty = controller.projectedEmpty else { nextAutoRefill = .distantFuture; return }
        let at = max(empty + auto.offsetFromProjectedEmpty, t + .hours(1))
        nextAutoRefill = at <= end ? at : .distantFuture
    }

    /// Feeds the pump's sensor changes to the controller at the controller's instant (the change's own
    /// instant when the runner stepped to it).
    mutating func pollSensors() {
        sink.flush()
        guard let changes = try? sink.pump.sensorChanges(upTo: controller.now), !changes.isEmpty else { return }
        for ch in changes {
            controller.sense(ch.reading, at: controller.now, into: &sink)
        }
        try? sink.pump.indicate(AlarmIndication(highestPriority: controller.alarms.highestPriority), at: controller.now)
    }

    /// Advances the controller to `target`, never past a possible sensor change.
    mutating func advance(to target: Instant) throws(ScenarioError) {
        while controller.now < target {
            let k = sink.pump.strokesBeforeNextChange()
            var limit = target
            if k != .max {
                let deadline = controller.nextDeadline(forEachAlert: sink.wantsEachAlert, dailyDelivery: sink.wantsDailyDelivery)
                if k > 1, let b = controller.bolus, let horizon = bolusHorizon(b, strokes: k) {
                    limit = min(target, max(horizon, deadline))
                } else if k <= 1 || controller.bolus != nil {
                    limit = min(target, deadline)
                } else if let horizon = controller.basalHorizon(strokes: k, forEachAlert: sink.wantsEachAlert, dailyDelivery: sink.wantsDailyDelivery) {
                    // Exactly k strokes at the clock's rate: one step to the change, where a bound
                    // from the fastest rate (below) approaches it in a dozen ever shorter ones.
                    limit = min(target, max(horizon, deadline))
                } else if let gap = minimumStrokeGap() {
                    let horizon = controller.now + TimeSpan(nanoseconds: Int64(clamping: Int128(gap.nanoseconds) * Int128(k - 1)))
                    limit = min(target, max(horizon, deadline))
                } else {
                    limit = min(target, deadline)
                }
            }
            controller.advance(to: limit, into: &sink)
            pollSensors()
            if let f = sink.failure { throw .pump(f.description) }
        }
    }

    static let bolusPass: Int64 = 128

    /// How far the controller may run through bolus `b` with at most `k` strokes: the instant of its
    /// k-th next stroke, or `.distantFuture` when it has no more than `k` left. Only before therapy
    /// starts (so no basal stroke can come in between) and while strokes fall at distinct instants;
    /// nil otherwise (the runner then steps the bolus deadline by deadline). The priming bolus is
    /// 1,344 strokes on bench20: one pass instead of 1,344 trips through the runner.
    @inline(__always)
    func bolusHorizon(_ b: BolusState, strokes k: Int64) -> Instant? {
        guard !bolusByDeadline, !therapyStarted, !controller.isDelivering,
              b.strokes > 0, b.duration.nanoseconds >= b.strokes, b.given < b.strokes else { return nil }
        // At most `bolusPass` strokes per pass: the core logs each bolus stroke as an effect, and a
        // log of 1,344 effects is a large allocation the allocator maps and unmaps on every run.
        let k = min(k, Self.bolusPass)
        if k >= b.strokes - b.given { return .distantFuture }
        return b.instant(ofStroke: b.given + k)
    }

    /// A lower bound on the time between basal strokes: the lightest stroke the column can give at the
    /// 1200 μg/day ceiling. Nil when some of the column holds no drug (strokes could then be
    /// arbitrarily light: the runner steps one deadline at a time).
    @inline(__always)
    func minimumStrokeGap() -> TimeSpan? {
        var c = controller.reservoir.concentration.microgramsPerMillilitre
        for seg in controller.catheter.segments { c = min(c, seg.concentration.microgramsPerMillilitre) }
        guard c > 0 else { return nil }
        let pg = Int128(controller.profile.strokeVolume.nanolitres) * Int128(c)
        let ns = pg * Int128(TimeConstants.nanosecondsPerDay) / Int128(DoseRate.ceiling.picogramsPerDay)
        return TimeSpan(nanoseconds: Int64(ns))
    }
}
