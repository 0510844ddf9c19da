import PumpCore
import PumpSim

/// A therapy course decoded from bytes: the pump, the prescription, then a list of steps (time,
/// commands, sensor changes, physical and entered refills, faults, downtime). Every byte string
/// decodes to a valid script (out-of-range values are left in on purpose where the interlock must
/// refuse them), so libFuzzer's mutations always reach the controller.
///
/// Layout: 7 set-up bytes (the first also says whether the pump profile has an empty switch), then steps of one opcode byte and its operands (see `Step`). A script
/// stops after `maximumSteps` steps or `maximumDuration` of therapy.
public struct TherapyScript: Sendable, CustomStringConvertible {
    public static let maximumSteps = 48
    public static let maximumDuration = TimeSpan.days(60)
    static let concentrations: [Int64] = [500, 1000, 2000]
    /// Calibration biases within the ±14.5 % the pumps are labelled with.
    static let biases: [Int64] = [0, -145_000, 145_000, -70_000, 70_000]
    static let emptyLevels: [Int64] = [100_000, 0, 500_000]

    public var concentration: Concentration
    public var dose: DoseRate
    public var patientGroup: PatientGroup
    public var policy: ReservoirPolicy
    /// Whether the controller's pump profile has an empty switch (`PumpProfile.hasEmptySwitch`): with
    /// one the switch governs and the calculated empty alone never stops delivery; without, delivery
    /// stops at the calculated empty and a switch reading is only evidence. The simulated pump always
    /// has its switch.
    public var hasEmptySwitch: Bool
    public var bias: Fraction
    public var emptySensorLevel: Volume
    public var clockHour: Int64
    public var stallTripStrokes: Int64
    public var occlusionTripStrokes: Int64
    public var fill: Volume
    public var steps: [Step]

    /// One step of a script.
    public enum Step: Hashable, Sendable, CustomStringConvertible {
        case advance(TimeSpan)
        case command(Command)
        /// A refill done and entered as done (`withdrawnError` nL off the true residual).
        case refill(added: Volume, concentration: Concentration, confirm: Bool, withdrawnError: Int64)
        /// A refill done but not entered.
        case refillNotEntered(added: Volume, concentration: Concentration)
        /// A refill entered but not done.
        case entryOnly(added: Volume, concentration: Concentration, confirm: Bool)
        /// A refill done with `added` but entered as `entered` at `enteredConcentration`.
        case refillMisentered(added: Volume, entered: Volume, concentration: Concentration, enteredConcentration: Concentration)
        case fault(FaultKind, active: Bool)
        case spurious(SensorReading)
        case downtime(TimeSpan)

        public var description: String {
            switch self {
            case let .advance(s): return "advance \(s)"
            case let .command(c): return c.description
            case let .refill(a, c, k, e): return "refill \(a) at \(c)\(k ? " confirmed" : ""), residual entered \(e) nL off"
            case let .refillNotEntered(a, c): return "refill \(a) at \(c), not entered"
            case let .entryOnly(a, c, k): return "refill entered (\(a) at \(c)\(k ? " confirmed" : "")) but not done"
            case let .refillMisentered(a, e, c, ec): return "refill \(a) at \(c), entered as \(e) at \(ec)"
            case let .fault(k, on): return "\(k) \(on ? "starts" : "ends")"
            case let .spurious(r): return "spurious \(r)"
            case let .downtime(s): return "downtime \(s)"
            }
        }
    }

