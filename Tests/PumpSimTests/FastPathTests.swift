import Foundation
import PropertyBased
import Testing
@testable import ITPumpFiles
@testable import PumpCore
@testable import PumpSim

/// The fast paths against the reference paths they replaced, kept behind internal flags:
/// - the recorder closes PK intervals in batches (`Recorder.closeRun`, `StrokeShares`); the reference
///   is one `CSFModel.step` per interval (`closeBinsPerBin`) and the 128-bit split
///   (`deliveredPerInterval`);
/// - the runner gives a bolus up to the pump's next possible sensor change in one pass
///   (`SimulationRunner.bolusHorizon`); the reference steps it deadline by deadline;
/// - in fast fidelity the pump moves a pass of bolus strokes in aggregate (`SimulatedPump.accumulate`);
///   the reference moves each stroke on its own.
/// The fast paths do the same floating-point operations in the same order, so the accepted tolerance
/// is zero: every output must be bit-identical (integers, instants, the bit patterns of every Double,
/// the controller and the simulated pump as the run left them, the JSON report byte for byte).
@Suite("Fast simulation paths match the reference paths", .shrinking(false))
struct FastPathTests {
    static let scenariosDir: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path + "/profiles/scenarios"
    }()

    /// Runs `s` both ways and compares every measure the reports, the sweep rows and the series use.
    @discardableResult
    /// Runs `s` on the reference paths chosen and on the fast paths.
    static func compare(_ s: Scenario, fidelity: Fidelity, keepSeries: Bool, perBinPK: Bool = true, bolusByDeadline: Bool = true,
                        bolusStrokeByStroke: Bool = true, pk: PKMethod = .intervals, _ label: String) -> (SimulationResult, SimulationResult)? {
        let a: SimulationResult, b: SimulationResult
        do {
            a = try SimulationRunner.run(s, fidelity: fidelity, keepSeries: keepSeries, perBinPK: perBinPK, bolusByDeadline: bolusByDeadline,
                                         bolusStrokeByStroke: bolusStrokeByStroke, pk: pk)
            b = try SimulationRunner.run(s, fidelity: fidelity, keepSeries: keepSeries, perBinPK: false, bolusByDeadline: false, pk: pk)
        } catch {
            // Both paths must fail alike.
            let e1 = Result(catching: { try SimulationRunner.run(s, fidelity: fidelity, keepSeries: keepSeries, perBinPK: perBinPK, bolusByDeadline: bolusByDeadline,
                                                                 bolusStrokeByStroke: bolusStrokeByStroke, pk: pk) })
            let e2 = Result(catching: { try SimulationRunner.run(s, fidelity: fidelity, keepSeries: keepSeries, perBinPK: false, bolusByDeadline: false, pk: pk) })
            #expect("\(e1)" == "\(e2)", "\(label)")
            return nil
        }
        #expect(a.controller == b.controller, "\(label): controllers differ")
        #expect(a.pump == b.pump, "\(label): simulated pumps differ")
        let x = a.recorder, y = b.recorder
        #expect(x.totalToPatient == y.totalToPatient, "\(label): total")
        #expect(x.dailyFemtograms == y.dailyFemtograms, "\(label): daily")
        #expect(x.alarms == y.alarms, "\(label): alarms")
        #expect(x.refusals == y.refusals, "\(label): refusals")
        #expect(x.emptyOnsets == y.emptyOnsets, "\(label): empty onsets")
        #expect(x.withdrawal == y.withdrawal, "\(label): withdrawal \(x.withdrawal) vs \(y.withdrawal)")
        #expect(x.episodes == y.episodes, "\(label): episodes")
        #expect(x.peakSeverity.bitPattern == y.peakSeverity.bitPattern, "\(label): peak \(x.peakSeverity) vs \(y.peakSeverity)")
        #expect(x.severe == y.severe, "\(label): severe")
        #expect(x.zeroDelivery == y.zeroDelivery, "\(label): zero delivery")
        #expect(x.model.concentration.nanogramsPerMillilitre.bitPattern == y.model.concentration.nanogramsPerMillilitre.bitPattern,
                "\(label): final concentration")
        #expect(x.model.severity.bitPattern == y.model.severity.bitPattern, "\(label): final severity")
        #expect(x.series.count == y.series.count, "\(label): series length")
        for (r, q) in zip(x.series, y.series) where r != q || r.severity.bitPattern != q.severity.bitPattern
            || r.concentration.nanogramsPerMillilitre.bitPattern != q.concentration.nanogramsPerMillilitre.bitPattern {
            Issue.record("\(label): series row at \(r.start) differs: \(r) vs \(q)")
            break
        }
        #expect(a.alerts == b.alerts, "\(label): alerts")
        // The whole JSON report, byte for byte.
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let ja = try? enc.encode(SimulationReport(a)), jb = try? enc.encode(SimulationReport(b))
        #expect(ja != nil && ja == jb, "\(label): JSON reports differ")
        return (a, b)
    }

    @Test("every shipped scenario, both fidelities, with and without the time series")
    func shippedScenarios() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.scenariosDir).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count >= 10)
        for f in files {
            let s = try ScenarioFile.load(path: "\(Self.scenariosDir)/\(f)")
            for fidelity in [Fidelity.fast, .stroke] {
                Self.compare(s, fidelity: fidelity, keepSeries: fidelity == .fast, "\(f) \(fidelity)")
            }
            Self.compare(s, fidelity: .fast, keepSeries: false, "\(f) fast, no series")
        }
    }

    @Test("random scenarios with random PK parameters and intervals")
    func randomScenarios() async {
        await propertyCheck(count: 60, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var s = randomScenario(seed: seed)
            var g = SplitMix64(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
            s.pk.distributionVolume = .millilitres(g.integer(in: 22...157))
            s.pk.clearance = VolumeRate(nanolitresPerDay: g.integer(in: 13...80) * 24_000_000)
            s.pk.withdrawalFraction = .percent(g.integer(in: 1...99))
            s.pk.severityTimeConstant = .hours(g.integer(in: 6...72))
            s.interval = [.minutes(1), .minutes(5), .minutes(15), .minutes(30), .hours(1), .hours(6)][Int(g.below(6))]
            let fidelity: Fidelity = g.below(3) == 0 ? .stroke : .fast
            // Every reference path, or one of them alone.
            let which = g.below(4)
            Self.compare(s, fidelity: fidelity, keepSeries: g.below(2) == 0, perBinPK: which == 0 || which == 1,
                         bolusByDeadline: which == 0 || which == 2, bolusStrokeByStroke: which == 0 || which == 3,
                         "random \(seed) \(fidelity) interval \(s.interval) reference \(which)")
        }
    }

    @Test("sweep runs of 180 days as `itpump bench sweep` draws them: same rows and measures")
    func sweepRuns() {
        let c500 = Concentration(microgramsPerMillilitre: 500)
        let base = Scenario(name: "bench", profile: .bench20, concentration: c500, schedule: .continuous(.microgramsPerDay(600)), duration: .days(1))
        let plan = SweepPlan(name: "bench sweep", base: base, runs: 40, seed: 1, duration: .days(180),
                             refillDelay: .uniform(lower: .days(-7), upper: .days(14)),
                             dailyDose: .uniform(lower: .microgramsPerDay(300), upper: .microgramsPerDay(800)),
                             concentration: .choice([c500, Concentration(microgramsPerMillilitre: 1000)]),
                             reservoir: .choice([.millilitres(20), .millilitres(40)]), alarmPolicy: .choice([.alarmOnly, .reserveTaper]))
        for i in 0..<plan.runs {
            let d = plan.draw(i)
            let s = plan.scenario(d)
            guard let (a, b) = Self.compare(s, fidelity: .fast, keepSeries: false, "sweep run \(i)") else {
                Issue.record("sweep run \(i) failed")
                continue
            }
            #expect(SweepRow(draw: d, result: a) == SweepRow(draw: d, result: b), "sweep run \(i): rows")
        }
    }

    @Test("sweep runs with the event PK: priming strokes moved in aggregate give the rows of strokes moved one by one")
    func sweepRunsAggregatedPriming() async {
        await propertyCheck(count: 40, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            let c500 = Concentration(microgramsPerMillilitre: 500)
            var base = Scenario(name: "bench", profile: .bench20, concentration: c500, schedule: .continuous(.microgramsPerDay(600)), duration: .days(1))
            var g = SplitMix64(seed: seed)
            base.mechanics.strokeNoise = Fraction(partsPerMillion: g.integer(in: 0...40_000))
            base.mechanics.calibrationBias = Fraction(partsPerMillion: g.integer(in: -50_000...50_000))
            let plan = SweepPlan(name: "aggregated priming", base: base, runs: 1, seed: seed, duration: .days(g.integer(in: 2...120)),
                                 refillDelay: .uniform(lower: .days(-7), upper: .days(14)),
                                 dailyDose: .uniform(lower: .microgramsPerDay(100), upper: .microgramsPerDay(1000)),
                                 concentration: .choice([c500, Concentration(microgramsPerMillilitre: 1000), Concentration(microgramsPerMillilitre: 2000)]),
                                 reservoir: .choice([.millilitres(20), .millilitres(40)]), alarmPolicy: .choice([.alarmOnly, .reserveTaper]))
            let d = plan.draw(0)
            let s = plan.scenario(d)
            guard let (a, b) = Self.compare(s, fidelity: .fast, keepSeries: false, perBinPK: false, bolusByDeadline: false,
                                            bolusStrokeByStroke: true, pk: .events, "seed \(seed)") else { return }
            #expect(SweepRow(draw: d, result: a).csv == SweepRow(draw: d, result: b).csv, "seed \(seed): rows")
        }
    }

    /// Compares two recorders' measures, bit for bit.
    static func same(_ x: Recorder, _ y: Recorder, _ label: String) {
        #expect(x.totalToPatient == y.totalToPatient, "\(label): total")
        #expect(x.dailyFemtograms == y.dailyFemtograms, "\(label): daily")
        #expect(x.withdrawal == y.withdrawal, "\(label): withdrawal \(x.withdrawal) vs \(y.withdrawal)")
        #expect(x.episodes == y.episodes, "\(label): episodes")
        #expect(x.peakSeverity.bitPattern == y.peakSeverity.bitPattern, "\(label): peak")
        #expect(x.severe == y.severe, "\(label): severe")
        #expect(x.model.concentration.nanogramsPerMillilitre.bitPattern == y.model.concentration.nanogramsPerMillilitre.bitPattern,
                "\(label): concentration")
        #expect(x.model.severity.bitPattern == y.model.severity.bitPattern, "\(label): severity")
        #expect(x.series.map(\.delivered) == y.series.map(\.delivered), "\(label): series inputs")
        #expect(x.series.map(\.concentration.nanogramsPerMillilitre.bitPattern) == y.series.map(\.concentration.nanogramsPerMillilitre.bitPattern),
                "\(label): series levels")
    }

    @Test("the recorder alone: random deliveries, stroke batches (short, long, huge) and reference changes")
    func recorderSequences() async {
        await propertyCheck(count: 150, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var g = SplitMix64(seed: seed)
            let interval: TimeSpan = [.minutes(1), .minutes(7), .minutes(15), .hours(1), .hours(5)][Int(g.below(5))]
            var pk = PKParameters()
            pk.severityTimeConstant = .hours(g.integer(in: 6...72))
            var x = Recorder(pk: pk, interval: interval, keepSeries: g.below(2) == 0)
            x.perBinReference = true
            var y = x
            y.perBinReference = false
            var t: Int64 = 0
            let iv = interval.nanoseconds
            for _ in 0..<g.integer(in: 1...60) {
                switch g.below(8) {
                case 0:
                    t += g.integer(in: 0...(3 * iv))
                    let fg = Femtograms(g.integer(in: 0...10_000_000_000))
                    x.delivered(fg, at: Instant(nanoseconds: t)); y.delivered(fg, at: Instant(nanoseconds: t))
                case 1:
                    t += g.integer(in: 0...(iv / 2))
                    let dose: DoseRate? = g.below(4) == 0 ? nil : .microgramsPerDay(g.integer(in: 0...1200))
                    x.setReference(dose, at: Instant(nanoseconds: t)); y.setReference(dose, at: Instant(nanoseconds: t))
                    let on = g.below(5) != 0
                    x.running = on; y.running = on
                default:
                    // A stroke batch: sometimes starting before the open interval (the per-interval
                    // fallback), sometimes within one interval, sometimes days long or with huge counts.
                    let back = g.below(6) == 0 ? g.integer(in: 0...(2 * iv)) : 0
                    let first = max(0, t - back) + g.integer(in: 0...iv)
                    let span: Int64 = [g.integer(in: 1...iv), g.integer(in: iv...(200 * iv)), g.integer(in: 1...(3_000 * iv))][Int(g.below(3))]
                    let n: Int64 = [g.integer(in: 1...4), g.integer(in: 2...100_000), g.integer(in: 1...Int64(1) << 40)][Int(g.below(3))]
                    let fg = Femtograms(g.below(3) == 0 ? g.integer(in: 0...Int64(1) << 50) : g.integer(in: 0...1_000_000) * n % (Int64(1) << 50))
                    let last = first + span
                    x.delivered(fg, strokes: n, first: Instant(nanoseconds: first), last: Instant(nanoseconds: last))
                    y.delivered(fg, strokes: n, first: Instant(nanoseconds: first), last: Instant(nanoseconds: last))
                    t = max(t, last)
                }
            }
            t += g.integer(in: 0...(2 * iv))
            x.finish(at: Instant(nanoseconds: t)); y.finish(at: Instant(nanoseconds: t))
            Self.same(x, y, "recorder \(seed)")
        }
    }

    @Test("a stroke batch's split between days in 64 bits, and carried from day to day, equals the 128-bit reference, overflow or not")
    func daySharesIn64Bits() async {
        // A sweep's batch (a day of 600 μg/day strokes across midnight) takes the 64-bit path.
        var r = Recorder(pk: PKParameters(), interval: .minutes(15), keepSeries: false, pkMethod: .events)
        let noon = TimeConstants.nanosecondsPerDay / 2
        #expect(r.addDayShares(600_000_000_000, strokes: 4_800, first: noon, last: 3 * noon, days: 0..<1) != nil)
        await propertyCheck(count: 2_000, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var g = SplitMix64(seed: seed)
            let day = TimeConstants.nanosecondsPerDay
            let first = g.integer(in: 0...(200 * day))
            let span: Int64 = [g.integer(in: 1...day), g.integer(in: day...(5 * day)), g.integer(in: 1...(3_000 * day))][Int(g.below(3))]
            let n: Int64 = [g.integer(in: 2...10_000), g.integer(in: 2...10_000_000), g.integer(in: 2...Int64(1) << 40)][Int(g.below(3))]
            let fg: Int64 = [g.integer(in: 0...Int64(1) << 40), g.integer(in: 0...Int64(1) << 62)][Int(g.below(2))]
            let last = first + span
            var x = Recorder(pk: PKParameters(), interval: .minutes(15), keepSeries: false, pkMethod: .events)
            var y = x, z = x
            let days = x.dayIndex(first)..<x.dayIndex(last)
            guard !days.isEmpty else { return }
            let wide = x.addDaySharesWide(fg, strokes: n, first: first, last: last, days: days)
            let stepped = z.addDaySharesStepped(fg, strokes: n, first: first, last: last, days: days)
            #expect(stepped == wide && z.dailyFemtograms == x.dailyFemtograms, "seed \(seed): stepped")
            if let narrow = y.addDayShares(fg, strokes: n, first: first, last: last, days: days) {
                #expect(narrow == wide, "seed \(seed)")
                #expect(x.dailyFemtograms == y.dailyFemtograms, "seed \(seed)")
            } else {
                #expect(y.dailyFemtograms.isEmpty, "seed \(seed): nothing added when it declines")
            }
        }
    }
}
