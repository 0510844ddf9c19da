import PumpCore

/// The report of one run, in the fields other tools read (`itpump simulate --format json`). Times are
/// seconds from the run's start; masses μg; null where something never happened.
public struct SimulationReport: Sendable, Encodable {
    public struct Day: Sendable, Encodable { public var day: Int; public var micrograms: Double }
    public struct Alarm: Sendable, Encodable {
        public var kind: String
        public var raisedAtSeconds: Double
        public var clearedAtSeconds: Double?
        public var leadTimeBeforeEmptySeconds: Double?
        public func encode(to e: Encoder) throws {
            var c = e.container(keyedBy: K.self)
            try c.encode(kind, forKey: .kind)
            try c.encode(raisedAtSeconds, forKey: .raisedAtSeconds)
            try c.encode(clearedAtSeconds, forKey: .clearedAtSeconds)
            try c.encode(leadTimeBeforeEmptySeconds, forKey: .leadTimeBeforeEmptySeconds)
        }
        enum K: String, CodingKey { case kind, raisedAtSeconds, clearedAtSeconds, leadTimeBeforeEmptySeconds }
    }
    public struct Refused: Sendable, Encodable { public var atSeconds: Double; public var command: String; public var reason: String }
    public struct Episode: Sendable, Encodable { public var startSeconds: Double; public var endSeconds: Double }
    /// A bolus released when an occlusion cleared (its CSF share is in `deliveredMicrograms`).
    public struct Released: Sendable, Encodable {
        public var atSeconds: Double; public var millilitres: Double; public var micrograms: Double; public var pocketMicrograms: Double
    }

    public var scenario: String
    public var fidelity: String
    public var durationSeconds: Double
    /// Drug that reached the CSF (true, from the simulated pump).
    public var deliveredMicrograms: Double
    /// Drug the controller believes it delivered (its ledger).
    public var commandedMicrograms: Double
    /// Drug that went to the pocket (leak, disconnection).
    public var pocketMicrograms: Double
    public var dailyDelivery: [Day]
    public var alarms: [Alarm]
    public var reservoirEmptyAtSeconds: Double?
    public var withdrawalRiskSeconds: Double
    /// The threshold as a fraction of the prescribed dose's steady state, and its value at the
    /// scenario's prescribed dose.
    public var withdrawalRiskThresholdFraction: Double
    public var withdrawalRiskThresholdNgPerMl: Double
    public var withdrawalEpisodes: [Episode]
    public var peakWithdrawalSeverity: Double
    public var severeWithdrawalSeconds: Double
    public var hoursAtZeroDelivery: Double
    public var refusedCommands: [Refused]
    public var finalTrueReservoirMillilitres: Double
    public var finalEstimatedReservoirMillilitres: Double
    public var steadyStateNgPerMl: Double
    public var releasedBoluses: [Released]
    /// The program's version, the inputs' SHA-256 and the seed (absent when the caller gives none).
    public var provenance: ReportProvenance?

    enum K: String, CodingKey {
        case scenario, fidelity, durationSeconds, deliveredMicrograms, commandedMicrograms, pocketMicrograms, dailyDelivery, alarms
        case reservoirEmptyAtSeconds, withdrawalRiskSeconds, withdrawalRiskThresholdFraction, withdrawalRiskThresholdNgPerMl
        case withdrawalEpisodes, peakWithdrawalSeverity, severeWithdrawalSeconds, hoursAtZeroDelivery, refusedCommands
        case finalTrueReservoirMillilitres, finalEstimatedReservoirMillilitres, steadyStateNgPerMl, releasedBoluses, provenance
    }

