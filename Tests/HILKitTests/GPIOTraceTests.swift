import Testing
@testable import HILKit

@Suite("Kernel GPIO trace")
struct GPIOTraceTests {
    static let sample = """
    # tracer: nop
    #
    #           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
         itpump-293     [000] .....    11.253827: gpio_value: 1020 set 0
         itpump-293     [000] .....    11.253850: gpio_direction: 1020 out (0)
         itpump-293     [000] .....    11.254426: gpio_value: 1020 set 1
         itpump-293     [000] .....    11.254430: gpio_value: 1021 set 1
         itpump-293     [000] .....    11.254431: gpio_value: 1020 set 1
         itpump-293     [000] .....    11.26: gpio_value: 1020 set 0
         itpump-293     [000] .....    11.270000: gpio_value: 1020 get 0
         itpump-293     [000] .....    11.27000x: gpio_value: 1020 set 1
         itpump-293     [000] .....    11.280000: sched_switch: prev_comm=itpump
    """

    @Test("timestamps parse exactly to microseconds, including short fractions")
    func timestamps() {
        #expect(GPIOTrace.microseconds("11.253827") == 11_253_827)
        #expect(GPIOTrace.microseconds("11.26") == 11_260_000)
        #expect(GPIOTrace.microseconds("0.000001") == 1)
        #expect(GPIOTrace.microseconds("11.2538271") == nil)
        #expect(GPIOTrace.microseconds("11") == nil)
    }

    @Test("value and direction events parse; other events and comments are skipped; broken lines are kept aside")
    func parse() {
        let trace = GPIOTrace(text: Self.sample)
        #expect(trace.events.count == 7)
        #expect(trace.events[1] == TraceEvent(microseconds: 11_253_850, gpio: 1020, kind: .direction(output: true, error: 0)))
        #expect(trace.events[6].kind == .value(set: false, value: 0))
        #expect(trace.malformed.count == 1 && trace.malformed[0].contains("11.27000x"))
    }

    @Test("edges: the initial write and repeated values are not edges; reads are ignored")
    func edges() {
        let trace = GPIOTrace(text: Self.sample)
        #expect(trace.sets(of: 1020).map(\.value) == [0, 1, 1, 0])
        #expect(trace.edges(of: 1020) == [Edge(microseconds: 11_254_426, rising: true), Edge(microseconds: 11_260_000, rising: false)])
        #expect(trace.edges(of: 1021).isEmpty)
    }
}

@Suite("Steps, strokes and timing")
struct StepAnalysisTests {
    /// 3 strokes of 4 steps: steps every 1,000 μs, pulse width 5 μs, strokes 100,000 μs apart, the
    /// second stroke 40 μs late; then 2 steps of a stroke cut short.
    static func edges() -> [Edge] {
        var out: [Edge] = []
        for (k, late) in [(0, 0), (1, 40), (2, 0)] as [(Int64, Int64)] {
            for j in 0..<4 as Range<Int64> {
                let t = k * 100_000 + late + j * 1_000
                out += [Edge(microseconds: t, rising: true), Edge(microseconds: t + 5, rising: false)]
            }
        }
        out += [Edge(microseconds: 300_000, rising: true), Edge(microseconds: 300_005, rising: false),
                Edge(microseconds: 301_000, rising: true)]
        return out
    }

    @Test("strokes are complete groups of steps, timed at their last step")
    func strokes() {
        let a = StepAnalysis(edges: Self.edges(), stepsPerStroke: 4)
        #expect(a.rises.count == 14)
        #expect(a.strokes == [3_000, 103_040, 203_000])
        #expect(a.incompleteSteps == 2)
        #expect(a.pulseWidths.count == 13 && a.pulseWidths.allSatisfy { $0 == 5 })
    }

