import PumpCore

/// Where a report came from: the input files with their SHA-256, the seed, the command line, and the
/// program's version (`ITPumpVersion.current` unless told otherwise).
public struct ReportProvenance: Sendable, Encodable {
    public struct Input: Sendable, Encodable {
        public var path: String
        public var sha256: String
        public init(path: String, sha256: String) { self.path = path; self.sha256 = sha256 }
    }
    public var inputs: [Input]
    public var seed: UInt64?
    public var version: String?
    public var command: String

    public init(inputs: [Input], seed: UInt64?, version: String? = ITPumpVersion.current, command: String) {
        self.inputs = inputs
        self.seed = seed
        self.version = version
        self.command = command
    }

    public func encode(to e: Encoder) throws {
        var c = e.container(keyedBy: K.self)
        try c.encode(inputs, forKey: .inputs)
        try c.encode(seed, forKey: .seed)
        try c.encode(version, forKey: .version)
        try c.encode(command, forKey: .command)
    }
    enum K: String, CodingKey { case inputs, seed, version, command }
}

/// Self-contained HTML reports (inline SVG and CSS, no scripts, nothing fetched): one run of
/// `itpump simulate --out`, or a sweep of `itpump sweep --out`.
public enum HTMLReport {
    static func e(_ s: String) -> String { SVGPlot.escape(s) }

    static let css = """
    :root { color-scheme: light; }
    body { font-family: "DejaVu Sans", Verdana, sans-serif; font-size: 14px; line-height: 1.45; color: #222;
           background: #f4f5f7; margin: 0; }
    main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 40px; background: white; }
    h1 { font-size: 22px; margin: 0 0 4px; }
    h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #ddd; }
    p.lead { color: #555; margin: 0 0 12px; }
    table { border-collapse: collapse; margin: 6px 0 12px; }
    th, td { padding: 4px 10px; border-bottom: 1px solid #e5e5e5; text-align: left; vertical-align: top; }
    th { background: #f3f4f6; font-weight: 600; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    table.kv th { background: none; font-weight: 600; width: 220px; }
    figure { margin: 10px 0 18px; }
    figure svg { display: block; max-width: 100%; height: auto; border: 1px solid #e2e2e2; }
    figcaption { color: #555; font-size: 13px; margin-top: 4px; }
    code, .mono { font-family: "DejaVu Sans Mono", monospace; font-size: 13px; overflow-wrap: anywhere; }
    .high { color: #b71c1c; font-weight: 600; } .medium { color: #c25e00; } .low { color: #666; }
    .figs { display: flex; flex-wrap: wrap; gap: 14px; }
    """

    static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="icon" href="data:,">
        <title>\(e(title))</title>
        <style>
        \(css)
        </style>
        </head>
        <body>
        <main>
        \(body)
        </main>
        </body>
        </html>

