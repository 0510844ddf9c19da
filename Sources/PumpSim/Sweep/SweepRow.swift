import PumpCore

/// One sweep run as a CSV row: the drawn parameters and the measures. Times in whole seconds so
/// summaries are exact integer sums, whatever the order rows are merged in.
public struct SweepRow: Hashable, Sendable {
    public var run: Int
    /// The run's own seed (its simulated pump's mechanics seed, drawn from the sweep's seed and the
    /// run's index): the seed `itpump sweep SWEEP --run K` reports for the replay.
    public var seed: UInt64
    public var policy: ReservoirPolicy
    public var refillDelaySeconds: Int64
    public var dailyDoseMicrograms: Int64
    public var concentration: Int64
    public var reservoirMillilitres: Int64
    public var deliveredMicrograms: String
    /// Lead of the first low-reservoir (and refill-due) alarm before the first empty reservoir; nil if
    /// the reservoir never ran empty while it was active.
    public var lowReservoirLeadSeconds: Int64?
    public var refillDueLeadSeconds: Int64?
    public var reservoirEmptyAtSeconds: Int64?
    public var withdrawalRiskSeconds: Int64
    public var peakSeverity: String
    public var zeroDeliverySeconds: Int64
    public var error: String?

    public static let header = "run,seed,policy,refill_delay_s,daily_dose_ug,concentration_ug_per_ml,reservoir_ml,delivered_ug,low_reservoir_lead_s,refill_due_lead_s,reservoir_empty_at_s,withdrawal_risk_s,peak_severity,zero_delivery_s,error"

    init(draw d: SweepPlan.Draw) {
        run = d.index
        seed = d.pumpSeed
        policy = d.policy
        refillDelaySeconds = d.refillDelay.nanoseconds / TimeConstants.nanosecondsPerSecond
        dailyDoseMicrograms = d.dailyDose.nanogramsPerDay / 1_000
        concentration = d.concentration.microgramsPerMillilitre
        reservoirMillilitres = d.reservoir.nanolitres / 1_000_000
        deliveredMicrograms = ""
        withdrawalRiskSeconds = 0
        peakSeverity = ""
        zeroDeliverySeconds = 0
    }

    init(draw d: SweepPlan.Draw, error: String) {
        self.init(draw: d)
        self.error = error
    }

    init(draw d: SweepPlan.Draw, result r: SimulationResult) {
        self.init(draw: d)
        let rec = r.recorder
        func sec(_ t: TimeSpan) -> Int64 { t.nanoseconds / TimeConstants.nanosecondsPerSecond }
        deliveredMicrograms = Format.fixed(rec.totalToPatient.value / 1_000_000, scale: 1_000, digits: 3)
        lowReservoirLeadSeconds = rec.alarms.first { $0.kind == .lowReservoir && $0.leadTimeBeforeEmpty != nil }?.leadTimeBeforeEmpty.map(sec)
        refillDueLeadSeconds = rec.alarms.first { $0.kind == .refillDue && $0.leadTimeBeforeEmpty != nil }?.leadTimeBeforeEmpty.map(sec)
        reservoirEmptyAtSeconds = rec.emptyOnsets.first.map { $0.nanoseconds / TimeConstants.nanosecondsPerSecond }
        withdrawalRiskSeconds = sec(rec.withdrawal)
        peakSeverity = Format.fixed(Int64((rec.peakSeverity * 10_000).rounded()), scale: 10_000, digits: 4)
        zeroDeliverySeconds = sec(rec.zeroDelivery)
    }

    public var csv: String {
        func o(_ v: Int64?) -> String { v.map(String.init) ?? "" }
        let e = (error ?? "").replacingCommas()
        return "\(run),\(seed),\(policy.rawValue),\(refillDelaySeconds),\(dailyDoseMicrograms),\(concentration),\(reservoirMillilitres),\(deliveredMicrograms),"
            + "\(o(lowReservoirLeadSeconds)),\(o(refillDueLeadSeconds)),\(o(reservoirEmptyAtSeconds)),\(withdrawalRiskSeconds),\(peakSeverity),\(zeroDeliverySeconds),\(e)"
    }

    /// Why a CSV line is not a sweep row.
    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses a line written by `csv`.
    public init(csv line: Substring) throws(ParseError) {
        let f = line.split(separator: ",", omittingEmptySubsequences: false)
        guard f.count == 15 else { throw ParseError(description: "expected 15 fields, found \(f.count)") }
        func int(_ i: Int) throws(ParseError) -> Int64 {
            guard let v = Int64(f[i]) else { throw ParseError(description: "field \(i + 1) `\(f[i])` is not a whole number") }
            return v
        }
        func opt(_ i: Int) throws(ParseError) -> Int64? { f[i].isEmpty ? nil : try int(i) }
        guard let s = UInt64(f[1]) else { throw ParseError(description: "field 2 (seed) `\(f[1])` is not a whole number") }
        guard let p = ReservoirPolicy(rawValue: String(f[2])) else { throw ParseError(description: "unknown policy `\(f[2])`") }
        run = Int(try int(0))
        seed = s
        policy = p
        refillDelaySeconds = try int(3)
        dailyDoseMicrograms = try int(4)
        concentration = try int(5)
        reservoirMillilitres = try int(6)
        deliveredMicrograms = String(f[7])
        lowReservoirLeadSeconds = try opt(8)
        refillDueLeadSeconds = try opt(9)
        reservoirEmptyAtSeconds = try opt(10)
        withdrawalRiskSeconds = try int(11)
        peakSeverity = String(f[12])
        zeroDeliverySeconds = try int(13)
        error = f[14].isEmpty ? nil : String(f[14])
    }
}

extension String {
    func replacingCommas() -> String { String(map { $0 == "," || $0 == "\n" ? ";" : $0 }) }
}
