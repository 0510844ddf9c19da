import Testing
@testable import PumpCore
@testable import PumpSim

let c500 = Concentration(microgramsPerMillilitre: 500)
let c1000 = Concentration(microgramsPerMillilitre: 1000)

func stroke(_ secs: Int64) -> Stroke {
    Stroke(at: .zero + .seconds(secs), purpose: .basal, volume: Volume(nanolitres: 250), picograms: 125_000)
}

/// A bench-20 pump filled with 20 mL at 500 μg/mL and its catheter already holding that drug.
func primedPump(_ m: PumpMechanics = PumpMechanics()) throws -> SimulatedPump {
    var p = try SimulatedPump(profile: .bench20, mechanics: m)
    p.refill(added: .millilitres(20), concentration: c500, at: .zero)
    // Without bias the column takes the priming strokes exactly and the patient gets nothing yet.
    // Dead volume 336,000 nL = 1,344 strokes of 250 nL (noise off): the column now holds drug.
    for i in 0..<1_344 { try p.perform(stroke(Int64(i))) }
    return p
}

@Suite("Simulated pump")
struct SimulatedPumpTests {
    @Test("calibration bias scales every stroke exactly; the true reservoir diverges from strokes × nominal")
    func bias() throws {
        var m = PumpMechanics()
        m.calibrationBias = .percent(10)
        var p = try primedPump(m)
        // Priming moved 1,344 × 275,000 pL: 10 % more than the 336 μL column, so 33.6 μL of 500 μg/mL
        // (16.8 μg) already reached the patient.
        #expect(p.toPatient == Femtograms(16_800_000_000))
        let before = p.reservoir
        for i in 0..<100 { try p.perform(stroke(10_000 + Int64(i))) }
        // 250 nL × 1.1 = 275,000 pL per stroke.
        #expect(before - p.reservoir == Picolitres(100 * 275_000))
        // 27.5 μL at 500 μg/mL = 13.75 μg more.
        #expect(p.toPatient == Femtograms(16_800_000_000 + 13_750_000_000))
    }

    @Test("seeded noise: the same seed gives the same strokes; the mean and spread match the settings")
    func noise() throws {
        var m = PumpMechanics()
        m.strokeNoise = .percent(2)
        m.seed = 7
        var a = try SimulatedPump(profile: .bench40, mechanics: m), b = a
        a.refill(added: .millilitres(40), concentration: c500, at: .zero)
        b.refill(added: .millilitres(40), concentration: c500, at: .zero)
        var sum = 0.0, sumSq = 0.0
        let n = 20_000
        for i in 0..<n {
            let r0 = a.reservoir
            try a.perform(stroke(Int64(i)))
            try b.perform(stroke(Int64(i)))
            let v = Double((r0 - a.reservoir).value)
            sum += v; sumSq += v * v
        }
        #expect(a == b)
        let mean = sum / Double(n), sd = (sumSq / Double(n) - mean * mean).squareRoot()
        // σ = 2 % of 250,000 pL = 5,000 pL; the mean's standard error is 5,000/√20,000 ≈ 35 pL.
        #expect(abs(mean - 250_000) < 200)
        #expect(abs(sd - 5_000) < 150)
        var c = try SimulatedPump(profile: .bench40, mechanics: { var x = m; x.seed = 8; return x }())
        c.refill(added: .millilitres(40), concentration: c500, at: .zero)
        try c.perform(stroke(0))
        var a2 = try SimulatedPump(profile: .bench40, mechanics: m)
        a2.refill(added: .millilitres(40), concentration: c500, at: .zero)
        try a2.perform(stroke(0))
        #expect(c.reservoir != a2.reservoir)
    }

