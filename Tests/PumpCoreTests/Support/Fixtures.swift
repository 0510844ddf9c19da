import Testing
@testable import PumpCore

// Shared helpers for the example-based tests. Time is stepped by hand: every test names the instants it
// advances to. Expected values are derived in the tests themselves, in closed form, from the numbers
// below (never from the program's own output).

/// The bench profile's numbers, spelled out once so tests can derive expectations by hand.
enum Bench {
    /// 0.25 μL = 250 nL per stroke.
    static let strokeNL: Int64 = 250
    /// Internal 0.05 mL + 110 cm × 2,600 nL/cm = 50,000 + 286,000 = 336,000 nL.
    static let deadNL: Int64 = 336_000
    /// 336,000 / 250 = 1,344 strokes exactly, so the priming volume is the dead volume itself.
    static let primingStrokes: Int64 = 1_344
    /// Bolus flow 16,667 nL/min.
    static let bolusNLPerMinute: Int64 = 16_667
}

let c50 = Concentration.screening
let c500 = Concentration(microgramsPerMillilitre: 500)
let c1000 = Concentration(microgramsPerMillilitre: 1000)
let c2000 = Concentration(microgramsPerMillilitre: 2000)

func ug(_ v: Int64) -> DoseRate { .microgramsPerDay(v) }
func ngPerDay(_ v: Int64) -> DoseRate { DoseRate(nanogramsPerDay: v) }
func nl(_ v: Int64) -> Volume { Volume(nanolitres: v) }
func ns(_ v: Int64) -> TimeSpan { TimeSpan(nanoseconds: v) }
func at(_ span: TimeSpan) -> Instant { .zero + span }
func tod(_ h: Int, _ m: Int = 0, _ s: Int = 0) -> TimeOfDay { TimeOfDay(hour: h, minute: m, second: s)! }
func step(_ h: Int, _ m: Int = 0, _ rate: DoseRate) -> FlexStep { FlexStep(start: tod(h, m), rate: rate) }

/// A test failure with a message (for `throw` from helpers).
struct FixtureError: Error, CustomStringConvertible { var description: String }

extension CommandResponse {
    /// The acceptance, or a thrown failure naming the refusal.
    @discardableResult
    func accepted(sourceLocation: SourceLocation = #_sourceLocation) throws -> Acceptance {
        switch result {
        case let .success(a): return a
        case let .failure(r):
            Issue.record("expected acceptance, got refusal: \(r)", sourceLocation: sourceLocation)
            throw FixtureError(description: "refused: \(r)")
        }
    }
    var events: [EventKind] { effects.eventKinds }
}

extension Array where Element == Effect {
    var eventKinds: [EventKind] { compactMap { if case let .event(e) = $0 { return e.kind } else { return nil } } }
    var strokes: [Stroke] { compactMap { if case let .stroke(s) = $0 { return s } else { return nil } } }
    var alerts: [(AlarmKind, Instant)] { compactMap { if case let .alert(k, _, t) = $0 { return (k, t) } else { return nil } } }
    func alertInstants(_ kind: AlarmKind) -> [Instant] { alerts.filter { $0.0 == kind }.map(\.1) }
}

/// Counts basal strokes and their picograms without storing a year of them.
struct CountingSink: EffectSink {
    var strokes: Int64 = 0
    var picograms: Int64 = 0
    var lastStroke: Instant?
    var other: [Effect] = []
    mutating func receive(_ effect: Effect) {
        if case let .stroke(s) = effect { receiveStroke(s) } else { other.append(effect) }
    }
    mutating func receiveStroke(_ s: Stroke) {
        strokes += 1
        picograms += s.picograms
        lastStroke = s.at
    }
}

enum Fixture {
    /// A fresh controller at `t`.
    static func controller(profile: PumpProfile = .bench20, settings: ControllerSettings = ControllerSettings(),
                           at t: Instant = .zero) throws -> PumpController {
        try PumpController(profile: profile, settings: settings, at: t)
    }

    /// Filled with `volume` at `concentration` at `t`.
    static func filled(_ concentration: Concentration = c500, volume: Volume = .millilitres(20),
                       profile: PumpProfile = .bench20, settings: ControllerSettings = ControllerSettings(),
                       at t: Instant = .zero) throws -> PumpController {
        var c = try controller(profile: profile, settings: settings, at: t)
        try c.handle(.refill(RefillRequest(withdrawn: .zero, added: volume, concentration: concentration)), at: t).accepted()
        return c
    }

