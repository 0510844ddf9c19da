import PropertyBased
import Testing
@testable import PumpCore
@testable import PumpSim

/// A random scenario decoded from one seed: dose, concentration, reservoir, first fill, bias, refills
/// (on time, late or with a concentration change), acknowledgements and faults.
func randomScenario(seed: UInt64) -> Scenario {
    var g = SplitMix64(seed: seed)
    var profile: PumpProfile = g.below(2) == 0 ? .bench20 : .bench40
    let c = Concentration.therapy[Int(g.below(3))]
    let dose = DoseRate.microgramsPerDay(g.integer(in: 100...1200))
    var m = PumpMechanics()
    m.calibrationBias = Fraction(partsPerMillion: g.integer(in: -150_000...150_000))
    m.seed = g.next()
    m.occlusionTripStrokes = g.integer(in: 1...60)
    profile.occlusionDetectionStrokes = m.occlusionTripStrokes   // the sensor as labelled
    m.stallTripStrokes = g.integer(in: 1...5)
    profile.stallDetectionStrokes = m.stallTripStrokes
    var settings = ControllerSettings()
    settings.reservoirPolicy = g.below(2) == 0 ? .alarmOnly : .reserveTaper
    let days = g.integer(in: 4...12)
    let fill = Volume(nanolitres: g.integer(in: 1_000_000...8_000_000))
    var timeline: [ScenarioEvent] = []
    for _ in 0..<g.integer(in: 0...3) {
        let at = Instant.zero + .minutes(g.integer(in: 120...(days * 1_440 - 1)))
        switch g.below(4) {
        case 0: timeline.append(ScenarioEvent(at: at, action: .acknowledge(AlarmKind.allCases[Int(g.below(UInt64(AlarmKind.allCases.count)))])))
        case 1: timeline.append(ScenarioEvent(at: at, action: .confirmResumption(nil)))
        default:
            let newC = g.below(3) == 0 ? Concentration.therapy[Int(g.below(3))] : c
            timeline.append(ScenarioEvent(at: at, action: .refill(added: Volume(nanolitres: g.integer(in: 1_000_000...20_000_000)),
                                                                   concentration: newC, confirmConcentrationChange: true, withdrawn: nil)))
        }
    }
    var faults: [Fault] = []
    let kinds: [FaultKind] = [.occlusion, .motorStall, .leak(fraction: .percent(g.integer(in: 1...99))), .disconnection]
    if g.below(3) != 0 {
        let k = kinds[Int(g.below(4))]
        let from = Instant.zero + .minutes(g.integer(in: 90...(days * 1_440 - 10)))
        let until: Instant? = g.below(3) == 0 ? nil : from + .minutes(g.integer(in: 1...3_000))
        faults.append(Fault(kind: k, from: from, until: until))
    }
    return Scenario(name: "random \(seed)", profile: profile, mechanics: m, settings: settings, concentration: c,
                    schedule: .continuous(dose), initialFill: fill, duration: .days(days), timeline: timeline, faults: FaultPlan(faults))
}

@Suite("Stroke and fast fidelity agree", .shrinking(false))
struct FidelityPropertyTests {
    @Test("same delivered totals within one stroke, same alarms within one stroke interval (noise off)")
    func fidelitiesAgree() async {
        await propertyCheck(count: 40, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            let s = randomScenario(seed: seed)
            guard let a = try? SimulationRunner.run(s, fidelity: .stroke), let b = try? SimulationRunner.run(s, fidelity: .fast) else {
                Issue.record("scenario \(seed) did not run")
                return
            }
            // One stroke's drug at the highest concentration in play and the largest bias.
            let strokeFg = Picolitres(s.profile.strokeVolume).value * 2_000 * 115 / 100
            #expect(abs(a.recorder.totalToPatient.value - b.recorder.totalToPatient.value) <= strokeFg, "seed \(seed)")
            #expect(abs(a.pump.toPocket.value - b.pump.toPocket.value) <= strokeFg, "seed \(seed)")
            #expect(a.controller == b.controller, "seed \(seed): controllers differ")
            // One stroke interval at the lowest dose in play (the floor): stroke mass × day / 50 μg/day.
            let interval = Int64(Int128(strokeFg / 1_000) * Int128(TimeConstants.nanosecondsPerDay) / Int128(DoseRate.floor.picogramsPerDay))
            let ka = a.recorder.alarms.map(\.kind), kb = b.recorder.alarms.map(\.kind)
            #expect(ka == kb, "seed \(seed): alarms \(ka) vs \(kb)")
            for (x, y) in zip(a.recorder.alarms, b.recorder.alarms) {
                #expect(abs(x.raisedAt.nanoseconds - y.raisedAt.nanoseconds) <= interval, "seed \(seed): \(x.kind) at \(x.raisedAt) vs \(y.raisedAt)")
            }
        }
    }
}
