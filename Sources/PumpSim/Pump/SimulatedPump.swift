import PumpCore

/// A sensor change the simulated pump reports, with the instant it happened.
public struct SensorChange: Hashable, Sendable, Codable {
    public var at: Instant
    public var reading: SensorReading
}

/// Why the simulated pump refused a call.
public enum SimulatedPumpError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `perform` after `enterSafeState`: the motor is disabled. Start a new pump for a new run.
    case inSafeState(at: Instant)
    public var description: String {
        switch self {
        case let .inSafeState(t): return "stroke at \(t) refused: the simulated pump is in its safe state (motor disabled); start a new run"
        }
    }
}

/// A simulated intrathecal pump that the core drives exactly as it drives the bench rig
/// (`PumpDriver`), with the mechanics a safety engineer injects: calibration bias and seeded per-stroke
/// noise, occlusion, motor stall, catheter leak or disconnection, the true reservoir (apart from the
/// controller's estimate), a reservoir-empty switch and the catheter as a FIFO column.
///
/// The whole state is one value: copy it to branch a run. Time is explicit (every call carries the
/// instant); nothing reads a clock or the system's entropy, so a seed gives the same run bit for bit.
///
/// Units: volumes in picolitres, drug in femtograms, both exact integers.
public struct SimulatedPump: PumpDriver, Hashable, Sendable, Codable {
    public let profile: PumpProfile
    public let mechanics: PumpMechanics
    var rng: SplitMix64
    /// Mean true volume of one stroke: stroke volume × (1 + bias).
    public private(set) var strokeMean: Picolitres
    /// Picolitres per unit of the centred binomial (variance 32): σ × stroke volume / √32.
    let noiseUnit: Int64

    /// True volume in the reservoir.
    public private(set) var reservoir: Picolitres = .zero
    public private(set) var reservoirConcentration: Concentration = .none
    /// The true drug column between the pump and the catheter tip.
    public private(set) var catheter: TrueCatheter

    public private(set) var occluded = false
    public private(set) var stalled = false
    /// Share of the drug leaving the catheter that goes to the pocket (leak or disconnection).
    public private(set) var leak = Fraction(partsPerMillion: 0)
    /// The reservoir-empty switch is stuck closed (`FaultKind.emptySwitch`).
    public private(set) var emptySwitchStuck = false
    /// Faults started with `inject` and not yet ended, oldest first (`until`: the scheduled end).
    public private(set) var injected: [Fault] = []
    var occludedStrokes: Int64 = 0
    /// The solution held under pressure behind an occlusion, oldest first (a refill during the
    /// occlusion does not change what is already held).
    public private(set) var held: [TrueCatheter.Segment] = []
    /// Volume held under pressure behind an occlusion.
    public var pressurised: Picolitres { Picolitres(held.reduce(0) { $0 + $1.volume.value }) }
    var missedStrokes: Int64 = 0

    /// Sensor states as the pump reports them.
    public private(set) var occlusionSensor = false
    public private(set) var stallSensor = false
    public private(set) var emptySensor = false
    var pending: [SensorChange] = []

    /// Drug that reached the CSF, and drug that went to the pocket.
    public private(set) var toPatient: Femtograms = .zero
    public private(set) var toPocket: Femtograms = .zero
    /// Volume that left the reservoir.
    public private(set) var pumped: Picolitres = .zero
    /// Drug that left the reservoir through the pump (each volume at the reservoir's concentration
    /// when it left): what `drugAccount` balances against the CSF, the pocket and the catheter.
    public private(set) var drugPumped: Femtograms = .zero
    /// Drug put in by refills, and drug taken out with the residual at refills.
    public private(set) var drugAdded: Femtograms = .zero
    public private(set) var drugWithdrawn: Femtograms = .zero
    /// Drug in the catheter column (and held behind an occlusion) when the pump was made.
    public let columnDrugAtStart: Femtograms
    public private(set) var strokesCommanded: Int64 = 0
    public private(set) var strokesMoved: Int64 = 0
    /// Since when the true reservoir could not give a full stroke (nil after a refill).
    public private(set) var emptySince: Instant?
    /// What the alarm outputs show.
    public private(set) var indication = AlarmIndication(highestPriority: nil)
    public private(set) var inSafeState = false

