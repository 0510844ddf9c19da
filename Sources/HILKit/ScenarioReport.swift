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

/// An OpenHTF-style measurement: a value with its unit and the limits it was judged against.
/// `value` nil means nothing could be measured (a missing edge or marker), which fails any limit.
public struct Measurement: Sendable, Hashable {
    public let value: Double?
    public let unit: String
    /// Inclusive limits; nil: unbounded on that side. A measurement with neither limit is recorded only.
    public let lower: Double?
    public let upper: Double?

    public init(value: Double?, unit: String, lower: Double? = nil, upper: Double? = nil) {
        self.value = value; self.unit = unit; self.lower = lower; self.upper = upper
    }

    /// The value was measured and lies within [lower, upper].
    public var withinLimits: Bool {
        guard let v = value, v.isFinite else { return false }
        return (lower.map { v >= $0 } ?? true) && (upper.map { v <= $0 } ?? true)
    }
}

/// One verdict, with its measurement when the check measured a value, and how long it took.
public struct Check: Sendable, Hashable {
    public let name: String
    public let passed: Bool
    public let detail: String
    public let measurement: Measurement?
    /// The check's duration, seconds: the guest time spent reaching it, or the trace span it observed.
    public let seconds: Double

    public init(name: String, passed: Bool, detail: String, measurement: Measurement? = nil, seconds: Double = 0) {
        self.name = name; self.passed = passed; self.detail = detail; self.measurement = measurement; self.seconds = seconds
    }

    /// A check whose verdict is its measurement against its limits (an out-of-limit value fails).
    public static func measured(_ name: String, _ m: Measurement, detail: String, seconds: Double = 0) -> Check {
        Check(name: name, passed: m.withinLimits, detail: detail, measurement: m, seconds: seconds)
    }

    /// `PASS` or `FAIL`.
    public var outcome: String { passed ? "PASS" : "FAIL" }
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
        // `PASS|FAIL <tab> NAME <tab> DETAIL [<tab> UPTIME_MS]`: a check's duration runs from the previous
        // check (or the scenario's start, `started_uptime_ms`) to its own uptime stamp.
        var previous = Int64(metaValue("started_uptime_ms") ?? "")
        for line in guestChecks.split(separator: "\n") {
            let p = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false)
            guard p.count >= 2 else { continue }
            var seconds = 0.0
            if p.count > 3, let at = Int64(p[3]) {
                if let prev = previous, at >= prev { seconds = Double(at - prev) / 1000 }
                previous = at
            }
            r.checks.append(Check(name: "guest: " + String(p[1]), passed: p[0] == "PASS",
                                  detail: p.count > 2 ? String(p[2]) : "", seconds: seconds))
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
                r.checks.append(contentsOf: assertion.evaluate())
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
///   to=MARK running=MARK max_abs_overall_percent=E` — `running` names the mark the guest writes once it
///   has seen therapy running (priming done): a window that starts before it, or a run without it, would
///   count priming strokes as therapy and is refused (a failed check), never judged.
struct TraceAssertion {
    let words: [String]
    let trace: GPIOTrace
    let marks: [String: Int64]
    let gpios: [String: Int]

    var text: String { words.joined(separator: " ") }
    func fail(_ why: String) -> Check { Check(name: "trace: " + text, passed: false, detail: why) }
    func verdict(_ ok: Bool, _ detail: String) -> Check { Check(name: "trace: " + text, passed: ok, detail: detail) }

    func measured(_ m: Measurement, _ detail: String, seconds: Double = 0) -> Check {
        .measured("trace: " + text, m, detail: detail, seconds: seconds)
    }

