import PumpCore

/// The per-interval time series as CSV: one row per interval, units in the header; with a provenance,
/// `# key: value` lines first (version, seed, each input's SHA-256).
public enum SeriesCSV {
    public static let header = "start_s,delivered_ug,delivery_rate_ug_per_day,true_reservoir_ml,estimated_reservoir_ml,csf_ng_per_ml,withdrawal_threshold_ng_per_ml,withdrawal_severity,released_bolus_ug"

    /// Writes each line through `emit` (streamed; nothing accumulates).
    public static func write(_ r: SimulationResult, provenance: ReportProvenance? = nil, _ emit: (String) -> Void) {
        preamble(provenance: provenance, emit)
        let perDay = Double(TimeConstants.nanosecondsPerDay) / Double(r.recorder.interval.nanoseconds)
        for row in r.recorder.series { emit(line(row, perDay: perDay)) }
    }

    /// The same lines for a run whose series went to `series`.
    public static func write(_ r: SimulationResult, series: SeriesStream, provenance: ReportProvenance? = nil, _ emit: (String) -> Void) {
        preamble(provenance: provenance, emit)
        let perDay = Double(TimeConstants.nanosecondsPerDay) / Double(r.recorder.interval.nanoseconds)
        series.forEachRow { emit(line($0, perDay: perDay)) }
    }

    /// The `#` lines of a provenance, then the header.
    static func preamble(provenance: ReportProvenance?, _ emit: (String) -> Void) {
        if let p = provenance {
            emit("# itpump series")
            emit("# version: \(p.version ?? "not recorded")")
            emit("# seed: \(p.seed.map(String.init) ?? "")")
            for i in p.inputs { emit("# sha256 \(i.path.replacingNewlines()): \(i.sha256)") }
        }
        emit(header)
    }

    /// One interval's line; `perDay`: intervals per day.
    static func line(_ row: SeriesRow, perDay: Double) -> String {
        let ug = Double(row.delivered.value) / 1e9
        return "\(row.start.nanoseconds / 1_000_000_000),\(TextReport.fixed(ug, 6)),\(TextReport.fixed(ug * perDay, 3)),"
            + "\(TextReport.fixed(row.trueReservoir.millilitresForDisplay, 6)),\(Format.fixed(row.estimatedReservoir.nanolitres, scale: 1_000_000, digits: 6)),"
            + "\(TextReport.fixed(row.concentration.nanogramsPerMillilitre, 3)),"
            + "\(row.threshold.map { TextReport.fixed($0.nanogramsPerMillilitre, 3) } ?? ""),\(TextReport.fixed(row.severity, 4)),"
            + TextReport.fixed(Double(row.released.value) / 1e9, 6)
    }
}
