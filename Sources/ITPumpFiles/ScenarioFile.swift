import PumpCore
import PumpSim

/// `kind: scenario` files: a simulated therapy for `itpump simulate`.
///
/// ```yaml
/// kind: scenario
/// name: refill 7 days late
/// pump: bench20                      # bench20, bench40, a pump file (relative path) or inline
/// prescription: ../prescriptions/spinal-600.yaml   # or inline
/// mechanics: {calibrationBias: 0%, strokeNoise: 0%, seed: 1}
/// initialFill: 20 mL                 # default: the reservoir's capacity
/// therapyStart: 1h
/// duration: 60d
/// interval: 15m                      # report and PK interval
/// pk: {distributionVolume: 65 mL, clearance: 30 mL/h}
/// timeline:
///   - {at: 23d, refill: {volume: 20 mL}}            # concentration: the prescription's
///   - {at: 30d, refill: {volume: 20 mL, concentration: 1000 ug/mL,   # the act: what goes in
///                        entry: {concentration: 500 ug/mL}}}        # what the programmer is told
///   - {at: 40d, refill: {volume: 20 mL, entry: none}}              # done, not entered
///   - {at: 41d, refillEntry: {volume: 20 mL, withdrawn: 5 mL}}     # an entry with no act
///   - {at: 23d2h, confirmResumption: {}}
///   - {at: 24d, acknowledge: lowReservoir}
/// faults:
///   - {kind: occlusion, at: 10d, until: 10d6h}
/// autoRefill: {offsetFromProjectedEmpty: 3d}
/// ```
public enum ScenarioFile {
    static let keys = ["kind", "name", "pump", "prescription", "mechanics", "initialFill", "therapyStart", "duration", "interval",
                       "pk", "timeline", "faults", "autoRefill", "description"]

    public static func load(path: String) throws(DiagnosticReport) -> Scenario {
        try FileKinds.load(path: path, kind: "scenario", read: read)
    }

    /// Loads a pump (built-in name, relative file path or inline mapping).
    static func pump(_ f: Field) -> PumpProfile? {
        if case .scalar = f.node, let text = f.scalar(expecting: "") {
            if let p = PumpFile.builtIn[text] { return p }
            return referenced(f, text, kind: "pump", read: PumpFile.read)
        }
        return f.mapping(allowedKeys: PumpFile.keys).flatMap(PumpFile.read)
    }

    static func prescription(_ f: Field) -> Prescription? {
        if case .scalar = f.node, let text = f.scalar(expecting: "") {
            return referenced(f, text, kind: "prescription", read: PrescriptionFile.read)
        }
        return f.mapping(allowedKeys: PrescriptionFile.keys).flatMap(PrescriptionFile.read)
    }

    static func referenced<T>(_ f: Field, _ path: String, kind: String, read: (MappingField) -> T?) -> T? {
        guard path.hasSuffix(".yaml") || path.hasSuffix(".yml") else {
            f.fail("not a built-in name nor a .yaml file", allowed: kind == "pump" ? "bench20, bench40 or a pump file" : "a \(kind) file or an inline mapping")
            return nil
        }
        let full = path.hasPrefix("/") ? path : f.reader.directory + "/" + path
        do throws(DiagnosticReport) {
            return try FileKinds.load(path: full, kind: kind, read: read)
        } catch {
            f.fail("the referenced \(kind) file has errors (listed below)", allowed: "a valid \(kind) file")
            f.reader.absorb(error.diagnostics)
            return nil
        }
    }