    public func encode(to e: Encoder) throws {
        var c = e.container(keyedBy: K.self)
        try c.encode(scenario, forKey: .scenario)
        try c.encode(fidelity, forKey: .fidelity)
        try c.encode(durationSeconds, forKey: .durationSeconds)
        try c.encode(deliveredMicrograms, forKey: .deliveredMicrograms)
        try c.encode(commandedMicrograms, forKey: .commandedMicrograms)
        try c.encode(pocketMicrograms, forKey: .pocketMicrograms)
        try c.encode(dailyDelivery, forKey: .dailyDelivery)
        try c.encode(alarms, forKey: .alarms)
        try c.encode(reservoirEmptyAtSeconds, forKey: .reservoirEmptyAtSeconds)
        try c.encode(withdrawalRiskSeconds, forKey: .withdrawalRiskSeconds)
        try c.encode(withdrawalRiskThresholdFraction, forKey: .withdrawalRiskThresholdFraction)
        try c.encode(withdrawalRiskThresholdNgPerMl, forKey: .withdrawalRiskThresholdNgPerMl)
        try c.encode(withdrawalEpisodes, forKey: .withdrawalEpisodes)
        try c.encode(peakWithdrawalSeverity, forKey: .peakWithdrawalSeverity)
        try c.encode(severeWithdrawalSeconds, forKey: .severeWithdrawalSeconds)
        try c.encode(hoursAtZeroDelivery, forKey: .hoursAtZeroDelivery)
        try c.encode(refusedCommands, forKey: .refusedCommands)
        try c.encode(finalTrueReservoirMillilitres, forKey: .finalTrueReservoirMillilitres)
        try c.encode(finalEstimatedReservoirMillilitres, forKey: .finalEstimatedReservoirMillilitres)
        try c.encode(steadyStateNgPerMl, forKey: .steadyStateNgPerMl)
        try c.encode(releasedBoluses, forKey: .releasedBoluses)
        try c.encodeIfPresent(provenance, forKey: .provenance)
    }

    public init(_ r: SimulationResult, provenance: ReportProvenance? = nil) {
        self.provenance = provenance
        let rec = r.recorder
        func s(_ t: Instant) -> Double { Double(t.nanoseconds) / 1e9 }
        scenario = r.scenario.name
        fidelity = r.fidelity.rawValue
        durationSeconds = s(r.end)
        deliveredMicrograms = rec.totalToPatient.microgramsForDisplay
        let ledger = r.controller.ledger
        commandedMicrograms = Double(DeliveryPurpose.allCases.reduce(Int64(0)) { $0 + ledger.deliveredPicograms($1) }) / 1e6
        pocketMicrograms = r.pump.toPocket.microgramsForDisplay
        dailyDelivery = rec.dailyFemtograms.enumerated().map { Day(day: $0.offset + 1, micrograms: Double($0.element) / 1e9) }
        alarms = rec.alarms.map { Alarm(kind: $0.kind.rawValue, raisedAtSeconds: s($0.raisedAt), clearedAtSeconds: $0.clearedAt.map(s),
                                        leadTimeBeforeEmptySeconds: $0.leadTimeBeforeEmpty.map { $0.seconds }) }
        reservoirEmptyAtSeconds = rec.emptyOnsets.first.map(s)
        withdrawalRiskSeconds = rec.withdrawal.seconds
        withdrawalRiskThresholdFraction = Double(r.scenario.pk.withdrawalFraction.partsPerMillion) / 1e6
        withdrawalRiskThresholdNgPerMl = r.scenario.pk.withdrawalThreshold(r.scenario.schedule.dailyDose).nanogramsPerMillilitre
        steadyStateNgPerMl = r.scenario.pk.steadyState(r.scenario.schedule.dailyDose).nanogramsPerMillilitre
        withdrawalEpisodes = rec.episodes.map { Episode(startSeconds: s($0.start), endSeconds: s($0.end)) }
        peakWithdrawalSeverity = rec.peakSeverity
        severeWithdrawalSeconds = rec.severe.seconds
        hoursAtZeroDelivery = rec.zeroDelivery.hours
        refusedCommands = rec.refusals.map { Refused(atSeconds: s($0.at), command: $0.command, reason: $0.reason) }
        finalTrueReservoirMillilitres = r.pump.reservoir.millilitresForDisplay
        finalEstimatedReservoirMillilitres = Double(r.controller.reservoir.estimate.nanolitres) / 1e6
        releasedBoluses = rec.releases.map { Released(atSeconds: s($0.at), millilitres: $0.volume.millilitresForDisplay,
                                                      micrograms: $0.toCSF.microgramsForDisplay, pocketMicrograms: $0.toPocket.microgramsForDisplay) }
    }
}
