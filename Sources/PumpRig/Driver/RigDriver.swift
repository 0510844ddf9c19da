import PumpCore

/// The bench rig as a `PumpDriver`: STEP/DIR/ENABLE pulses with the rig file's timing, alarm LEDs and
/// buzzer patterns, inputs turned into sensor readings, and stroke feedback turned into motor stall.
///
/// Works over any `RigLineIO` (libgpiod: `GPIORigLines`) and any `MonotonicClock`, so the same code
/// runs on a board and in tests. Measures every stroke and STEP pulse into `timing`.
///
/// Safety: the motor is enabled only during a stroke; outputs are requested inactive (motor disabled,
/// STEP low, buzzer off); any line failure during a stroke drives the safe state before rethrowing.
/// Not thread-safe: the runner's single loop owns it.
public final class RigDriver: PumpDriver {
    public let rig: RigDescription
    private let lines: any RigLineIO
    private let clock: any MonotonicClock
    /// Maps controller instants to the monotonic clock.
    public var timeLine: TherapyTimeLine
    public private(set) var timing = TimingStats()
    /// Strokes carried out.
    public private(set) var strokesPerformed: Int64 = 0
    private var released = false
    /// Called in a stroke's waits (the ENABLE setup, each STEP low phase, the feedback wait) at most
    /// every `serviceInterval` and only with at least `serviceSlack` left before the next line change:
    /// the run loop serves control requests, input edges and the alarm outputs there, so none waits
    /// for a stroke (or a 16-stroke step) to end. It must not perform strokes. A throw aborts the
    /// stroke (safe outputs, then rethrown). The driver alone decides whether a wait has room for it
    /// (`serviceSlack`), so the hook is not told the wait's deadline.
    public var whileWaiting: (() throws -> Void)?
    /// Least time between two `whileWaiting` calls (monotonic ns; default 1 ms).
    public var serviceInterval: UInt64 = 1_000_000
    /// Least time left before a line change for `whileWaiting` to be called (default 150 µs): the
    /// STEP timing keeps its margin.
    public var serviceSlack: UInt64 = 150_000
    private var nextService: UInt64 = 0
    private var inService = false

    // Inputs: last level reported to the core, and pending changes.
    private var reported: [RigRole: Bool] = [:]
    private var lastEdgeAt: [RigRole: UInt64] = [:]
    private var pending: [(at: Instant, reading: SensorReading)] = []
    private var stalled = false

    // Alarm outputs.
    private var indication = AlarmIndication(highestPriority: nil)
    private var ledOn: [RigRole: Bool] = [:]
    private var buzzerOn = false
    /// When the current LED pattern started (monotonic ns).
    private var ledPhaseStart: UInt64 = 0
    /// The buzzer pattern being sounded and when it started.
    private var buzzing: (pattern: BuzzerPattern, start: UInt64)?

    /// Takes over `lines` (already requested, outputs inactive) and reads the inputs' initial levels,
    /// which `sensorChanges` reports at `timeLine.origin` when active.
    public init(rig: RigDescription, lines: any RigLineIO, clock: any MonotonicClock, timeLine: TherapyTimeLine) throws {
        self.rig = rig
        self.lines = lines
        self.clock = clock
        self.timeLine = timeLine
        for role in [RigRole.occlusion, .reservoirEmpty] where rig.lines[role] != nil {
            let active = try lines.read(role)
            reported[role] = false
            if active { record(role, active: true, at: timeLine.origin) }
        }
        _ = try lines.pendingEdges()
    }

    /// The mechanism's time for one stroke (monotonic ns): the enable/DIR setup and every STEP period.
    public var strokeDuration: UInt64 {
        let s = rig.stepper
        return UInt64(max(s.enableSetup, s.dirSetup).nanoseconds) + UInt64(s.stepsPerStroke) * UInt64(s.stepPeriod.nanoseconds)
    }

    // MARK: PumpDriver

