import ArgumentParser
import PumpSim
import Foundation
import HILKit

struct HILCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hil",
        abstract: "Hardware-in-the-loop analysis tools (see HIL/README.md).",
        subcommands: [HILTrace.self, HILReport.self])
}

/// Reads a kernel GPIO trace dumped by the HIL guest and reports one line's edges, STEP strokes and
/// timing. Reading a trace from a real board works the same (tracefs, `events/gpio`).
struct HILTrace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Count a line's edges and strokes in a kernel GPIO trace and summarise step timing.")

    @Argument(help: "The trace file (a copy of /sys/kernel/tracing/trace).")
    var file: String
    @Option(help: "Global GPIO number of the line (chip base + offset).")
    var gpio: Int
    @Option(help: "Steps per stroke, to group STEP pulses into strokes.")
    var stepsPerStroke: Int = 1
    @Option(help: "Nominal step period in μs, to report step-interval errors.")
    var stepPeriodUs: Int64?

    func run() throws {
        guard stepsPerStroke > 0 else { throw ValidationError("--steps-per-stroke must be positive, got \(stepsPerStroke)") }
        guard let data = FileManager.default.contents(atPath: file) else {
            // A data failure (exit 1, no usage text), not a usage error.
            throw CommandFailure("\(file): cannot be read (missing, a directory, or not a readable file); give a copy of /sys/kernel/tracing/trace")
        }
        let text = String(decoding: data, as: UTF8.self)
        let trace = GPIOTrace(text: text)
        guard trace.isKernelTrace else {
            throw CommandFailure("\(file): not a kernel trace (no `# tracer:` header and no gpio_value/gpio_direction event); give a copy of /sys/kernel/tracing/trace")
        }
        if trace.events.contains(where: { $0.gpio == gpio }) == false, !trace.events.isEmpty {
            printError("warning: \(file) has no event for GPIO \(gpio); it has events for GPIO \(trace.gpios.map(String.init).joined(separator: ", "))")
        }
        let sets = trace.sets(of: gpio)
        let edges = trace.edges(of: gpio)
        let steps = StepAnalysis(edges: edges, stepsPerStroke: stepsPerStroke)
        print("line \(gpio): \(Plural.count(sets.count, "write")), \(Plural.count(edges.count, "edge")), \(steps.rises.count) rising, \(Plural.count(steps.strokes.count, "stroke")) of \(Plural.count(stepsPerStroke, "step")) (+\(Plural.count(steps.incompleteSteps, "step")) incomplete)")
        if !trace.malformed.isEmpty { print("warning: \(trace.malformed.count) malformed GPIO trace lines (truncated dump?)") }
        if let w = TimingSummary(absoluteErrors: steps.pulseWidths) { print("pulse width: \(w)") }
        if let period = stepPeriodUs,
           let s = TimingSummary(absoluteErrors: TimingSummary.stepErrors(rises: steps.rises, stepsPerStroke: stepsPerStroke, periodMicroseconds: period)) {
            print("step interval error vs \(period) μs: \(s)")
        }
    }
}