    public static func read(_ m: MappingField) -> Scenario? {
        let name = m.optional("name")?.string() ?? "scenario"
        _ = m.optional("description")?.string(maxLength: 2_000)
        let profile = m.required("pump", allowed: "bench20, bench40, a pump file or inline").flatMap(pump)
        let rx = m.required("prescription", allowed: "a prescription file or inline").flatMap(prescription)
        let mechanics = m.optional("mechanics").map { readMechanics($0, labelledBy: profile) } ?? PumpMechanics()
        let duration = m.required("duration", allowed: "1h … \(Scenario.maximumDuration)")?.duration(in: TimeSpan.hours(1)...Scenario.maximumDuration)
        let end = Instant.zero + (duration ?? Scenario.maximumDuration)
        let interval = m.optional("interval")?.duration(in: Scenario.intervalRange) ?? .minutes(15)
        if let f = m.optional("interval"), TimeConstants.nanosecondsPerDay % interval.nanoseconds != 0 {
            f.fail("the interval must divide a day", allowed: "e.g. 1m, 5m, 10m, 15m, 30m, 1h, 2h, 3h, 6h")
        }
        if let duration, let f = m.optional("duration"), duration.nanoseconds % interval.nanoseconds != 0 {
            f.fail("the duration must be a whole number of intervals (\(interval))", allowed: "a multiple of \(interval)")
        }
        let therapyStart = m.optional("therapyStart")?.instant(in: Instant.zero + .minutes(1)...end) ?? .zero + .hours(1)
        let capacity = profile?.reservoirCapacity ?? .millilitres(40)
        let fill = m.optional("initialFill")?.volume(in: Volume(nanolitres: 1)...capacity)
        let pk = m.optional("pk").map(readPK) ?? PKParameters()
        let timeline = m.optional("timeline").map { readTimeline($0, end: end, concentration: rx?.concentration, maxSteps: rx?.settings.maximumFlexSteps ?? 24, capacity: capacity) } ?? []
        let faults = m.optional("faults").map { readFaults($0, end: end) } ?? FaultPlan()
        var auto: AutoRefill?
        if let f = m.optional("autoRefill"), let am = f.mapping(allowedKeys: ["offsetFromProjectedEmpty", "volume", "confirmResumption"]) {
            let offset = am.required("offsetFromProjectedEmpty", allowed: "a duration, optionally negative (-2d)").flatMap(signedDuration)
            let volume = am.optional("volume")?.volume(in: Volume(nanolitres: 1)...capacity)
            let confirm = am.optional("confirmResumption")?.bool() ?? true
            am.finish()
            if let offset { auto = AutoRefill(offsetFromProjectedEmpty: offset, volume: volume, confirmResumption: confirm) }
        }
        m.finish(allowing: keys)
        guard let profile, let rx, let duration, !m.field.reader.hasErrors else { return nil }
        let s = Scenario(name: name, profile: profile, mechanics: mechanics, settings: rx.settings, concentration: rx.concentration,
                         schedule: rx.schedule, initialFill: fill, therapyStart: therapyStart, duration: duration, timeline: timeline,
                         faults: faults, autoRefill: auto, pk: pk, interval: interval)
        do throws(ScheduleError) {
            try s.schedule.validate(concentration: s.concentration, profile: profile, maximumSteps: s.settings.maximumFlexSteps)
        } catch {
            m.optional("prescription")?.fail("the prescription does not suit this pump: \(error)", allowed: "a schedule within the pump's limits")
            return nil
        }
        do throws(FaultPlan.Problem) { try faults.validate() } catch {
            m.optional("faults")?.fail(error.description, allowed: "non-overlapping faults that end after they start")
            return nil
        }
        // The set-up `simulate` runs (fill, prime): therapy may start only once priming has ended.
        do throws(ScenarioError) {
            if let primed = try SimulationRunner.primingEnd(of: s), primed >= therapyStart {
                let f = m.optional("therapyStart")
                let message = "therapy starts at \(therapyStart), before the priming bolus ends at \(primed)"
                    + (!m.has("therapyStart") ? " (1h when therapyStart is not given); add a later therapyStart" : "; start later")
                let allowed = "after \(primed) … \(end)"
                if let f { f.fail(message, allowed: allowed) } else {
                    m.field.reader.report(m.field.node, field: "therapyStart", value: "1h (default)", allowed: allowed, message)
                }
                return nil
            }
        } catch {
            m.field.fail("the scenario cannot be set up: \(error.description)", allowed: "a scenario whose fill and priming the controller accepts")
            return nil
        }
        return s
    }

