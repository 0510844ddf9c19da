import PumpCore
import PumpRig

extension Runner {
    /// The `status` reply: therapy, reservoir, alarms, strokes and timing (µs figures are p50/p99/max
    /// of the errors against the schedule). Exact quantities are integers with the unit in the key.
    /// The `timing` object of `status`. Its percentiles walk three HdrHistograms (about a millisecond):
    /// recomputed only when a stroke started or ended since the last one, so `status` asked back to back
    /// during a step stays cheap (its figures are those of the last stroke boundary).
    private func timingStatus(_ summary: (TimingStats.Summary) -> JSONValue) -> JSONValue {
        let key = [strokesPerformed, Int64(clamping: strokeTiming.strokeLateness.totalCount)]
        if let cached = timingCache, cached.key == key { return cached.value }
        let t = timing
        let value = JSONValue.object(["stroke_lateness": summary(t.strokes), "step_high_time_error": summary(t.pulses),
                                      "step_period_error": summary(t.periods)])
        timingCache = (key, value)
        return value
    }

    public func status() -> JSONValue {
        let c = controller
        func summary(_ s: TimingStats.Summary) -> JSONValue {
            .object(["count": .int(Int64(s.count)), "p50_ns": .int(Int64(s.p50)), "p99_ns": .int(Int64(s.p99)),
                     "max_ns": .int(Int64(s.max)), "text": .string(s.description)])
        }
        var o: [String: JSONValue] = [
            "now": .string(c.now.description),
            "now_ns": .int(c.now.nanoseconds),
            "time_scale": .int(timeLine.scale),
            "phase": .string(c.phase.description),
            "delivering_ng_per_day": .int(c.deliveringDose.nanogramsPerDay),
            "delivering": .string(c.deliveringDose.description),
            "reservoir_nl": .int(c.reservoir.estimate.nanolitres),
            "reservoir": .string(c.reservoir.estimate.description),
            "concentration_ug_per_ml": .int(c.reservoir.concentration.microgramsPerMillilitre),
            "primed": .bool(c.primed),
            "priming_volume_nl": .int(c.primingVolume.nanolitres),
            "strokes": .int(strokesPerformed),
            "alarms": .array(c.alarms.active.map { a in
                .object(["alarm": .string(a.kind.rawValue), "priority": .string(a.priority.description),
                         "detail": .string(a.detail.description), "raised": .string(a.raisedAt.description),
                         "raised_ns": .int(a.raisedAt.nanoseconds),
                         "acknowledged": .bool(a.acknowledgedAt != nil)])
            }),
            "sensors": .object(["occlusion": .bool(c.occlusion), "motor_stall": .bool(c.motorStall), "reservoir_empty_switch": .bool(c.emptySwitch)]),
            "timing": timingStatus(summary),
        ]
        // A journal outage holds delivery: an active high alarm of the runner itself, first in the list.
        if let outage = journalOutage {
            let alarm = JSONValue.object(["alarm": .string("journalOutage"), "priority": .string(AlarmPriority.high.description),
                                          "detail": .string(outage.description), "raised": .string(outage.since.description),
                                          "acknowledged": .bool(false)])
            if case let .array(a)? = o["alarms"] { o["alarms"] = .array([alarm] + a) }
            o["delivering_ng_per_day"] = .int(0)
            o["delivering"] = .string("nothing: delivery held (journal outage)")
            o["journal_outage"] = .object(["since": .string(outage.since.description), "failed_commits": .int(outage.failures),
                                           "latest_error": .string("\(outage.lastError)")])
        }
        o["write_ahead"] = .object(["strokes_per_step": .int(strokesPerStep), "max_strokes_per_commit": .int(maxStrokesPerCommit),
                                   "journal_commits": .int(journalCommits),
                                   "strokes_in_progress": .int(strokesInProgress)])
        // Fault injection (`inject`): the faults in force, and on the simulated pump its truth.
        let sim = simStatus()
        o["injected_faults"] = sim?.faults ?? .array([])
        if let truth = sim?.truth { o["sim_truth"] = truth }
        o["late_wakes"] = .int(lateWakes)
        o["late_commits"] = .int(lateCommits)
        o["max_stroke_lateness_ns"] = .int(Int64(clamping: maxStrokeLateness))
        if let d = c.programmedDose {
            o["programmed_ng_per_day"] = .int(d.nanogramsPerDay)
            o["programmed"] = .string(d.describe(at: c.reservoir.concentration))
        }
        if let s = c.schedule { o["schedule"] = .string(s.description) }
        // The bolus in progress (priming or a test dose), or "none".
        o["bolus"] = .string(c.bolus.map { "\($0.purpose.rawValue) \($0.target), \($0.given)/\($0.strokes) strokes, ends \($0.endsAt)" } ?? "none")
        if let b = bringUp { o["bring_up"] = .string(b.stage.rawValue + (b.refusal.map { ": \($0)" } ?? "")) }
        if let p = c.taper { o["taper"] = .string("\(p.kind) from \(p.fromDose)" + (p.endsAt.map { ", ends \($0)" } ?? "")) }
        return .object(o)
    }
}