/// Judges HIL scenario run directories written by the HIL guest (`HIL/run`): writes `junit.xml`,
/// `summary.json` and, for accuracy scenarios, `trumpet.csv` and `trumpet.svg` into each, and with
/// `--junit FILE` one aggregated JUnit file with a suite per directory (the guest log as `<system-out>`).
/// A directory without `meta.txt` is a failed scenario ("the guest produced no results"). Exit 1 when
/// any scenario failed, ran no check or produced nothing.
struct HILReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Evaluate HIL scenario run directories: JUnit XML (per scenario and aggregated), JSON summary with measurements, trumpet curve, step timing.")

    @Argument(help: "Scenario output directories (…/GEN/NAME: meta.txt, checks.txt, trace-checks.txt, lines.txt, trace.txt).")
    var directories: [String]
    @Option(help: "ISO 8601 timestamp for suites whose guest recorded no start time.") var timestamp: String?
    @Option(help: "Also write one aggregated JUnit file with every directory's suite.") var junit: String?

    /// Largest part of each log kept in `<system-out>` (its tail), bytes.
    static let logLimit = 64 * 1024

    func validate() throws {
        guard !directories.isEmpty else { throw ValidationError("give at least one scenario directory") }
    }

    func run() throws {
        var suites: [JUnitReport] = []
        var failed: [String] = []
        for directory in directories {
            let (suite, passed, label) = try report(directory)
            suites.append(suite)
            if !passed { failed.append(label) }
        }
        if let junit {
            try writeWholeFile(junit, JUnitDocument(name: "hil", suites: suites).xml)
            print("aggregated JUnit: \(junit) (\(suites.count) suites)")
        }
        if directories.count > 1 {
            print("report: \(directories.count - failed.count) passed, \(failed.count) failed\(failed.isEmpty ? "" : ": " + failed.joined(separator: " "))")
        }
        if !failed.isEmpty { throw ExitCode(1) }
    }

    private func report(_ directory: String) throws -> (JUnitReport, Bool, String) {
        // A file the guest did not write reads as empty; the evaluation then fails the checks it needed.
        func read(_ name: String) -> String? {
            FileManager.default.contents(atPath: directory + "/" + name).map { String(decoding: $0, as: UTF8.self) }
        }
        let parts = directory.split(separator: "/").map(String.init)
        guard let metaText = read("meta.txt") else {
            let name = parts.last ?? directory, gen = parts.count > 1 ? parts[parts.count - 2] : "?"
            let label = "\(gen)/\(name)"
            print("== \(label)\nFAIL \(label): the guest produced no results (no \(directory)/meta.txt)")
            var suite = JUnitReport(suite: "hil.\(gen).\(name)", properties: [("scenario", name), ("libgpiod", gen)], timestamp: timestamp)
            suite.cases.append(.init(name: "results produced", className: suite.suite, failure: "the guest produced no results (no meta.txt)"))
            return (suite, false, label)
        }
        let run = ScenarioRun(meta: metaText, guestChecks: read("checks.txt") ?? "", traceChecks: read("trace-checks.txt") ?? "",
                              lineMap: read("lines.txt") ?? "", trace: read("trace.txt") ?? "")
        let result = run.evaluate()
        let name = run.metaValue("scenario") ?? "unnamed"
        let gen = run.metaValue("generation") ?? "?"
        print("== \(gen)/\(name)")
        var log = ""
        for (file, title) in [("guest.log", "guest log (console)"), ("run.err", "runner events (run.err)"), ("run.out", "runner output (run.out)")] {
            guard let text = read(file) else { continue }
            let tail = text.utf8.count > Self.logLimit ? "… (first \(text.utf8.count - Self.logLimit) bytes left out)\n" + String(decoding: text.utf8.suffix(Self.logLimit), as: UTF8.self) : text
            log += "== \(title)\n" + tail + (tail.hasSuffix("\n") || tail.isEmpty ? "" : "\n")
        }
        let suite = result.junit(run: run, timestamp: timestamp, systemOut: log.isEmpty ? nil : log)
        try writeWholeFile(directory + "/junit.xml", suite.xml)
        try writeWholeFile(directory + "/summary.json", result.json(meta: run.meta))
        if let t = result.trumpet {
            try writeWholeFile(directory + "/trumpet.csv", t.csv)
            try writeWholeFile(directory + "/trumpet.svg", t.svg(title: result.trumpetTitle, limitPercent: result.trumpetLimitPercent))
        }
        for c in result.checks {
            var m = ""
            if let x = c.measurement {
                m = " [\(x.value.map(fmt) ?? "none") \(x.unit)"
                if x.lower != nil || x.upper != nil { m += "; limits \(x.lower.map(fmt) ?? "-∞") … \(x.upper.map(fmt) ?? "+∞")" }
                m += "]"
            }
            print("  \(c.outcome) \(c.name) — \(c.detail)\(m)")
        }
        if let t = result.trumpet {
            print("  trumpet: A = \(fmt(t.overallPercent))%; " + t.points.map { "\($0.windowMinutes) min: \(fmt($0.minPercent))…\(fmt($0.maxPercent))%" }.joined(separator: ", "))
        }
        if let s = result.stepPeriod { print("  step period error (vs nominal): \(s)") }
        if let s = result.pulseWidth { print("  STEP pulse width: \(s)") }
        if let s = result.strokeLateness { print("  stroke time error (vs ideal schedule): \(s)") }
        print("\(result.passed ? "PASS" : "FAIL") \(gen)/\(name)")
        return (suite, result.passed, "\(gen)/\(name)")
    }

    private func fmt(_ v: Double) -> String { "\((v * 100).rounded() / 100)" }
}

/// Writes `text` to `path` whole or not at all (a temporary file renamed into place; see `AtomicFile`).
func writeWholeFile(_ path: String, _ text: String) throws {
    try writeFile(path, text)
}