    public init(bytes: [UInt8]) {
        var r = ByteReader(bytes)
        let b0 = r.byte()
        concentration = Concentration(microgramsPerMillilitre: Self.concentrations[Int(b0 % 3)])
        patientGroup = PatientGroup.allCases[Int(b0 / 3 % 3)]
        policy = (b0 / 9) % 2 == 0 ? .alarmOnly : .reserveTaper
        hasEmptySwitch = (b0 / 18) % 2 == 0
        dose = .microgramsPerDay(r.int(in: 50...1200))
        let b3 = r.byte()
        bias = Fraction(partsPerMillion: Self.biases[Int(b3 % 5)])
        emptySensorLevel = Volume(nanolitres: Self.emptyLevels[Int(b3 / 5 % 3)])
        clockHour = r.int(in: 0...23)
        let b5 = r.byte()
        stallTripStrokes = 1 + Int64(b5 % 8)
        occlusionTripStrokes = 1 + Int64(b5 / 8) * 4
        fill = .millilitres(r.int(in: 2...20))
        steps = []
        var elapsed = TimeSpan.zero
        while !r.isAtEnd, steps.count < Self.maximumSteps, elapsed < Self.maximumDuration {
            let step = Self.decodeStep(&r)
            switch step {
            case let .advance(s), let .downtime(s): elapsed = elapsed + s
            default: break
            }
            steps.append(step)
        }
    }

    static func rate(_ r: inout ByteReader) -> DoseRate {
        // Mostly in range; 1 in 8 outside it on purpose (the interlock must refuse those).
        let k = r.byte()
        if k % 8 == 0 { return DoseRate(nanogramsPerDay: r.int(in: 0...2_000_000)) }
        return .microgramsPerDay(r.int(in: 50...1200))
    }

    static func schedule(_ r: inout ByteReader) -> Schedule {
        let n = r.byte() % 5
        if n == 0 { return .continuous(rate(&r)) }
        var steps: [FlexStep] = []
        var minute: Int64 = r.byte() % 4 == 0 ? 0 : r.int(in: 0...119)
        for _ in 0..<n where minute < 24 * 60 {
            steps.append(FlexStep(start: TimeOfDay(nanosecondsAfterMidnight: minute * TimeConstants.nanosecondsPerMinute)!, rate: rate(&r)))
            minute += r.int(in: 1...(12 * 60))
        }
        return .flex(steps)
    }

    static func volume(_ r: inout ByteReader) -> Volume { Volume(nanolitres: r.int(in: 0...21_000) * 1_000) }

    static func decodeStep(_ r: inout ByteReader) -> Step {
        switch r.byte() % 20 {
        case 0, 1, 2, 3: return .advance(.minutes(r.int(in: 1...(3 * 24 * 60))))
        case 4: return .advance(.hours(r.int(in: 1...72)))
        case 5, 6: return .command(.program(schedule(&r)))
        case 7:
            let k = r.byte()
            let days: Int? = k % 3 == 0 ? nil : Int(r.int(in: 1...30))
            let override = k % 5 == 0 ? EmergencyOverride(reason: "fuzz", clinician: "fuzz") : nil
            return .command(.stop(taperDays: days, override: override))
        case 8: return .command(.resume)
        case 9: return .command(.confirmResumption(schedule(&r)))
        case 10:
            let c = Concentration(microgramsPerMillilitre: r.pick(concentrations))
            let k = r.byte()
            return .refill(added: volume(&r), concentration: c, confirm: k % 4 != 0, withdrawnError: k % 3 == 0 ? r.int(in: -2_000_000...2_000_000) : 0)
        case 11:
            return .refillNotEntered(added: volume(&r), concentration: Concentration(microgramsPerMillilitre: r.pick(concentrations)))
        case 12:
            let c = Concentration(microgramsPerMillilitre: r.pick(concentrations))
            return .entryOnly(added: volume(&r), concentration: c, confirm: r.byte() % 2 == 0)
        case 13:
            let c = Concentration(microgramsPerMillilitre: r.pick(concentrations))
            let ec = Concentration(microgramsPerMillilitre: r.pick(concentrations))
            return .refillMisentered(added: volume(&r), entered: volume(&r), concentration: c, enteredConcentration: ec)
        case 14:
            let k = r.byte()
            let kind: FaultKind = [.occlusion, .motorStall, .disconnection, .leak(fraction: .percent(30))][Int(k % 4)]
            return .fault(kind, active: k / 4 % 2 == 0)
        case 15:
            let k = r.byte()
            let on = k / 2 % 2 == 0
            return .spurious(k % 2 == 0 ? .occlusion(on) : .motorStall(on))
        case 16: return .downtime(.minutes(r.int(in: 1...(4 * 24 * 60))))
        case 17: return .command(.acknowledge(r.pick(AlarmKind.allCases)))
        case 18:
            var s = ControllerSettings(patientGroup: r.pick(PatientGroup.allCases))
            s.decreaseLimit = .percent(r.int(in: 1...25))
            s.reservoirPolicy = r.pick(ReservoirPolicy.allCases)
            return .command(.configure(s))
        default:
            let k = r.byte()
            return .command(.setRefillDate(k % 4 == 0 ? nil : Instant(nanoseconds: r.int(in: 0...(60 * 24)) * TimeConstants.nanosecondsPerHour)))
        }
    }

