/// Where therapy stands.
public enum TherapyPhase: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Before continuous therapy: filling, priming, screening.
    case notStarted
    /// Continuous therapy running since the instant.
    case running(since: Instant)
    /// Delivery ended (taper completed or emergency stop).
    case stopped(at: Instant, HaltReason)

    public var description: String {
        switch self {
        case .notStarted: return "not started"
        case let .running(since): return "running since \(since)"
        case let .stopped(at, r): return "stopped at \(at) (\(r.rawValue))"
        }
    }
}

/// The intrathecal pump controller: a deterministic state machine advanced with explicit time.
///
/// - `advance(to:into:)` runs everything due up to an instant: strokes (as `Effect.stroke`), schedule
///   steps, taper steps, alarms and their re-alerts, daily delivery milestones.
/// - `handle(_:at:)` applies a command after advancing to its instant; the safety interlock checks it
///   first, and a refused command leaves therapy exactly as it was.
/// - `sense(_:at:)` feeds sensor changes (occlusion, stall, reservoir-empty switch).
///
/// No I/O, no clock reads, no randomness: the same inputs give the same effects bit for bit, so a
/// year of simulated therapy and a bench rig run the same code.
///
/// Safety invariants the interlock keeps whatever commands arrive: the programmed daily dose is never
/// outside 50–1200 μg/day; it falls by at most the decrease limit (default 20 %) per 24 h and rises by
/// at most the titration limit once per 24 h, never in the first 24 h; the same limits hold on the drug
/// delivered in rolling 24 h windows around a programmed change, and a change that raises any window is
/// an increase (see `checkWindows`); a stop becomes a taper of at least 14 days, to max(50 μg/day, the
/// patency minimum), unless an emergency override is given; sensor faults never stop delivery; missed
/// drug is never caught up in a burst; an interruption runs from the earliest evidence that delivery
/// stopped (empty switch, calculated empty, stall, occlusion, downtime) to the first stroke that
/// certainly delivers drug (`drugCertainlyAtTip`) and, once it passes the limit, puts delivery at the
/// floor until a clinician confirms, whether its evidence persists or not; a stop tapers from the level
/// in force, and neither a confirmation nor a resume lifts delivery above what the clinician confirmed;
/// with an empty switch in the profile, the estimate alone never stops delivery. `check(_:at:)` previews any command without changing anything.
public struct PumpController: Hashable, Sendable, Codable {
    public let profile: PumpProfile
    public internal(set) var settings: ControllerSettings
    /// The controller's time: the last instant it was advanced to.
    public internal(set) var now: Instant

    public internal(set) var reservoir: Reservoir
    public internal(set) var catheter: CatheterColumn
    public internal(set) var primed = false
    public internal(set) var screening = Screening()
    public internal(set) var bolus: BolusState?

    public internal(set) var phase: TherapyPhase = .notStarted
    /// The programmed schedule (what a taper or an interruption falls back to).
    public internal(set) var schedule: Schedule?
    public internal(set) var taper: TaperPlan?
    var taperLevelIndex = -1
    public internal(set) var doseHistory = DoseHistory()
    /// Delivery halted (empty reservoir) since this instant.
    public internal(set) var haltedSince: Instant?
    /// After an interruption longer than the limit (or more than the limit at a software-reduced
    /// dose): delivering `confirmationHold` until a clinician confirms.
    public internal(set) var awaitingConfirmationSince: Instant?
    /// The daily dose delivered while `awaitingConfirmationSince` is set: the 50 μg/day floor after a
    /// cessation, the reduced level a reserve taper had reached after a long taper (nil means floor).
    public internal(set) var confirmationHold: DoseRate?
    /// The interruption in progress: the earliest evidence that delivery stopped (empty switch,
    /// calculated empty, motor stall, occlusion, controller downtime), while delivery has not resumed.
    public internal(set) var interruption: Interruption?
    /// The interruption that ended last, until the first basal stroke after it (evidence before that
    /// stroke continues it).
    var endedInterruption: EndedInterruption?
    /// The last accepted `confirmResumption`: the clinician assessed the patient then, so evidence of a
    /// stop from before it (a disagreement resolved only by a later refill) counts from it, never
    /// reopening what the confirmation discharged.
    var interruptionDischargedAt: Instant?
    /// The last basal strokes' instants (at least `resumptionProofStrokes` of them), so an occlusion or
    /// stall reading is dated back to the stroke before the ones its sensor may have needed
    /// (`stoppageDatedBack`). Nil in a checkpoint written before it existed, until the next stroke.
    public internal(set) var recentBasalStrokes: RecentBasalStrokes?
    /// Basal strokes given while an interruption was in progress (its evidence in force), or after its
    /// evidence cleared but before delivery was proved resumed when new evidence continued it: they may
    /// have moved nothing (an emptied reservoir, a stalled motor, a blockage), so they do not count as
    /// pushing the priming's saline out of the tip (`drugCertainlyAtTip`). Nil (none) in a checkpoint
    /// written before it existed.
    public internal(set) var basalStrokesUnderEvidence: Int64?
    /// When the empty switch closed, while that is still evidence that delivery stopped: until the
    /// switch opens, or (on a pump whose profile has no switch, so the switch governs nothing) until a
    /// refill.
    public internal(set) var emptySwitchEvidenceSince: Instant?

