import PumpCore

/// A prescription as a file gives it: the controller settings, the drug concentration and the
/// schedule. The runner's `--prescription FILE` and scenarios use it.
public struct Prescription: Hashable, Sendable {
    /// A human name for reports.
    public var name: String
    /// Controller settings (each within its hard range; `validate()` has passed).
    public var settings: ControllerSettings
    /// The therapy concentration (500, 1000 or 2000 μg/mL).
    public var concentration: Concentration
    /// The schedule; its rates are within 50–1200 μg/day and its steps in time order.
    public var schedule: Schedule
    /// The schedule's daily dose.
    public var dailyDose: DoseRate { schedule.dailyDose }

    public init(name: String, settings: ControllerSettings, concentration: Concentration, schedule: Schedule) {
        self.name = name
        self.settings = settings
        self.concentration = concentration
        self.schedule = schedule
    }
}

/// `kind: prescription` files.
///
/// ```yaml
/// kind: prescription
/// name: spinal 600
/// patientGroup: spinal             # spinal, cerebral, paediatric
/// concentration: 500 ug/mL         # 500, 1000 or 2000 ug/mL
/// schedule:
///   continuous: 600 ug/day         # or flex: [{start: "00:00", rate: 700 ug/day}, …]
/// settings:                        # optional; each field within its hard range
///   reservoirPolicy: alarmOnly     # or reserveTaper
///   decreaseLimit: 20%
///   clockAtStart: "08:00"          # wall-clock time of day at the time line's origin
///   alarms: {lowReservoirThreshold: 4 mL, refillLeadTime: 7d}
/// description: free text             # optional, as in every itpump file
/// ```
public enum PrescriptionFile {
    static let keys = ["kind", "name", "patientGroup", "concentration", "schedule", "settings", "description"]

    /// Loads a prescription file.
    public static func load(path: String) throws(DiagnosticReport) -> Prescription {
        try FileKinds.load(path: path, kind: "prescription", read: read)
    }

    /// Reads a prescription from a mapping (a file's root, or inline in a scenario).
    public static func read(_ m: MappingField) -> Prescription? {
        let name = m.optional("name")?.string() ?? "prescription"
        _ = m.optional("description")?.string(maxLength: 2_000)
        let group = m.optional("patientGroup")?.choice(PatientGroup.self) ?? .spinal
        let concentration = m.required("concentration", allowed: "500, 1000 or 2000 ug/mL")?.concentration(oneOf: Concentration.therapy)
        var settings = ControllerSettings(patientGroup: group)
        var settingsOK = true
        if let f = m.optional("settings") {
            if let s = readSettings(f, group: group) { settings = s } else { settingsOK = false }
        }
        let schedule = m.required("schedule", allowed: "continuous: <dose> or flex: [steps]").flatMap {
            readSchedule($0, maximumSteps: settings.maximumFlexSteps)
        }
        m.finish(allowing: keys)
        guard let concentration, let schedule, settingsOK else { return nil }
        return Prescription(name: name, settings: settings, concentration: concentration, schedule: schedule)
    }

    /// `continuous: 600 ug/day` or `flex: [{start, rate}, …]`; every step checked with its line.
    public static func readSchedule(_ f: Field, maximumSteps: Int) -> Schedule? {
        guard let m = f.mapping(allowedKeys: ["continuous", "flex"]) else { return nil }
        defer { m.finish() }
        if let c = m.optional("continuous") {
            if m.has("flex") { c.fail("give continuous or flex, not both", allowed: "one of them") ; return nil }
            return c.doseRate().map { .continuous($0) }
        }
        guard let flex = m.required("flex", allowed: "continuous: <dose> or flex: [steps]") else { return nil }
        guard let items = flex.sequence(maximum: 1_000) else { return nil }
        if items.isEmpty { flex.fail("the flex schedule has no steps", allowed: "1 … \(maximumSteps) steps"); return nil }
        if items.count > maximumSteps { flex.fail("the flex schedule has \(items.count) steps", allowed: "1 … \(maximumSteps) steps (settings.maximumFlexSteps)") }
        var steps: [FlexStep] = []
        var ok = items.count <= maximumSteps
        var previousStart: TimeOfDay?
        for item in items {
            guard let sm = item.mapping(allowedKeys: ["start", "rate"]) else { ok = false; continue }
            let start = sm.required("start", allowed: "HH:MM")?.timeOfDay()
            let rate = sm.required("rate", allowed: "\(DoseRate.floor) … \(DoseRate.ceiling)")?.doseRate()
            sm.finish()
            if let start, let prev = previousStart, start <= prev {
                sm.optional("start")?.fail("starts at \(start), not after the previous step's \(prev); list steps in time order",
                                          allowed: "after \(prev)")
                ok = false
            }
            if let start { previousStart = start }
            guard let start, let rate else { ok = false; continue }
            steps.append(FlexStep(start: start, rate: rate))
        }
        return ok ? .flex(steps) : nil
    }

