import Testing
@testable import PumpCore

extension Refusal {
    /// The case name. The switch is exhaustive: a new refusal fails to compile here until it is named
    /// and added to `allNames` and to the table below.
    var caseName: String {
        switch self {
        case .instantBeforeNow: "instantBeforeNow"
        case .invalidSchedule: "invalidSchedule"
        case .invalidSettings: "invalidSettings"
        case .decreaseTooLarge: "decreaseTooLarge"
        case .increaseTooLarge: "increaseTooLarge"
        case .increaseDuringFirstDay: "increaseDuringFirstDay"
        case .increaseTooSoon: "increaseTooSoon"
        case .therapyNotRunning: "therapyNotRunning"
        case .therapyAlreadyStarted: "therapyAlreadyStarted"
        case .taperInProgress: "taperInProgress"
        case .noTaperToResume: "noTaperToResume"
        case .reserveTaperInProgress: "reserveTaperInProgress"
        case .taperTooShort: "taperTooShort"
        case .overrideReasonMissing: "overrideReasonMissing"
        case .deliveryAwaitsConfirmation: "deliveryAwaitsConfirmation"
        case .noInterruptionToConfirm: "noInterruptionToConfirm"
        case .confirmedDoseMismatch: "confirmedDoseMismatch"
        case .notPrimed: "notPrimed"
        case .alreadyPrimed: "alreadyPrimed"
        case .primingVolumeMismatch: "primingVolumeMismatch"
        case .bolusInProgress: "bolusInProgress"
        case .testDoseNotAllowed: "testDoseNotAllowed"
        case .testDoseTooSoon: "testDoseTooSoon"
        case .observationLockout: "observationLockout"
        case .testDoseResponsePending: "testDoseResponsePending"
        case .noTestDoseToRecord: "noTestDoseToRecord"
        case .screeningComplete: "screeningComplete"
        case .notACandidate: "notACandidate"
        case .noEffectiveTestDose: "noEffectiveTestDose"
        case .startDoseAboveOffer: "startDoseAboveOffer"
        case .startDoseAbovePreviousPump: "startDoseAbovePreviousPump"
        case .screeningConcentrationForTherapy: "screeningConcentrationForTherapy"
        case .insufficientDrug: "insufficientDrug"
        case .reservoirNotFilled: "reservoirNotFilled"
        case .overfill: "overfill"
        case .residualOutOfRange: "residualOutOfRange"
        case .concentrationNotAllowed: "concentrationNotAllowed"
        case .concentrationChangeNotConfirmed: "concentrationChangeNotConfirmed"
        case .refillDateInPast: "refillDateInPast"
        case .alarmNotActive: "alarmNotActive"
        case .windowAboveTitrationLimit: "windowAboveTitrationLimit"
        case .windowBelowDecreaseLimit: "windowBelowDecreaseLimit"
        case .windowIncreaseTooSoon: "windowIncreaseTooSoon"
        case .windowIncreaseDuringFirstDay: "windowIncreaseDuringFirstDay"
        }
    }

    static let allNames: Set<String> = [
        "instantBeforeNow", "invalidSchedule", "invalidSettings", "decreaseTooLarge", "increaseTooLarge",
        "increaseDuringFirstDay", "increaseTooSoon", "therapyNotRunning", "therapyAlreadyStarted", "taperInProgress",
        "noTaperToResume", "reserveTaperInProgress", "taperTooShort", "overrideReasonMissing", "deliveryAwaitsConfirmation", "noInterruptionToConfirm",
        "confirmedDoseMismatch", "notPrimed", "alreadyPrimed", "primingVolumeMismatch", "bolusInProgress",
        "testDoseNotAllowed", "testDoseTooSoon", "observationLockout", "testDoseResponsePending", "noTestDoseToRecord",
        "screeningComplete", "notACandidate", "noEffectiveTestDose", "startDoseAboveOffer", "startDoseAbovePreviousPump",
        "screeningConcentrationForTherapy", "insufficientDrug", "reservoirNotFilled", "overfill", "residualOutOfRange",
        "concentrationNotAllowed", "concentrationChangeNotConfirmed", "refillDateInPast", "alarmNotActive",
        "windowAboveTitrationLimit", "windowBelowDecreaseLimit", "windowIncreaseTooSoon", "windowIncreaseDuringFirstDay",
    ]
}