    /// A pump with an empty reservoir and an unprimed (saline-filled) catheter.
    public init(profile: PumpProfile, mechanics: PumpMechanics = PumpMechanics()) throws(ConfigurationError) {
        try profile.validate()
        try mechanics.validate()
        // The list (and its words) only for an error: this runs once per run of a sweep.
        if mechanics.occlusionTripStrokes > profile.occlusionDetectionStrokes || mechanics.stallTripStrokes > profile.stallDetectionStrokes,
           let p = mechanics.slowerThanLabel(of: profile).first {
            throw .outOfRange(field: "mechanics.\(p.field)", value: "\(p.value)",
                              allowed: "1 … \(p.label) (the pump profile's \(p.labelField), the sensor's labelled trip strokes the controller relies on)")
        }
        self.profile = profile
        self.mechanics = mechanics
        rng = SplitMix64(seed: mechanics.seed)
        let sv = Int128(profile.strokeVolume.nanolitres) * 1_000
        strokeMean = Self.strokeMean(profile, bias: mechanics.calibrationBias)
        // sv ≤ 10⁷ pL, exact as a Double from either width; from Int128 the conversion is generic code
        // (a few per cent of a sweep run).
        let sigma = Double(Int64(sv)) * Double(mechanics.strokeNoise.partsPerMillion) / 1e6
        noiseUnit = Int64((sigma / Double(32).squareRoot()).rounded())
        catheter = TrueCatheter(capacity: profile.deadVolume, filledWith: .none)
        columnDrugAtStart = catheter.drug
    }

    /// Mean true volume of one stroke at `bias`: stroke volume × (1 + bias), to the picolitre.
    static func strokeMean(_ profile: PumpProfile, bias: Fraction) -> Picolitres {
        let sv = Int128(profile.strokeVolume.nanolitres) * 1_000
        return Picolitres(Int64((sv * Int128(1_000_000 + bias.partsPerMillion) + 500_000) / 1_000_000))
    }

    /// Drug now in the catheter column and held under pressure behind an occlusion.
    public var columnDrug: Femtograms {
        held.reduce(catheter.drug) { $0 + $1.volume.femtograms(at: $1.concentration) }
    }

    /// Drug now in the true reservoir.
    public var reservoirDrug: Femtograms { reservoir.femtograms(at: reservoirConcentration) }

    /// The pump's drug balance: every femtogram that left the reservoir is in the CSF, in the pocket
    /// or in the catheter column (including any volume held behind an occlusion).
    public var drugAccount: DrugAccount {
        DrugAccount(outOfReservoir: drugPumped, reservoirLedger: drugAdded - drugWithdrawn - reservoirDrug,
                    toCSF: toPatient, toPocket: toPocket, columnChange: columnDrug - columnDrugAtStart)
    }

    /// The largest volume one stroke can move (mean plus the noise bound).
    public var maximumStroke: Picolitres { Picolitres(strokeMean.value + 64 * noiseUnit) }

    /// True when drug is not reaching the CSF whatever the controller commands: stalled, occluded,
    /// disconnected, or the true reservoir is empty.
    public var blocksDelivery: Bool {
        stalled || occluded || leak.partsPerMillion >= 1_000_000 || emptySince != nil
    }

    // MARK: PumpDriver

    public mutating func perform(_ stroke: Stroke) throws {
        if inSafeState { throw SimulatedPumpError.inSafeState(at: stroke.at) }
        endInjectedFaults(upTo: stroke.at)
        strokesCommanded += 1
        if stalled {
            missedStrokes += 1
            if !stallSensor && missedStrokes >= mechanics.stallTripStrokes { setStall(true, at: stroke.at) }
            return
        }
        var v = Picolitres(strokeMean.value + (noiseUnit == 0 ? 0 : rng.centredBinomial128() * noiseUnit))
        if v.value < 0 { v = .zero }
        move(v, strokes: 1, at: stroke.at, lastAt: stroke.at)
    }

    public mutating func indicate(_ indication: AlarmIndication, at instant: Instant) throws {
        self.indication = indication
    }

    public mutating func sensorChanges(upTo instant: Instant) throws -> [(at: Instant, reading: SensorReading)] {
        endInjectedFaults(upTo: instant)
        if pending.isEmpty { return [] }
        let due = pending.filter { $0.at <= instant }
        pending.removeAll { $0.at <= instant }
        return due.map { ($0.at, $0.reading) }
    }

    public mutating func enterSafeState() throws {
        inSafeState = true
        indication = AlarmIndication(highestPriority: nil)
    }

    // MARK: Fast fidelity