    /// Filled at `t` and primed (the priming bolus started at `t`); advanced to `t + 1 h`, past the bolus
    /// (1,344 strokes at 16.667 μL/min take about 20.2 min on the bench profile).
    static func primed(_ concentration: Concentration = c500, volume: Volume = .millilitres(20),
                       profile: PumpProfile = .bench20, settings: ControllerSettings = ControllerSettings(),
                       at t: Instant = .zero) throws -> PumpController {
        var c = try filled(concentration, volume: volume, profile: profile, settings: settings, at: t)
        try c.handle(.prime(confirmVolume: c.primingVolume), at: t).accepted()
        _ = c.advance(to: t + .hours(1))
        #expect(c.primed)
        return c
    }

    /// The instant `onTherapy` starts therapy: 1 h after the fill at zero.
    static let therapyStart = at(.hours(1))

    /// Filled (at 0), primed, and started on `schedule` at `therapyStart` as a transfer from a previous
    /// pump at the same daily dose (so no screening is needed).
    static func onTherapy(_ schedule: Schedule = .continuous(ug(600)), concentration: Concentration = c500,
                          volume: Volume = .millilitres(20), profile: PumpProfile = .bench20,
                          settings: ControllerSettings = ControllerSettings()) throws -> PumpController {
        var c = try primed(concentration, volume: volume, profile: profile, settings: settings)
        try c.handle(.startTherapy(schedule, basis: .transfer(previousDailyDose: schedule.dailyDose)), at: therapyStart).accepted()
        return c
    }

    /// A bench profile whose bolus flow is the allowed maximum (1 mL/min), so short boluses hit the
    /// one-minute minimum duration.
    static var fastBolusProfile: PumpProfile {
        var p = PumpProfile.bench20
        p.name = "fast bolus"
        p.bolusRate = FlowRate(nanolitresPerMinute: 1_000_000)
        return p
    }
}

/// The fields that define therapy (everything but the log and the alarm board), for "a refused command
/// changes nothing" checks.
struct TherapyState: Equatable, CustomStringConvertible {
    var schedule: Schedule?
    var phase: TherapyPhase
    var taper: TaperPlan?
    var reservoir: Reservoir
    var catheter: CatheterColumn
    var ledger: DeliveryLedger
    var doseHistory: DoseHistory
    var screening: Screening
    var bolus: BolusState?
    var deliveringDose: DoseRate
    var primed: Bool
    var haltedSince: Instant?
    var awaitingConfirmationSince: Instant?
    var refillDate: Instant?
    var settings: ControllerSettings
    var now: Instant
    /// Active alarms other than the interlock-refusal one a refusal raises.
    var otherAlarms: [Alarm]

    init(_ c: PumpController) {
        schedule = c.schedule; phase = c.phase; taper = c.taper; reservoir = c.reservoir; catheter = c.catheter
        ledger = c.ledger; doseHistory = c.doseHistory; screening = c.screening; bolus = c.bolus
        deliveringDose = c.deliveringDose; primed = c.primed; haltedSince = c.haltedSince
        awaitingConfirmationSince = c.awaitingConfirmationSince; refillDate = c.refillDate; settings = c.settings
        now = c.now
        otherAlarms = c.alarms.active.filter { $0.kind != .interlockRefusal }
    }
    var description: String { "phase \(phase), schedule \(schedule.map(\.description) ?? "none"), estimate \(reservoir.estimate)" }
}

/// Sends `command` at `t`, expects a refusal, and checks that the controller's therapy state equals
/// that of a copy simply advanced to `t`, that the refusal was logged and the interlock alarm raised.
@discardableResult
func expectRefusal(_ c: inout PumpController, _ command: Command, at t: Instant,
                   sourceLocation: SourceLocation = #_sourceLocation) -> Refusal? {
    var copy = c
    _ = copy.advance(to: t)
    let response = c.handle(command, at: t)
    guard let refusal = response.refusal else {
        Issue.record("expected \(command) to be refused at \(t)", sourceLocation: sourceLocation)
        return nil
    }
    #expect(TherapyState(c) == TherapyState(copy), "state changed by refused \(command)", sourceLocation: sourceLocation)
    if case .instantBeforeNow = refusal {
        #expect(response.effects.isEmpty, sourceLocation: sourceLocation)
    } else {
        #expect(response.events.contains(.commandRefused(command: command.description, refusal: refusal)),
                sourceLocation: sourceLocation)
        #expect(c.alarms.isActive(.interlockRefusal), sourceLocation: sourceLocation)
    }
    return refusal
}