/// One refusal path: a controller, a command, an instant, and the refusal expected (derived by hand).
struct RefusalCase: Sendable, CustomTestStringConvertible {
    var name: String
    var setup: @Sendable () throws -> (PumpController, Command, Instant)
    var expected: Refusal
    var testDescription: String { name }
}

private let start = Fixture.therapyStart
private let s0 = ScreeningTests.t0
private let refill20 = RefillRequest(withdrawn: nl(19_664_000), added: .millilitres(20), concentration: c500)
private func running(_ s: Schedule = .continuous(ug(600))) throws -> PumpController { try Fixture.onTherapy(s) }
private func tapering() throws -> PumpController {
    var c = try running()
    try c.handle(.stop(taperDays: nil, override: nil), at: start).accepted()
    return c
}
/// Reserve-taper policy, 600 μg/day at 500 μg/mL from 4.5 mL: the low-reservoir alarm (4 mL) starts
/// the reserve taper 0.5 mL = 250 μg into therapy, i.e. 10 h after the start (600 μg/day = 25 μg/h);
/// 30 h later (one day into the first cut) it delivers 600 × 0.8 = 480 μg/day.
func reserveTapering() throws -> (PumpController, Instant) {
    var s = ControllerSettings(); s.reservoirPolicy = .reserveTaper
    var c = try Fixture.onTherapy(volume: nl(4_836_000), settings: s)
    let t = start + .hours(40)
    _ = c.advance(to: t)
    guard let plan = c.taper, plan.kind == .reserve else { throw FixtureError(description: "no reserve taper") }
    #expect(plan.startedAt == start + .hours(10))
    return (c, t)
}
private func interrupted() throws -> (PumpController, Instant) {
    var c = try FaultTests.emptied()
    let t = FaultTests.haltAt + .hours(25)
    try c.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: c500)), at: t).accepted()
    return (c, t)
}
private func screened(_ responses: [(Int64, TestDoseResponse)]) throws -> (PumpController, Instant) {
    var c = try ScreeningTests.screening()
    var t = s0
    var end = t
    for (dose, response) in responses {
        end = try ScreeningTests.give(&c, dose, at: t, response: response)
        t = t + .hours(24)
    }
    return (c, end)
}

