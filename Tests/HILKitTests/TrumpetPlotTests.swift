import Foundation
import Testing
@testable import HILKit

@Suite("Trumpet plot (SVG)")
struct TrumpetPlotTests {
    /// A noisy two hours: ±3 % interval noise from a fixed sequence, so Ep(max) and Ep(min) spread.
    static func curve() throws -> TrumpetCurve {
        var v: [Double] = [0], x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in 1...240 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let noise = Double(x >> 40) / Double(1 << 24) * 0.06 - 0.03
            v.append(v[i - 1] + 30 * (1 + noise))
        }
        return try TrumpetCurve(cumulative: v, sampleSeconds: 30, setRatePerSecond: 1)
    }

    @Test("the ±E % limits and a legend with every entry are drawn; coordinates carry one fixed decimal")
    func limitsAndLegend() throws {
        let svg = try Self.curve().svg(title: "600 μg/day", limitPercent: 5)
        #expect(svg.contains(">limits ±5 %</text>"))
        #expect(svg.contains(">Ep(max)</text>") && svg.contains(">Ep(min)</text>") && svg.contains("% (overall)</text>"))
        // Two limit lines across the data and the legend's swatch.
        #expect(svg.components(separatedBy: "stroke-dasharray=\"7 4\"").count - 1 == 3)
        // Every x/y/x1/y1/cx/cy attribute: digits, a point, one digit.
        let attr = try Regex(#"\b(?:x|y|x1|y1|x2|y2|cx|cy)="(-?[0-9.]+)""#)
        let values = svg.matches(of: attr).map { String($0.output[1].substring ?? "") }
        #expect(!values.isEmpty)
        #expect(values.allSatisfy { $0.split(separator: ".").last?.count == 1 && $0.contains(".") })
        // The legend column starts right of the data area (the plot area's right edge is 460).
        #expect(svg.contains("<text x=\"508.0\""))
        // Without a limit the legend has no limits entry.
        #expect(!(try Self.curve().svg(title: "t")).contains("limits"))
        // For the report layout test (scripts/test-reports): the plot as a file when asked.
        if let dir = ProcessInfo.processInfo.environment["ITPUMP_TRUMPET_DIR"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try Data(svg.utf8).write(to: URL(fileURLWithPath: dir + "/trumpet.svg"))
        }
    }
}