    public internal(set) var occlusion = false
    public internal(set) var motorStall = false
    public internal(set) var emptySwitch = false

    public internal(set) var alarms = AlarmBoard()
    public internal(set) var refillDate: Instant?
    /// When the refill-due alarm fires under the current schedule.
    public internal(set) var refillDueAt: Instant = .distantFuture

    public internal(set) var ledger = DeliveryLedger()
    var basal: StrokeClock
    /// Daily dose being delivered now (0 when not delivering).
    public internal(set) var deliveringDose: DoseRate = .zero
    var nextRateChange: Instant = .distantFuture
    var nextDayBoundary: Instant = .distantFuture
    var therapyDay = 0
    var dayStartBasalPicograms: Int64 = 0
    var dayStartBasalStrokes: Int64 = 0
    /// Earliest instant of any non-stroke work (cached; recomputed after each slow step).
    var nextOtherDeadline: Instant = .distantFuture
    /// The same without audible re-alerts (for sinks that take them as counts) and without the day's
    /// end (for sinks that want no `dailyDelivery` event; see `otherDeadline(quiet:daily:)`).
    var nextQuietDeadline: Instant = .distantFuture

    /// A controller for `profile` with `settings`, starting at `t` with an empty reservoir and an
    /// unprimed catheter. Throws if the profile or settings are outside their ranges.
    public init(profile: PumpProfile, settings: ControllerSettings = ControllerSettings(), at t: Instant = .zero) throws(ConfigurationError) {
        try profile.validate()
        try settings.validate()
        self.profile = profile
        self.settings = settings
        self.now = t
        self.reservoir = Reservoir(capacity: profile.reservoirCapacity)
        self.catheter = CatheterColumn(capacity: profile.deadVolume, filledWith: .none)
        self.basal = StrokeClock(at: t)
    }

    /// The volume the next priming bolus pumps, which `Command.prime(confirmVolume:)` must confirm: the
    /// part of the catheter's dead volume that holds no drug yet, rounded up to whole strokes. On a new
    /// pump that is the whole dead volume. After a priming bolus cut short by a power loss
    /// (`recoverAfterDowntime` ends it) it is what that bolus had left to pump, so the priming is
    /// completed, never restarted (a second full priming would push the drug already in the catheter
    /// out to the patient) and never skipped. Zero once primed.
    public var primingVolume: Volume {
        let sv = profile.strokeVolume.nanolitres
        let unprimed = catheter.segments.reduce(Int64(0)) { $0 + ($1.concentration == .none ? $1.volume.nanolitres : 0) }
        return Volume(nanolitres: (unprimed + sv - 1) / sv * sv)
    }

    /// The programmed daily dose (nil before therapy starts).
    public var programmedDose: DoseRate? { doseHistory.current }

    /// When the next thing happens (a stroke, a step, an alarm…); a real-time driver sleeps until then.
    public var nextDeadline: Instant { min(basal.nextDue, nextOtherDeadline) }

    /// `nextDeadline` for a sink that does (`true`) or does not (`false`) want each audible re-alert
    /// (see `EffectSink.wantsEachAlert`) and a `dailyDelivery` event at each day's end
    /// (`EffectSink.wantsDailyDelivery`): where `advance(to:into:)` into that sink stops next.
    public func nextDeadline(forEachAlert: Bool, dailyDelivery: Bool = true) -> Instant {
        min(basal.nextDue, otherDeadline(quiet: !forEachAlert, daily: dailyDelivery))
    }

    /// The latest instant to which `advance(to:into:)`, into a sink with these wants (see
    /// `nextDeadline(forEachAlert:dailyDelivery:)`), gives at most `k` (≥ 1) more basal strokes with no
    /// other deadline before it: when the k-th next basal stroke falls due at the clock's rate, or the
    /// next other deadline if that comes first. Until that deadline nothing raises the rate (a stroke
    /// that crosses the low-reservoir threshold can start a reserve taper, whose first level is the
    /// dose in force, or halt delivery). Nil when the stroke clock alone cannot tell: no basal delivery,
    /// a bolus running, a catheter column whose strokes change mass, an instant past 64 bits. A
    /// simulation runs up to it without passing a sensor change `k` strokes away.
    public func basalHorizon(strokes k: Int64, forEachAlert: Bool, dailyDelivery: Bool) -> Instant? {
        guard k >= 1, isDelivering, bolus == nil, basal.picogramsPerDay > 0 else { return nil }
        let c = reservoir.concentration
        guard c.microgramsPerMillilitre > 0, catheter.isUniform(c) || catheter.capacity.nanolitres == 0,
              let due = basal.dueIfRepresentable(afterStrokes: k) else { return nil }
        return min(due, otherDeadline(quiet: !forEachAlert, daily: dailyDelivery))
    }

    /// True when the catheter and reservoir can deliver and therapy is running.
    public var isDelivering: Bool { deliveringDose > .zero }
}