    public var description: String {
        "\(concentration), \(dose) \(patientGroup), \(policy), \(hasEmptySwitch ? "profile with" : "profile without") empty switch, bias \(bias), empty switch at \(emptySensorLevel), clock \(clockHour):00, stall after \(stallTripStrokes), occlusion after \(occlusionTripStrokes) strokes, fill \(fill)"
    }

    /// The pump: bench20 with 1 μL strokes (fewer strokes per simulated day, the same rules), with or
    /// without an empty switch, its occlusion and stall sensors labelled with exactly the trip strokes
    /// they have (the tightest case the controller must handle).
    public var profile: PumpProfile {
        var p = PumpProfile.bench20
        p.strokeVolume = .microlitres(1)
        p.hasEmptySwitch = hasEmptySwitch
        p.occlusionDetectionStrokes = occlusionTripStrokes
        p.stallDetectionStrokes = stallTripStrokes
        return p
    }

    /// Runs the script on a fresh bench and returns it (violations in `bench.violations`).
    public func run(options: TherapyOracle.Options = .init()) throws -> TherapyBench {
        var settings = ControllerSettings(patientGroup: patientGroup)
        settings.reservoirPolicy = policy
        settings.clock = ClockReference(timeOfDayAtOrigin: TimeOfDay(hour: Int(clockHour))!)
        var mechanics = PumpMechanics()
        mechanics.calibrationBias = bias
        mechanics.emptySensorLevel = emptySensorLevel
        mechanics.stallTripStrokes = stallTripStrokes
        mechanics.occlusionTripStrokes = occlusionTripStrokes
        var b = try TherapyBench(profile: profile, mechanics: mechanics, settings: settings, concentration: concentration,
                                 fill: fill, schedule: .continuous(dose), options: options)
        for step in steps { b.apply(step) }
        return b
    }
}

extension TherapyBench {
    /// Applies one script step.
    public mutating func apply(_ step: TherapyScript.Step) {
        switch step {
        case let .advance(s): advance(by: s)
        case var .command(c):
            if case var .configure(s) = c { s.clock = controller.settings.clock; c = .configure(s) }
            if case let .setRefillDate(d?) = c { c = .setRefillDate(controller.now + (d - .zero)) }
            command(c)
        case let .refill(a, c, k, e):
            let residual = Volume(nanolitres: max(0, pump.measurableResidual.nanolitres + e))
            refill(physical: (a, c), entered: RefillRequest(withdrawn: residual, added: a, concentration: c, confirmConcentrationChange: k))
        case let .refillNotEntered(a, c): refill(physical: (a, c), entered: nil)
        case let .entryOnly(a, c, k):
            refill(physical: nil, entered: RefillRequest(withdrawn: pump.measurableResidual, added: a, concentration: c, confirmConcentrationChange: k))
        case let .refillMisentered(a, e, c, ec):
            refill(physical: (a, c), entered: RefillRequest(withdrawn: pump.measurableResidual, added: e, concentration: ec, confirmConcentrationChange: true))
        case let .fault(k, on): fault(k, active: on)
        case let .spurious(r): spurious(r)
        case let .downtime(s): downtime(s)
        }
    }
}
