import PropertyBased
import Testing
@testable import PumpCore

/// A bolus pass moves the strokes that only push saline out of the catheter's tip in one push
/// (`PumpController.bolusStrokesPushingSaline`) and logs them as one `StrokeRun`, which a sink that
/// wants each stroke gets as those strokes. Stepping the
/// controller one deadline at a time gives every stroke its own call of the stroke-by-stroke loop (the
/// reference), so the two must give the same effects and the same controller, bit for bit.
@Suite("Delivery: priming strokes pushing saline in one move", .shrinking(false))
struct SalinePassTests {
    /// Drives `c` to `end` one deadline at a time (one bolus stroke a call).
    static func stepByDeadline(_ c: inout PumpController, to end: Instant, into sink: inout EffectCollector) -> Bool {
        var calls = 0
        while c.now < end {
            calls += 1
            guard calls < 100_000 else { return false }
            c.advance(to: min(end, max(c.nextDeadline, c.now + TimeSpan(nanoseconds: 1))), into: &sink)
        }
        return true
    }

    /// Takes runs of saline strokes whole, counting them.
    struct RunCounter: EffectSink {
        var runs = 0, strokes: Int64 = 0
        mutating func receive(_ effect: Effect) { if case .stroke = effect { strokes += 1 } }
        mutating func receiveStrokeRun(_ run: StrokeRun) { runs += 1; strokes += run.count }
    }

    @Test("a priming pass reaches a sink as runs of saline strokes, not 1,344 strokes one by one")
    func primingPassIsARun() throws {
        var c = try PumpController(profile: .bench20)
        try c.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: Concentration(microgramsPerMillilitre: 500))), at: .zero).accepted()
        try c.handle(.prime(confirmVolume: c.primingVolume), at: .zero).accepted()
        var sink = RunCounter()
        c.advance(to: .zero + .hours(2), into: &sink)
        // 1,344 strokes of 0.25 μL fill the 0.336 mL dead volume, every one pushing only saline out of
        // the tip: one run.
        #expect(sink.strokes == 1_344 && sink.runs == 1 && c.primed)
    }

    @Test("a priming pass in one call gives the effects and the controller of one stroke per call (random pumps, fills near the low-reservoir threshold)")
    func primingPassMatchesStrokeByStroke() async {
        var aggregated = 0, alarmedMidPass = 0, alarmStanding = 0, cases = 0
        await propertyCheck(count: 200, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var g = seed
            func next(_ n: UInt64) -> Int64 { g = g &* 6364136223846793005 &+ 1442695040888963407; return Int64((g >> 17) % n) }
            var profile = next(2) == 0 ? PumpProfile.bench20 : PumpProfile.bench40
            profile.strokeVolume = Volume(nanolitres: 50 + next(2_000))
            profile.catheterVolume = Volume(nanolitres: next(1_000_001))
            var settings = ControllerSettings()
            settings.alarms.lowReservoirThreshold = Volume(nanolitres: 2_000_000 + next(6_000_001))
            let threshold = settings.alarms.lowReservoirThreshold.nanolitres
            let dead = profile.deadVolume.nanolitres
            // Fills: full; just above the threshold (the pass crosses it); below it (the alarm stands
            // from the refill on); less than the dead volume (priming is refused: nothing to compare).
            let fill: Int64
            switch next(4) {
            case 0: fill = profile.reservoirCapacity.nanolitres
            case 1: fill = threshold + next(UInt64(dead + dead / 4 + 1))
            case 2: fill = max(profile.strokeVolume.nanolitres, threshold - next(1_000_000))
            default: fill = max(profile.strokeVolume.nanolitres, next(UInt64(dead + 1)))
            }
            guard var c = try? PumpController(profile: profile, settings: settings) else { Issue.record("profile refused: \(profile)"); return }
            let c500 = Concentration(microgramsPerMillilitre: [500, 1_000, 2_000][Int(next(3))])
            guard c.handle(.refill(RefillRequest(withdrawn: .zero, added: Volume(nanolitres: min(fill, profile.reservoirCapacity.nanolitres)),
                                                 concentration: c500)), at: .zero).isAccepted,
                  c.handle(.prime(confirmVolume: c.primingVolume), at: .zero).isAccepted, let b = c.bolus else { return }
            cases += 1
            if c.bolusStrokesPushingSaline(atMost: b.strokes) > 1 { aggregated += 1 }
            if c.alarms.isActive(.lowReservoir) { alarmStanding += 1 }
            let end = b.endsAt + .hours(1)
            var onePass = c, byDeadline = c
            var a = EffectCollector(), r = EffectCollector()
            onePass.advance(to: end, into: &a)
            guard Self.stepByDeadline(&byDeadline, to: end, into: &r) else { Issue.record("seed \(seed): the reference did not reach the end"); return }
            if a.effects.contains(where: { if case .event(let e) = $0, case .alarmRaised(.lowReservoir, _, _) = e.kind { return true }; return false }) {
                alarmedMidPass += 1
            }
            guard onePass == byDeadline, a.effects == r.effects else {
                let i = (0..<min(a.effects.count, r.effects.count)).first { a.effects[$0] != r.effects[$0] } ?? min(a.effects.count, r.effects.count)
                let x = i < a.effects.count ? "\(a.effects[i])" : "-", y = i < r.effects.count ? "\(r.effects[i])" : "-"
                Issue.record("seed \(seed): \(a.effects.count) vs \(r.effects.count) effects, first difference at \(i): \(x) vs \(y)")
                return
            }
        }
        // The one-move path ran, the threshold was crossed during a pass, and passes ran with the
        // alarm standing (the run then bounded by whole strokes in the reservoir): each bound compared.
        #expect(aggregated > cases / 2 && alarmedMidPass > 0 && alarmStanding > 0,
                "aggregated \(aggregated), alarmed during the pass \(alarmedMidPass), alarm standing \(alarmStanding) of \(cases)")
    }

    @Test("the saline run stops where the stroke-by-stroke loop would: a stroke short, or the threshold crossed")
    func salineRunBounds() throws {
        var c = try PumpController(profile: .bench20)
        let sv = PumpProfile.bench20.strokeVolume.nanolitres
        let threshold = c.settings.alarms.lowReservoirThreshold.nanolitres
        // 10 strokes above the threshold plus a part of one: the 11th stroke crosses it.
        _ = c.handle(.refill(RefillRequest(withdrawn: .zero, added: Volume(nanolitres: threshold + 10 * sv + sv / 2),
                                           concentration: Concentration(microgramsPerMillilitre: 500))), at: .zero)
        #expect(c.handle(.prime(confirmVolume: c.primingVolume), at: .zero).isAccepted)
        let strokes = c.bolus?.strokes ?? 0
        // After k strokes the estimate must stay above the threshold: k·sv < 10.5·sv.
        #expect(c.bolusStrokesPushingSaline(atMost: strokes) == 10)
        #expect(c.bolusStrokesPushingSaline(atMost: 1) == 0)
        #expect(c.bolusStrokesPushingSaline(atMost: 4) == 4)
    }
}