    /// `3d`, `-2d12h`.
    static func signedDuration(_ f: Field) -> TimeSpan? {
        guard let text = f.scalar(expecting: "a duration") else { return nil }
        let negative = text.hasPrefix("-")
        let body = negative ? String(text.dropFirst()) : text
        switch QuantitySyntax.duration(body) {
        case let .success(d):
            guard d <= .days(365) else { f.fail("more than a year", allowed: "-365d … 365d"); return nil }
            return negative ? TimeSpan(nanoseconds: -d.nanoseconds) : d
        case let .failure(p): f.fail(p.message, allowed: p.syntax); return nil
        }
    }

    /// `profile`: the pump's, when it was read (the sensors' trip strokes may not exceed its labels).
    static func readMechanics(_ f: Field, labelledBy profile: PumpProfile? = nil) -> PumpMechanics {
        typealias L = PumpMechanics.Limits
        var m = PumpMechanics()
        guard let mm = f.mapping(allowedKeys: ["calibrationBias", "strokeNoise", "seed", "occlusionTripStrokes", "occlusionCompliance",
                                                "stallTripStrokes", "emptySensorLevel"]) else { return m }
        if let v = mm.optional("calibrationBias").flatMap({ signedFraction($0, in: L.calibrationBias) }) { m.calibrationBias = v }
        if let v = mm.optional("strokeNoise")?.fraction(in: L.strokeNoise) { m.strokeNoise = v }
        if let v = mm.optional("seed")?.integer(in: 0...Int64.max) { m.seed = UInt64(v) }
        if let v = mm.optional("occlusionTripStrokes")?.integer(in: L.occlusionTripStrokes) { m.occlusionTripStrokes = v }
        if let v = mm.optional("occlusionCompliance")?.volume(in: L.occlusionCompliance) { m.occlusionCompliance = v }
        if let v = mm.optional("stallTripStrokes")?.integer(in: L.stallTripStrokes) { m.stallTripStrokes = v }
        // The controller relies on the pump's labelled trip strokes: a sensor slower than its label is
        // outside the model.
        for p in profile.map(m.slowerThanLabel) ?? [] {
            mm.optional(p.field)?.fail("\(p.value) is above the pump's \(p.labelField) \(p.label), the labelled trip strokes the controller relies on; lower it or raise the pump's \(p.labelField)",
                                       allowed: "1 … \(p.label)")
        }
        if let v = mm.optional("emptySensorLevel")?.volume(in: L.emptySensorLevel) { m.emptySensorLevel = v }
        mm.finish()
        return m
    }

    static func signedFraction(_ f: Field, in range: ClosedRange<Fraction>) -> Fraction? {
        guard let text = f.scalar(expecting: "\(range.lowerBound) … \(range.upperBound)") else { return nil }
        let negative = text.hasPrefix("-")
        switch QuantitySyntax.fraction(negative ? String(text.dropFirst()) : text) {
        case let .success(v):
            let x = Fraction(partsPerMillion: negative ? -v.partsPerMillion : v.partsPerMillion)
            guard range.contains(x) else { f.fail("\(x) is outside the allowed range", allowed: "\(range.lowerBound) … \(range.upperBound)"); return nil }
            return x
        case let .failure(p): f.fail(p.message, allowed: "\(range.lowerBound) … \(range.upperBound), written as \(p.syntax)"); return nil
        }
    }

    static func readPK(_ f: Field) -> PKParameters {
        typealias L = PKParameters.Limits
        var p = PKParameters()
        guard let m = f.mapping(allowedKeys: ["distributionVolume", "clearance", "withdrawalFraction", "severityTimeConstant"]) else { return p }
        if let v = m.optional("distributionVolume")?.volume(in: L.distributionVolume) { p.distributionVolume = v }
        if let v = m.optional("clearance")?.volumeRate(in: L.clearance) { p.clearance = v }
        if let v = m.optional("withdrawalFraction")?.fraction(in: L.withdrawalFraction) { p.withdrawalFraction = v }
        if let v = m.optional("severityTimeConstant")?.duration(in: L.severityTimeConstant) { p.severityTimeConstant = v }
        m.finish()
        return p
    }

