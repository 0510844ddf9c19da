import Foundation
import PumpCore
import Testing
@testable import PumpSim

@Suite("Reports: plot, HTML, text table, sweep figures")
struct ReportTests {
    /// 30 days, no refill: the reservoir (19.664 mL after priming) runs empty at 16d+10:16:48, a
    /// refill 7 days later, confirmed 2 h after; alarms low reservoir, refill due, empty, interruption.
    static func lateRefill() throws -> SimulationResult {
        let c = Concentration(microgramsPerMillilitre: 500)
        let timeline = [
            ScenarioEvent(at: Instant(nanoseconds: (23 * 86_400 + 10 * 3_600 + 16 * 60 + 48) * 1_000_000_000),
                          action: .refill(added: .millilitres(20), concentration: c, confirmConcentrationChange: false, withdrawn: nil)),
            ScenarioEvent(at: Instant(nanoseconds: (23 * 86_400 + 12 * 3_600 + 16 * 60 + 48) * 1_000_000_000), action: .confirmResumption(nil)),
        ]
        return try SimulationRunner.run(TestScenarios.basic(days: 30, timeline: timeline), fidelity: .fast, keepSeries: true)
    }

    @Test("nice ticks: 1, 2, 2.5 or 5 × 10ⁿ, covering the range, with the decimals the step needs")
    func niceTicks() {
        #expect(NiceAxis.ticks(hi: 20, target: 4).ticks == [0, 5, 10, 15, 20])
        #expect(NiceAxis.ticks(hi: 874.7, target: 4).ticks == [0, 250, 500, 750, 1_000])
        #expect(NiceAxis.ticks(hi: 0.9, target: 4).step == 0.25)
        #expect(NiceAxis.ticks(hi: 630, target: 4).ticks == [0, 200, 400, 600, 800])
        #expect(NiceAxis.ticks(hi: 0, target: 4).ticks.count >= 2)
        #expect(NiceAxis.label(0.5, step: 0.25) == "0.50")
        #expect(NiceAxis.label(400, step: 200) == "400")
        #expect(NiceAxis.label(-0.0001, step: 0.5) == "0.0")
        #expect(SVGPlot.timeTicks(endSeconds: 45 * 86_400).ticks == [0, 5, 10, 15, 20, 25, 30, 35, 40, 45])
        #expect(SVGPlot.timeTicks(endSeconds: 365 * 86_400).step == 60)
        #expect(SVGPlot.timeTicks(endSeconds: 36 * 3_600).name == "hours")
    }

