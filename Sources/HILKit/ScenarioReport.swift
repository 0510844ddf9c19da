/// The host-side verdict on one HIL scenario run: the guest's own checks (`checks.txt`), the trace
/// assertions the scenario asked the host to evaluate (`trace-checks.txt`) against the kernel GPIO
/// trace, and for accuracy scenarios a trumpet curve and step timing from the edge timestamps.
public struct ScenarioRun: Sendable {
    /// `meta.txt`: `key value…` per line (scenario, generation, rig, seed, scale, …).
    public var meta: [(String, String)]
    /// `checks.txt`: `PASS|FAIL`, name and detail separated by tabs, per line.
    public var guestChecks: String
    /// `trace-checks.txt`: one assertion per line (see `TraceAssertion`).
    public var traceChecks: String
    /// `lines.txt`: `NAME OFFSET GPIO` per line.
    public var lineMap: String
    /// The kernel trace (`trace.txt`), with `hil-mark NAME` trace markers.
    public var trace: String

    public init(meta: String, guestChecks: String, traceChecks: String, lineMap: String, trace: String) {
        self.meta = meta.split(separator: "\n").map { l in
            let p = l.split(separator: " ", maxSplits: 1)
            return (String(p[0]), p.count > 1 ? String(p[1]) : "")
        }
        self.guestChecks = guestChecks; self.traceChecks = traceChecks; self.lineMap = lineMap; self.trace = trace
    }

    public func metaValue(_ key: String) -> String? { meta.last { $0.0 == key }?.1 }
}

/// One verdict.
public struct Check: Sendable, Hashable {
    public let name: String
    public let passed: Bool
    public let detail: String
}

/// What the host computed for one scenario.
public struct ScenarioResult: Sendable {
    public var checks: [Check] = []
    public var trumpet: TrumpetCurve?
    public var trumpetTitle = ""
    /// The scenario's acceptance limit on the overall error A, % (drawn as ±limit on the trumpet plot).
    public var trumpetLimitPercent: Double?
    public var stepPeriod: TimingSummary?
    public var pulseWidth: TimingSummary?
    public var strokeLateness: TimingSummary?
    public var strokes = 0
    public var passed: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }
}

/// `hil-mark NAME` trace markers (written to `trace_marker` by the guest), μs on the trace clock.
public func traceMarks(_ text: String) -> [String: Int64] {
    var out: [String: Int64] = [:]
    for line in text.split(separator: "\n") where line.contains("tracing_mark_write: hil-mark ") {
        let f = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let i = f.firstIndex(of: "tracing_mark_write:"), i >= 1, f.count > i + 2 else { continue }
        var stamp = f[i - 1]; guard stamp.hasSuffix(":") else { continue }
        stamp.removeLast()
        if let us = GPIOTrace.microseconds(Substring(stamp)), out[String(f[i + 2])] == nil { out[String(f[i + 2])] = us }
    }
    return out
}

extension ScenarioRun {
    /// Evaluates everything. Never passes a run with no checks or with a missing trace/marker.
    public func evaluate() -> ScenarioResult {
        var r = ScenarioResult()
        for line in guestChecks.split(separator: "\n") {
            let p = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard p.count >= 2 else { continue }
            r.checks.append(Check(name: "guest: " + String(p[1]), passed: p[0] == "PASS", detail: p.count > 2 ? String(p[2]) : ""))
        }
        let parsed = GPIOTrace(text: trace)
        let marks = traceMarks(trace)
        var gpios: [String: Int] = [:]
        for l in lineMap.split(separator: "\n") {
            let f = l.split(separator: " ")
            if f.count == 3, let g = Int(f[2]) { gpios[String(f[0])] = g }
        }
        if parsed.events.isEmpty && marks.isEmpty {
            r.checks.append(Check(name: "trace recorded", passed: false, detail: "no GPIO events and no markers in trace.txt"))
        }
        if !parsed.malformed.isEmpty {
            r.checks.append(Check(name: "trace well-formed", passed: false, detail: "\(parsed.malformed.count) malformed GPIO event lines"))
        }
        let scale = Double(metaValue("scale") ?? "1") ?? 1
        for line in traceChecks.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard let head = words.first else { continue }
            let assertion = TraceAssertion(words: Array(words.dropFirst()), trace: parsed, marks: marks, gpios: gpios)
            if head == "accuracy" {
                let found = assertion.accuracy(scale: scale, into: &r)
                r.checks.append(contentsOf: found)
            } else {
                r.checks.append(assertion.evaluate())
            }
        }
        return r
    }
}