let refusalCases: [RefusalCase] = [
    RefusalCase(name: "instantBeforeNow", setup: { (try running(), .resume, start - ns(1)) },
                expected: .instantBeforeNow(given: start - ns(1), now: start)),
    RefusalCase(name: "invalidSchedule", setup: { (try running(), .program(.continuous(ngPerDay(1_200_001))), start + .days(1)) },
                expected: .invalidSchedule(.rateOutOfRange(step: nil, rate: ngPerDay(1_200_001), allowed: ug(50)...ug(1200)))),
    RefusalCase(name: "invalidSettings", setup: {
        var s = ControllerSettings(); s.decreaseLimit = .percent(21)
        return (try running(), .configure(s), start)
    }, expected: .invalidSettings(.outOfRange(field: "decreaseLimit", value: "21 %", allowed: "1 % … 20 %"))),
    RefusalCase(name: "decreaseTooLarge", setup: { (try running(), .program(.continuous(ug(479))), start) },
                expected: .decreaseTooLarge(requested: ug(479), reference: ug(600), limit: .percent(20), smallestAllowed: ug(480))),
    RefusalCase(name: "increaseTooLarge", setup: { (try running(), .program(.continuous(ug(781))), start + .days(1)) },
                expected: .increaseTooLarge(requested: ug(781), reference: ug(600), limit: .percent(30), largestAllowed: ug(780))),
    RefusalCase(name: "increaseDuringFirstDay", setup: { (try running(), .program(.continuous(ug(601))), start + .hours(23)) },
                expected: .increaseDuringFirstDay(requested: ug(601), current: ug(600), allowedFrom: start + .days(1))),
    RefusalCase(name: "increaseTooSoon", setup: {
        var c = try running()
        try c.handle(.program(.continuous(ug(700))), at: start + .days(1)).accepted()
        return (c, .program(.continuous(ug(750))), start + .days(1) + .hours(23))
    }, expected: .increaseTooSoon(requested: ug(750), current: ug(700), lastIncreaseAt: start + .days(1), allowedFrom: start + .days(2))),
    RefusalCase(name: "therapyNotRunning", setup: { (try Fixture.primed(), .program(.continuous(ug(600))), start) },
                expected: .therapyNotRunning(phase: "not started")),
    RefusalCase(name: "therapyAlreadyStarted", setup: { (try running(), .startTherapy(.continuous(ug(600)), basis: .transfer(previousDailyDose: ug(600))), start) },
                expected: .therapyAlreadyStarted),
    RefusalCase(name: "taperInProgress", setup: { (try tapering(), .program(.continuous(ug(600))), start + .days(2)) },
                expected: .taperInProgress(endsAt: start + .days(14))),
    RefusalCase(name: "noTaperToResume", setup: { (try running(), .resume, start) }, expected: .noTaperToResume),
    RefusalCase(name: "reserveTaperInProgress", setup: {
        let (c, t) = try reserveTapering()
        return (c, .program(.continuous(ug(600))), t)
    }, expected: .reserveTaperInProgress(level: ug(480))),
    RefusalCase(name: "taperTooShort", setup: { (try running(), .stop(taperDays: 13, override: nil), start) },
                expected: .taperTooShort(requestedDays: 13, minimumDays: 14)),
    RefusalCase(name: "overrideReasonMissing", setup: { (try running(), .stop(taperDays: 3, override: EmergencyOverride(reason: "", clinician: "")), start) },
                expected: .overrideReasonMissing),
    RefusalCase(name: "deliveryAwaitsConfirmation", setup: {
        let (c, t) = try interrupted()
        return (c, .program(.continuous(ug(500))), t + .minutes(1))
    }, expected: .deliveryAwaitsConfirmation(since: FaultTests.haltAt)),
    RefusalCase(name: "noInterruptionToConfirm", setup: { (try running(), .confirmResumption(.continuous(ug(600))), start) },
                expected: .noInterruptionToConfirm),
    RefusalCase(name: "confirmedDoseMismatch", setup: {
        let (c, t) = try interrupted()
        return (c, .confirmResumption(.continuous(ug(601))), t + .minutes(1))
    }, expected: .confirmedDoseMismatch(confirmed: ug(601), current: ug(600))),
    RefusalCase(name: "notPrimed", setup: { (try Fixture.filled(c50), .testDose(.micrograms(25)), .zero) },
                expected: .notPrimed(primingVolume: nl(336_000))),
    RefusalCase(name: "alreadyPrimed", setup: { (try Fixture.primed(), .prime(confirmVolume: nl(336_000)), start) }, expected: .alreadyPrimed),
    RefusalCase(name: "primingVolumeMismatch", setup: { (try Fixture.filled(), .prime(confirmVolume: nl(290_000)), .zero) },
                expected: .primingVolumeMismatch(confirmed: nl(290_000), computed: nl(336_000))),
    RefusalCase(name: "bolusInProgress", setup: {
        var c = try Fixture.filled()
        try c.handle(.prime(confirmVolume: nl(336_000)), at: .zero).accepted()
        return (c, .startTherapy(.continuous(ug(600)), basis: .transfer(previousDailyDose: ug(600))), at(.minutes(5)))
    }, expected: .bolusInProgress(endsAt: at(ScreeningTests.bolusDuration(336_000)))),
    RefusalCase(name: "testDoseNotAllowed", setup: { (try ScreeningTests.screening(), .testDose(.micrograms(100)), s0) },
                expected: .testDoseNotAllowed(requested: .micrograms(100), allowed: [.micrograms(25), .micrograms(50)])),
    RefusalCase(name: "testDoseTooSoon", setup: {
        let (c, _) = try screened([(25, .noResponse)])
        return (c, .testDose(.micrograms(50)), s0 + .hours(23))
    }, expected: .testDoseTooSoon(previousAt: s0, allowedFrom: s0 + .hours(24))),
    RefusalCase(name: "observationLockout", setup: {
        let (c, end) = try screened([(25, .noResponse)])
        return (c, .testDose(.micrograms(50)), end + .hours(1))
    }, expected: .observationLockout(until: s0 + ScreeningTests.bolusDuration(500_000) + .hours(8))),
    RefusalCase(name: "testDoseResponsePending", setup: {
        var c = try ScreeningTests.screening()
        try ScreeningTests.give(&c, 25, at: s0, response: nil)
        return (c, .testDose(.micrograms(50)), s0 + .days(1))
    }, expected: .testDoseResponsePending(dose: .micrograms(25))),
    RefusalCase(name: "noTestDoseToRecord", setup: { (try ScreeningTests.screening(), .recordTestDoseResponse(.noResponse), s0) },
                expected: .noTestDoseToRecord),
    RefusalCase(name: "screeningComplete", setup: {
        let (c, _) = try screened([(25, .effective(lastedOverEightHours: false))])
        return (c, .testDose(.micrograms(50)), s0 + .days(1))
    }, expected: .screeningComplete(effectiveDose: .micrograms(25))),
    RefusalCase(name: "notACandidate", setup: {
        let (c, _) = try screened([(50, .noResponse), (75, .noResponse), (100, .noResponse)])
        return (c, .testDose(.micrograms(100)), s0 + .days(3))
    }, expected: .notACandidate),
    RefusalCase(name: "noEffectiveTestDose", setup: { (try Fixture.primed(), .startTherapy(.continuous(ug(100)), basis: .testDose), start) },
                expected: .noEffectiveTestDose),
    RefusalCase(name: "startDoseAboveOffer", setup: {
        let (c, end) = try ScreeningTests.screenedAndRefilled()
        return (c, .startTherapy(.continuous(ug(101)), basis: .testDose), end + .hours(8))
    }, expected: .startDoseAboveOffer(requested: ug(101), offered: ug(100))),
    RefusalCase(name: "startDoseAbovePreviousPump", setup: { (try Fixture.primed(), .startTherapy(.continuous(ug(601)), basis: .transfer(previousDailyDose: ug(600))), start) },
                expected: .startDoseAbovePreviousPump(requested: ug(601), previous: ug(600))),
    RefusalCase(name: "screeningConcentrationForTherapy", setup: {
        var r = refill20; r.concentration = c50; r.confirmConcentrationChange = true
        return (try running(), .refill(r), start)
    }, expected: .screeningConcentrationForTherapy),
    RefusalCase(name: "insufficientDrug", setup: { (try Fixture.filled(volume: nl(335_999)), .prime(confirmVolume: nl(336_000)), .zero) },
                expected: .insufficientDrug(needed: nl(336_000), available: nl(335_999))),
    RefusalCase(name: "reservoirNotFilled", setup: { (try Fixture.controller(), .prime(confirmVolume: nl(336_000)), .zero) },
                expected: .reservoirNotFilled),
    RefusalCase(name: "overfill", setup: {
        var r = refill20; r.added = nl(20_000_001)
        return (try running(), .refill(r), start)
    }, expected: .overfill(volume: nl(20_000_001), capacity: .millilitres(20))),
    RefusalCase(name: "residualOutOfRange", setup: {
        var r = refill20; r.withdrawn = nl(20_000_001)
        return (try running(), .refill(r), start)
    }, expected: .residualOutOfRange(withdrawn: nl(20_000_001), capacity: .millilitres(20))),
    RefusalCase(name: "concentrationNotAllowed", setup: {
        var r = refill20; r.concentration = Concentration(microgramsPerMillilitre: 1500); r.confirmConcentrationChange = true
        return (try running(), .refill(r), start)
    }, expected: .concentrationNotAllowed(Concentration(microgramsPerMillilitre: 1500))),
    RefusalCase(name: "concentrationChangeNotConfirmed", setup: {
        var r = refill20; r.concentration = c1000
        return (try running(), .refill(r), start)
    }, expected: .concentrationChangeNotConfirmed(from: c500, to: c1000)),
    RefusalCase(name: "refillDateInPast", setup: { (try running(), .setRefillDate(start), start + .hours(1)) },
                expected: .refillDateInPast(date: start, now: start + .hours(1))),
    RefusalCase(name: "alarmNotActive", setup: { (try running(), .acknowledge(.motorStall), start) }, expected: .alarmNotActive(.motorStall)),
    // The rolling-window rules (amounts derived in RollingWindowTests).
    RefusalCase(name: "windowAboveTitrationLimit", setup: {
        (try running(RollingWindowTests.highFirst), .program(RollingWindowTests.highSecond), at(.days(2) + .hours(12)))
    }, expected: .windowAboveTitrationLimit(window: deliveryWindow(ending: at(.days(3)), drugPicograms(1200, minutes: 1_440)),
                                            reference: deliveryWindow(ending: at(.days(2) + .hours(12)), drugPicograms(625, minutes: 1_440)),
                                            limit: .percent(30), largestAllowed: Mass(nanograms: 812_500))),
    RefusalCase(name: "windowBelowDecreaseLimit", setup: {
        (try running(), .program(.flex([step(0, 0, ug(50)), step(12, 0, ug(1150))])), at(.days(2)))
    }, expected: .windowBelowDecreaseLimit(window: deliveryWindow(ending: at(.days(2) + .hours(12)), drugPicograms(600, minutes: 720) + drugPicograms(50, minutes: 720)),
                                           reference: deliveryWindow(ending: at(.days(2)), drugPicograms(600, minutes: 1_440)),
                                           limit: .percent(20), smallestAllowed: .micrograms(480))),
    RefusalCase(name: "windowIncreaseTooSoon", setup: {
        var c = try running()
        try c.handle(.program(.continuous(ug(700))), at: start + .days(1)).accepted()
        return (c, .program(.flex([step(0, 0, ug(800)), step(12, 0, ug(600))])), start + .days(1) + .hours(2))
    }, expected: .windowIncreaseTooSoon(
        window: deliveryWindow(ending: at(.days(1) + .hours(12)), drugPicograms(600, minutes: 780) + drugPicograms(700, minutes: 120) + drugPicograms(800, minutes: 540)),
        without: deliveryWindow(ending: at(.days(1) + .hours(12)), drugPicograms(600, minutes: 780) + drugPicograms(700, minutes: 120) + drugPicograms(700, minutes: 540)),
        lastIncreaseAt: start + .days(1), allowedFrom: start + .days(2))),
    RefusalCase(name: "windowIncreaseDuringFirstDay", setup: {
        (try running(), .program(.flex([step(0, 0, ug(800)), step(12, 0, ug(400))])), at(.hours(3)))
    }, expected: .windowIncreaseDuringFirstDay(window: deliveryWindow(ending: at(.hours(12)), drugPicograms(600, minutes: 120) + drugPicograms(800, minutes: 540)),
                                               without: deliveryWindow(ending: at(.hours(12)), drugPicograms(600, minutes: 660)),
                                               allowedFrom: start + .days(1))),
]