    @Test("the plot: named alarms in a lane below the panels, legends right of the data, risk windows, refills, threshold, severity, one decimal per coordinate")
    func plot() throws {
        let r = try Self.lateRefill()
        let svg = SVGPlot.render(r)
        // Every coordinate attribute has exactly one decimal.
        let attr = try Regex(#"\s(?:x|y|x1|y1|x2|y2|width|height)="([^"%]*)""#)
        let values = svg.matches(of: attr).map { String($0.output[1].substring ?? "") }
        #expect(values.count > 100)
        let bad = values.filter { v in !(v.split(separator: ".").count == 2 && v.split(separator: ".")[1].count == 1) }
        #expect(bad.isEmpty, "coordinates without exactly one decimal: \(bad.prefix(5))")
        let points = try Regex(#"points="([^"]*)""#)
        for m in svg.matches(of: points) {
            let coords = (m.output[1].substring ?? "").split(separator: " ").flatMap { $0.split(separator: ",") }
            #expect(coords.allSatisfy { $0.split(separator: ".").count == 2 && $0.split(separator: ".")[1].count == 1 })
        }
        // Alarm names are text (not only tooltips), each once in the lane.
        for kind in Set(r.recorder.alarms.map(\.kind)) {
            #expect(svg.components(separatedBy: ">\(kind.rawValue)</text>").count == 2, "\(kind) is named once")
        }
        #expect(r.recorder.alarms.count >= 4)
        // One bar per alarm (raised → cleared), one shaded band per episode and panel (4 panels + lane).
        #expect(svg.components(separatedBy: "<title>\(r.recorder.alarms[0].kind.rawValue) (").count - 1 == 2 * r.recorder.alarms.filter { $0.kind == r.recorder.alarms[0].kind }.count)
        #expect(!r.recorder.episodes.isEmpty)
        #expect(svg.components(separatedBy: "<title>withdrawal-risk window ").count - 1 == 5 * r.recorder.episodes.count)
        // Refills after the start: a marker each.
        let refills = r.recorder.refills.filter { $0.nanoseconds > 0 }
        #expect(refills.count == 1)
        #expect(svg.components(separatedBy: "<path d=").count - 1 == refills.count + 1)  // + the legend's marker
        // Threshold labelled, severity drawn, legends in the column right of the data.
        #expect(svg.contains(">50 %</text>"))
        #expect(svg.contains(">severity</text>") && svg.contains(">controller&#39;s estimate</text>") == false && svg.contains(">controller's estimate</text>"))
        let plotRight = 1_060.0 - 212 - 48
        let legend = try Regex(#"<text x="([0-9.]+)" y="[0-9.]+" class="legend">"#)
        let xs = svg.matches(of: legend).compactMap { Double($0.output[1].substring ?? "") }
        #expect(xs.count >= 12 && xs.allSatisfy { $0 > plotRight })
        // The estimate is drawn dashed over a wider true line, so both stay visible where they agree.
        #expect(svg.contains("stroke=\"\(SVGPlot.colors.estimate)\" stroke-width=\"1.4\" stroke-linejoin=\"round\" stroke-dasharray=\"6 4\""))
        #expect(svg.contains("stroke=\"\(SVGPlot.colors.truth)\" stroke-width=\"2.6\""))
        // Day labels sit below the alarm lane (the lowest box), not inside a panel.
        let tick = try Regex(##"<text x="[0-9.]+" y="([0-9.]+)" text-anchor="middle" fill="#333" class="tick">"##)
        let tickYs = svg.matches(of: tick).compactMap { Double($0.output[1].substring ?? "") }
        let panels = try Regex(##"<rect x="[0-9.]+" y="([0-9.]+)" width="[0-9.]+" height="([0-9.]+)" fill="#fcfcfc" class="plot-area"/>"##)
        let bottoms = svg.matches(of: panels).compactMap { m in Double(m.output[1].substring ?? "").flatMap { y in Double(m.output[2].substring ?? "").map { y + $0 } } }
        #expect(bottoms.count == 5)
        #expect(!tickYs.isEmpty && tickYs.allSatisfy { $0 > (bottoms.max() ?? 0) })
    }

    @Test("report.html is self-contained: inline SVG and CSS, no script, nothing fetched; inputs, alarm table, provenance")
    func html() throws {
        let r = try Self.lateRefill()
        let p = ReportProvenance(inputs: [.init(path: "s.yaml", sha256: SHA256.hex(Array("kind: scenario".utf8)))], seed: 42, command: "itpump simulate s.yaml --out d")
        let html = HTMLReport.simulation(r, provenance: p)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("@import") && !html.contains("url(http"))
        #expect(html.components(separatedBy: "http").count - 1 == 1)  // the SVG namespace only
        #expect(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(html.components(separatedBy: "<tr><td class=\"mono\">").count - 1 >= r.recorder.alarms.count)
        #expect(html.contains("<table class=\"alarms\">"))
        #expect(html.contains(SHA256.hex(Array("kind: scenario".utf8))) && html.contains("<td>42</td>"))
        #expect(html.contains("withdrawal-risk threshold") && html.contains("low-reservoir policy"))
    }

    @Test("SHA-256 matches the FIPS 180-4 examples")
    func sha256() {
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test("the text alarm table: a header and columns that line up whatever the instants' widths")
    func alarmTable() throws {
        let r = try Self.lateRefill()
        let rows = TextReport.alarmTable(r.recorder.alarms)
        #expect(rows.count == r.recorder.alarms.count + 2)
        #expect(rows[0].hasPrefix("raised "))
        // Each column starts where the header's does, on every row.
        let starts = ["alarm", "priority", "cleared"].map { rows[0].range(of: $0)!.lowerBound.utf16Offset(in: rows[0]) }
        for row in rows.dropFirst(2) {
            let chars = Array(row)
            for s in starts { #expect(chars[s - 1] == " " && chars[s - 2] == " " && chars[s] != " ", "\(row)") }
        }
        #expect(Set(rows.map(\.count)).count == 1)
    }

    @Test("sweep figures: runs binned by policy and refill delay, ECDFs with a legend per group, quantiles in summary.json")
    func sweepFigures() throws {
        #expect(SweepFigures.delayBin(seconds: -1) == 0)
        #expect(SweepFigures.delayBin(seconds: 0) == 1)
        #expect(SweepFigures.delayBin(seconds: 3 * 86_400 - 1) == 1)
        #expect(SweepFigures.delayBin(seconds: 3 * 86_400) == 2)
        #expect(SweepFigures.delayBin(seconds: 20 * 86_400) == 4)
        let c = Concentration(microgramsPerMillilitre: 500)
        let plan = SweepPlan(name: "t", base: TestScenarios.basic(days: 60), runs: 24, seed: 3, duration: .days(60),
                             refillDelay: .uniform(lower: .days(-2), upper: .days(10)), dailyDose: .fixed(.microgramsPerDay(600)),
                             concentration: .fixed(c), reservoir: .fixed(.millilitres(20)), alarmPolicy: .choice([.alarmOnly, .reserveTaper]))
        var figures = SweepFigures()
        var rows: [SweepRow] = []
        let summary = SweepRunner.run(plan, range: 0..<24, jobs: 2, fidelity: .fast) { rows += $0; for r in $0 { figures.add(r) } }
        let byPolicy = figures.quantiles(.zeroDelivery, .policy)
        #expect(byPolicy.map(\.runs).reduce(0, +) == 24)
        #expect(figures.quantiles(.withdrawal, .refillDelay).map(\.runs).reduce(0, +) == 24)
        let late = rows.filter { $0.zeroDeliverySeconds > 0 }.count
        #expect(byPolicy.map(\.runsAboveZero).reduce(0, +) == Int64(late))
        #expect(late > 0)
        let svg = figures.ecdfSVG(.withdrawal, .policy)
        #expect(svg.contains(">alarmOnly</text>") && svg.contains(">reserveTaper</text>"))
        #expect(svg.contains("fraction of runs ≤ x"))
        let report = SweepSummaryReport(plan: plan, runs: 0..<24, fidelity: .fast, summary: summary, figures: figures,
                                        provenance: ReportProvenance(inputs: [], seed: 3, command: "t"))
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(json.contains("\"zeroDeliveryHoursByRefillDelay\"") && json.contains("\"withdrawalRiskHoursByPolicy\"") && json.contains("\"seed\":3"))
        let html = HTMLReport.sweep(plan, runs: 0..<24, fidelity: .fast, summary: summary, figures: figures,
                                    provenance: ReportProvenance(inputs: [], seed: 3, command: "t"))
        #expect(html.components(separatedBy: "<svg ").count - 1 == 4)
        #expect(!html.contains("<script"))
    }
}