/// A host-side assertion on the trace, one line of `trace-checks.txt` without its first word:
///
/// - `LINE rises_within SECS after MARK` — a rising edge of LINE within SECS wall seconds of MARK
/// - `LINE value_at MARK 0|1` — the last value written to LINE before MARK
/// - `LINE rises_between MARK1 MARK2 min|max|exactly N` — at least / at most / exactly N rising edges
///   between the marks
/// - `LINE sets_after MARK max N` — at most N writes after MARK (`*`: every line of the chip)
/// - (`accuracy`) `ug_per_day=R ug_per_ml=C stroke_nl=V steps_per_stroke=S step_period_us=P from=MARK
///   to=MARK max_abs_overall_percent=E`
struct TraceAssertion {
    let words: [String]
    let trace: GPIOTrace
    let marks: [String: Int64]
    let gpios: [String: Int]

    var text: String { words.joined(separator: " ") }
    func fail(_ why: String) -> Check { Check(name: "trace: " + text, passed: false, detail: why) }
    func verdict(_ ok: Bool, _ detail: String) -> Check { Check(name: "trace: " + text, passed: ok, detail: detail) }

    func evaluate() -> Check {
        guard words.count >= 3 else { return fail("malformed assertion") }
        let line = words[0]
        let gpio = gpios[line]
        if line != "*" && gpio == nil { return fail("no line \(line) in lines.txt") }
        if line == "*" && words[1] != "sets_after" { return fail("* is only allowed with sets_after") }
        func mark(_ name: String) -> Int64? { marks[name] }
        switch (words[1], words.count) {
        case ("rises_within", 5) where words[3] == "after":
            guard let secs = Double(words[2]), let m = mark(words[4]) else { return fail("missing marker \(words[4]) or bad seconds") }
            guard let e = trace.edges(of: gpio!).first(where: { $0.rising && $0.microseconds >= m }) else {
                return fail("no rising edge after \(words[4])")
            }
            let dt = Double(e.microseconds - m) / 1e6
            return verdict(dt <= secs, "first rise \(fmt3(dt)) s after \(words[4]) (limit \(words[2]) s)")
        case ("value_at", 4):
            guard let m = mark(words[2]), let want = Int(words[3]) else { return fail("missing marker \(words[2])") }
            guard let last = trace.sets(of: gpio!).last(where: { $0.microseconds <= m }) else { return fail("\(line) never written before \(words[2])") }
            return verdict(last.value == want, "value \(last.value) at \(words[2])")
        case ("rises_between", 6) where ["min", "max", "exactly"].contains(words[4]):
            guard let a = mark(words[2]), let b = mark(words[3]), let n = Int(words[5]) else { return fail("missing marker or bad count") }
            let k = trace.edges(of: gpio!).filter { $0.rising && $0.microseconds >= a && $0.microseconds <= b }.count
            let ok = words[4] == "min" ? k >= n : words[4] == "max" ? k <= n : k == n
            return verdict(ok, "\(k) rising edges between \(words[2]) and \(words[3]) (\(words[4]) \(n))")
        case ("sets_after", 5) where words[3] == "max":
            guard let m = mark(words[2]), let n = Int(words[4]) else { return fail("missing marker \(words[2])") }
            let k = trace.events.filter { e in
                guard e.microseconds > m, gpio == nil || e.gpio == gpio else { return false }
                if case .value(true, _) = e.kind { return true }
                if case .direction(true, _) = e.kind { return true }
                return false
            }.count
            return verdict(k <= n, "\(k) writes/output requests after \(words[2]) (max \(n))")
        default:
            return fail("unknown assertion")
        }
    }

