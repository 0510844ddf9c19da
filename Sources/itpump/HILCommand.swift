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
            throw ValidationError("cannot read \(file): missing or not readable")
        }
        let text = String(decoding: data, as: UTF8.self)
        let trace = GPIOTrace(text: text)
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

/// Judges one scenario run directory written by the HIL guest (`HIL/run`): writes `junit.xml`,
/// `summary.json` and, for accuracy scenarios, `trumpet.csv` and `trumpet.svg` into it. Exit 1 when a
/// check failed or none ran.
struct HILReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Evaluate a HIL scenario run directory: JUnit XML, JSON summary, trumpet curve, step timing.")

    @Argument(help: "The scenario's output directory (meta.txt, checks.txt, trace-checks.txt, lines.txt, trace.txt).")
    var directory: String
    @Option(help: "ISO 8601 timestamp for the JUnit suite.") var timestamp: String?

    func run() throws {
        // A file the guest did not write reads as empty; the evaluation then fails the checks it needed.
        func read(_ name: String) -> String {
            FileManager.default.contents(atPath: directory + "/" + name).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        let run = ScenarioRun(meta: read("meta.txt"), guestChecks: read("checks.txt"), traceChecks: read("trace-checks.txt"),
                              lineMap: read("lines.txt"), trace: read("trace.txt"))
        let result = run.evaluate()
        let name = run.metaValue("scenario") ?? "unnamed"
        let gen = run.metaValue("generation") ?? "?"
        var props = run.meta.filter { ["scenario", "generation", "rig", "seed", "scale", "prescription", "kind"].contains($0.0) }
        props = props.map { $0.0 == "generation" ? ("libgpiod", $0.1) : $0 }
        var junit = JUnitReport(suite: "hil.\(gen).\(name)", properties: props, timestamp: timestamp)
        for c in result.checks {
            junit.cases.append(.init(name: c.name, className: "hil.\(gen).\(name)", failure: c.passed ? nil : c.detail))
        }
        if result.checks.isEmpty { junit.cases.append(.init(name: "checks ran", className: "hil.\(gen).\(name)", failure: "no check ran")) }
        try writeWholeFile(directory + "/junit.xml", junit.xml)
        try writeWholeFile(directory + "/summary.json", result.json(meta: run.meta))
        if let t = result.trumpet {
            try writeWholeFile(directory + "/trumpet.csv", t.csv)
            try writeWholeFile(directory + "/trumpet.svg", t.svg(title: result.trumpetTitle, limitPercent: result.trumpetLimitPercent))
        }
        for c in result.checks { print("  \(c.passed ? "PASS" : "FAIL") \(c.name) — \(c.detail)") }
        if let t = result.trumpet {
            print("  trumpet: A = \(fmt(t.overallPercent))%; " + t.points.map { "\($0.windowMinutes) min: \(fmt($0.minPercent))…\(fmt($0.maxPercent))%" }.joined(separator: ", "))
        }
        if let s = result.stepPeriod { print("  step period error (vs nominal): \(s)") }
        if let s = result.pulseWidth { print("  STEP pulse width: \(s)") }
        if let s = result.strokeLateness { print("  stroke time error (vs ideal schedule): \(s)") }
        print("\(result.passed ? "PASS" : "FAIL") \(gen)/\(name)")
        if !result.passed { throw ExitCode(1) }
    }

    private func fmt(_ v: Double) -> String { "\((v * 100).rounded() / 100)" }
}

func writeWholeFile(_ path: String, _ text: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}