    @Test("stroke errors against an ideal schedule and step-interval errors, summarised by nearest rank")
    func timing() throws {
        let a = StepAnalysis(edges: Self.edges(), stepsPerStroke: 4)
        let strokeErrors = TimingSummary.strokeErrors(strokes: a.strokes, first: 3_000, intervalMicroseconds: 100_000)
        #expect(strokeErrors == [0, 40, 0])
        let s = try #require(TimingSummary(absoluteErrors: strokeErrors))
        #expect(s.p50 == 0 && s.p99 == 40 && s.max == 40 && s.count == 3)
        let stepErrors = TimingSummary.stepErrors(rises: a.rises, stepsPerStroke: 4, periodMicroseconds: 1_000)
        #expect(stepErrors == Array(repeating: 0, count: 9))
    }

    @Test("nearest-rank percentiles of 1…100 μs")
    func percentiles() throws {
        let s = try #require(TimingSummary(absoluteErrors: (1...100).map { -Int64($0) }))
        #expect(s.p50 == 50 && s.p99 == 99 && s.max == 100)
        #expect(TimingSummary(absoluteErrors: []) == nil)
    }
}

@Suite("Trumpet curve (IEC 60601-2-24 style)")
struct TrumpetCurveTests {
    /// Two hours sampled every 30 s at 1 unit/s: 240 intervals of 30 units; interval 100 delivers 60.
    static func samples() -> [Double] {
        var v: [Double] = [0]
        for i in 1...240 { v.append(v[i - 1] + (i == 100 ? 60 : 30)) }
        return v
    }

    @Test("one interval at +100 %: each window's maximum is 100 % divided by its interval count")
    func singleSpike() throws {
        let t = try TrumpetCurve(cumulative: Self.samples(), sampleSeconds: 30, setRatePerSecond: 1)
        // Windows of 2, 5, 11, 19, 31 min hold 4, 10, 22, 38, 62 intervals.
        let expected: [(Int, Double)] = [(2, 25), (5, 10), (11, 100.0 / 22), (19, 100.0 / 38), (31, 100.0 / 62)]
        for (p, (w, max)) in zip(t.points, expected) {
            #expect(p.windowMinutes == w)
            #expect(abs(p.maxPercent - max) < 1e-9)
            #expect(abs(p.minPercent) < 1e-9)
        }
        #expect(abs(t.overallPercent - 100.0 / 240) < 1e-9)
        #expect(t.csv.hasPrefix("window_min,ep_max_percent,ep_min_percent\n2,25,0\n"))
        #expect(t.svg(title: "rate <1> & co").contains("rate &lt;1&gt; &amp; co"))
    }

    @Test("too few samples for the longest window, or a zero rate, are refused")
    func refusals() {
        #expect(throws: TrumpetCurve.Failure.tooFewSamples(have: 10, need: 63)) {
            try TrumpetCurve(cumulative: Array(repeating: 0, count: 10), sampleSeconds: 30, setRatePerSecond: 1)
        }
        #expect(throws: TrumpetCurve.Failure.nonPositiveRate) {
            try TrumpetCurve(cumulative: Self.samples(), sampleSeconds: 30, setRatePerSecond: 0)
        }
    }
}

@Suite("JUnit XML")
struct JUnitReportTests {
    @Test("suite properties, passes, failures and skips, with XML escaping")
    func xml() {
        var r = JUnitReport(suite: "hil-accuracy", properties: [("scenario", "accuracy-600"), ("seed", "42"), ("rig", "hil-gpio-sim")])
        r.cases.append(.init(name: "delivered within 2 %", className: "accuracy", seconds: 1.5))
        r.cases.append(.init(name: "alarm <high>", className: "occlusion", seconds: 0.5, failure: "no alarm within 60 s & \"more\""))
        r.cases.append(.init(name: "v1 only", className: "gpio", skipped: "v2 build"))
        let x = r.xml
        #expect(r.failures == 1)
        #expect(x.contains("<testsuite name=\"hil-accuracy\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\" time=\"2.000\""))
        #expect(x.contains("<property name=\"seed\" value=\"42\"/>"))
        #expect(x.contains("name=\"alarm &lt;high&gt;\""))
        #expect(x.contains("no alarm within 60 s &amp; &quot;more&quot;</failure>"))
        #expect(x.contains("<skipped message=\"v2 build\"/>"))
    }
}
