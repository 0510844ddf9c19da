import Testing
@testable import PumpCore

/// One field set to one value, and whether validation must accept it. A refusal must name the field,
/// the value and the range.
struct FieldCase<Subject: Sendable>: Sendable, CustomTestStringConvertible {
    var field: String
    var value: String
    var range: String?
    var valid: Bool
    var apply: @Sendable (inout Subject) -> Void
    var testDescription: String { "\(field) = \(value) \(valid ? "accepted" : "refused")" }
}

func checkField<S>(_ k: FieldCase<S>, _ subject: S, validate: (S) throws(ConfigurationError) -> Void,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    var s = subject
    k.apply(&s)
    do throws(ConfigurationError) {
        try validate(s)
        #expect(k.valid, "\(k.field) = \(k.value) was accepted", sourceLocation: sourceLocation)
    } catch {
        #expect(!k.valid, "\(k.field) = \(k.value) was refused: \(error)", sourceLocation: sourceLocation)
        guard case let .outOfRange(field, value, allowed) = error else { return }
        #expect(field == k.field, sourceLocation: sourceLocation)
        #expect(value == k.value, sourceLocation: sourceLocation)
        if let r = k.range { #expect(allowed == r, sourceLocation: sourceLocation) }
        let text = error.description
        #expect(text.contains(k.field) && text.contains(k.value) && text.contains(allowed), sourceLocation: sourceLocation)
    }
}

@Suite("Pump profile and settings validation")
struct ConfigurationValidationTests {
    typealias P = FieldCase<PumpProfile>
    static let profileCases: [P] = [
        P(field: "reservoirCapacity", value: "20.000 mL", range: nil, valid: true) { $0.reservoirCapacity = .millilitres(20) },
        P(field: "reservoirCapacity", value: "40.000 mL", range: nil, valid: true) { $0.reservoirCapacity = .millilitres(40) },
        P(field: "reservoirCapacity", value: "30.000 mL", range: "20 mL or 40 mL", valid: false) { $0.reservoirCapacity = .millilitres(30) },
        P(field: "reservoirCapacity", value: "19.999999 mL", range: "20 mL or 40 mL", valid: false) { $0.reservoirCapacity = nl(19_999_999) },
        P(field: "strokeVolume", value: "0.000049 mL", range: "0.00005 mL … 0.010 mL", valid: false) { $0.strokeVolume = nl(49) },
        P(field: "strokeVolume", value: "0.00005 mL", range: nil, valid: true) { $0.strokeVolume = nl(50) },
        P(field: "strokeVolume", value: "0.010 mL", range: nil, valid: true) { $0.strokeVolume = nl(10_000) },
        P(field: "strokeVolume", value: "0.010001 mL", range: "0.00005 mL … 0.010 mL", valid: false) { $0.strokeVolume = nl(10_001) },
        P(field: "internalDeadVolume", value: "-0.000001 mL", range: "0.000 mL … 1.000 mL", valid: false) { $0.internalDeadVolume = nl(-1) },
        P(field: "internalDeadVolume", value: "0.000 mL", range: nil, valid: true) { $0.internalDeadVolume = .zero },
        P(field: "internalDeadVolume", value: "1.000 mL", range: nil, valid: true) { $0.internalDeadVolume = .millilitres(1) },
        P(field: "internalDeadVolume", value: "1.000001 mL", range: "0.000 mL … 1.000 mL", valid: false) { $0.internalDeadVolume = nl(1_000_001) },
        P(field: "catheterVolume", value: "-0.000001 mL", range: "0.000 mL … 1.000 mL", valid: false) { $0.catheterVolume = nl(-1) },
        P(field: "catheterVolume", value: "0.000 mL", range: nil, valid: true) { $0.catheterVolume = .zero },
        P(field: "catheterVolume", value: "1.000 mL", range: nil, valid: true) { $0.catheterVolume = .millilitres(1) },
        P(field: "catheterVolume", value: "1.000001 mL", range: "0.000 mL … 1.000 mL", valid: false) { $0.catheterVolume = nl(1_000_001) },
        P(field: "bolusRate", value: "0.999 μL/min", range: "1 μL/min … 1000 μL/min", valid: false) { $0.bolusRate = FlowRate(nanolitresPerMinute: 999) },
        P(field: "bolusRate", value: "1 μL/min", range: nil, valid: true) { $0.bolusRate = FlowRate(nanolitresPerMinute: 1_000) },
        P(field: "bolusRate", value: "1000 μL/min", range: nil, valid: true) { $0.bolusRate = FlowRate(nanolitresPerMinute: 1_000_000) },
        P(field: "bolusRate", value: "1000.001 μL/min", range: "1 μL/min … 1000 μL/min", valid: false) { $0.bolusRate = FlowRate(nanolitresPerMinute: 1_000_001) },
        P(field: "minimumPatencyRate", value: "-0.000001 mL/day", range: "0.0000 mL/day … 0.2000 mL/day", valid: false) { $0.minimumPatencyRate = VolumeRate(nanolitresPerDay: -1) },
        P(field: "minimumPatencyRate", value: "0.0000 mL/day", range: nil, valid: true) { $0.minimumPatencyRate = VolumeRate(nanolitresPerDay: 0) },
        P(field: "minimumPatencyRate", value: "0.2000 mL/day", range: nil, valid: true) { $0.minimumPatencyRate = VolumeRate(nanolitresPerDay: 200_000) },
        P(field: "minimumPatencyRate", value: "0.200001 mL/day", range: "0.0000 mL/day … 0.2000 mL/day", valid: false) { $0.minimumPatencyRate = VolumeRate(nanolitresPerDay: 200_001) },
    ]

    @Test("PumpProfile: every field just inside and just outside its range", arguments: profileCases)
    func profileField(_ k: P) {
        checkField(k, PumpProfile.bench20) { p throws(ConfigurationError) in try p.validate() }
    }

    @Test("the bench profiles are valid and derived as documented")
    func benchProfiles() throws {
        try PumpProfile.bench20.validate()
        try PumpProfile.bench40.validate()
        // 110 cm × 2,600 nL/cm = 286,000 nL (about 0.29 mL); plus 50,000 nL internal = 336,000 nL.
        #expect(PumpProfile.catheterVolume(lengthCentimetres: 110) == nl(286_000))
        #expect(PumpProfile.bench20.deadVolume == nl(Bench.deadNL))
        #expect(PumpProfile.bench40.reservoirCapacity == .millilitres(40))
        #expect(PumpProfile.bench40.strokeVolume == PumpProfile.bench20.strokeVolume)
    }

    @Test("a controller refuses to start with an invalid profile")
    func controllerRefusesInvalidProfile() {
        var p = PumpProfile.bench20
        p.strokeVolume = nl(49)
        #expect(throws: ConfigurationError.self) { try PumpController(profile: p) }
    }

    typealias S = FieldCase<ControllerSettings>
    static let settingsCases: [S] = [
        // Titration: 1 % … the group's cap (spinal 30 %).
        S(field: "titrationIncreaseLimit", value: "0.9999 %", range: "1 % … 30 %", valid: false) { $0.titrationIncreaseLimit = Fraction(partsPerMillion: 9_999) },
        S(field: "titrationIncreaseLimit", value: "1 %", range: nil, valid: true) { $0.titrationIncreaseLimit = .percent(1) },
        S(field: "titrationIncreaseLimit", value: "30 %", range: nil, valid: true) { $0.titrationIncreaseLimit = .percent(30) },
        S(field: "titrationIncreaseLimit", value: "30.0001 %", range: "1 % … 30 %", valid: false) { $0.titrationIncreaseLimit = Fraction(partsPerMillion: 300_001) },
        // Cerebral and paediatric cap at 15 %.
        S(field: "titrationIncreaseLimit", value: "15 %", range: nil, valid: true) { $0 = ControllerSettings(patientGroup: .cerebral); $0.titrationIncreaseLimit = .percent(15) },
        S(field: "titrationIncreaseLimit", value: "15.0001 %", range: "1 % … 15 %", valid: false) { $0 = ControllerSettings(patientGroup: .cerebral); $0.titrationIncreaseLimit = Fraction(partsPerMillion: 150_001) },
        S(field: "titrationIncreaseLimit", value: "15.0001 %", range: "1 % … 15 %", valid: false) { $0 = ControllerSettings(patientGroup: .paediatric); $0.titrationIncreaseLimit = Fraction(partsPerMillion: 150_001) },
        S(field: "titrationIncreaseLimit", value: "30 %", range: "1 % … 15 %", valid: false) { $0 = ControllerSettings(patientGroup: .paediatric); $0.titrationIncreaseLimit = .percent(30) },
        // Decrease: 1 % … 20 % (the hard cap).
        S(field: "decreaseLimit", value: "0.9999 %", range: "1 % … 20 %", valid: false) { $0.decreaseLimit = Fraction(partsPerMillion: 9_999) },
        S(field: "decreaseLimit", value: "1 %", range: nil, valid: true) { $0.decreaseLimit = .percent(1) },
        S(field: "decreaseLimit", value: "20 %", range: nil, valid: true) { $0.decreaseLimit = .percent(20) },
        S(field: "decreaseLimit", value: "20.0001 %", range: "1 % … 20 %", valid: false) { $0.decreaseLimit = Fraction(partsPerMillion: 200_001) },
        // Minimum taper: 14 … 60 days.
        S(field: "minimumTaperDays", value: "13", range: "14 … 60", valid: false) { $0.minimumTaperDays = 13 },
        S(field: "minimumTaperDays", value: "14", range: nil, valid: true) { $0.minimumTaperDays = 14 },
        S(field: "minimumTaperDays", value: "60", range: nil, valid: true) { $0.minimumTaperDays = 60 },
        S(field: "minimumTaperDays", value: "61", range: "14 … 60", valid: false) { $0.minimumTaperDays = 61 },
        // Observation lockout: 4 … 8 h.
        S(field: "observationLockout", value: "3h59m59s999999999ns", range: "4h … 8h", valid: false) { $0.observationLockout = .hours(4) - ns(1) },
        S(field: "observationLockout", value: "4h", range: nil, valid: true) { $0.observationLockout = .hours(4) },
        S(field: "observationLockout", value: "8h", range: nil, valid: true) { $0.observationLockout = .hours(8) },
        S(field: "observationLockout", value: "8h1ns", range: "4h … 8h", valid: false) { $0.observationLockout = .hours(8) + ns(1) },
        // Interruption limit: 1 … 24 h.
        S(field: "interruptionLimit", value: "59m59s999999999ns", range: "1h … 1d", valid: false) { $0.interruptionLimit = .hours(1) - ns(1) },
        S(field: "interruptionLimit", value: "1h", range: nil, valid: true) { $0.interruptionLimit = .hours(1) },
        S(field: "interruptionLimit", value: "1d", range: nil, valid: true) { $0.interruptionLimit = .hours(24) },
        S(field: "interruptionLimit", value: "1d1ns", range: "1h … 1d", valid: false) { $0.interruptionLimit = .hours(24) + ns(1) },
        // Flex steps: 1 … 24.
        S(field: "maximumFlexSteps", value: "0", range: "1 … 24", valid: false) { $0.maximumFlexSteps = 0 },
        S(field: "maximumFlexSteps", value: "1", range: nil, valid: true) { $0.maximumFlexSteps = 1 },
        S(field: "maximumFlexSteps", value: "24", range: nil, valid: true) { $0.maximumFlexSteps = 24 },
        S(field: "maximumFlexSteps", value: "25", range: "1 … 24", valid: false) { $0.maximumFlexSteps = 25 },
        // Alarm settings, through the controller settings.
        S(field: "alarms.lowReservoirThreshold", value: "1.999999 mL", range: "2.000 mL … 8.000 mL", valid: false) { $0.alarms.lowReservoirThreshold = nl(1_999_999) },
        S(field: "alarms.lowReservoirThreshold", value: "2.000 mL", range: nil, valid: true) { $0.alarms.lowReservoirThreshold = .millilitres(2) },
        S(field: "alarms.lowReservoirThreshold", value: "8.000 mL", range: nil, valid: true) { $0.alarms.lowReservoirThreshold = .millilitres(8) },
        S(field: "alarms.lowReservoirThreshold", value: "8.000001 mL", range: "2.000 mL … 8.000 mL", valid: false) { $0.alarms.lowReservoirThreshold = nl(8_000_001) },
        S(field: "alarms.refillLeadTime", value: "23h59m59s999999999ns", range: "1d … 30d", valid: false) { $0.alarms.refillLeadTime = .days(1) - ns(1) },
        S(field: "alarms.refillLeadTime", value: "1d", range: nil, valid: true) { $0.alarms.refillLeadTime = .days(1) },
        S(field: "alarms.refillLeadTime", value: "30d", range: nil, valid: true) { $0.alarms.refillLeadTime = .days(30) },
        S(field: "alarms.refillLeadTime", value: "30d1ns", range: "1d … 30d", valid: false) { $0.alarms.refillLeadTime = .days(30) + ns(1) },
        S(field: "alarms.criticalRealert", value: "59s999999999ns", range: "1m … 10m", valid: false) { $0.alarms.criticalRealert = .minutes(1) - ns(1) },
        S(field: "alarms.criticalRealert", value: "1m", range: nil, valid: true) { $0.alarms.criticalRealert = .minutes(1) },
        S(field: "alarms.criticalRealert", value: "10m", range: nil, valid: true) { $0.alarms.criticalRealert = .minutes(10) },
        S(field: "alarms.criticalRealert", value: "10m1ns", range: "1m … 10m", valid: false) { $0.alarms.criticalRealert = .minutes(10) + ns(1) },
        S(field: "alarms.realert", value: "9m59s999999999ns", range: "10m … 4h", valid: false) { $0.alarms.realert = .minutes(10) - ns(1) },
        S(field: "alarms.realert", value: "10m", range: nil, valid: true) { $0.alarms.realert = .minutes(10) },
        S(field: "alarms.realert", value: "4h", range: nil, valid: true) { $0.alarms.realert = .hours(4) },
        S(field: "alarms.realert", value: "4h1ns", range: "10m … 4h", valid: false) { $0.alarms.realert = .hours(4) + ns(1) },
        S(field: "alarms.acknowledgedReminder", value: "59m59s999999999ns", range: "1h … 1d", valid: false) { $0.alarms.acknowledgedReminder = .hours(1) - ns(1) },
        S(field: "alarms.acknowledgedReminder", value: "1h", range: nil, valid: true) { $0.alarms.acknowledgedReminder = .hours(1) },
        S(field: "alarms.acknowledgedReminder", value: "1d", range: nil, valid: true) { $0.alarms.acknowledgedReminder = .hours(24) },
        S(field: "alarms.acknowledgedReminder", value: "1d1ns", range: "1h … 1d", valid: false) { $0.alarms.acknowledgedReminder = .hours(24) + ns(1) },
        S(field: "alarms.drugStabilityLimit", value: "23h59m59s999999999ns", range: "1d … 180d", valid: false) { $0.alarms.drugStabilityLimit = .days(1) - ns(1) },
        S(field: "alarms.drugStabilityLimit", value: "1d", range: nil, valid: true) { $0.alarms.drugStabilityLimit = .days(1) },
        S(field: "alarms.drugStabilityLimit", value: "180d", range: nil, valid: true) { $0.alarms.drugStabilityLimit = .days(180) },
        S(field: "alarms.drugStabilityLimit", value: "180d1ns", range: "1d … 180d", valid: false) { $0.alarms.drugStabilityLimit = .days(180) + ns(1) },
    ]

    @Test("ControllerSettings and AlarmSettings: every field just inside and just outside its range", arguments: settingsCases)
    func settingsField(_ k: S) {
        checkField(k, ControllerSettings()) { s throws(ConfigurationError) in try s.validate() }
    }

    @Test("defaults come from DOMAIN.md and are valid", arguments: PatientGroup.allCases)
    func defaults(_ group: PatientGroup) throws {
        let s = ControllerSettings(patientGroup: group)
        try s.validate()
        #expect(s.titrationIncreaseLimit == (group == .spinal ? .percent(30) : .percent(15)))
        #expect(s.decreaseLimit == .percent(20))
        #expect(s.minimumTaperDays == 14)
        #expect(s.observationLockout == .hours(8))
        #expect(s.interruptionLimit == .hours(24))
        #expect(s.reservoirPolicy == .alarmOnly)
        #expect(s.alarms.lowReservoirThreshold == .millilitres(4))
        #expect(s.alarms.refillLeadTime == .days(7))
        #expect(s.alarms.criticalRealert == .minutes(10))
        #expect(s.alarms.realert == .hours(1))
        #expect(s.alarms.drugStabilityLimit == .days(180))
    }
}