        """
    }

    static func kv(_ rows: [(String, String)]) -> String {
        "<table class=\"kv\">\n" + rows.map { "<tr><th>\(e($0.0))</th><td>\(e($0.1))</td></tr>" }.joined(separator: "\n") + "\n</table>\n"
    }

    static func provenance(_ p: ReportProvenance) -> String {
        var s = "<h2 id=\"provenance\">Provenance</h2>\n<table class=\"kv provenance\">\n"
        s += "<tr><th>version</th><td>\(e(p.version ?? "not recorded"))</td></tr>\n"
        s += "<tr><th>command</th><td><code>\(e(p.command))</code></td></tr>\n"
        s += "<tr><th>seed</th><td>\(p.seed.map(String.init) ?? "—")</td></tr>\n"
        for i in p.inputs { s += "<tr><th>SHA-256 of \(e(i.path))</th><td><code>\(i.sha256)</code></td></tr>\n" }
        return s + "</table>\n"
    }

    /// The report of one run: inputs, key results, the plot, the alarm table, withdrawal-risk
    /// episodes, refused commands, delivery per day, provenance.
    /// `plot`: the run's `SVGPlot` when already drawn (a streamed series), else drawn from the recorder's.
    public static func simulation(_ r: SimulationResult, provenance p: ReportProvenance, plot: String? = nil) -> String {
        let rec = r.recorder, s = r.scenario
        func at(_ t: Instant) -> String { t.description }
        var b = "<h1>itpump simulate — \(e(s.name))</h1>\n"
        b += "<p class=\"lead\">\(e(s.duration.roundedDescription)) in \(r.fidelity.rawValue) fidelity; instants are days+hh:mm:ss from the start of the run.</p>\n"
        b += "<h2>Inputs</h2>\n"
        var inputs: [(String, String)] = [
            ("pump", "\(s.profile.name): \(s.profile.reservoirCapacity) reservoir, \(s.profile.strokeVolume) strokes"),
            ("mechanics", "calibration bias \(s.mechanics.calibrationBias), stroke noise \(s.mechanics.strokeNoise), seed \(s.mechanics.seed)"),
            ("prescription", "\(s.schedule) at \(s.concentration) (\(s.schedule.dailyDose.volumeRate(at: s.concentration)))"),
            ("initial fill", "\(s.initialFill); therapy from \(s.therapyStart)"),
            ("low-reservoir policy", s.settings.reservoirPolicy.rawValue),
            ("withdrawal-risk threshold", "\(s.pk.withdrawalFraction) of the prescribed dose's steady state (\(s.pk.withdrawalThreshold(s.schedule.dailyDose)) at \(s.schedule.dailyDose))"),
            ("time series", "\(s.interval.roundedDescription) intervals"),
        ]
        if let a = s.autoRefill { inputs.append(("automatic refills", "\(a.offsetFromProjectedEmpty.roundedDescription) after the projected empty instant")) }
        b += kv(inputs)
        if !s.timeline.isEmpty {
            b += "<table class=\"timeline\">\n<tr><th>at</th><th>scheduled action</th></tr>\n"
            for ev in s.timeline { b += "<tr><td class=\"mono\">\(e(at(ev.at)))</td><td>\(e(ev.action.description))</td></tr>\n" }
            b += "</table>\n"
        }

        b += "<h2>Results</h2>\n"
        let ledgerPg = DeliveryPurpose.allCases.reduce(Int64(0)) { $0 + r.controller.ledger.deliveredPicograms($1) }
        b += kv([
            ("delivered to the CSF", "\(rec.totalToPatient) (controller's ledger \(Mass(nanograms: ledgerPg / 1_000)); to the pocket \(r.pump.toPocket))"),
            ("reservoir at the end", "true \(r.pump.reservoir), controller's estimate \(r.controller.reservoir.estimate)"),
            ("reservoir ran empty", rec.emptyOnsets.isEmpty ? "never" : rec.emptyOnsets.map(at).joined(separator: ", ")),
            ("refills", rec.refills.filter { $0.nanoseconds > 0 }.map(at).joined(separator: ", ").ifEmpty("none after the initial fill")),
            ("hours at zero delivery", TextReport.fixed(rec.zeroDelivery.hours, 2) + " h"),
            ("withdrawal-risk window", "\(rec.withdrawal.roundedDescription) (\(TextReport.fixed(rec.withdrawal.hours, 2)) h) in \(Plural.count(rec.episodes.count, "episode"))"),
            ("withdrawal severity", "peak \(TextReport.fixed(rec.peakSeverity, 3)); \(TextReport.fixed(rec.severe.hours, 1)) h at or above \(TextReport.fixed(Recorder.severeLevel, 3))"),
            ("alarms", Plural.count(rec.alarms.count, "alarm")),
        ])

        b += "<h2>Figure</h2>\n<figure>\n" + (plot ?? SVGPlot.render(r)) + "<figcaption>Reservoir, delivery, CSF level and withdrawal severity on one time axis; alarms from raised to cleared in the lane below.</figcaption>\n</figure>\n"

        b += "<h2>Alarms</h2>\n"
        if rec.alarms.isEmpty { b += "<p>No alarms.</p>\n" } else {
            b += "<table class=\"alarms\">\n<tr><th>raised</th><th>alarm</th><th>priority</th><th>cleared</th><th class=\"num\">active for</th><th class=\"num\">lead before empty</th></tr>\n"
            for a in rec.alarms {
                let active = a.clearedAt.map { ($0 - a.raisedAt).roundedDescription } ?? "until the end"
                b += "<tr><td class=\"mono\">\(e(at(a.raisedAt)))</td><td>\(a.kind.rawValue)</td><td class=\"\(a.kind.priority)\">\(a.kind.priority)</td>"
                b += "<td class=\"mono\">\(a.clearedAt.map { e(at($0)) } ?? "still active")</td><td class=\"num\">\(e(active))</td>"
                b += "<td class=\"num\">\(a.leadTimeBeforeEmpty.map { e($0.roundedDescription) } ?? "—")</td></tr>\n"
            }
            b += "</table>\n"
        }
        b += "<h2>Withdrawal-risk episodes</h2>\n"
        if rec.episodes.isEmpty { b += "<p>None: the CSF level stayed above the threshold.</p>\n" } else {
            b += "<table class=\"episodes\">\n<tr><th>from</th><th>to</th><th class=\"num\">length</th></tr>\n"
            for ep in rec.episodes { b += "<tr><td class=\"mono\">\(e(at(ep.start)))</td><td class=\"mono\">\(e(at(ep.end)))</td><td class=\"num\">\(e(ep.length.roundedDescription))</td></tr>\n" }
            b += "</table>\n"
        }
        b += "<h2>Refused commands</h2>\n"
        if rec.refusals.isEmpty { b += "<p>None.</p>\n" } else {
            b += "<table class=\"refusals\">\n<tr><th>at</th><th>command</th><th>reason</th></tr>\n"
            for f in rec.refusals { b += "<tr><td class=\"mono\">\(e(at(f.at)))</td><td>\(e(f.command))</td><td>\(e(f.reason))</td></tr>\n" }
            b += "</table>\n"
        }
        b += "<h2>Delivered per day</h2>\n<table class=\"daily\">\n<tr><th class=\"num\">day</th><th class=\"num\">μg to the CSF</th><th class=\"num\">day</th><th class=\"num\">μg to the CSF</th><th class=\"num\">day</th><th class=\"num\">μg to the CSF</th></tr>\n"
        let days = rec.dailyFemtograms
        let perCol = (days.count + 2) / 3
        for i in 0..<perCol {
            b += "<tr>"
            for c in 0..<3 {
                let k = i + c * perCol
                if k < days.count { b += "<td class=\"num\">\(k + 1)</td><td class=\"num\">\(Format.fixed(days[k] / 1_000_000, scale: 1_000, digits: 1))</td>" } else { b += "<td></td><td></td>" }
            }
            b += "</tr>\n"
        }
        b += "</table>\n"
        b += provenance(p)
        return page(title: "itpump simulate — \(s.name)", body: b)
    }

    /// The report of a sweep: its inputs, the per-policy summary, the distributions' figures and
    /// quantile tables, provenance.
    public static func sweep(_ plan: SweepPlan, runs range: Range<Int>, fidelity: Fidelity, summary: SweepSummary,
                             figures: SweepFigures, provenance p: ReportProvenance) -> String {
        var b = "<h1>itpump sweep — \(e(plan.name))</h1>\n"
        b += "<p class=\"lead\">\(Plural.count(range.count, "run")) (\(range.lowerBound)..&lt;\(range.upperBound) of \(plan.runs)) of \(e(plan.duration.roundedDescription)) each, \(fidelity.rawValue) fidelity.</p>\n"
        b += "<h2>Inputs</h2>\n"
        b += kv([
            ("base scenario", plan.base.name),
            ("seed", String(plan.seed)),
            ("refill delay after the projected empty instant", describe(plan.refillDelay) { $0.roundedDescription }),
            ("daily dose", describe(plan.dailyDose) { $0.description }),
            ("concentration", describe(plan.concentration) { $0.description }),
            ("reservoir", describe(plan.reservoir) { $0.description }),
            ("low-reservoir alarm policy", describe(plan.alarmPolicy) { $0.rawValue }),
            ("withdrawal-risk threshold", "\(plan.base.pk.withdrawalFraction) of the prescribed dose's steady state"),
        ])
        b += "<h2>Summary by alarm policy</h2>\n"
        b += "<table class=\"summary\">\n<tr><th>policy</th><th class=\"num\">runs</th><th class=\"num\">ran empty</th><th class=\"num\">with a withdrawal-risk window</th><th class=\"num\">failed</th><th class=\"num\">low-reservoir lead p50 (h)</th><th class=\"num\">refill-due lead p50 (h)</th></tr>\n"
        func h(_ s: Int64?) -> String { s.map { TextReport.fixed(Double($0) / 3_600, 1) } ?? "—" }
        for policy in ReservoirPolicy.allCases {
            guard let x = summary.policies[policy] else { continue }
            b += "<tr><td>\(policy.rawValue)</td><td class=\"num\">\(x.runs)</td><td class=\"num\">\(x.ranEmpty)</td><td class=\"num\">\(x.withdrawalRuns)</td><td class=\"num\">\(x.errors)</td>"
            b += "<td class=\"num\">\(h(x.lowReservoirLead.quantile(0.5)))</td><td class=\"num\">\(h(x.refillDueLead.quantile(0.5)))</td></tr>\n"
        }
        b += "</table>\n"
        for m in SweepFigures.Measure.allCases {
            b += "<h2>\(m.title)</h2>\n<div class=\"figs\">\n"
            for g in SweepFigures.Grouping.allCases {
                b += "<figure>\n" + figures.ecdfSVG(m, g) + "</figure>\n"
            }
            b += "</div>\n"
            for g in SweepFigures.Grouping.allCases {
                b += "<table class=\"quantiles\">\n<tr><th>\(g == .policy ? "policy" : "refill delay")</th><th class=\"num\">runs</th><th class=\"num\">runs above 0 h</th><th class=\"num\">mean (h)</th><th class=\"num\">p50 (h)</th><th class=\"num\">p90 (h)</th><th class=\"num\">p95 (h)</th><th class=\"num\">max (h)</th></tr>\n"
                func f(_ v: Double?) -> String { v.map { TextReport.fixed($0, 1) } ?? "—" }
                for q in figures.quantiles(m, g) {
                    b += "<tr><td>\(e(q.group))</td><td class=\"num\">\(q.runs)</td><td class=\"num\">\(q.runsAboveZero)</td><td class=\"num\">\(f(q.meanHours))</td><td class=\"num\">\(f(q.p50Hours))</td><td class=\"num\">\(f(q.p90Hours))</td><td class=\"num\">\(f(q.p95Hours))</td><td class=\"num\">\(f(q.maxHours))</td></tr>\n"
                }
                b += "</table>\n"
            }
        }
        b += provenance(p)
        return page(title: "itpump sweep — \(plan.name)", body: b)
    }

    static func describe<V>(_ d: Distribution<V>, _ f: (V) -> String) -> String {
        switch d {
        case let .fixed(v): return f(v)
        case let .choice(vs): return "one of " + vs.map(f).joined(separator: ", ") + ", equally likely"
        case let .uniform(lo, hi): return "uniform from \(f(lo)) to \(f(hi))"
        }
    }
}

extension String {
    func ifEmpty(_ other: String) -> String { isEmpty ? other : self }
}

/// Counts with their noun in the right number: "1 run", "2 runs".
public enum Plural {
    public static func count(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(n) " + (n == 1 ? singular : plural ?? singular + "s")
    }
    public static func count(_ n: Int64, _ singular: String, _ plural: String? = nil) -> String { count(Int(n), singular, plural) }
}