    /// The assertion's verdict with its measurement; a `rises_between … min 1` (an alarm onset between a
    /// command and its reply) also records the onset latency: the first rise after MARK1, limit MARK2.
    func evaluate() -> [Check] {
        guard words.count >= 3 else { return [fail("malformed assertion")] }
        let line = words[0]
        let gpio = gpios[line]
        if line != "*" && gpio == nil { return [fail("no line \(line) in lines.txt")] }
        if line == "*" && words[1] != "sets_after" { return [fail("* is only allowed with sets_after")] }
        func mark(_ name: String) -> Int64? { marks[name] }
        switch (words[1], words.count) {
        case ("rises_within", 5) where words[3] == "after":
            guard let secs = Double(words[2]), let m = mark(words[4]) else { return [fail("missing marker \(words[4]) or bad seconds")] }
            let e = trace.edges(of: gpio!).first(where: { $0.rising && $0.microseconds >= m })
            let dt = e.map { Double($0.microseconds - m) / 1e6 }
            let detail = dt.map { "first rise \(fmt3($0)) s after \(words[4]) (limit \(words[2]) s)" } ?? "no rising edge after \(words[4])"
            return [measured(Measurement(value: dt, unit: "s", lower: 0, upper: secs), detail, seconds: dt ?? 0)]
        case ("value_at", 4):
            guard let m = mark(words[2]), let want = Int(words[3]) else { return [fail("missing marker \(words[2])")] }
            let last = trace.sets(of: gpio!).last(where: { $0.microseconds <= m })
            let detail = last.map { "value \($0.value) at \(words[2])" } ?? "\(line) never written before \(words[2])"
            return [measured(Measurement(value: last.map { Double($0.value) }, unit: "level", lower: Double(want), upper: Double(want)), detail)]
        case ("rises_between", 6) where ["min", "max", "exactly"].contains(words[4]):
            guard let a = mark(words[2]), let b = mark(words[3]), let n = Int(words[5]) else { return [fail("missing marker or bad count")] }
            let rises = trace.edges(of: gpio!).filter { $0.rising && $0.microseconds >= a && $0.microseconds <= b }
            let limit = Double(n), span = Double(b - a) / 1e6
            let m = Measurement(value: Double(rises.count), unit: "rising edges",
                                lower: words[4] == "max" ? nil : limit, upper: words[4] == "min" ? nil : limit)
            var out = [measured(m, "\(rises.count) rising edges between \(words[2]) and \(words[3]) (\(words[4]) \(n))", seconds: span)]
            if words[4] == "min" && n == 1 {
                let onset = rises.first.map { Double($0.microseconds - a) / 1e6 }
                out.append(.measured("onset: \(line) first rise after \(words[2]), before \(words[3])",
                                     Measurement(value: onset, unit: "s", lower: 0, upper: span),
                                     detail: onset.map { "\(fmt3($0)) s after \(words[2]); \(words[3]) at \(fmt3(span)) s" }
                                         ?? "no rise between \(words[2]) and \(words[3]) (\(fmt3(span)) s)",
                                     seconds: onset ?? span))
            }
            return out
        case ("sets_after", 5) where words[3] == "max":
            guard let m = mark(words[2]), let n = Int(words[4]) else { return [fail("missing marker \(words[2])")] }
            let k = trace.events.filter { e in
                guard e.microseconds > m, gpio == nil || e.gpio == gpio else { return false }
                if case .value(true, _) = e.kind { return true }
                if case .direction(true, _) = e.kind { return true }
                return false
            }.count
            return [measured(Measurement(value: Double(k), unit: "writes", upper: Double(n)), "\(k) writes/output requests after \(words[2]) (max \(n))")]
        default:
            return [fail("unknown assertion")]
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
        // Only therapy strokes may be judged: the priming bolus runs at the bolus rate, so a window with
        // priming strokes in it measures the priming, not the schedule (+356 % once, on a loaded host).
        guard let runningName = kv["running"] else {
            return [fail("refused: no running=MARK (the mark written once therapy runs), so the window could hold priming strokes")]
        }
        guard let running = marks[runningName] else {
            return [Check(name: "accuracy: window inside therapy", passed: false,
                          detail: "refused: no \(runningName) mark: therapy was never seen running (priming not finished?), "
                              + "so the window \(fromName)…\(toName) may hold priming strokes and is not judged")]
        }
        guard from >= running else {
            return [Check(name: "accuracy: window inside therapy", passed: false,
                          detail: "refused: the window starts at \(fromName), \(fmt3(Double(running - from) / 1e6)) s before \(runningName) "
                              + "(therapy seen running): it may hold priming strokes and is not judged")]
        }
        let all = StepAnalysis(edges: trace.edges(of: step), stepsPerStroke: sps)
        var checks: [Check] = [Check(name: "accuracy: window inside therapy", passed: true,
                                     detail: "\(fromName) is \(fmt3(Double(from - running) / 1e6)) s after \(runningName) (therapy seen running)")]
        let window = Double(to - from) / 1e6
        checks.append(.measured("accuracy: STEP pulses", Measurement(value: Double(all.rises.count), unit: "pulses", lower: Double(sps)),
                                detail: "\(all.rises.count) STEP pulses (at least one stroke of \(sps))"))
        checks.append(.measured("accuracy: whole strokes on STEP", Measurement(value: Double(all.incompleteSteps), unit: "steps", lower: 0, upper: 0),
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
            checks.append(.measured("accuracy: overall error A within ±\(kv["max_abs_overall_percent"]!)%",
                                    Measurement(value: curve.overallPercent, unit: "%", lower: -limit, upper: limit),
                                    detail: "A = \(fmt3(curve.overallPercent))% over \(inWindow.count) strokes", seconds: window))
        } catch {
            checks.append(Check(name: "accuracy: trumpet curve", passed: false, detail: "\(error)"))
        }
        r.stepPeriod = TimingSummary(absoluteErrors: TimingSummary.stepErrors(rises: all.rises, stepsPerStroke: sps, periodMicroseconds: period))
        r.pulseWidth = TimingSummary(absoluteErrors: all.pulseWidths)
        if let first = inWindow.first {
            let interval = strokeNl / ratePerSecond * 1e6 / scale
            r.strokeLateness = TimingSummary(absoluteErrors: TimingSummary.strokeErrors(strokes: inWindow, first: first, intervalMicroseconds: interval))
        }
        // Step timing, recorded without limits (the scenario files set none): each present statistic is a
        // measurement; a missing one (no pulses) fails.
        for (label, t) in [("step period error", r.stepPeriod), ("STEP pulse width", r.pulseWidth), ("stroke time error", r.strokeLateness)] {
            for (stat, v) in [("p50", t?.p50), ("p99", t?.p99), ("max", t?.max)] {
                checks.append(.measured("timing: \(label) \(stat)", Measurement(value: v.map(Double.init), unit: "µs"),
                                        detail: t.map { "\(stat) of \($0.count)" } ?? "no samples"))
            }
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
        func num(_ v: Double?) -> String { v.flatMap { $0.isFinite ? "\($0)" : nil } ?? "null" }
        s += "\"checks\":[" + checks.map { c in
            let m = c.measurement
            return "{\"name\":\(q(c.name)),\"outcome\":\(q(c.outcome)),\"passed\":\(c.passed),\"value\":\(num(m?.value)),"
                + "\"unit\":\(m.map { q($0.unit) } ?? "null"),\"lower\":\(num(m?.lower)),\"upper\":\(num(m?.upper)),"
                + "\"seconds\":\(num(c.seconds)),\"detail\":\(q(c.detail))}"
        }.joined(separator: ",") + "],"
        if let t = trumpet {
            s += "\"trumpet\":{\"overall_percent\":\(t.overallPercent),\"windows\":[" + t.points.map {
                "{\"minutes\":\($0.windowMinutes),\"ep_max_percent\":\($0.maxPercent),\"ep_min_percent\":\($0.minPercent)}"
            }.joined(separator: ",") + "]},\"strokes_in_window\":\(strokes),"
        }
        s += "\"step_period_error\":\(timing(stepPeriod)),\"pulse_width\":\(timing(pulseWidth)),\"stroke_lateness\":\(timing(strokeLateness))}"
        return s + "\n"
    }
}

extension ScenarioResult {
    /// The run's JUnit suite `hil.GEN.NAME`: properties from `meta.txt`, one test case per check with its
    /// measurement (`value`, `unit`, `lower`, `upper`, `outcome`) as test-case properties and its duration;
    /// the suite's time is the scenario's wall time (`wall_ms`) and its timestamp the guest's start time
    /// (`started_utc`), else `timestamp`. A run with no checks gets a failing case (never an empty pass).
    public func junit(run: ScenarioRun, timestamp: String? = nil, systemOut: String? = nil) -> JUnitReport {
        let name = run.metaValue("scenario") ?? "unnamed", gen = run.metaValue("generation") ?? "?"
        let keys = ["scenario", "generation", "rig", "seed", "scale", "prescription", "kind", "accel"]
        let props = run.meta.filter { keys.contains($0.0) }.map { $0.0 == "generation" ? ("libgpiod", $0.1) : $0 }
        let className = "hil.\(gen).\(name)"
        var suite = JUnitReport(suite: className, properties: props, timestamp: run.metaValue("started_utc") ?? timestamp)
        suite.seconds = run.metaValue("wall_ms").flatMap(Double.init).map { $0 / 1000 }
        suite.systemOut = systemOut
        func text(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }
        for c in checks {
            var p: [(String, String)] = []
            if let m = c.measurement {
                p = [("value", text(m.value)), ("unit", m.unit), ("lower", text(m.lower)), ("upper", text(m.upper))]
            }
            p.append(("outcome", c.outcome))
            var failure: String?
            if !c.passed {
                failure = c.detail
                if let m = c.measurement {
                    failure! += " [value \(m.value.map { "\($0)" } ?? "none") \(m.unit), limits \(m.lower.map { "\($0)" } ?? "-∞") … \(m.upper.map { "\($0)" } ?? "+∞")]"
                }
            }
            suite.cases.append(.init(name: c.name, className: className, seconds: c.seconds, failure: failure, properties: p))
        }
        if checks.isEmpty { suite.cases.append(.init(name: "checks ran", className: className, failure: "no check ran")) }
        return suite
    }
}