@Suite("Every refusal path")
struct RefusalCoverageTests {
    @Test("the table reaches every Refusal case")
    func coverage() {
        let reached = Set(refusalCases.map(\.expected.caseName))
        #expect(reached == Refusal.allNames, "missing: \(Refusal.allNames.subtracting(reached).sorted())")
        #expect(refusalCases.map(\.name) == refusalCases.map(\.expected.caseName))
    }

    @Test("refused, logged, and therapy left exactly as a copy advanced to the same instant", arguments: refusalCases)
    func refusal(_ k: RefusalCase) throws {
        let (c0, command, t) = try k.setup()
        var c = c0
        let copyBefore = c
        let refusal = expectRefusal(&c, command, at: t)
        #expect(refusal == k.expected)
        #expect(refusal?.description.isEmpty == false)
        // A day later the refused controller still delivers exactly as the copy does.
        var copy = copyBefore
        _ = copy.advance(to: t)
        let later = max(t, copy.now) + .days(1)
        let a = c.advance(to: later).strokes, b = copy.advance(to: later).strokes
        let same = a == b
        #expect(same, "strokes differ after the refusal (\(a.count) vs \(b.count))")
        #expect(TherapyState(c).ledger == TherapyState(copy).ledger)
    }

    @Test("refusal messages name the value and the nearest allowed value")
    func messages() {
        #expect(Refusal.decreaseTooLarge(requested: ug(479), reference: ug(600), limit: .percent(20), smallestAllowed: ug(480)).description
            == "decrease to 479 μg/day exceeds the 20 % per 24 h limit from 600 μg/day; the lowest dose allowed now is 480 μg/day")
        #expect(Refusal.increaseTooLarge(requested: ug(781), reference: ug(600), limit: .percent(30), largestAllowed: ug(780)).description
            == "increase to 781 μg/day exceeds the 30 % per 24 h titration limit from 600 μg/day; the highest dose allowed now is 780 μg/day")
        #expect(Refusal.overfill(volume: nl(20_000_001), capacity: .millilitres(20)).description
            == "filling 20.000001 mL exceeds the reservoir capacity 20.000 mL")
        #expect(Refusal.taperTooShort(requestedDays: 7, minimumDays: 14).description.contains("7 days is shorter than the 14-day minimum"))
        #expect(Refusal.insufficientDrug(needed: .millilitres(1), available: nl(664_000)).description
            == "the bolus needs 1.000 mL but the reservoir holds 0.664 mL; refill first")
    }
}