    public func perform(_ stroke: Stroke) throws {
        guard !released else { throw RigDriverError.released }
        let s = rig.stepper
        let scheduled = timeLine.monotonic(at: stroke.at)
        do {
            let startedAt = clock.now()
            timing.recordStroke(scheduled: scheduled, started: startedAt)
            let feedback = rig.lines[.strokeFeedback] != nil
            if feedback { try absorbEdges() }
            try lines.set([(.enable, true), (.dir, true)])
            try wait(until: startedAt + UInt64(max(s.enableSetup, s.dirSetup).nanoseconds))
            let period = UInt64(s.stepPeriod.nanoseconds), width = UInt64(s.pulseWidth.nanoseconds)
            // STEP rises on a grid from the first: a rise delayed (by the loop's work in a wait, or the
            // scheduler) does not delay the rest, so the stroke keeps its mechanism time
            // (`strokeDuration`, the ready-time chain's unit). After a delayed rise the next comes no
            // sooner than half a period (and one pulse width) after the fall: at most twice the step
            // rate for a pulse while the train regains its grid.
            let minimumLow = max(width, period / 2)
            let firstRise = clock.now()
            var lastLow: UInt64 = 0
            var previousRise: UInt64?
            for k in 0..<UInt64(s.stepsPerStroke) {
                try wait(until: max(firstRise + k * period, lastLow == 0 ? 0 : lastLow + minimumLow))
                let high = clock.now()
                try lines.set([(.step, true)])
                clock.sleep(until: high + width)
                let low = clock.now()
                try lines.set([(.step, false)])
                timing.recordPulse(measured: low - high, configured: width)
                if let p = previousRise { timing.recordPeriod(measured: high - p, configured: period) }
                previousRise = high
                lastLow = low
            }
            try wait(until: max(firstRise + UInt64(s.stepsPerStroke) * period, lastLow + minimumLow))
            try lines.set([(.enable, false)])
            strokesPerformed += 1
            if feedback { try checkFeedback(strokeStart: startedAt, strokeAt: stroke.at) }
        } catch {
            try? safeOutputs()
            throw error
        }
    }

    public func indicate(_ indication: AlarmIndication, at instant: Instant) throws {
        guard !released else { throw RigDriverError.released }
        let now = clock.now()
        if indication.highestPriority != self.indication.highestPriority { ledPhaseStart = now }
        if let alert = indication.alert { buzzing = (rig.alarms.buzzer(alert.priority), now) }
        self.indication = AlarmIndication(highestPriority: indication.highestPriority)
        _ = try serviceOutputs()
    }

    public func sensorChanges(upTo instant: Instant) throws -> [(at: Instant, reading: SensorReading)] {
        guard !released else { throw RigDriverError.released }
        try absorbEdges()
        for role in [RigRole.occlusion, .reservoirEmpty] where rig.lines[role] != nil {
            let level = try lines.read(role)
            if level != reported[role] {
                let at = lastEdgeAt[role].map { timeLine.instant(atMonotonic: $0) } ?? instant
                record(role, active: level, at: min(at, instant))
            }
        }
        let due = pending.filter { $0.at <= instant }.sorted { $0.at < $1.at }
        pending.removeAll { $0.at <= instant }
        return due
    }

    public func enterSafeState() throws {
        guard !released else { return }
        try safeOutputs()
    }

    /// Drives the safe state and releases every line (idempotent). The driver is unusable afterwards.
    public func shutDown() throws {
        guard !released else { return }
        defer { lines.release(); released = true }
        try safeOutputs()
    }

    /// The input lines' event descriptors (readable when an edge is queued; see `RigLineIO`).
    public var pollDescriptors: [Int32] { released ? [] : lines.pollDescriptors }

    /// Reads the queued input edges into the driver (their times; levels are read by
    /// `sensorChanges`), so a readable edge descriptor is drained.
    public func drainEdges() throws {
        guard !released else { throw RigDriverError.released }
        try absorbEdges()
    }

    /// Sleeps until `deadline`, first handing the time to `whileWaiting` when it is due and there is slack.
    private func wait(until deadline: UInt64) throws {
        if let hook = whileWaiting, !inService {
            let now = clock.now()
            if now >= nextService, deadline > now + serviceSlack {
                nextService = now + serviceInterval
                inService = true
                defer { inService = false }
                try hook()
            }
        }
        clock.sleep(until: deadline)
    }