    /// `batch.count` strokes at once (the `fast` fidelity): the sum of n noisy strokes, mean
    /// n × (1 + bias) × v and variance n × σ² × v², drawn from the seeded generator; a fault in force
    /// applies to the whole batch. The runner keeps batches inside `strokesBeforeNextChange()`, so no
    /// sensor trips inside one.
    public mutating func perform(batch: StrokeBatch) throws {
        if inSafeState { throw SimulatedPumpError.inSafeState(at: batch.first) }
        let n = batch.count
        guard n > 0 else { return }
        strokesCommanded += n
        if stalled {
            missedStrokes += n
            if !stallSensor && missedStrokes >= mechanics.stallTripStrokes { setStall(true, at: batch.last) }
            return
        }
        var total = strokeMean.value * n
        if noiseUnit != 0 {
            let unit = Int64((Double(noiseUnit) * Double(n).squareRoot()).rounded())
            total += rng.centredBinomial128() * unit
        }
        move(Picolitres(max(0, total)), strokes: n, at: batch.first, lastAt: batch.last)
    }

    /// Bolus strokes taken but not yet moved (`accumulate`): their count, first and last instants, and
    /// their summed true volume (each stroke's own noise, drawn in turn as `perform` draws it).
    var accumulated: AccumulatedStrokes?
    struct AccumulatedStrokes: Hashable, Sendable, Codable {
        var count: Int64, first: Instant, last: Instant, volume: Int64
    }

    /// Takes `stroke` as `perform` would but moves it later, with the strokes before and after it, in
    /// one `flushAccumulated()` (the fast fidelity's bolus passes: a priming bolus is 1,344 strokes).
    /// False, with nothing done, unless the aggregate is provably the same as the strokes one by one:
    /// each stroke draws its own noise from the generator in the same order (so the summed volume is
    /// the sum of the strokes' volumes, and no stroke could be clamped at zero), no fault is in force
    /// (no stall, occlusion, leak, injected fault or stuck switch), the true reservoir holds the whole
    /// sum above the empty-switch level (no stroke comes up short, the switch cannot change), and the
    /// whole sum stays within the saline at the catheter's tip (no drug reaches the patient, so no
    /// delivery instant is lost). Then every stroke moved one by one would change exactly what the
    /// aggregate changes: the column is a FIFO, the drug pumped is linear in the volume.
    public mutating func accumulate(_ stroke: Stroke) -> Bool {
        let m = maximumStroke.value
        let held = accumulated?.volume ?? 0
        guard !inSafeState, injected.isEmpty, !stalled, !occluded, leak.partsPerMillion == 0, !emptySwitchStuck,
              !emptySensor, emptySince == nil, strokeMean.value - 64 * noiseUnit >= 0,
              reservoir.value - (held + m) > Picolitres(mechanics.emptySensorLevel).value,
              catheter.capacity.value > 0, let head = catheter.segments.first, head.concentration == .none,
              head.volume.value >= held + m else { return false }
        strokesCommanded += 1
        let v = strokeMean.value + (noiseUnit == 0 ? 0 : rng.centredBinomial128() * noiseUnit)
        if let a = accumulated {
            accumulated = AccumulatedStrokes(count: a.count + 1, first: a.first, last: stroke.at, volume: a.volume + v)
        } else {
            accumulated = AccumulatedStrokes(count: 1, first: stroke.at, last: stroke.at, volume: v)
        }
        return true
    }

    /// `accumulate` of each of `strokes` in turn (a bolus pass, in time order), in one check: true when
    /// it took them all. Each stroke moves at most `maximumStroke`, so the held volume before the j-th
    /// is at most j − 1 maximum strokes more than now; when the whole run of maximum strokes passes
    /// `accumulate`'s volume conditions, every stroke's own check would pass, and nothing else it
    /// checks changes while strokes are held. False, with nothing done, when that bound fails (then
    /// take them one by one: `accumulate` decides each exactly).
    public mutating func accumulate(contentsOf strokes: [Stroke]) -> Bool {
        guard let first = strokes.first, let lastStroke = strokes.last else { return true }
        return accumulate(count: Int64(strokes.count), first: first.at, last: lastStroke.at)
    }

    /// `accumulate(contentsOf:)` of a run's strokes, without listing them (only their count and
    /// first and last instants matter to it).
    public mutating func accumulate(run: StrokeRun) -> Bool {
        run.count == 0 || accumulate(count: run.count, first: run.first, last: run.last)
    }