    static let actions = ["refill", "refillEntry", "program", "stop", "resume", "confirmResumption", "acknowledge", "setRefillDate"]
    /// The fields of a programmer entry (`refill.entry`, `refillEntry`).
    static let entryKeys = ["volume", "concentration", "confirmConcentrationChange", "withdrawn"]

    /// `refill`: the act (`volume`, `concentration`) and, by default, an entry matching it
    /// (`confirmConcentrationChange`, `withdrawn` describe the entry). `entry: none`: not entered;
    /// `entry: {…}`: entered differently, each field defaulting to the act's (`withdrawn` to the
    /// residual measured at the act).
    static func readRefill(_ a: Field, concentration: Concentration?, capacity: Volume) -> ScenarioAction? {
        guard let r = a.mapping(allowedKeys: entryKeys + ["entry"]) else { return nil }
        // The act cannot put in more than the reservoir holds; an overfilled entry goes in `entry`.
        let v = r.required("volume", allowed: "0 … \(capacity) (the reservoir's capacity)")?.volume(in: Volume.zero...capacity)
        let c = r.optional("concentration")?.concentration(oneOf: Concentration.therapy) ?? concentration
        let confirmField = r.optional("confirmConcentrationChange"), withdrawnField = r.optional("withdrawn")
        let confirm = confirmField?.bool() ?? false
        let w = withdrawnField?.volume(in: Volume.zero...Volume.millilitres(40))
        guard let e = r.optional("entry") else {
            r.finish()
            guard let v, let c else { return nil }
            return .refill(added: v, concentration: c, confirmConcentrationChange: confirm, withdrawn: w)
        }
        for f in [confirmField, withdrawnField].compactMap({ $0 }) {
            f.fail("with an `entry`, what the programmer is told goes inside it", allowed: "move it into `entry`")
        }
        var entered: RefillEntry??
        if case let .scalar(sc) = e.node {
            if sc.string == "none" { entered = .some(nil) }
            else { e.fail("not a programmer entry", allowed: "none (the refill is not entered) or a mapping of " + entryKeys.joined(separator: ", ")) }
        } else if let em = e.mapping(allowedKeys: entryKeys) {
            let ev = em.optional("volume")?.volume(in: Volume.zero...Volume.millilitres(40)) ?? v
            let ec = em.optional("concentration")?.concentration(oneOf: Concentration.therapy) ?? c
            let econfirm = em.optional("confirmConcentrationChange")?.bool() ?? false
            let ew = em.optional("withdrawn")?.volume(in: Volume.zero...Volume.millilitres(40))
            em.finish()
            if let ev, let ec { entered = .some(RefillEntry(added: ev, concentration: ec, confirmConcentrationChange: econfirm, withdrawn: ew)) }
        }
        r.finish()
        guard let v, let c, let entered else { return nil }
        return .refillDone(RefillAct(added: v, concentration: c), entered: entered)
    }

