import PumpCore
import PumpSim

/// Checks the safety invariants of therapy (`Invariant`) on what really happened: the basal strokes
/// the controller commanded, the simulated pump's true reservoir, catheter and delivery, and the
/// sensor evidence the controller was given. The fuzz target and the property tests both drive a
/// `TherapyBench` and read `violations`.
///
/// The oracle never asks the controller what it believes it delivers: windows are summed from the
/// strokes, "drug remains" is the pump's truth, and the envelope a step may not exceed is the highest
/// rate of what was accepted.
public struct TherapyOracle: Sendable {
    /// Which invariants are checked (all by default).
    public struct Options: Hashable, Sendable {
        public var disabled: Set<Invariant>
        public init(disabled: Set<Invariant> = []) { self.disabled = disabled }
        public func checks(_ i: Invariant) -> Bool { !disabled.contains(i) }
    }

    public let options: Options
    public private(set) var violations: [Violation] = []
    /// The commanded basal strokes.
    public private(set) var log = DeliveryLog()

    static let day = TimeSpan.days(1)

    // Windows.
    var checkedUpTo: Instant = .zero
    /// Where the lower bounds (50 μg, titration decrease) do not apply: before a course's first 24 h,
    /// and wherever therapy did not run normally (stopped, taper, floor, downtime, no drug left).
    var lowerExempt: [(from: Instant, to: Instant)] = []
    var courseStart: Instant?
    /// A clinician's change of what is delivered (program, resume, stop) at `at`: `baseline` is the
    /// drug of the 24 h before it, `without` the plan it replaced. Its windows are judged up to
    /// `endsAt`, where the next change (judged in its turn against the plan this one made), a
    /// confirmation, a restart or a downtime came, in the order the steps came (at the same instant:
    /// no window).
    struct Change { var at: Instant; var baseline: Int64; var increasePpm: Int64; var decreasePpm: Int64; var without: PlanRate; var endsAt: Instant? = nil }
    var changes: [Change] = []

    /// Ends the windows of every change still open at `t`.
    mutating func endChanges(at t: Instant) {
        for i in changes.indices where changes[i].endsAt == nil { changes[i].endsAt = t }
    }

    // Interruptions.
    var lastDeliveryAt: Instant?
    var evidenceOnset: Instant?
    var floorRequiredSince: Instant?
    /// The last accepted `confirmResumption`: a clinician's confirmation before the first resumed
    /// stroke discharges the interruption up to it.
    var confirmedAt: Instant?
    /// The highest rate (pg/day) of the schedule a clinician confirmed after an interruption: until the
    /// next `program` or course, nothing (a running taper, a `resume`, a `stop`) delivers above it.
    var confirmedCap: Int64?
    /// A spurious "clear" was given over a true occlusion or stall (a lying sensor): the cessation in
    /// progress is hidden from every evidence the controller has, so no controller can time it; it is
    /// exempt from `interruptionFloor` until drug truly flows again. Only a reading contradicting the
    /// pump's truth sets it; every cessation the sensors report stays checked.
    var cessationHidden = false

    // Drug and estimate.
    var drugIn = Femtograms.zero
    var drugWithdrawn = Femtograms.zero
    var estimateTrusted = true
    var pumpedAtRefill = Picolitres.zero

    public init(options: Options = Options()) { self.options = options }

    mutating func fail(_ i: Invariant, at t: Instant, _ detail: @autoclosure () -> String) {
        guard options.checks(i) else { return }
        // One report per invariant is enough to reproduce; keep the first few.
        if violations.filter({ $0.invariant == i }).count < 3 { violations.append(Violation(invariant: i, at: t, detail: detail())) }
    }

    // MARK: Observations from the bench

    /// A run of basal strokes the controller commanded, and whether the pump really got drug out of
    /// the catheter with them (to the CSF or the pocket).
    mutating func strokes(first: Instant, last: Instant, count: Int64, picogramsEach: Int64, delivered: Bool,
                          evidenceActive: Bool, interruptionLimit: TimeSpan) {
        log.append(first: first, last: last, count: count, picogramsEach: picogramsEach)
        guard delivered else { return }
        if cessationHidden {
            cessationHidden = false
            evidenceOnset = evidenceActive ? first : nil
            lastDeliveryAt = last
            return
        }
        if let onset = evidenceOnset {
            let start = max(onset, lastDeliveryAt ?? onset, confirmedAt ?? onset)
            if first - start > interruptionLimit, floorRequiredSince == nil { floorRequiredSince = first }
            if !evidenceActive { evidenceOnset = nil }
        }
        lastDeliveryAt = last
    }