    static let settingsKeys = ["titrationIncreaseLimit", "decreaseLimit", "minimumTaperDays", "observationLockout",
                               "interruptionLimit", "maximumFlexSteps", "reservoirPolicy", "clockAtStart", "alarms"]
    static let alarmKeys = ["lowReservoirThreshold", "refillLeadTime", "criticalRealert", "realert",
                            "acknowledgedReminder", "drugStabilityLimit"]

    /// Controller settings; each field checked against its hard range with its line.
    public static func readSettings(_ f: Field, group: PatientGroup) -> ControllerSettings? {
        typealias L = ControllerSettings.Limits
        typealias A = AlarmSettings.Limits
        guard let m = f.mapping(allowedKeys: settingsKeys) else { return nil }
        var s = ControllerSettings(patientGroup: group)
        var ok = true
        func set<T>(_ key: String, _ read: (Field) -> T?, _ apply: (T) -> Void) {
            guard let field = m.optional(key) else { return }
            if let v = read(field) { apply(v) } else { ok = false }
        }
        set("titrationIncreaseLimit", { $0.fraction(in: Fraction.percent(1)...group.titrationIncreaseCap) }) { s.titrationIncreaseLimit = $0 }
        set("decreaseLimit", { $0.fraction(in: L.decreaseLimit) }) { s.decreaseLimit = $0 }
        set("minimumTaperDays", { $0.integer(in: Int64(L.minimumTaperDays.lowerBound)...Int64(L.minimumTaperDays.upperBound)) }) { s.minimumTaperDays = Int($0) }
        set("observationLockout", { $0.duration(in: L.observationLockout) }) { s.observationLockout = $0 }
        set("interruptionLimit", { $0.duration(in: L.interruptionLimit) }) { s.interruptionLimit = $0 }
        set("maximumFlexSteps", { $0.integer(in: Int64(L.maximumFlexSteps.lowerBound)...Int64(L.maximumFlexSteps.upperBound)) }) { s.maximumFlexSteps = Int($0) }
        set("reservoirPolicy", { $0.choice(ReservoirPolicy.self) }) { s.reservoirPolicy = $0 }
        set("clockAtStart", { $0.timeOfDay() }) { s.clock = ClockReference(timeOfDayAtOrigin: $0) }
        if let af = m.optional("alarms") {
            if let am = af.mapping(allowedKeys: alarmKeys) {
                func aset(_ key: String, _ read: (Field) -> TimeSpan?, _ apply: (TimeSpan) -> Void) {
                    guard let field = am.optional(key) else { return }
                    if let v = read(field) { apply(v) } else { ok = false }
                }
                if let lf = am.optional("lowReservoirThreshold") {
                    if let v = lf.volume(in: A.lowReservoirThreshold) { s.alarms.lowReservoirThreshold = v } else { ok = false }
                }
                aset("refillLeadTime", { $0.duration(in: A.refillLeadTime) }) { s.alarms.refillLeadTime = $0 }
                aset("criticalRealert", { $0.duration(in: A.criticalRealert) }) { s.alarms.criticalRealert = $0 }
                aset("realert", { $0.duration(in: A.realert) }) { s.alarms.realert = $0 }
                aset("acknowledgedReminder", { $0.duration(in: A.acknowledgedReminder) }) { s.alarms.acknowledgedReminder = $0 }
                aset("drugStabilityLimit", { $0.duration(in: A.drugStabilityLimit) }) { s.alarms.drugStabilityLimit = $0 }
                am.finish()
            } else { ok = false }
        }
        m.finish()
        guard ok else { return nil }
        do throws(ConfigurationError) { try s.validate() } catch {
            f.fail(error.description, allowed: "the ranges in ControllerSettings.Limits")
            return nil
        }
        return s
    }
}

extension FileKind {
    /// `kind: prescription`.
    public static let prescription = FileKind(name: "prescription", summary: "controller settings, concentration and schedule") { m in
        _ = PrescriptionFile.read(m)
    }
}
