import PumpCore

/// One alarm as it happened.
public struct AlarmRecord: Hashable, Sendable, Codable {
    public var kind: AlarmKind
    public var raisedAt: Instant
    public var clearedAt: Instant?
    /// For `lowReservoir` and `refillDue`: how long before delivery stopped for an empty reservoir the
    /// alarm was raised (nil when the reservoir did not run empty while it was active).
    public var leadTimeBeforeEmpty: TimeSpan?
}

/// A command the interlock refused.
public struct RefusedCommand: Hashable, Sendable, Codable {
    public var at: Instant
    public var command: String
    public var reason: String
}

/// A stretch of time with the CSF level below the withdrawal threshold.
public struct WithdrawalEpisode: Hashable, Sendable, Codable {
    public var start: Instant
    public var end: Instant
    public var length: TimeSpan { end - start }
}

/// One interval of the time series (kept only when a report needs it).
public struct SeriesRow: Hashable, Sendable {
    public var start: Instant
    /// Drug that reached the CSF in the interval.
    public var delivered: Femtograms
    /// True reservoir and the controller's estimate at the interval's end.
    public var trueReservoir: Picolitres
    public var estimatedReservoir: Volume
    /// CSF level at the interval's end.
    public var concentration: CSFConcentration
    /// Withdrawal threshold in force (nil: no reference dose).
    public var threshold: CSFConcentration?
    public var severity: Double
}

/// Turns a run's effects and deliveries into the report's measures, streaming: memory is flat in the
/// run's length unless the time series is kept.
///
/// Delivery is binned into intervals of `interval`; each closed interval steps the PK model exactly
/// with its drug as a constant input.
public struct Recorder: Sendable {
    public let interval: TimeSpan
    let intervalNs: Int64
    public private(set) var model: CSFModel
    var bin: Int64 = 0
    var binEndNs: Int64
    var binFg: Int64 = 0
    /// Drug that reached the CSF per day of the run (day 0 = the first 24 h).
    public private(set) var dailyFemtograms: [Int64] = []
    public private(set) var totalToPatient = Femtograms.zero

    /// The dose whose steady state the withdrawal threshold refers to (nil: no therapy running).
    public private(set) var reference: DoseRate?
    public private(set) var alarms: [AlarmRecord] = []
    var open: [AlarmKind: Int] = [:]
    public private(set) var refusals: [RefusedCommand] = []
    public private(set) var emptyOnsets: [Instant] = []
    var emptyInCycle = false

    public private(set) var withdrawal = TimeSpan.zero
    public private(set) var episodes: [WithdrawalEpisode] = []
    var episodeStart: Instant?
    public private(set) var peakSeverity = 0.0
    /// Time with the withdrawal severity at or above 1 − 1/e (a complete deficit sustained for one
    /// time constant).
    public private(set) var severe = TimeSpan.zero
    public static let severeLevel = 0.632_120_558_828_557_7

    var running = false
    var controllerHalted = false
    public private(set) var pumpBlocked = false
    var zeroSince: Instant?
    /// Time in running therapy with no drug reaching the CSF (controller halted, or the pump blocked).
    public private(set) var zeroDelivery = TimeSpan.zero

    public let keepSeries: Bool
    /// The CSF level starts at the steady state of the first dose when therapy starts (a transfer).
    public var startsAtSteadyState = true
    public private(set) var series: [SeriesRow] = []
    var snapshot: (Picolitres, Volume) = (.zero, .zero)

    public init(pk: PKParameters, interval: TimeSpan, keepSeries: Bool) {
        self.interval = interval
        intervalNs = interval.nanoseconds
        binEndNs = interval.nanoseconds
        model = CSFModel(parameters: pk, interval: interval)
        self.keepSeries = keepSeries
    }

    // MARK: Delivery

    /// Drug that reached the CSF at `t`.
    @inline(__always)
    public mutating func delivered(_ fg: Femtograms, at t: Instant) {
        if t.nanoseconds >= binEndNs { closeBins(through: t.nanoseconds / intervalNs) }
        binFg &+= fg.value
    }

    /// Drug of `count` strokes evenly spaced from `first` to `last`, split between intervals by how many
    /// strokes fall in each.
    public mutating func delivered(_ fg: Femtograms, strokes n: Int64, first: Instant, last: Instant) {
        let b1 = last.nanoseconds / intervalNs
        if b1 == first.nanoseconds / intervalNs || n <= 1 {
            delivered(fg, at: first)
            return
        }
        var givenStrokes: Int64 = 0, givenFg: Int64 = 0
        let span = Int128(last.nanoseconds - first.nanoseconds)
        var b = first.nanoseconds / intervalNs
        while b < b1 {
            let end = (b + 1) * intervalNs
            // Strokes k (0-based) with first + span·k/(n−1) < end.
            let num = Int128(end - first.nanoseconds) * Int128(n - 1)
            let count = Int64(min(Int128(n), (num + span - 1) / span))
            let share = Int64(Int128(fg.value) * Int128(count) / Int128(n))
            delivered(Femtograms(share - givenFg), at: Instant(nanoseconds: max(first.nanoseconds, b * intervalNs)))
            givenStrokes = count
            givenFg = share
            b += 1
        }
        delivered(Femtograms(fg.value - givenFg), at: last)
        _ = givenStrokes
    }