    /// A sensor said "clear" while the pump truly is occluded or stalled (see `cessationHidden`).
    mutating func sensorLiedClear() { cessationHidden = true }

    /// Evidence that delivery stopped, visible to the controller from `t` (a sensor, a halt, a downtime).
    mutating func evidence(at t: Instant) {
        if evidenceOnset == nil { evidenceOnset = t }
    }

    /// A clinician's accepted command (after it was applied; `before` is the controller just before).
    mutating func accepted(_ command: Command, at t: Instant, controller c: PumpController, before: PumpController) {
        switch command {
        case .program, .resume, .stop:
            let baseline = log.delivered(after: t - Self.day, upTo: t)
            endChanges(at: t)
            // A resume holds the level in force: judged against that level held, not the taper's next
            // steps (it is outside the rolling-window rule as long as it holds what was delivered).
            var without = PlanRate(before)
            if case .resume = command { without.heldFrom = t }
            changes.append(Change(at: t, baseline: baseline, increasePpm: c.settings.titrationIncreaseLimit.partsPerMillion,
                                  decreasePpm: c.settings.decreaseLimit.partsPerMillion, without: without))
            if case .program = command { confirmedCap = nil }
        case let .confirmResumption(s):
            floorRequiredSince = nil
            confirmedAt = t
            confirmedCap = s.steps.map(\.rate.picogramsPerDay).max()
            endChanges(at: t)
        case .startTherapy:
            courseStart = t
            confirmedCap = nil
            endChanges(at: t)
        default: break
        }
    }

    /// A refused command: `before` and `after` are the controller around `handle`.
    mutating func refused(_ command: Command, at t: Instant, before: PumpController, after: PumpController, effects: [Effect]) {
        let a = TherapySnapshot(before), b = TherapySnapshot(after)
        if a != b { fail(.refusalChangesNothing, at: t, "refused \(command) changed \(a.differences(from: b).joined(separator: ", "))") }
        if effects.contains(where: { if case .stroke = $0 { return true } else { return false } }) {
            fail(.refusalChangesNothing, at: t, "refused \(command) moved the motor")
        }
    }

    /// A physical refill on the pump, before it happens (`pump` as it was), and whether the controller
    /// was told exactly that (accepted entry, same volume and concentration).
    mutating func physicalRefill(pump: SimulatedPump, added: Volume, concentration: Concentration, enteredExactly: Bool) {
        drugWithdrawn = drugWithdrawn + pump.reservoir.femtograms(at: pump.reservoirConcentration)
        drugIn = drugIn + Picolitres(added).femtograms(at: concentration)
        estimateTrusted = enteredExactly
        pumpedAtRefill = pump.pumped
    }

    /// A refill entry with no physical refill (the controller's estimate is then not the truth's).
    mutating func entryWithoutRefill() { estimateTrusted = false }

    /// The controller was down from `from` to `to`.
    mutating func downtime(from: Instant, to: Instant) {
        evidence(at: from)
        lowerExempt.append((from, to))
        endChanges(at: from)
    }

    // MARK: After every step