    /// `accumulate(contentsOf:)` of `n` strokes, the first at `first` and the last at `last`.
    mutating func accumulate(count n: Int64, first firstAt: Instant, last lastAt: Instant) -> Bool {
        let m = maximumStroke.value
        let held = accumulated?.volume ?? 0
        let (bound, overflow) = m.multipliedReportingOverflow(by: n)
        guard !overflow, !inSafeState, injected.isEmpty, !stalled, !occluded, leak.partsPerMillion == 0, !emptySwitchStuck,
              !emptySensor, emptySince == nil, strokeMean.value - 64 * noiseUnit >= 0,
              reservoir.value - (held + bound) > Picolitres(mechanics.emptySensorLevel).value,
              catheter.capacity.value > 0, let head = catheter.segments.first, head.concentration == .none,
              head.volume.value >= held + bound else { return false }
        strokesCommanded += n
        var volume: Int64 = 0
        if noiseUnit == 0 {
            volume = strokeMean.value * n
        } else {
            for _ in 0..<n { volume += strokeMean.value + rng.centredBinomial128() * noiseUnit }
        }
        if let a = accumulated {
            accumulated = AccumulatedStrokes(count: a.count + n, first: a.first, last: lastAt, volume: a.volume + volume)
        } else {
            accumulated = AccumulatedStrokes(count: n, first: firstAt, last: lastAt, volume: volume)
        }
        return true
    }

    /// Moves the accumulated strokes (see `accumulate`); returns the instant of the last one (nil:
    /// none were held).
    public mutating func flushAccumulated() -> Instant? {
        guard let a = accumulated else { return nil }
        accumulated = nil
        move(Picolitres(a.volume), strokes: a.count, at: a.first, lastAt: a.last)
        return a.last
    }

    /// Strokes the pump can take without any sensor changing, the true reservoir running short or the
    /// concentration at the catheter tip changing (`Int64.max` when nothing can change). The runner
    /// steps stroke by stroke when this is small.
    /// Inlined: the runner asks before every step, and a call copies the pump.
    @inline(__always)
    public func strokesBeforeNextChange() -> Int64 {
        var k = Int64.max
        if occluded && !occlusionSensor { k = min(k, mechanics.occlusionTripStrokes - occludedStrokes - 1) }
        if stalled {
            if !stallSensor { k = min(k, mechanics.stallTripStrokes - missedStrokes - 1) }
            return max(0, k)
        }
        let m = maximumStroke.value
        if m > 0 {
            if !emptySensor {
                let d = reservoir.value - Picolitres(mechanics.emptySensorLevel).value
                k = min(k, d <= 0 ? 0 : (d + m - 1) / m - 1)
            }
            if emptySince == nil && reservoirConcentration != .none {
                let d = reservoir.value - m
                k = min(k, d < 0 ? 0 : d / m)
            }
            // A batch never pushes two concentrations out of the tip: its drug is then split between
            // intervals exactly (a new concentration reaching the patient is on the right day).
            if !occluded, let head = catheter.segments.first,
               catheter.segments.count > 1 || head.concentration != reservoirConcentration {
                k = min(k, head.volume.value / m)
            }
        }
        return max(0, k)
    }

    // MARK: Clinician and fault actions

    /// What a clinician withdraws and measures at a refill: the true residual, rounded down to the nL.
    public var measurableResidual: Volume { reservoir.volumeRoundingDown }

    /// A refill at `t`: the residual is withdrawn and `added` of `concentration` put in.
    public mutating func refill(added: Volume, concentration: Concentration, at t: Instant) {
        drugWithdrawn = drugWithdrawn + reservoirDrug
        drugAdded = drugAdded + Picolitres(added).femtograms(at: concentration)
        reservoir = Picolitres(added)
        reservoirConcentration = concentration
        emptySince = nil
        updateEmptySensor(at: t)
    }

    /// Starts or ends a fault at `change.at`.
    public mutating func apply(_ change: FaultChange) {
        let t = change.at
        switch change.kind {
        case .occlusion:
            guard occluded != change.active else { return }
            occluded = change.active
            if !change.active {
                // The pressurised volume is released to the patient: the bolus after an occlusion
                // clears, each part at the concentration it was pumped at.
                let release = held
                held = []
                occludedStrokes = 0
                for seg in release { deliverThroughCatheter(seg.volume, at: seg.concentration) }
                if occlusionSensor { occlusionSensor = false; pending.append(SensorChange(at: t, reading: .occlusion(false))) }
            }
        case .motorStall:
            guard stalled != change.active else { return }
            stalled = change.active
            if !change.active {
                missedStrokes = 0
                if stallSensor { setStall(false, at: t) }
            }
        case let .leak(f):
            leak = change.active ? f : Fraction(partsPerMillion: 0)
        case .disconnection:
            leak = change.active ? .percent(100) : Fraction(partsPerMillion: 0)
        case .emptySwitch:
            emptySwitchStuck = change.active
            updateEmptySensor(at: t)
        case let .calibrationBias(b):
            strokeMean = Self.strokeMean(profile, bias: change.active ? b : mechanics.calibrationBias)
        }
    }