    // MARK: Alarm patterns

    /// Updates blinking LEDs and the buzzer to monotonic now; returns when it next needs calling
    /// (`UInt64.max`: nothing blinks or sounds).
    public func serviceOutputs() throws -> UInt64 {
        guard !released else { return .max }
        let now = clock.now()
        var next = UInt64.max
        var wanted: [RigRole: Bool] = [.ledLow: false, .ledMedium: false, .ledHigh: false]
        if let p = indication.highestPriority {
            let pattern = rig.alarms.led(p)
            let role = RigRole.led(for: p)
            if pattern.isSteady { wanted[role] = true } else {
                let period = UInt64(pattern.period.nanoseconds), on = UInt64(pattern.on.nanoseconds)
                let phase = (now - ledPhaseStart) % period
                wanted[role] = phase < on
                next = min(next, now + (phase < on ? on - phase : period - phase))
            }
        }
        var buzz = false
        if let (pattern, start) = buzzing {
            let elapsed = now - start
            let cycle = UInt64((pattern.on + pattern.off).nanoseconds), on = UInt64(pattern.on.nanoseconds)
            if elapsed >= UInt64(pattern.duration.nanoseconds) {
                buzzing = nil
            } else {
                let phase = elapsed % cycle
                buzz = phase < on
                next = min(next, now + (buzz ? on - phase : cycle - phase))
            }
        }
        var changes: [(role: RigRole, active: Bool)] = []
        for role in [RigRole.ledLow, .ledMedium, .ledHigh] where rig.lines[role] != nil && ledOn[role] != wanted[role] {
            changes.append((role, wanted[role] ?? false))
        }
        if buzz != buzzerOn { changes.append((.buzzer, buzz)) }
        if !changes.isEmpty {
            try lines.set(changes)
            for (r, v) in changes { if r == .buzzer { buzzerOn = v } else { ledOn[r] = v } }
        }
        return next
    }

    // MARK: Internals

    private func safeOutputs() throws {
        var values: [(role: RigRole, active: Bool)] = [(.enable, false), (.step, false), (.buzzer, false)]
        for role in [RigRole.ledLow, .ledMedium, .ledHigh] where rig.lines[role] != nil { values.append((role, false)) }
        try lines.set(values)
        buzzerOn = false
        buzzing = nil
        for r in [RigRole.ledLow, .ledMedium, .ledHigh] { ledOn[r] = false }
    }

    /// Stroke feedback edges seen since the last drain (monotonic ns of rising edges).
    private var feedbackRises: [UInt64] = []

    private func absorbEdges() throws {
        for e in try lines.pendingEdges() {
            if e.role == .strokeFeedback { if e.rising { feedbackRises.append(e.monotonicNanoseconds) } }
            else { lastEdgeAt[e.role] = e.monotonicNanoseconds }
        }
    }

    /// Waits up to the feedback timeout for a rising feedback edge after `strokeStart`; reports a stall
    /// on the first stroke without one and its end on the first stroke with one.
    private func checkFeedback(strokeStart: UInt64, strokeAt: Instant) throws {
        let deadline = clock.now() + UInt64(rig.feedbackTimeout.nanoseconds)
        var seen = false
        while true {
            try absorbEdges()
            if feedbackRises.contains(where: { $0 >= strokeStart }) { seen = true; break }
            if clock.now() >= deadline { break }
            try wait(until: min(deadline, clock.now() + 1_000_000))
        }
        feedbackRises.removeAll()
        if seen == stalled {
            stalled = !seen
            pending.append((strokeAt, .motorStall(stalled)))
        }
    }

    private func record(_ role: RigRole, active: Bool, at: Instant) {
        reported[role] = active
        switch role {
        case .occlusion: pending.append((at, .occlusion(active)))
        case .reservoirEmpty: pending.append((at, .reservoirEmpty(active)))
        default: break
        }
    }
}
