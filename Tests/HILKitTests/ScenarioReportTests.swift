import Testing
@testable import HILKit

/// Synthetic HIL runs: a trace with strokes at a known rate, markers, and the guest's check file.
@Suite("HIL scenario report")
struct ScenarioReportTests {
    static let lines = "STEP 0 1014\nENABLE 2 1016\nLED_HIGH 6 1020\n"

    /// `strokes` strokes of `sps` 50-μs steps 200 μs apart, one every `intervalUs`, from t = 1 s.
    static func trace(strokes: Int, intervalUs: Int64, sps: Int = 8, marks: [(String, Int64)]) -> String {
        trace(strokeStarts: (0..<strokes).map { 1_000_000 + Int64($0) * intervalUs }, sps: sps, marks: marks)
    }

    /// Strokes of `sps` 50-μs steps 200 μs apart starting at `strokeStarts` (μs), with trace markers.
    static func trace(strokeStarts: [Int64], sps: Int = 8, marks: [(String, Int64)]) -> String {
        var rows: [(Int64, String)] = [(999_000, "gpio_value: 1014 set 0"), (999_001, "gpio_direction: 1014 out (0)")]
        for t0 in strokeStarts {
            rows.append((t0, "gpio_value: 1016 set 1"))
            for j in 0..<sps {
                let t = t0 + 100 + Int64(j) * 200
                rows.append((t, "gpio_value: 1014 set 1")); rows.append((t + 50, "gpio_value: 1014 set 0"))
            }
            rows.append((t0 + 100 + Int64(sps) * 200, "gpio_value: 1016 set 0"))
        }
        for (name, t) in marks { rows.append((t, "tracing_mark_write: hil-mark \(name)")) }
        rows.sort { $0.0 < $1.0 }
        return rows.map { "  itpump-7 [000] ..... \($0.0 / 1_000_000).\(String(repeating: "0", count: 6 - String($0.0 % 1_000_000).count))\($0.0 % 1_000_000): \($0.1)" }
            .joined(separator: "\n")
    }

    static let accuracy = "accuracy ug_per_day=600 ug_per_ml=500 stroke_nl=250 steps_per_stroke=8 step_period_us=200 from=from to=to running=running max_abs_overall_percent=5\n"

    /// 600 μg/day at 500 μg/mL, 0.25 μL strokes: one every 18 therapy s = 75 ms wall at 240×.
    func run(strokeIntervalUs: Int64, strokes: Int = 140, guest: String = "PASS\tstatus:x\tok\n", checks: String = accuracy) -> ScenarioResult {
        let end = 1_000_000 + Int64(strokes) * strokeIntervalUs
        let t = Self.trace(strokes: strokes, intervalUs: strokeIntervalUs,
                           marks: [("running", 999_500), ("from", 1_000_000), ("to", end), ("end", end + 10)])
        return ScenarioRun(meta: "scenario acc\nscale 240\n", guestChecks: guest, traceChecks: checks, lineMap: Self.lines, trace: t).evaluate()
    }

    @Test("strokes at the set rate pass with an overall error near zero and exact step timing")
    func exactRate() throws {
        let r = run(strokeIntervalUs: 75_000)
        #expect(r.passed, "\(r.checks)")
        let curve = try #require(r.trumpet)
        #expect(abs(curve.overallPercent) < 1.5)
        #expect(curve.points.map(\.windowMinutes) == [2, 5, 11, 19, 31])
        #expect(r.stepPeriod?.max == 0)
        #expect(r.pulseWidth?.p50 == 50)
        #expect(r.strokeLateness?.max == 0)
    }

    @Test("a pump delivering 10 % too slowly fails the accuracy check")
    func slowRate() {
        let r = run(strokeIntervalUs: 82_500)
        #expect(!r.passed)
        #expect(r.checks.contains { $0.name.hasPrefix("accuracy: overall error") && !$0.passed })
    }

    @Test("too short a run cannot make a trumpet curve and fails")
    func tooShort() {
        let r = run(strokeIntervalUs: 75_000, strokes: 60)
        #expect(!r.passed)
        #expect(r.trumpet == nil)
    }

    @Test("a failed guest check fails the run; a run with no checks never passes")
    func guestChecks() {
        #expect(!run(strokeIntervalUs: 75_000, guest: "FAIL\texit:0\trc=1\n").passed)
        let empty = ScenarioRun(meta: "", guestChecks: "", traceChecks: "", lineMap: "", trace: "").evaluate()
        #expect(!empty.passed)
    }

