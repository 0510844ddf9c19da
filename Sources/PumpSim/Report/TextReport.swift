import PumpCore

/// The readable summary of a run: delivery per day, alarms with instants and lead time before empty,
/// hours at zero delivery, the withdrawal-risk window with its threshold.
public enum TextReport {
    public static func render(_ r: SimulationResult) -> String {
        let rec = r.recorder, s = r.scenario
        var out: [String] = []
        func line(_ x: String = "") { out.append(x) }
        line("itpump simulate — \(s.name)")
        line(String(repeating: "=", count: 72))
        line("pump:          \(s.profile.name), stroke \(s.profile.strokeVolume), bias \(s.mechanics.calibrationBias), noise \(s.mechanics.strokeNoise) (seed \(s.mechanics.seed))")
        line("prescription:  \(s.schedule) at \(s.concentration) = \(s.schedule.dailyDose.volumeRate(at: s.concentration)); policy \(s.settings.reservoirPolicy.rawValue)")
        line("run:           \(s.duration) in \(r.fidelity.rawValue) fidelity; therapy from \(s.therapyStart)")
        line()
        let ledgerPg = DeliveryPurpose.allCases.reduce(Int64(0)) { $0 + r.controller.ledger.deliveredPicograms($1) }
        line("delivered to CSF:       \(rec.totalToPatient)   (controller's ledger \(Mass(nanograms: ledgerPg / 1_000)); to the pocket \(r.pump.toPocket))")
        line("reservoir at the end:   true \(r.pump.reservoir), controller's estimate \(r.controller.reservoir.estimate)")
        line("reservoir ran empty:    " + (rec.emptyOnsets.isEmpty ? "never" : rec.emptyOnsets.map(\.description).joined(separator: ", ")))
        line("hours at zero delivery: \(fixed(rec.zeroDelivery.hours, 2)) h")
        let thr = s.pk.withdrawalThreshold(s.schedule.dailyDose)
        line("withdrawal-risk window: \(rec.withdrawal.roundedDescription) (\(fixed(rec.withdrawal.hours, 2)) h) with the CSF level below \(s.pk.withdrawalFraction) of the prescribed dose's steady state (\(thr) at \(s.schedule.dailyDose))")
        for e in rec.episodes.prefix(10) { line("    \(e.start) → \(e.end)  (\(e.length.roundedDescription))") }
        if rec.episodes.count > 10 { line("    … \(rec.episodes.count - 10) more") }
        line("withdrawal severity:    peak \(fixed(rec.peakSeverity, 3)); \(fixed(rec.severe.hours, 1)) h at or above \(fixed(Recorder.severeLevel, 3)) (complete deficit for \(s.pk.severityTimeConstant))")
        line()
        line("alarms (raised → cleared; lead time before the reservoir ran empty):")
        if rec.alarms.isEmpty { line("  none") } else {
            for row in alarmTable(Array(rec.alarms.prefix(40))) { line("  " + row) }
        }
        if rec.alarms.count > 40 { line("  … \(rec.alarms.count - 40) more") }
        line()
        line("refused commands:")
        if rec.refusals.isEmpty { line("  none") }
        for f in rec.refusals { line("  \(f.at)  \(f.command): \(f.reason)") }
        line()
        line("delivered per day (μg to the CSF):")
        var row = ""
        for (i, fg) in rec.dailyFemtograms.enumerated() {
            row += "d\(i + 1)=\(Format.trimmed(fg / 1_000_000, scale: 1_000, maxDigits: 1)) "
            if row.count > 64 { line("  " + row); row = "" }
        }
        if !row.isEmpty { line("  " + row) }
        return out.joined(separator: "\n")
    }

    /// The alarm table: a header and one row per alarm, every column padded to its widest cell
    /// (lead right-aligned), so the columns line up whatever the instants' widths.
    static func alarmTable(_ alarms: [AlarmRecord]) -> [String] {
        let header = ["raised", "alarm", "priority", "cleared", "lead before empty"]
        let cells = alarms.map { a in
            [a.raisedAt.description, a.kind.rawValue, a.kind.priority.description,
             a.clearedAt?.description ?? "still active", a.leadTimeBeforeEmpty?.roundedDescription ?? "—"]
        }
        let widths = header.indices.map { i in ([header] + cells).map { $0[i].count }.max() ?? 0 }
        func render(_ r: [String]) -> String {
            r.indices.map { i in
                i == r.count - 1 ? String(repeating: " ", count: widths[i] - r[i].count) + r[i] : r[i].padding(widths[i])
            }.joined(separator: "  ")
        }
        return [render(header), widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")] + cells.map(render)
    }

    public static func fixed(_ v: Double, _ digits: Int) -> String {
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        return Format.fixed(Int64((v * p).rounded()), scale: Int64(p), digits: digits)
    }
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