    /// Closes every interval before interval index `b`.
    mutating func closeBins(through b: Int64) {
        while bin < b {
            let start = Instant(nanoseconds: bin * intervalNs)
            let fg = Femtograms(binFg)
            totalToPatient = totalToPatient + fg
            let day = Int(start.nanoseconds / TimeConstants.nanosecondsPerDay)
            while dailyFemtograms.count <= day { dailyFemtograms.append(0) }
            dailyFemtograms[day] += binFg
            let ref = running ? reference.map { model.parameters.steadyState($0) } : nil
            let step = model.step(delivered: fg, reference: ref)
            withdrawal = withdrawal + step.belowThreshold
            if step.belowThreshold == interval {
                if episodeStart == nil { episodeStart = start }
            } else if let c = step.crossing {
                if let s = episodeStart { episodes.append(WithdrawalEpisode(start: s, end: start + c)); episodeStart = nil }
                else { episodeStart = start + c }
            } else if let s = episodeStart {
                episodes.append(WithdrawalEpisode(start: s, end: start))
                episodeStart = nil
            }
            peakSeverity = max(peakSeverity, model.severity)
            if model.severity >= Self.severeLevel { severe = severe + interval }
            if keepSeries {
                series.append(SeriesRow(start: start, delivered: fg, trueReservoir: snapshot.0, estimatedReservoir: snapshot.1,
                                        concentration: model.concentration,
                                        threshold: ref.map { CSFConcentration(nanogramsPerMillilitre: $0.nanogramsPerMillilitre * Double(model.parameters.withdrawalFraction.partsPerMillion) / 1e6) },
                                        severity: model.severity))
            }
            binFg = 0
            bin += 1
            binEndNs = (bin + 1) * intervalNs
        }
    }

    /// The true and estimated reservoir at an interval boundary (for the time series).
    /// Taken when the runner reaches the boundary `t`: the interval ending at `t` closes with it.
    public mutating func snapshot(trueReservoir: Picolitres, estimate: Volume, at t: Instant) {
        snapshot = (trueReservoir, estimate)
        closeBins(through: t.nanoseconds / intervalNs)
    }

    // MARK: State changes

    mutating func setReference(_ dose: DoseRate?, at t: Instant) {
        closeBins(through: t.nanoseconds / intervalNs)
        reference = dose
    }

    mutating func updateZero(at t: Instant) {
        let zero = running && (controllerHalted || pumpBlocked)
        if zero, zeroSince == nil { zeroSince = t }
        if !zero, let s = zeroSince { zeroDelivery = zeroDelivery + (t - s); zeroSince = nil }
    }

    /// The pump started or stopped blocking delivery (stall, occlusion, disconnection, true empty).
    public mutating func pumpBlocking(_ blocked: Bool, at t: Instant) {
        pumpBlocked = blocked
        updateZero(at: t)
    }

    /// Delivery stopped for an empty reservoir (true or estimated) at `t`.
    public mutating func reservoirRanEmpty(at t: Instant) {
        guard !emptyInCycle else { return }
        emptyInCycle = true
        emptyOnsets.append(t)
        for kind in [AlarmKind.lowReservoir, .refillDue] {
            if let i = open[kind], alarms[i].raisedAt <= t { alarms[i].leadTimeBeforeEmpty = t - alarms[i].raisedAt }
        }
    }

    /// An event from the controller.
    public mutating func record(_ e: Event) {
        let t = e.at
        switch e.kind {
        case let .alarmRaised(kind, _, _):
            if open[kind] == nil {
                open[kind] = alarms.count
                alarms.append(AlarmRecord(kind: kind, raisedAt: t, clearedAt: nil, leadTimeBeforeEmpty: nil))
            }
        case let .alarmCleared(kind):
            if let i = open.removeValue(forKey: kind) { alarms[i].clearedAt = t }
        case let .commandRefused(command, refusal):
            refusals.append(RefusedCommand(at: t, command: command, reason: refusal.description))
        case let .therapyStarted(_, dose, _):
            setReference(dose, at: t)
            // A transfer from a previous pump: the patient arrives at the dose's steady state.
            if startsAtSteadyState { model.start(at: model.parameters.steadyState(dose)) }
            running = true
            updateZero(at: t)
        case let .scheduleProgrammed(_, _, to, _): setReference(to, at: t)
        case let .taperStarted(plan): if plan.kind == .stop { setReference(plan.fromDose, at: t) }
        case let .taperStep(kind, _, dose): if kind == .stop { setReference(dose, at: t) }
        case let .taperCancelled(holding): setReference(holding, at: t)
        case let .fullDoseConfirmed(dose): setReference(dose, at: t)
        case .deliveryHalted(.reservoirEmpty):
            controllerHalted = true
            reservoirRanEmpty(at: t)
            updateZero(at: t)
        case .deliveryHalted:
            setReference(nil, at: t)
            running = false
            updateZero(at: t)
        case .deliveryResumed:
            controllerHalted = false
            updateZero(at: t)
        case .refilled:
            emptyInCycle = false
        default: break
        }
    }

    /// Closes the run at `end`.
    public mutating func finish(at end: Instant) {
        closeBins(through: (end.nanoseconds + intervalNs - 1) / intervalNs)
        if let s = episodeStart { episodes.append(WithdrawalEpisode(start: s, end: end)); episodeStart = nil }
        if let s = zeroSince { zeroDelivery = zeroDelivery + (end - s); zeroSince = nil }
    }
}