    /// Checks everything that can be checked at the end of a step from `stepStart` to `c.now`;
    /// `envelope` is the highest basal rate in force during the step (pg/day).
    mutating func stepEnded(from stepStart: Instant, controller c: PumpController, pump p: SimulatedPump, envelope: Int64) {
        let now = c.now
        let stroke = max(log.heaviestStroke, Int64(c.profile.strokeVolume.nanolitres) * 2_000)
        let running: Bool = { if case .running = c.phase { return true } else { return false } }()
        let drugRemains = !p.emptySensor && p.emptySince == nil && p.reservoir.value >= 2 * p.maximumStroke.value
        // Without an empty switch in the profile, the halt at the calculated empty is the rule
        // (README): it is no software zero and no breach of the floor, whatever the pump holds.
        let haltAllowed = !c.profile.hasEmptySwitch && c.haltedSince != nil
        let normal = running && c.taper == nil && c.awaitingConfirmationSince == nil && drugRemains && !haltAllowed
        if !normal || courseStart == nil { lowerExempt.append((stepStart, now)) }
        if now > stepStart {
            let dt = Int128((now - stepStart).nanoseconds)
            let commanded = log.delivered(after: stepStart, upTo: now)
            // Missed drug is never caught up.
            let allowed = Int128(envelope) * dt / Int128(TimeConstants.nanosecondsPerDay) + Int128(2 * stroke)
            if Int128(commanded) > allowed {
                fail(.noCatchUp, at: now, "\(commanded) pg commanded from \(stepStart) to \(now), above the \(envelope / 1_000) ng/day in force (\(allowed) pg with two strokes)")
            }
            if let cap = confirmedCap {
                let most = Int128(cap) * dt / Int128(TimeConstants.nanosecondsPerDay) + Int128(2 * stroke)
                if Int128(commanded) > most {
                    fail(.interruptionFloor, at: now, "\(commanded) pg commanded from \(stepStart) to \(now), above the \(cap / 1_000) ng/day a clinician confirmed after the interruption (\(most) pg with two strokes)")
                }
            }
            if let since = floorRequiredSince, since < now {
                let from = max(since, stepStart)
                let got = log.delivered(after: from, upTo: now)
                // The floor: 50 μg/day, or the catheter's patency minimum at this concentration if higher
                // (the taper floor, which a reserve taper's held level may sit at).
                let floorRate = max(DoseRate.floor, c.taperFloor)
                let floor = Int128(floorRate.picogramsPerDay) * Int128((now - from).nanoseconds) / Int128(TimeConstants.nanosecondsPerDay) + Int128(2 * stroke)
                if Int128(got) > floor {
                    fail(.interruptionFloor, at: now, "an interruption over the limit ended at \(since), but \(got) pg were commanded from \(from) to \(now) before any confirmation (the \(floorRate) floor allows \(floor) pg)")
                }
            }
        }
        if running && drugRemains && !c.isDelivering && c.bolus == nil && !haltAllowed {
            fail(.noSoftwareZero, at: now, "not delivering (halted since \(c.haltedSince.map(\.description) ?? "–")) with \(p.reservoir) truly in the reservoir, the empty switch off; estimate \(c.reservoir.estimate)")
        }
        checkWindows(upTo: now, stroke: stroke)
        // Estimate against truth.
        if estimateTrusted {
            let pumped = (p.pumped - pumpedAtRefill).value
            let allowance = pumped * 145 / 1_000 + Int64(c.profile.strokeVolume.nanolitres) * 1_000
            let estimate = Picolitres(c.reservoir.estimate).value
            if estimate > p.reservoir.value + allowance {
                fail(.estimateNotAboveTruth, at: now, "estimate \(c.reservoir.estimate) above the true \(p.reservoir) by more than 14.5 % of the \(Picolitres(pumped)) pumped since the refill")
            }
        }
        // Conservation.
        let column = p.catheter.segments.reduce(Femtograms.zero) { $0 + $1.volume.femtograms(at: $1.concentration) }
        // Held behind an occlusion: each part at the concentration it was pumped at.
        let held = p.held.reduce(Femtograms.zero) { $0 + $1.volume.femtograms(at: $1.concentration) }
        let inSystem = p.reservoir.femtograms(at: p.reservoirConcentration) + column + held + p.toPatient + p.toPocket
        let expected = drugIn - drugWithdrawn
        if inSystem != expected {
            fail(.drugConserved, at: now, "drug put in less withdrawn is \(expected) but reservoir + column + held + CSF + pocket is \(inSystem) (difference \(inSystem - expected))")
        }
    }

    func exempt(_ a: Instant, _ b: Instant) -> Bool {
        lowerExempt.contains { $0.from < b && a < $0.to }
    }