    /// Starts `kind` now (`at`), to end at `until` (nil: until `clearInjected`), as a test engineer
    /// injects a fault into a running pump. The fault acts on the pump's truth exactly as the same
    /// fault in a `FaultPlan` (the sensors trip as the mechanics say). Refused when a fault of the
    /// same family (occlusion, stall, leak/disconnection, empty switch, calibration bias) is already
    /// injected, when `until` is not after `at`, or for a bias outside the mechanics' limits.
    public mutating func inject(_ kind: FaultKind, at: Instant, until: Instant? = nil) throws(FaultPlan.Problem) {
        endInjectedFaults(upTo: at)
        let fault = Fault(kind: kind, from: at, until: until)
        try FaultPlan(injected + [fault]).validate()
        injected.append(fault)
        apply(FaultChange(at: at, kind: kind, active: true))
    }

    /// Ends the injected fault of `kind`'s family at `at`; false when none is injected.
    @discardableResult
    public mutating func clearInjected(_ kind: FaultKind, at: Instant) -> Bool {
        endInjectedFaults(upTo: at)
        guard let i = injected.firstIndex(where: { $0.kind.family == kind.family }) else { return false }
        let f = injected.remove(at: i)
        apply(FaultChange(at: at, kind: f.kind, active: false))
        return true
    }

    /// Ends the injected faults whose end is at or before `instant`, at their end instant.
    mutating func endInjectedFaults(upTo instant: Instant) {
        while let i = injected.firstIndex(where: { $0.until.map { $0 <= instant } ?? false }) {
            let f = injected.remove(at: i)
            apply(FaultChange(at: f.until!, kind: f.kind, active: false))
        }
    }

    // MARK: Mechanics

    mutating func move(_ volume: Picolitres, strokes n: Int64, at first: Instant, lastAt last: Instant) {
        var v = volume
        if occluded {
            let room = Picolitres(mechanics.occlusionCompliance).value - pressurised.value
            if v.value > room { v = Picolitres(max(0, room)) }
        }
        if v > reservoir {
            if emptySince == nil {
                // The first stroke that came up short: in a batch, the share of strokes that were full.
                let full = strokeMean.value > 0 ? reservoir.value / strokeMean.value : 0
                let span = (last - first).nanoseconds
                emptySince = n <= 1 ? first : first + TimeSpan(nanoseconds: Int64(Int128(span) * Int128(min(full, n - 1)) / Int128(n - 1)))
            }
            v = reservoir
        }
        reservoir = reservoir - v
        pumped = pumped + v
        drugPumped = drugPumped + v.femtograms(at: reservoirConcentration)
        strokesMoved += n
        if occluded {
            occludedStrokes += n
            if v.value > 0 {
                if let last = held.last, last.concentration == reservoirConcentration {
                    held[held.count - 1].volume = last.volume + v
                } else {
                    held.append(TrueCatheter.Segment(volume: v, concentration: reservoirConcentration))
                }
            }
            if !occlusionSensor && occludedStrokes >= mechanics.occlusionTripStrokes {
                occlusionSensor = true
                pending.append(SensorChange(at: last, reading: .occlusion(true)))
            }
        } else {
            deliverThroughCatheter(v, at: reservoirConcentration)
        }
        updateEmptySensor(at: last)
    }

    mutating func deliverThroughCatheter(_ v: Picolitres, at concentration: Concentration) {
        guard v.value > 0 else { return }
        let fg = catheter.push(v, at: concentration)
        if leak.partsPerMillion == 0 {
            toPatient = toPatient + fg
        } else {
            let pocket = Int64(Int128(fg.value) * Int128(leak.partsPerMillion) / 1_000_000)
            toPocket = toPocket + Femtograms(pocket)
            toPatient = toPatient + Femtograms(fg.value - pocket)
        }
    }

    mutating func updateEmptySensor(at t: Instant) {
        let low = emptySwitchStuck || reservoir <= Picolitres(mechanics.emptySensorLevel)
        if low != emptySensor {
            emptySensor = low
            pending.append(SensorChange(at: t, reading: .reservoirEmpty(low)))
        }
    }

    mutating func setStall(_ on: Bool, at t: Instant) {
        stallSensor = on
        pending.append(SensorChange(at: t, reading: .motorStall(on)))
    }
}
