import ArgumentParser
import Dispatch
import Foundation
import ITPumpFiles
import PumpSim

/// `itpump sweep`: Monte-Carlo runs of a sweep file on every core, or `itpump sweep merge` of shards.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a sweep file (Monte-Carlo refill lapses) or merge per-run CSVs of shards.",
        subcommands: [SweepRun.self, SweepMerge.self],
        defaultSubcommand: SweepRun.self)
}

/// Which runs a shard takes: `I/N` (1-based) is runs ⌊(I−1)·R/N⌋ ..< ⌊I·R/N⌋.
struct Shard: ExpressibleByArgument, Sendable {
    var index: Int
    var count: Int
    init?(argument: String) {
        let p = argument.split(separator: "/")
        guard p.count == 2, let i = Int(p[0]), let n = Int(p[1]), n >= 1, (1...n).contains(i) else { return nil }
        index = i
        count = n
    }
    func range(runs: Int) -> Range<Int> { ((index - 1) * runs / count)..<(index * runs / count) }
}

struct SweepRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a sweep file (the default).")

    @Argument(help: "Sweep file (kind: sweep).")
    var sweep: String
    @Option(help: "Runs (default: the file's).")
    var runs: Int?
    @Option(help: "Worker threads (default: every core). Results do not depend on it.")
    var jobs: Int?
    @Option(help: "Seed (default: the file's).")
    var seed: UInt64?
    @Option(help: "Directory for runs.csv (or runs-I-of-N.csv), summary.txt, summary.json and report.html (self-contained, with the distributions' figures).")
    var out: String?
    @Option(help: "Run one deterministic slice I/N of the runs (1-based), e.g. for an array job.")
    var shard: Shard?
    @Option(help: "stroke or fast.")
    var fidelity: Fidelity = .fast

    func run() throws {
        var plan: SweepPlan
        do { plan = try SweepFile.load(path: sweep) } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
        if let runs {
            guard (1...SweepPlan.maximumRuns).contains(runs) else { throw ValidationError("--runs must be within 1…\(SweepPlan.maximumRuns)") }
            plan.runs = runs
        }
        if let seed { plan.seed = seed }
        let jobs = self.jobs ?? ProcessInfo.processInfo.activeProcessorCount
        guard (1...1_024).contains(jobs) else { throw ValidationError("--jobs must be within 1…1024") }
        let range = shard?.range(runs: plan.runs) ?? 0..<plan.runs
        var csv: FileHandle?
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let name = shard.map { "runs-\($0.index)-of-\($0.count).csv" } ?? "runs.csv"
            let path = out + "/" + name
            FileManager.default.createFile(atPath: path, contents: nil)
            csv = FileHandle(forWritingAtPath: path)
            csv?.write(Data((SweepRow.header + "\n").utf8))
        }
        let progress = Progress(total: range.count)
        let clock = ContinuousClock()
        let started = clock.now
        var figures = SweepFigures()
        let summary = SweepRunner.run(plan, range: range, jobs: jobs, fidelity: fidelity) { rows in
            if let csv { csv.write(Data(rows.map { $0.csv + "\n" }.joined().utf8)) }
            if out != nil { for r in rows { figures.add(r) } }
            progress.advance(by: rows.count)
        }
        progress.finish()
        try csv?.close()
        let elapsed = clock.now - started
        let thr = plan.base.pk.withdrawalFraction.description + " of the prescribed dose's steady state"
        var text = "\(plan.name): runs \(range.lowerBound)..<\(range.upperBound) of \(plan.runs), seed \(plan.seed), \(plan.duration) each, \(fidelity.rawValue) fidelity, \(Plural.count(jobs, "job")), \(String(format2: elapsed.ms / 1_000)) s\n"
        text += summary.render(threshold: thr)
        print(text)
        if let out {
            try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: out + "/summary.txt"))
            let provenance = ReportProvenance(inputs: inputDigests([sweep]), seed: plan.seed, command: commandLine())
            let report = SweepSummaryReport(plan: plan, runs: range, fidelity: fidelity, summary: summary, figures: figures, provenance: provenance)
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            try e.encode(report).write(to: URL(fileURLWithPath: out + "/summary.json"))
            let html = HTMLReport.sweep(plan, runs: range, fidelity: fidelity, summary: summary, figures: figures, provenance: provenance)
            try Data(html.utf8).write(to: URL(fileURLWithPath: out + "/report.html"))
        }
    }
}

/// A progress bar on standard error, only when it is a terminal (never in CI logs).
final class Progress {
    let total: Int
    var done = 0
    var lastDrawn = -1
    let enabled = isatty(STDERR_FILENO) == 1
    init(total: Int) { self.total = total }
    func advance(by k: Int) {
        done += k
        guard enabled, total > 0 else { return }
        let pct = done * 100 / total
        guard pct != lastDrawn else { return }
        lastDrawn = pct
        let width = 40, filled = width * done / total
        FileHandle.standardError.write(Data("\r[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(pct)% \(done)/\(total)".utf8))
    }
    func finish() { if enabled { FileHandle.standardError.write(Data("\n".utf8)) } }
}

struct SweepMerge: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge",
        abstract: "Merge per-run CSVs of shards (in any order) into one summary and, with --out, one runs.csv.")

    @Argument(help: "Per-run CSV files written by `itpump sweep --shard I/N --out DIR`.")
    var files: [String]
    @Option(help: "Directory for the merged runs.csv and summary.txt.")
    var out: String?

    func run() throws {
        // Files in order of their first run, so the merged CSV is in run order when shards are contiguous.
        var tables: [(first: Int, path: String, lines: [Substring])] = []
        for path in files {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ValidationError("\(path): cannot be read")
            }
            var lines = text.split(separator: "\n")
            guard lines.first == Substring(SweepRow.header) else { throw ValidationError("\(path): not a sweep per-run CSV (header differs)") }
            lines.removeFirst()
            let first = lines.first.flatMap { Int($0.prefix { $0 != "," }) } ?? Int.max
            tables.append((first, path, lines))
        }
        tables.sort { $0.first < $1.first }
        var summary = SweepSummary()
        var seen = Set<Int>()
        var merged = SweepRow.header + "\n"
        for t in tables {
            for (n, line) in t.lines.enumerated() {
                let row: SweepRow
                do { row = try SweepRow(csv: line) } catch { throw ValidationError("\(t.path):\(n + 2): \(error.description)") }
                guard seen.insert(row.run).inserted else { throw ValidationError("\(t.path):\(n + 2): run \(row.run) appears twice; merge each shard once") }
                summary.add(row)
                if out != nil { merged += line + "\n" }
            }
        }
        if let lo = seen.min(), let hi = seen.max(), hi - lo + 1 != seen.count {
            print("warning: runs \(lo)…\(hi) have \(Plural.count(hi - lo + 1 - seen.count, "run")) missing; a shard may be absent")
        }
        let text = "merged \(Plural.count(files.count, "file"))\n" + summary.render(threshold: "as in the sweep's scenario (default 50 % of the prescribed dose's steady state)")
        print(text)
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try Data(merged.utf8).write(to: URL(fileURLWithPath: out + "/runs.csv"))
            try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: out + "/summary.txt"))
        }
    }
}