    /// 24 h windows ending since the last check: at run edges and every 15 minutes.
    mutating func checkWindows(upTo now: Instant, stroke: Int64) {
        guard let start = courseStart, now > checkedUpTo else { checkedUpTo = now; return }
        var ends = log.edges(after: checkedUpTo, upTo: now)
        let grid = TimeSpan.minutes(15).nanoseconds
        var g = (checkedUpTo.nanoseconds / grid + 1) * grid
        while g <= now.nanoseconds { ends.append(Instant(nanoseconds: g)); g += grid }
        ends.append(now)
        checkedUpTo = now
        for w in ends where w >= start + Self.day {
            let from = w - Self.day
            let held = log.delivered(after: from, upTo: w)
            if held > DoseRate.ceiling.picogramsPerDay + 2 * stroke {
                fail(.hardCeiling, at: w, "the 24 h window ending \(w) holds \(held) pg, above 1200 μg (plus a stroke)")
            }
            let lowerApplies = from >= start + Self.day && !exempt(from, w)
            if lowerApplies && held < DoseRate.floor.picogramsPerDay - 2 * stroke {
                fail(.hardFloor, at: w, "the 24 h window ending \(w) holds \(held) pg, below 50 μg while drug remains")
            }
            for c in changes where c.at < w && w <= c.at + Self.day {
                if let end = c.endsAt, w >= end { continue }
                // The floor aside: a window holding no more than the floor's 24 h amount is never an
                // increase past the limit (resuming at 50 μg/day after a stop or a gap with no drug).
                // Nor is one holding no more than it would have without the change: what was delivered
                // before it, then the plan it replaced (drug present), exactly. A halt that ends (a
                // refill) fills a window again whatever the change; the change answers only for what
                // it adds over the plan it replaced.
                let without = log.delivered(after: from, upTo: c.at) + c.without.picograms(from: c.at, to: w)
                let limit = Int128(c.baseline) * Int128(1_000_000 + c.increasePpm) / 1_000_000
                let up = max(limit, Int128(DoseRate.floor.picogramsPerDay), Int128(without)) + Int128(2 * stroke)
                if c.at >= start + Self.day, Int128(held) > up {
                    fail(.rollingTitration, at: w, "after the change at \(c.at) (\(c.baseline) pg in the 24 h before), the window ending \(w) holds \(held) pg, above the +\(Fraction(partsPerMillion: c.increasePpm)) limit (\(limit) pg) and the \(without) pg it would hold without the change (two strokes allowed)")
                }
                // Nor is a window below the decrease limit one the change emptied, if it holds what it
                // would have without the change (a schedule re-entered as it was, under a stricter
                // limit configured meanwhile): the change answers only for what it takes away.
                let down = Int128(c.baseline) * Int128(1_000_000 - c.decreasePpm) / 1_000_000 - Int128(2 * stroke)
                if c.at - Self.day >= start + Self.day, !exempt(c.at - Self.day, w), Int128(held) < down,
                   Int128(held) + Int128(2 * stroke) < Int128(without) {
                    fail(.rollingTitration, at: w, "after the change at \(c.at) (\(c.baseline) pg in the 24 h before), the window ending \(w) holds \(held) pg, below the −\(Fraction(partsPerMillion: c.decreasePpm)) limit (\(down) pg)")
                }
            }
        }
    }
}

/// What a refused command must leave as it was.
struct TherapySnapshot: Equatable {
    let c: PumpController
    init(_ c: PumpController) { self.c = c }
    var fields: [(String, AnyHashable)] {
        [("schedule", AnyHashable(c.schedule)), ("taper", AnyHashable(c.taper)), ("phase", AnyHashable(c.phase)),
         ("dose history", AnyHashable(c.doseHistory)), ("reservoir", AnyHashable(c.reservoir)), ("catheter", AnyHashable(c.catheter)),
         ("primed", AnyHashable(c.primed)), ("screening", AnyHashable(c.screening)), ("bolus", AnyHashable(c.bolus)),
         ("halt", AnyHashable(c.haltedSince)), ("awaiting confirmation", AnyHashable(c.awaitingConfirmationSince)),
         ("sensors", AnyHashable([c.occlusion, c.motorStall, c.emptySwitch])), ("refill date", AnyHashable(c.refillDate)),
         ("settings", AnyHashable(c.settings)), ("ledger", AnyHashable(c.ledger)), ("delivering dose", AnyHashable(c.deliveringDose)),
         ("now", AnyHashable(c.now)), ("refill-due instant", AnyHashable(c.refillDueAt))]
    }
    static func == (a: TherapySnapshot, b: TherapySnapshot) -> Bool { a.differences(from: b).isEmpty }
    func differences(from other: TherapySnapshot) -> [String] {
        zip(fields, other.fields).compactMap { $0.1 == $1.1 ? nil : $0.0 }
    }
}
