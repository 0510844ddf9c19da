import PumpCore

/// The effect sink of a simulation run: carries strokes out on the simulated pump and feeds the
/// recorder. Owns both so a year of strokes never copies them.
struct RunSink: EffectSink {
    var pump: SimulatedPump
    var recorder: Recorder
    let batching: Bool
    var failure: SimulatedPumpError?
    var alerts: Int64 = 0
    /// A deliberately broken sink for the anti-vacuity tests: the drug released when an occlusion
    /// clears is not recorded (the defect the run's conservation check exists to catch).
    var dropsReleasedDrug = false
    /// Bolus strokes are moved in aggregate when that is provably the same as one by one
    /// (`SimulatedPump.accumulate`; fast fidelity only). False: each on its own (the reference).
    var aggregatesBolus = true

    var acceptsStrokeBatches: Bool { batching }
    /// Only the number of alerts is reported, so the core need not wake for each re-alert.
    var wantsEachAlert: Bool { !batching }
    /// The recorder splits every batch between days itself: the core's `dailyDelivery` events would
    /// only be built, copied and dropped (`Recorder.record` ignores them).
    var wantsDailyDelivery: Bool { false }

    mutating func receiveAlerts(_ kind: AlarmKind, count: Int64, first: Instant, last: Instant) { alerts += count }

    mutating func receive(_ effect: Effect) {
        switch effect {
        case let .stroke(s): receiveStroke(s)
        case let .event(e):
            flush()
            recorder.record(e)
        case .alert:
            flush()
            alerts += 1
        }
    }

    /// A bolus pass's strokes: each as `receive(.stroke(_:))` takes it, without building an `Effect`.
    /// Taken in one check when the pump can hold them all (`SimulatedPump.accumulate(contentsOf:)`,
    /// the same as each in turn), else one by one.
    mutating func receiveHeldStrokes(_ strokes: [Stroke]) {
        if batching && aggregatesBolus && !strokes.contains(where: { $0.purpose == .basal }),
           pump.accumulate(contentsOf: strokes) { return }
        for s in strokes { receiveStroke(s) }
    }

    /// A run of saline bolus strokes: in one move when the pump can hold them all
    /// (`SimulatedPump.accumulate(run:)`, the same as each in turn), else stroke by stroke.
    mutating func receiveStrokeRun(_ run: StrokeRun) {
        if batching && aggregatesBolus && run.purpose != .basal, pump.accumulate(run: run) { return }
        for s in run { receiveStroke(s) }
    }

    @inline(__always)
    mutating func receiveStroke(_ s: Stroke) {
        if batching && aggregatesBolus && s.purpose != .basal {
            if pump.accumulate(s) { return }
        }
        flush()
        let before = pump.toPatient
        do { try pump.perform(s) } catch let e as SimulatedPumpError { failure = e } catch {}
        recorder.delivered(pump.toPatient - before, at: s.at)
        checkBlocking(at: s.at)
    }

    /// Moves the bolus strokes the pump holds (`SimulatedPump.accumulate`): no drug reaches the
    /// patient with them and no sensor or blocking state changes, so the recorder only learns the
    /// instant they reached (as a stroke of no drug there, which is what each of them was).
    mutating func flush() {
        guard let last = pump.flushAccumulated() else { return }
        recorder.delivered(.zero, at: last)
        checkBlocking(at: last)
    }

    mutating func receiveStrokes(_ b: StrokeBatch) {
        flush()
        let before = pump.toPatient
        do { try pump.perform(batch: b) } catch let e as SimulatedPumpError { failure = e } catch {}
        recorder.delivered(pump.toPatient - before, strokes: b.count, first: b.first, last: b.last)
        checkBlocking(at: b.last)
    }

    /// Starts or ends a fault. When an occlusion clears, the volume held under pressure reaches the
    /// patient at once: its drug is recorded as delivered at `change.at` and as a released bolus.
    mutating func apply(_ change: FaultChange) {
        flush()
        let volume = pump.pressurised
        let csf = pump.toPatient, pocket = pump.toPocket
        pump.apply(change)
        let released = pump.pressurised < volume
        if released && !dropsReleasedDrug {
            recorder.released(toCSF: pump.toPatient - csf, toPocket: pump.toPocket - pocket, volume: volume - pump.pressurised, at: change.at)
        }
        checkBlocking(at: change.at)
    }

    @inline(__always)
    mutating func checkBlocking(at t: Instant) {
        if pump.blocksDelivery != recorder.pumpBlocked {
            if pump.emptySince != nil, !recorder.pumpBlocked { recorder.reservoirRanEmpty(at: pump.emptySince ?? t) }
            recorder.pumpBlocking(pump.blocksDelivery, at: pump.emptySince ?? t)
        }
    }
}
