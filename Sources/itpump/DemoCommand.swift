import ArgumentParser
import PumpCore
import PumpSim

/// A built-in therapy course on the core: screening, a concentration change at the first refill,
/// titration, a flex schedule, then a refill that comes too late. Prints a short therapy report.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a built-in therapy course through the control core and print a report.")

    @Option(help: "Days after the reservoir runs dry that the last refill comes (0 = the day it runs dry).")
    var lateDays: Int = 2
    @Flag(help: "Print every event, not only the report.")
    var events = false

    func run() throws {
        guard (0...60).contains(lateDays) else { throw usageError("--late-days must be within 0…60, got \(lateDays)", command: "demo") }
        var course = try DemoCourse(lateDays: lateDays)
        try course.run()
        print(course.report(showEvents: events))
    }
}

struct DemoCourse {
    var controller: PumpController
    var log: [Event] = []
    var strokes = 0
    let lateDays: Int
    var t = Instant.zero
    var therapyStart = Instant.zero
    var end = Instant.zero
    var zeroDeliveryHours = 0.0

    init(lateDays: Int) throws {
        var settings = ControllerSettings(patientGroup: .spinal)
        settings.clock = ClockReference(timeOfDayAtOrigin: TimeOfDay(hour: 8)!)
        controller = try PumpController(profile: .bench20, settings: settings)
        self.lateDays = lateDays
    }

    mutating func take(_ effects: [Effect]) {
        for e in effects {
            switch e {
            case .stroke: strokes += 1
            case let .event(ev): log.append(ev)
            case .alert: break
            }
        }
    }

    mutating func command(_ c: Command, after span: TimeSpan = .zero) throws {
        t = t + span
        let r = controller.handle(c, at: t)
        take(r.effects)
        if let refusal = r.refusal { throw ValidationError("demo command \(c) refused: \(refusal)") }
    }

    mutating func advance(_ span: TimeSpan) {
        let target = t + span
        // Step in hours to measure time at zero delivery.
        while t < target {
            let next = min(target, t + .hours(1))
            if !controller.isDelivering, case .running = controller.phase { zeroDeliveryHours += (next - t).hours }
            take(controller.advance(to: next))
            t = next
        }
    }

