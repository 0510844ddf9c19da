import Testing
@testable import PumpCore

/// A scripted input: a command, a sensor reading or a time advance, at an instant.
enum ScriptStep: Sendable {
    case command(Command, Instant)
    case sense(SensorReading, Instant)
    case advance(Instant)
}

@Suite("Determinism")
struct DeterminismTests {
    static let start = Fixture.therapyStart

    /// Screening, therapy start, titration, a concentration change, sensor faults, an acknowledgement,
    /// a refused command and a stop taper, over 20 days.
    static let script: [ScriptStep] = {
        let s0 = ScreeningTests.t0
        let end50 = s0 + ScreeningTests.bolusDuration(1_000_000)
        let therapy = end50 + .hours(8)
        return [
            .command(.testDose(.micrograms(50)), s0),
            .advance(end50),
            .command(.recordTestDoseResponse(.effective(lastedOverEightHours: false)), end50),
            .command(.refill(RefillRequest(withdrawn: nl(18_664_000), added: .millilitres(20), concentration: c500, confirmConcentrationChange: true)), end50 + .minutes(5)),
            .command(.startTherapy(.flex([step(0, 0, ug(100)), step(9, 30, ug(80))]), basis: .testDose), therapy),
            .sense(.occlusion(true), therapy + .hours(3)),
            .command(.acknowledge(.occlusion), therapy + .hours(3) + .minutes(12)),
            .sense(.occlusion(false), therapy + .hours(4)),
            .command(.program(.continuous(ug(200))), therapy + .days(1)),        // refused: > 30 %
            .command(.program(.continuous(ug(115))), therapy + .days(1)),
            .command(.setRefillDate(therapy + .days(40)), therapy + .days(1) + .hours(2)),
            .sense(.motorStall(true), therapy + .days(2)),
            .sense(.motorStall(false), therapy + .days(2) + .minutes(45)),
            .command(.refill(RefillRequest(withdrawn: nl(18_000_000), added: .millilitres(20), concentration: c1000, confirmConcentrationChange: true)), therapy + .days(3)),
            .command(.stop(taperDays: nil, override: nil), therapy + .days(4)),
            .advance(therapy + .days(20)),
        ]
    }()

    static func run(_ script: [ScriptStep]) throws -> (PumpController, [Effect]) {
        var c = try Fixture.primed(c50)
        var effects: [Effect] = []
        for step in script {
            switch step {
            case let .command(cmd, t): effects += c.handle(cmd, at: t).effects
            case let .sense(r, t): effects += c.sense(r, at: t)
            case let .advance(t): effects += c.advance(to: t)
            }
        }
        return (c, effects)
    }

    @Test("two controllers fed the same inputs give identical effects and states")
    func identical() throws {
        let (a, ea) = try Self.run(Self.script)
        let (b, eb) = try Self.run(Self.script)
        #expect(ea.count == eb.count)
        let sameEffects = ea == eb, sameState = a == b
        #expect(sameEffects)
        #expect(sameState)
        // The script really exercised the core: therapy ran, a refusal was logged, the taper ended it.
        #expect(ea.strokes.count > 1_000)
        #expect(ea.eventKinds.contains { if case .commandRefused = $0 { true } else { false } })
        #expect(ea.eventKinds.contains(.deliveryHalted(.taperCompleted)))
    }

    @Test("advancing in small steps or in one jump gives the same strokes and state")
    func stepSizeIndependent() throws {
        var one = try Fixture.onTherapy(.flex([step(0, 0, ug(601)), step(8, 0, ug(901)), step(20, 0, ug(300))]))
        var many = one
        let end = Self.start + .days(3)
        let jump = one.advance(to: end)
        var stepped: [Effect] = []
        var t = Self.start
        while t < end {
            // 7 min 13.000000001 s: never aligned with the strokes or the step boundaries.
            t = min(end, t + .seconds(433) + ns(1))
            stepped += many.advance(to: t)
        }
        let sameStrokes = jump.strokes == stepped.strokes, sameEvents = jump.eventKinds == stepped.eventKinds
        #expect(sameStrokes && jump.strokes.count == stepped.strokes.count)
        #expect(sameEvents)
        #expect(one == many)
    }
}
