import Foundation
import Testing
@testable import PumpCore
@testable import PumpSim

/// A streamed time series (`SeriesStream`, what `itpump simulate --out` uses) against the series kept
/// in memory (`Recorder.series`, the reference): the same rows bit for bit, so the same CSV and the
/// same plot byte for byte, with no row held by the recorder.
@Suite("Streamed time series match the kept series")
struct SeriesStreamTests {
    static func spoolDirectory() -> String { FileManager.default.temporaryDirectory.path }

    static func same(_ a: SeriesRow, _ b: SeriesRow) -> Bool {
        a == b && a.severity.bitPattern == b.severity.bitPattern
            && a.concentration.nanogramsPerMillilitre.bitPattern == b.concentration.nanogramsPerMillilitre.bitPattern
    }

    /// Runs `s` both ways; checks rows, CSV, plot and measures.
    static func compare(_ s: Scenario, fidelity: Fidelity, _ label: String) throws {
        let kept = try SimulationRunner.run(s, fidelity: fidelity, keepSeries: true)
        let stream = try SeriesStream(spoolDirectory: spoolDirectory())
        let streamed = try SimulationRunner.run(s, fidelity: fidelity, streamingSeriesTo: stream)
        #expect(streamed.recorder.series.isEmpty, "\(label): the recorder held rows")
        #expect(stream.count == kept.recorder.series.count, "\(label): \(stream.count) rows streamed, \(kept.recorder.series.count) kept")
        var rows: [SeriesRow] = []
        stream.forEachRow { rows.append($0) }
        #expect(rows.count == kept.recorder.series.count)
        if let i = rows.indices.first(where: { $0 < kept.recorder.series.count && !same(rows[$0], kept.recorder.series[$0]) }) {
            Issue.record("\(label): row \(i) differs: \(rows[i]) vs \(kept.recorder.series[i])")
        }
        #expect(stream.deliveredTotal == kept.recorder.totalToPatient, "\(label): streamed rows' drug")
        #expect(streamed.recorder.totalToPatient == kept.recorder.totalToPatient && streamed.recorder.alarms == kept.recorder.alarms
                && streamed.recorder.episodes == kept.recorder.episodes && streamed.recorder.dailyFemtograms == kept.recorder.dailyFemtograms,
                "\(label): measures differ")
        let p = ReportProvenance(inputs: [], seed: s.mechanics.seed, command: "test")
        var csvA: [String] = [], csvB: [String] = []
        SeriesCSV.write(kept, provenance: p) { csvA.append($0) }
        SeriesCSV.write(streamed, series: stream, provenance: p) { csvB.append($0) }
        #expect(csvA == csvB, "\(label): CSV differs")
        #expect(SVGPlot.render(kept) == SVGPlot.render(streamed, series: stream), "\(label): plot differs")
        // Read twice: the spool is read back from its start each time and still takes rows after.
        var again = 0
        stream.forEachRow { _ in again += 1 }
        #expect(again == rows.count)
    }

    @Test("late refill, occlusion, taper: both fidelities, intervals of 1 min to 1 h")
    func scenarios() throws {
        let c = Concentration(microgramsPerMillilitre: 500)
        let refill = [ScenarioEvent(at: .zero + .days(23) + .hours(10),
                                    action: .refill(added: .millilitres(20), concentration: c, confirmConcentrationChange: false, withdrawn: nil)),
                      ScenarioEvent(at: .zero + .days(23) + .hours(12), action: .confirmResumption(nil))]
        let occlusion = [Fault(kind: .occlusion, from: .zero + .days(3), until: .zero + .days(4))]
        for (i, interval) in [TimeSpan.minutes(1), .minutes(5), .minutes(15), .hours(1)].enumerated() {
            var a = TestScenarios.basic(days: 30, timeline: refill)
            a.interval = interval
            try Self.compare(a, fidelity: i % 2 == 0 ? .fast : .stroke, "late refill \(interval)")
            var b = TestScenarios.basic(days: 8, faults: occlusion)
            b.interval = interval
            try Self.compare(b, fidelity: .fast, "occlusion \(interval)")
        }
    }

    @Test("the spool file has no name while the run goes on (a killed run leaves nothing); an unwritable directory is a clear error")
    func spoolRemoved() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("series-stream-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let stream = try SeriesStream(spoolDirectory: dir)
            _ = try SimulationRunner.run(TestScenarios.basic(days: 2), fidelity: .fast, streamingSeriesTo: stream)
            let files = withExtendedLifetime(stream) { (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] }
            #expect(files.isEmpty, "\(files)")
            #expect(stream.count > 0)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        #expect(throws: SeriesStreamError.self) { try SeriesStream(spoolDirectory: dir + "/absent") }
    }

    /// The array-based reduction `Decimator` replaced, as it was (the reference).
    static func decimateReference(_ pts: [(Double, Double)]) -> [(Double, Double)] {
        guard pts.count > 4 else { return pts }
        var out: [(Double, Double)] = []
        var i = 0
        while i < pts.count {
            let col = pts[i].0.rounded(.down)
            var lo = pts[i], hi = pts[i], loI = i, hiI = i
            var j = i + 1
            while j < pts.count, pts[j].0.rounded(.down) == col {
                if pts[j].1 < lo.1 { lo = pts[j]; loI = j }
                if pts[j].1 > hi.1 { hi = pts[j]; hiI = j }
                j += 1
            }
            if j - i == 1 { out.append(pts[i]) } else if loI == hiI { out.append(lo) } else {
                if loI < hiI { out.append(lo); out.append(hi) } else { out.append(hi); out.append(lo) }
            }
            i = j
        }
        if let last = pts.last, out.last.map({ $0 != last }) ?? true { out.append(last) }
        return out
    }

    @Test("the streaming decimator gives the array-based reduction's points exactly")
    func decimator() {
        var g = SplitMix64(seed: 7)
        for trial in 0..<300 {
            let n = Int(g.below(trial < 20 ? 8 : 3_000))
            var x = 0.0
            var pts: [(Double, Double)] = []
            for _ in 0..<n {
                x += Double(g.below(100)) / 37
                // Few distinct levels: ties, as clamped values give.
                pts.append((x, Double(g.below(trial % 3 == 0 ? 3 : 1_000))))
            }
            let a = decimate(pts), b = Self.decimateReference(pts)
            #expect(a.count == b.count && zip(a, b).allSatisfy { $0.0 == $0.1 }, "trial \(trial) (\(n) points)")
        }
    }

    @Test("rank selection in passes gives what a sort gives, ties and wide ranges included")
    func rankSelection() {
        var g = SplitMix64(seed: 11)
        // Small inputs, inputs of up to 20,000 values (several passes of 4,096 buckets), and one input
        // of 200,000 values of each kind.
        for trial in 0..<40 {
            let n = trial >= 36 ? 200_000 : 1 + Int(g.below(trial < 10 ? 50 : 20_000))
            var values: [Double] = []
            values.reserveCapacity(n)
            for _ in 0..<n {
                switch trial % 4 {
                case 0: values.append(Double(g.below(5)))                          // heavy ties
                case 1: values.append(Double(g.below(1 << 40)) / 3)                 // spread
                case 2: values.append(g.below(100) == 0 ? 1e9 : Double(g.below(1_000)) * 1e-3)   // outliers
                default: values.append(Double(g.below(1 << 20)) * 1e-6 + 5)
                }
            }
            let sorted = values.sorted()
            var passes = 0
            for rank in [0, n - 1, n / 2, Int(Double(n - 1) * 0.99)] {
                let v = SVGPlot.selectRanked(rank, lo: sorted[0], hi: sorted[n - 1]) { body in
                    passes += 1
                    for x in values { body(x) }
                }
                #expect(v == sorted[rank], "trial \(trial) rank \(rank) of \(n)")
            }
            #expect(passes <= 4 * 8, "trial \(trial): \(passes) passes")
        }
    }
}