    mutating func run() throws {
        let c50 = Concentration.screening, c500 = Concentration(microgramsPerMillilitre: 500)
        // Screening with 50 μg/mL: fill, prime, 50 μg (no response), 75 μg a day later (effective).
        try command(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: c50)))
        try command(.prime(confirmVolume: controller.primingVolume))
        advance(.hours(1))
        try command(.testDose(.micrograms(50)))
        advance(.hours(8))
        try command(.recordTestDoseResponse(.noResponse))
        advance(.hours(16))
        try command(.testDose(.micrograms(75)))
        advance(.hours(8))
        try command(.recordTestDoseResponse(.effective(lastedOverEightHours: false)))
        // Refill with therapy concentration (confirmed change), then start at the offered 150 μg/day.
        try command(.refill(RefillRequest(withdrawn: controller.reservoir.estimate, added: .millilitres(20),
                                          concentration: c500, confirmConcentrationChange: true)), after: .hours(2))
        try command(.startTherapy(.continuous(.microgramsPerDay(150)), basis: .testDose))
        therapyStart = t
        // Titrate: +30 % after the first day, +30 % two days later, then a flex schedule.
        advance(.hours(25))
        try command(.program(.continuous(.microgramsPerDay(195))))
        advance(.days(2))
        try command(.program(.continuous(.microgramsPerDay(250))))
        advance(.days(2))
        try command(.program(.flex([FlexStep(start: TimeOfDay(hour: 0)!, rate: .microgramsPerDay(300)),
                                    FlexStep(start: TimeOfDay(hour: 8)!, rate: .microgramsPerDay(220)),
                                    FlexStep(start: TimeOfDay(hour: 20)!, rate: .microgramsPerDay(300))])))
        // A day later someone tries to halve the dose: the interlock refuses it.
        advance(.days(1))
        let refused = controller.handle(.program(.continuous(.microgramsPerDay(130))), at: t)
        take(refused.effects)
        _ = controller.handle(.acknowledge(.interlockRefusal), at: t)
        // The refill comes `lateDays` after the reservoir is projected to run dry.
        advance(.hours(1))
        if let empty = controller.projectedEmpty {
            advance(empty - t + .days(Int64(lateDays)))
        }
        try command(.refill(RefillRequest(withdrawn: controller.reservoir.estimate, added: .millilitres(20), concentration: c500)))
        advance(.hours(2))
        if controller.awaitingConfirmationSince != nil, let s = controller.schedule {
            // After an interruption over 24 h the pump delivers the floor until a clinician confirms.
            try command(.confirmResumption(s))
        }
        advance(.days(3))
        end = t
    }

    func report(showEvents: Bool) -> String {
        var out: [String] = []
        let c = controller
        out.append("itpump demo — therapy report (\(c.profile.name), \(c.settings.patientGroup) patient)")
        out.append(String(repeating: "=", count: 64))
        out.append("course: \(Self.human(TimeSpan(nanoseconds: end.nanoseconds))) simulated, therapy from \(therapyStart), last refill \(Plural.count(lateDays, "day")) after the reservoir ran dry")
        if let offered = c.screening.offeredStartingDose, let eff = c.screening.effective {
            out.append("screening: effective test dose \(eff.dose) → offered starting dose \(offered)")
        }
        out.append("programmed: \(c.schedule.map(\.description) ?? "none") at \(c.reservoir.concentration)")
        out.append("delivered: basal \(Mass(nanograms: c.ledger.basalPicograms / 1_000)), test doses \(Mass(nanograms: c.ledger.deliveredPicograms(.testDose) / 1_000)), strokes \(strokes)")
        out.append("reservoir: \(c.reservoir.estimate) left, projected empty \(c.projectedEmpty.map(\.description) ?? "—")")
        out.append("hours at zero delivery during therapy: \(String(format2: zeroDeliveryHours))")
        out.append("")
        out.append("daily delivery (μg):")
        var line = ""
        for e in log {
            if case let .dailyDelivery(day, basal, _) = e.kind {
                line += "d\(day)=\(Format.trimmed(basal.nanograms, scale: 1000, maxDigits: 1)) "
                if line.count > 56 { out.append("  " + line); line = "" }
            }
        }
        if !line.isEmpty { out.append("  " + line) }
        out.append("")
        out.append("alarms:")
        let emptyAt = log.first { if case .alarmRaised(.reservoirEmpty, _, _) = $0.kind { return true } else { return false } }?.at
        for e in log {
            if case let .alarmRaised(kind, priority, detail) = e.kind {
                var s = "  \(e.at)  \(kind) (\(priority))"
                if let emptyAt, [.lowReservoir, .refillDue].contains(kind), e.at <= emptyAt { s += ", \(Self.human(emptyAt - e.at)) before empty" }
                out.append(s)
                out.append("      \(detail)")
            }
        }
        out.append("")
        out.append("refusals:")
        for e in log { if case let .commandRefused(cmd, r) = e.kind { out.append("  \(e.at)  \(cmd): \(r)") } }
        if showEvents {
            out.append("")
            out.append("events:")
            for e in log { out.append("  \(e)") }
        }
        return out.joined(separator: "\n")
    }

    /// A duration as people say it, to the minute: "45 days 9 h 55 min", "1 day", "3 h 5 min",
    /// "42 s" under a minute.
    static func human(_ span: TimeSpan) -> String {
        let ns = span.nanoseconds.magnitude
        if ns < 60_000_000_000 { return "\((ns + 500_000_000) / 1_000_000_000) s" }
        let minutes = (ns + 30_000_000_000) / 60_000_000_000
        let d = minutes / 1_440, h = minutes / 60 % 24, m = minutes % 60
        var parts: [String] = []
        if d > 0 { parts.append(Plural.count(Int(d), "day")) }
        if h > 0 { parts.append("\(h) h") }
        if m > 0 { parts.append("\(m) min") }
        return (span.nanoseconds < 0 ? "−" : "") + parts.joined(separator: " ")
    }
}