    @Test("edge assertions: rise within a time, value at a marker, rises between markers, writes after a marker")
    func assertions() {
        let checks = """
        trace ENABLE rises_within 0.1 after from
        trace ENABLE value_at end 0
        trace STEP rises_between from to min 80
        trace * sets_after end max 0
        trace LED_HIGH rises_within 1 after from
        trace STEP sets_after from max 3
        trace STEP rises_between from nowhere min 1
        trace STEP rises_between from to exactly 80
        trace STEP rises_between from to exactly 79
        trace STEP rises_between from to max 80
        trace STEP rises_between from to max 79
        """
        let r = run(strokeIntervalUs: 75_000, strokes: 10, guest: "", checks: checks)
        #expect(r.checks.map(\.passed) == [true, true, true, true, false, false, false, true, false, true, false])
        #expect(!r.passed)
    }

    /// A bring-up as the runner does it: 300 priming strokes 4 ms apart (the bolus rate at 240×) from
    /// t = 1 s, then therapy strokes every 75 ms; `running` written `runningAfterUs` after therapy's first
    /// stroke (nil: never), and the window `from` … `to` (140 therapy intervals) opening at `fromUs`.
    static let therapyStart: Int64 = 1_000_000 + 300 * 4_000
    func bringUpRun(fromUs: Int64, runningAfterUs: Int64?, checks: String = accuracy) -> ScenarioResult {
        let starts = (0..<300).map { 1_000_000 + Int64($0) * 4_000 } + (0..<180).map { Self.therapyStart + Int64($0) * 75_000 }
        var marks = [("from", fromUs), ("to", fromUs + 140 * 75_000)]
        if let r = runningAfterUs { marks.append(("running", Self.therapyStart + r)) }
        return ScenarioRun(meta: "scenario acc\nscale 240\n", guestChecks: "PASS\tbring-up:running\tok\n", traceChecks: checks,
                           lineMap: Self.lines, trace: Self.trace(strokeStarts: starts, marks: marks)).evaluate()
    }

    @Test("an accuracy window opened after therapy was seen running is judged on therapy strokes only")
    func windowAfterRunning() throws {
        let therapyStart = Self.therapyStart
        let r = bringUpRun(fromUs: therapyStart + 150_000 + 1_000, runningAfterUs: 150_000)
        #expect(r.passed, "\(r.checks.filter { !$0.passed })")
        #expect(r.checks.contains { $0.name == "accuracy: window inside therapy" && $0.passed })
        #expect(abs(try #require(r.trumpet).overallPercent) < 1.5)
    }

    @Test("a window that opens before therapy was seen running (priming strokes in it) is refused, not judged")
    func windowWithPrimingRefused() {
        // The same run, the window opened 0.8 s early: 200 priming strokes fall inside it. Judged, they
        // would read as a huge overdose; the judge refuses the window instead.
        let therapyStart = Self.therapyStart
        let r = bringUpRun(fromUs: therapyStart - 800_000, runningAfterUs: 150_000)
        #expect(!r.passed)
        let refusal = r.checks.first { $0.name == "accuracy: window inside therapy" }
        #expect(refusal?.passed == false)
        #expect(refusal?.detail.contains("priming") == true, "\(String(describing: refusal))")
        #expect(!r.checks.contains { $0.name.hasPrefix("accuracy: overall error") }, "a refused window yields no A at all")
        #expect(r.trumpet == nil)
        // Anti-vacuity: the same window behind a `running` mark misplaced before the priming is judged, and
        // its priming strokes read as an overdose far beyond ±5 %: what the refusal keeps out of a report.
        let misplaced = bringUpRun(fromUs: therapyStart - 800_000, runningAfterUs: -1_000_000)
        #expect(misplaced.checks.contains { $0.name == "accuracy: window inside therapy" && $0.passed })
        #expect((misplaced.trumpet?.overallPercent ?? 0) > 50, "\(String(describing: misplaced.trumpet?.overallPercent))")
        #expect(!misplaced.passed)
    }

    @Test("a run without the running mark, or an accuracy line without running=, is refused")
    func noRunningMarkRefused() {
        let therapyStart = Self.therapyStart
        let noMark = bringUpRun(fromUs: therapyStart + 200_000, runningAfterUs: nil)
        #expect(!noMark.passed)
        #expect(noMark.checks.contains { $0.name == "accuracy: window inside therapy" && !$0.passed && $0.detail.contains("never seen running") })
        let old = "accuracy ug_per_day=600 ug_per_ml=500 stroke_nl=250 steps_per_stroke=8 step_period_us=200 from=from to=to max_abs_overall_percent=5\n"
        let noKey = bringUpRun(fromUs: therapyStart + 200_000, runningAfterUs: 150_000, checks: old)
        #expect(!noKey.passed)
        #expect(noKey.checks.contains { !$0.passed && $0.detail.contains("running=MARK") })
        #expect(noKey.trumpet == nil)
    }

    @Test("trace markers parse with their timestamps")
    func markers() {
        let m = traceMarks("  sh-1 [000] ..... 12.500001: tracing_mark_write: hil-mark occlusion\n")
        #expect(m == ["occlusion": 12_500_001])
    }
}