    static func readTimeline(_ f: Field, end: Instant, concentration: Concentration?, maxSteps: Int, capacity: Volume) -> [ScenarioEvent] {
        guard let items = f.sequence(maximum: 10_000) else { return [] }
        var out: [ScenarioEvent] = []
        for item in items {
            guard let m = item.mapping(allowedKeys: ["at"] + actions) else { continue }
            let at = m.required("at", allowed: "0 … \(end) after the start")?.instant(in: Instant.zero...end)
            let present = actions.filter { m.has($0) }
            if present.count != 1 {
                item.fail(present.isEmpty ? "no action" : "more than one action (\(present.joined(separator: ", ")))",
                          allowed: "exactly one of " + actions.joined(separator: ", "))
                m.finish()
                continue
            }
            let key = present[0]
            guard let a = m.optional(key) else { continue }
            var action: ScenarioAction?
            switch key {
            case "refill":
                action = readRefill(a, concentration: concentration, capacity: capacity)
            case "refillEntry":
                if let r = a.mapping(allowedKeys: entryKeys) {
                    let v = r.required("volume", allowed: "0 … 40 mL as entered")?.volume(in: Volume.zero...Volume.millilitres(40))
                    let c = r.optional("concentration")?.concentration(oneOf: Concentration.therapy) ?? concentration
                    let confirm = r.optional("confirmConcentrationChange")?.bool() ?? false
                    let w = r.required("withdrawn", allowed: "the residual entered as withdrawn, 0 … 40 mL")?.volume(in: Volume.zero...Volume.millilitres(40))
                    r.finish()
                    if let v, let c, let w {
                        action = .refillEntered(RefillEntry(added: v, concentration: c, confirmConcentrationChange: confirm, withdrawn: w))
                    }
                }
            case "program":
                action = PrescriptionFile.readSchedule(a, maximumSteps: maxSteps).map { .program($0) }
            case "stop":
                if let s = a.mapping(allowedKeys: ["taperDays", "overrideReason", "clinician"]) {
                    let days = s.optional("taperDays")?.integer(in: 0...365)
                    let reason = s.optional("overrideReason")?.string()
                    let whoField = s.optional("clinician")
                    let who = whoField?.string()
                    // A clinician names who authorised an override; without the override's reason it
                    // would be dropped, so it is refused instead.
                    if reason == nil, let whoField {
                        whoField.fail("a clinician is only given with overrideReason (an emergency stop); add overrideReason or remove clinician",
                                      allowed: "clinician with overrideReason")
                    }
                    s.finish()
                    let o = reason.map { EmergencyOverride(reason: $0, clinician: who ?? "") }
                    action = .stop(taperDays: days.map(Int.init), override: o)
                }
            case "resume":
                _ = a.mapping(allowedKeys: [])?.finish()
                action = .resume
            case "confirmResumption":
                if let s = a.mapping(allowedKeys: ["continuous", "flex"]) {
                    if s.has("continuous") || s.has("flex") {
                        action = PrescriptionFile.readSchedule(a, maximumSteps: maxSteps).map { .confirmResumption($0) }
                    } else { action = .confirmResumption(nil) }
                }
            case "acknowledge":
                action = a.choice(AlarmKind.self).map { .acknowledge($0) }
            default: // setRefillDate
                if case let .scalar(sc) = a.node, sc.string == "none" { action = .setRefillDate(nil) }
                else { action = a.instant(in: Instant.zero...end).map { .setRefillDate($0) } }
            }
            m.finish()
            if let at, let action { out.append(ScenarioEvent(at: at, action: action)) }
        }
        return out
    }

    static func readFaults(_ f: Field, end: Instant) -> FaultPlan {
        guard let items = f.sequence(maximum: 1_000) else { return FaultPlan() }
        var out: [Fault] = []
        for item in items {
            guard let m = item.mapping(allowedKeys: ["kind", "at", "until", "fraction"]) else { continue }
            let kindName = m.required("kind", allowed: "occlusion, motorStall, leak, disconnection")?.scalar(expecting: "")
            let at = m.required("at", allowed: "an instant")?.instant(in: Instant.zero...end)
            let until = m.optional("until")?.instant(in: Instant.zero...end)
            var kind: FaultKind?
            switch kindName {
            case "occlusion": kind = .occlusion
            case "motorStall": kind = .motorStall
            case "disconnection": kind = .disconnection
            case "leak":
                kind = m.required("fraction", allowed: "1 % … 100 %")?.fraction(in: Fraction.percent(1)...Fraction.percent(100)).map { .leak(fraction: $0) }
            case nil: break
            default: m.optional("kind")?.fail("unknown fault", allowed: "occlusion, motorStall, leak, disconnection")
            }
            if kindName != "leak", let fr = m.optional("fraction") { fr.fail("only a leak has a fraction", allowed: "no fraction") }
            m.finish()
            if let kind, let at {
                if let until, until <= at { m.optional("until")?.fail("the fault ends at or before it starts", allowed: "after \(at)"); continue }
                out.append(Fault(kind: kind, from: at, until: until))
            }
        }
        return FaultPlan(out)
    }
}

extension FileKind {
    /// `kind: scenario`.
    public static let scenario = FileKind(name: "scenario", summary: "a simulated therapy for itpump simulate") { m in
        _ = ScenarioFile.read(m)
    }
}
