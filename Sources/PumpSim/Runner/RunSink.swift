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

    var acceptsStrokeBatches: Bool { batching }
    /// Only the number of alerts is reported, so the core need not wake for each re-alert.
    var wantsEachAlert: Bool { !batching }

    mutating func receiveAlerts(_ kind: AlarmKind, count: Int64, first: Instant, last: Instant) { alerts += count }

    mutating func receive(_ effect: Effect) {
        switch effect {
        case let .stroke(s): receiveStroke(s)
        case let .event(e): recorder.record(e)
        case .alert: alerts += 1
        }
    }

    @inline(__always)
    mutating func receiveStroke(_ s: Stroke) {
        let before = pump.toPatient
        do { try pump.perform(s) } catch let e as SimulatedPumpError { failure = e } catch {}
        recorder.delivered(pump.toPatient - before, at: s.at)
        checkBlocking(at: s.at)
    }

    mutating func receiveStrokes(_ b: StrokeBatch) {
        let before = pump.toPatient
        do { try pump.perform(batch: b) } catch let e as SimulatedPumpError { failure = e } catch {}
        recorder.delivered(pump.toPatient - before, strokes: b.count, first: b.first, last: b.last)
        checkBlocking(at: b.last)
    }

    /// Starts or ends a fault. When an occlusion clears, the volume held under pressure reaches the
    /// patient at once: its drug is recorded as delivered at `change.at` and as a released bolus.
    mutating func apply(_ change: FaultChange) {
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