    @Test("occlusion: nothing reaches the patient, the sensor trips on the N-th stroke, the held volume is released on clearing")
    func occlusion() throws {
        var m = PumpMechanics()
        m.occlusionTripStrokes = 40
        var p = try primedPump(m)
        p.apply(FaultChange(at: .zero + .seconds(2_000), kind: .occlusion, active: true))
        for i in 0..<39 { try p.perform(stroke(2_000 + Int64(i))) }
        #expect(p.strokesBeforeNextChange() == 0)
        #expect(try p.sensorChanges(upTo: .zero + .days(1)).isEmpty)
        try p.perform(stroke(2_039))
        let changes = try p.sensorChanges(upTo: .zero + .days(1))
        #expect(changes.count == 1 && changes[0].at == .zero + .seconds(2_039) && changes[0].reading == .occlusion(true))
        #expect(p.toPatient == .zero)
        // 40 strokes × 250 nL = 10 μL held; released on clearing: 10 μL × 500 μg/mL = 5 μg.
        p.apply(FaultChange(at: .zero + .seconds(3_000), kind: .occlusion, active: false))
        #expect(p.toPatient == Femtograms(5_000_000_000))
        #expect(try p.sensorChanges(upTo: .zero + .seconds(3_000)).map(\.reading) == [.occlusion(false)])
    }