    func accuracy(scale: Double, into r: inout ScenarioResult) -> [Check] {
        var kv: [String: String] = [:]
        for w in words { let p = w.split(separator: "=", maxSplits: 1); if p.count == 2 { kv[String(p[0])] = String(p[1]) } }
        guard let rate = Double(kv["ug_per_day"] ?? ""), let conc = Double(kv["ug_per_ml"] ?? ""),
              let strokeNl = Double(kv["stroke_nl"] ?? ""), let sps = Int(kv["steps_per_stroke"] ?? ""), sps > 0,
              let period = Int64(kv["step_period_us"] ?? ""), let limit = Double(kv["max_abs_overall_percent"] ?? ""),
              let fromName = kv["from"], let toName = kv["to"], scale > 0 else { return [fail("malformed accuracy assertion")] }
        guard let step = gpios["STEP"] else { return [fail("no STEP line")] }
        guard let from = marks[fromName], let to = marks[toName], to > from else { return [fail("missing markers \(fromName)/\(toName)")] }
        let all = StepAnalysis(edges: trace.edges(of: step), stepsPerStroke: sps)
        var checks: [Check] = []
        checks.append(Check(name: "accuracy: whole strokes on STEP", passed: all.incompleteSteps == 0 && !all.strokes.isEmpty,
                            detail: "\(all.rises.count) steps = \(all.strokes.count) strokes × \(sps) + \(all.incompleteSteps)"))
        let inWindow = all.strokes.filter { $0 > from && $0 <= to }
        r.strokes = inWindow.count
        // Delivered volume sampled every 0.5 therapy minutes from `from` (wall μs = therapy s × 1e6 / scale).
        let sampleWall = 30e6 / scale
        let samples = Int(Double(to - from) / sampleWall)
        var cumulative: [Double] = []
        var idx = 0
        for k in 0...max(samples, 0) {
            let t = from + Int64((Double(k) * sampleWall).rounded())
            while idx < inWindow.count && inWindow[idx] <= t { idx += 1 }
            cumulative.append(Double(idx) * strokeNl)
        }
        let ratePerSecond = rate / conc * 1e6 / 86_400 // nL per therapy second
        do {
            let curve = try TrumpetCurve(cumulative: cumulative, sampleSeconds: 30, setRatePerSecond: ratePerSecond)
            r.trumpet = curve
            r.trumpetLimitPercent = limit
            r.trumpetTitle = "\(Int(rate)) μg/day at \(Int(conc)) μg/mL, \(cumulative.count - 1) × 0.5 min, time scale \(Int(scale))×"
            checks.append(Check(name: "accuracy: overall error A within ±\(kv["max_abs_overall_percent"]!)%",
                                passed: abs(curve.overallPercent) <= limit,
                                detail: "A = \(fmt3(curve.overallPercent))% over \(inWindow.count) strokes"))
        } catch {
            checks.append(Check(name: "accuracy: trumpet curve", passed: false, detail: "\(error)"))
        }
        r.stepPeriod = TimingSummary(absoluteErrors: TimingSummary.stepErrors(rises: all.rises, stepsPerStroke: sps, periodMicroseconds: period))
        r.pulseWidth = TimingSummary(absoluteErrors: all.pulseWidths)
        if let first = inWindow.first {
            let interval = strokeNl / ratePerSecond * 1e6 / scale
            r.strokeLateness = TimingSummary(absoluteErrors: TimingSummary.strokeErrors(strokes: inWindow, first: first, intervalMicroseconds: interval))
        }
        return checks
    }
}

func fmt3(_ v: Double) -> String { let r = (v * 1000).rounded() / 1000; return "\(r)" }

extension ScenarioResult {
    /// A JSON object (hand-written: HILKit uses no Foundation).
    public func json(meta: [(String, String)]) -> String {
        func q(_ s: String) -> String {
            var o = "\""
            for c in s.unicodeScalars {
                switch c {
                case "\"": o += "\\\""
                case "\\": o += "\\\\"
                case "\n": o += "\\n"
                default: if c.value < 0x20 { o += "?" } else { o.unicodeScalars.append(c) }
                }
            }
            return o + "\""
        }
        func timing(_ t: TimingSummary?) -> String { t.map { "{\"count\":\($0.count),\"p50_us\":\($0.p50),\"p99_us\":\($0.p99),\"max_us\":\($0.max)}" } ?? "null" }
        var s = "{\"passed\":\(passed),\"meta\":{" + meta.map { "\(q($0.0)):\(q($0.1))" }.joined(separator: ",") + "},"
        s += "\"checks\":[" + checks.map { "{\"name\":\(q($0.name)),\"passed\":\($0.passed),\"detail\":\(q($0.detail))}" }.joined(separator: ",") + "],"
        if let t = trumpet {
            s += "\"trumpet\":{\"overall_percent\":\(t.overallPercent),\"windows\":[" + t.points.map {
                "{\"minutes\":\($0.windowMinutes),\"ep_max_percent\":\($0.maxPercent),\"ep_min_percent\":\($0.minPercent)}"
            }.joined(separator: ",") + "]},\"strokes_in_window\":\(strokes),"
        }
        s += "\"step_period_error\":\(timing(stepPeriod)),\"pulse_width\":\(timing(pulseWidth)),\"stroke_lateness\":\(timing(strokeLateness))}"
        return s + "\n"
    }
}