    @Test("an occlusion or stall sensor slower than the profile's labelled detection strokes is refused, naming both")
    func occlusionTripAboveLabelRefused() throws {
        var m = PumpMechanics()
        m.occlusionTripStrokes = 41
        #expect(throws: ConfigurationError.outOfRange(field: "mechanics.occlusionTripStrokes", value: "41",
                                                      allowed: "1 … 40 (the pump profile's occlusionDetectionStrokes, the sensor's labelled trip strokes the controller relies on)")) {
            try SimulatedPump(profile: .bench20, mechanics: m)
        }
        var labelled = PumpProfile.bench20
        labelled.occlusionDetectionStrokes = 41
        _ = try SimulatedPump(profile: labelled, mechanics: m)
        var stall = PumpMechanics()
        stall.stallTripStrokes = 4
        #expect(throws: ConfigurationError.outOfRange(field: "mechanics.stallTripStrokes", value: "4",
                                                      allowed: "1 … 3 (the pump profile's stallDetectionStrokes, the sensor's labelled trip strokes the controller relies on)")) {
            try SimulatedPump(profile: .bench20, mechanics: stall)
        }
    }

    @Test("motor stall: strokes do not move drug; the stall sensor trips after the set number of quiet strokes")
    func stall() throws {
        var p = try primedPump()
        let r = p.reservoir
        p.apply(FaultChange(at: .zero + .seconds(2_000), kind: .motorStall, active: true))
        for i in 0..<3 { try p.perform(stroke(2_000 + Int64(i))) }
        #expect(p.reservoir == r && p.toPatient == .zero)
        #expect(try p.sensorChanges(upTo: .zero + .days(1)).map(\.reading) == [.motorStall(true)])
        p.apply(FaultChange(at: .zero + .seconds(3_000), kind: .motorStall, active: false))
        #expect(try p.sensorChanges(upTo: .zero + .days(1)).map(\.reading) == [.motorStall(false)])
    }

    @Test("a leak sends its share to the pocket; a disconnection sends all")
    func leak() throws {
        var p = try primedPump()
        p.apply(FaultChange(at: .zero, kind: .leak(fraction: .percent(25)), active: true))
        for i in 0..<8 { try p.perform(stroke(2_000 + Int64(i))) }
        // 8 × 125,000,000 fg = 1 μg: 0.25 μg to the pocket, 0.75 μg to the CSF.
        #expect(p.toPocket == Femtograms(250_000_000) && p.toPatient == Femtograms(750_000_000))
        p.apply(FaultChange(at: .zero, kind: .disconnection, active: true))
        try p.perform(stroke(3_000))
        #expect(p.toPatient == Femtograms(750_000_000) && p.blocksDelivery)
    }

    @Test("a new concentration reaches the patient only after the dead volume has been pushed through")
    func catheterFIFO() throws {
        var p = try primedPump()
        p.refill(added: .millilitres(20), concentration: c1000, at: .zero)
        for i in 0..<1_344 { try p.perform(stroke(5_000 + Int64(i))) }
        // The column's 336,000 nL of 500 μg/mL: 168 μg.
        #expect(p.toPatient == Femtograms(168_000_000_000))
        try p.perform(stroke(7_000))
        #expect(p.toPatient == Femtograms(168_000_000_000 + 250_000 * 1000))
    }

    @Test("the empty switch closes at its level; a short stroke marks the true reservoir empty")
    func emptySensor() throws {
        var p = try SimulatedPump(profile: .bench20)
        p.refill(added: Volume(nanolitres: 100_500), concentration: c500, at: .zero)
        #expect(p.strokesBeforeNextChange() == 1)
        try p.perform(stroke(1))
        try p.perform(stroke(2))
        // 100,500 − 500 = 100,000 nL: at the 0.1 mL level the switch closes on the second stroke.
        #expect(try p.sensorChanges(upTo: .zero + .seconds(10)).map(\.at) == [.zero + .seconds(2)])
        for i in 0..<400 { try p.perform(stroke(3 + Int64(i))) }
        #expect(p.reservoir == .zero)
        // 100,000 nL = 400 strokes: the 401st (at 402 s) comes up short.
        try p.perform(stroke(402))
        #expect(p.emptySince == .zero + .seconds(402))
        p.refill(added: .millilitres(20), concentration: c500, at: .zero + .seconds(500))
        #expect(p.emptySince == nil)
        #expect(try p.sensorChanges(upTo: .zero + .seconds(500)).map(\.reading) == [.reservoirEmpty(false)])
    }

    @Test("without noise a batch leaves the pump exactly as the same strokes one by one")
    func batchEqualsStrokes() throws {
        var m = PumpMechanics()
        m.calibrationBias = .percent(-7)
        var a = try primedPump(m), b = a
        for i in 0..<1_000 { try a.perform(stroke(10_000 + Int64(i))) }
        try b.perform(batch: StrokeBatch(first: .zero + .seconds(10_000), last: .zero + .seconds(10_999), count: 1_000,
                                         volume: Volume(nanolitres: 250), picogramsEach: 125_000))
        #expect(a == b)
    }

    @Test("a safe pump refuses strokes")
    func safeState() throws {
        var p = try primedPump()
        try p.enterSafeState()
        #expect(throws: SimulatedPumpError.self) { try p.perform(stroke(9_999)) }
    }

    @Test("mechanics outside their ranges are refused with the field name", arguments: [
        "mechanics.calibrationBias", "mechanics.strokeNoise", "mechanics.stallTripStrokes",
    ])
    func mechanicsRanges(field: String) {
        var m = PumpMechanics()
        switch field {
        case "mechanics.calibrationBias": m.calibrationBias = .percent(51)
        case "mechanics.strokeNoise": m.strokeNoise = .percent(5)
        default: m.stallTripStrokes = 0
        }
        do { try m.validate(); Issue.record("accepted") } catch { #expect(error.description.hasPrefix(field)) }
    }

    /// Mechanics with a random seed, stroke noise (0–4 %) and calibration bias (±5 %).
    static func noisyMechanics(_ g: inout SplitMix64) -> PumpMechanics {
        var m = PumpMechanics()
        m.seed = g.next()
        m.strokeNoise = Fraction(partsPerMillion: g.integer(in: 0...40_000))
        m.calibrationBias = Fraction(partsPerMillion: g.integer(in: -50_000...50_000))
        return m
    }

    @Test("bolus strokes accumulated and moved at once leave the pump exactly as strokes moved one by one")
    func accumulatedStrokes() throws {
        for seed in UInt64(0)..<40 {
            var g = SplitMix64(seed: seed)
            let m = Self.noisyMechanics(&g)
            var a = try SimulatedPump(profile: .bench20, mechanics: m)
            a.refill(added: .millilitres(g.below(2) == 0 ? 20 : 1), concentration: c500, at: .zero)
            var b = a
            var moved: Int64 = 0
            var last: Instant?
            // Priming: the saline column is pushed out; once a stroke could reach the drug, the pump
            // refuses to hold it and the caller moves it on its own.
            for i in 0..<1_500 {
                let s = Stroke(at: .zero + .seconds(Int64(i) * 3), purpose: .priming, volume: Volume(nanolitres: 250), picograms: 0)
                try a.perform(s)
                if b.accumulate(s) { moved += 1; continue }
                if let t = b.flushAccumulated() { last = t }
                try b.perform(s)
            }
            _ = b.flushAccumulated()
            #expect(a == b, "seed \(seed)")
            #expect(moved > 1_000, "seed \(seed): \(moved) strokes accumulated")
            #expect(last != nil, "seed \(seed)")
            #expect(a.toPatient == b.toPatient && a.strokesMoved == b.strokesMoved)
        }
    }

    @Test("a pass's strokes taken in one check leave the pump as each taken (or moved) in turn, at the reservoir's and the saline's edge")
    func accumulatedPassInOneCheck() throws {
        var took = 0, refused = 0
        for seed in UInt64(0)..<200 {
            var g = SplitMix64(seed: seed)
            let m = Self.noisyMechanics(&g)
            var a = try SimulatedPump(profile: .bench20, mechanics: m)
            // Fills from a few strokes above the empty-switch level up: the bound of the whole pass
            // fails near the end of the saline or of the reservoir, where single strokes still fit.
            let fill = g.below(3) == 0 ? Picolitres(m.emptySensorLevel).value + g.integer(in: 0...400) * 250_000 : 20_000_000_000
            a.refill(added: Volume(nanolitres: fill / 1_000), concentration: c500, at: .zero)
            var b = a
            var i: Int64 = 0
            while i < 1_500 {
                let n = 1 + g.integer(in: 0...199)
                let pass = (0..<n).map { Stroke(at: .zero + .seconds((i + $0) * 3), purpose: .priming, volume: Volume(nanolitres: 250), picograms: 0) }
                i += n
                // a: the pass in one check when it fits, else stroke by stroke (as `RunSink` does).
                if a.accumulate(contentsOf: pass) { took += 1 } else {
                    refused += 1
                    for s in pass where !a.accumulate(s) { _ = a.flushAccumulated(); try a.perform(s) }
                }
                for s in pass where !b.accumulate(s) { _ = b.flushAccumulated(); try b.perform(s) }
                guard a == b else { Issue.record("seed \(seed): pumps differ after stroke \(i)"); return }
            }
            _ = a.flushAccumulated()
            _ = b.flushAccumulated()
            #expect(a == b, "seed \(seed)")
        }
        #expect(took > 100 && refused > 100, "passes taken in one check \(took), refused \(refused)")
    }

    @Test("the pump refuses to accumulate strokes a fault, the drug at the tip or a short reservoir would change")
    func accumulateRefusals() throws {
        let s = Stroke(at: .zero + .seconds(1), purpose: .priming, volume: Volume(nanolitres: 250), picograms: 0)
        var p = try SimulatedPump(profile: .bench20)
        p.refill(added: .millilitres(20), concentration: c500, at: .zero)
        var occluded = p
        occluded.apply(FaultChange(at: .zero, kind: .occlusion, active: true))
        let occludedHeld = occluded.accumulate(s)
        #expect(!occludedHeld)
        var leaking = p
        leaking.apply(FaultChange(at: .zero, kind: .leak(fraction: .percent(10)), active: true))
        let leakingHeld = leaking.accumulate(s)
        #expect(!leakingHeld)
        // Drug already at the tip: its delivery instants matter.
        var primed = try primedPump()
        let primedHeld = primed.accumulate(s)
        #expect(!primedHeld)
        // A reservoir a stroke away from the empty switch.
        var low = try SimulatedPump(profile: .bench20)
        low.refill(added: Volume(nanolitres: 250), concentration: c500, at: .zero)
        let lowHeld = low.accumulate(s)
        #expect(!lowHeld)
        let held = p.accumulate(s)
        #expect(held)
        let flushed = p.flushAccumulated(), again = p.flushAccumulated()
        #expect(flushed == s.at)
        #expect(again == nil)
    }
}
