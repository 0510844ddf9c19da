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

/// `--shard`: `I/N` (1-based; runs ⌊(I−1)·R/N⌋ ..< ⌊I·R/N⌋), or `auto` / `auto/N` to take the index
/// (and count) from a Slurm array task's or a Kubernetes Indexed Job's environment.
enum ShardOption: ExpressibleByArgument, Sendable {
    case fixed(SweepShard)
    case auto(count: Int?)

    init?(argument: String) {
        if argument == "auto" { self = .auto(count: nil); return }
        if argument.hasPrefix("auto/") {
            guard let n = Int(argument.dropFirst(5)), n >= 1 else { return nil }
            self = .auto(count: n)
            return
        }
        guard let s = SweepShard(argument) else { return nil }
        self = .fixed(s)
    }

    static var defaultCompletionKind: CompletionKind { .list(["auto", "1/2", "2/2"]) }

    func resolve(_ env: [String: String]) throws -> SweepShard {
        switch self {
        case let .fixed(s): return s
        case let .auto(n):
            do { return try SweepShard.fromEnvironment(env, count: n) } catch { throw CommandFailure(error.description) }
        }
    }
}

struct SweepRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a sweep file (the default).",
        discussion: "With --run K, replays run K alone and writes the full report of `itpump simulate` (and row.csv, the sweep's row for K, bit-identical).")

    @Argument(help: "Sweep file (kind: sweep).", completion: .file(extensions: ["yaml", "yml"]))
    var sweep: String
    @Option(help: "Runs (default: the file's).")
    var runs: Int?
    @Option(help: "Worker threads, 1…1024 (default: every core). Results do not depend on it.",
            transform: { text in
                guard let n = Int(text), (1...1_024).contains(n) else { throw ValidationError("the number of worker threads must be a whole number within 1…1024") }
                return n
            })
    var jobs: Int?
    @Option(help: "Seed (default: the file's).")
    var seed: UInt64?
    @Option(help: "Directory for runs.csv, summary.txt, summary.json and report.html (self-contained, with the distributions' figures); with --shard I/N: runs-I-of-N.csv, summary-I-of-N.txt, summary-I-of-N.json and report-I-of-N.html; with --run, simulate's report files and row.csv.",
            completion: .directory)
    var out: String?
    @Option(help: ArgumentHelp("Run one deterministic slice I/N of the runs (1-based), or `auto` in an array job: the index and count from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (Slurm), or `auto/N` with JOB_COMPLETION_INDEX (Kubernetes Indexed Job, N = completions).", valueName: "I/N|auto|auto/N"))
    var shard: ShardOption?
    @Option(name: .customLong("run"), help: "Replay run K (0-based, as in the runs.csv `run` column) alone, with the full report of `itpump simulate`.")
    var replayRun: Int?
    @Option(help: "stroke or fast.")
    var fidelity: Fidelity = .fast

    func run() throws {
        var plan: SweepPlan
        do { plan = try SweepFile.load(path: sweep) } catch {
            printError(error.description)
            throw ExitCode(1)
        }
        if let runs {
            guard (1...SweepPlan.maximumRuns).contains(runs) else { throw usageError("--runs must be within 1…\(SweepPlan.maximumRuns)", command: "sweep run") }
            plan.runs = runs
        }
        if let seed { plan.seed = seed }
        let digests = inputDigests([sweep])
        if let k = replayRun {
            guard shard == nil else { throw usageError("--run replays one run; it does not take --shard", command: "sweep run") }
            guard (0..<plan.runs).contains(k) else { throw usageError("--run must be within 0…\(plan.runs - 1) (the sweep's runs)", command: "sweep run") }
            try replay(plan, k, digests: digests)
            return
        }
        let jobs = self.jobs ?? ProcessInfo.processInfo.activeProcessorCount
        let shard = try self.shard?.resolve(ProcessInfo.processInfo.environment)
        let range = shard?.range(runs: plan.runs) ?? 0..<plan.runs
        let header = SweepCSVHeader(plan: plan, sweepSHA256: digests[0].sha256, fidelity: fidelity,
                                    shardIndex: shard?.index ?? 1, shardCount: shard?.count ?? 1)
        // The per-run CSV is streamed into a temporary file and renamed into place only when the
        // sweep is complete and every row is on disk (a full disk is an error, not a short file).
        var csv: AtomicFile?
        if let out {
            try makeOutputDirectory(out)
            let name = shard.map { "runs-\($0.index)-of-\($0.count).csv" } ?? "runs.csv"
            csv = try AtomicFile(out + "/" + name)
            csv?.append(Data(header.text.utf8))
        }
        defer { csv?.abandon() }
        let progress = Progress(total: range.count)
        let clock = ContinuousClock()
        let started = clock.now
        var figures = SweepFigures()
        let summary = SweepRunner.run(plan, range: range, jobs: jobs, fidelity: fidelity) { rows in
            if let csv { csv.append(Data(rows.map { $0.csv + "\n" }.joined().utf8)) }
            if out != nil { for r in rows { figures.add(r) } }
            progress.advance(by: rows.count)
        }
        progress.finish()
        try csv?.commit()
        let elapsed = clock.now - started
        let thr = plan.base.pk.withdrawalFraction.description + " of the prescribed dose's steady state"
        var text = "\(plan.name): runs \(range.lowerBound)..<\(range.upperBound) of \(plan.runs), seed \(plan.seed), \(plan.duration) each, \(fidelity.rawValue) fidelity, \(Plural.count(jobs, "job")), \(String(format2: elapsed.ms / 1_000)) s, itpump \(ITPumpVersion.current)\n"
        text += summary.render(threshold: thr)
        print(text)
        if let out {
            // A shard's summary and report carry its name too: the shards of an array job share OUTDIR.
            let suffix = shard.map { "-\($0.index)-of-\($0.count)" } ?? ""
            let provenance = ReportProvenance(inputs: digests, seed: plan.seed, command: commandLine())
            let report = SweepSummaryReport(plan: plan, runs: range, fidelity: fidelity, summary: summary, figures: figures, provenance: provenance)
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            let html = HTMLReport.sweep(plan, runs: range, fidelity: fidelity, summary: summary, figures: figures, provenance: provenance)
            do {
                try writeFiles([(out + "/summary\(suffix).txt", text + "\n"),
                                (out + "/summary\(suffix).json", String(decoding: try e.encode(report), as: UTF8.self)),
                                (out + "/report\(suffix).html", html)])
            } catch {
                // The set is one result: no runs CSV without its summary.
                if let csv { unlink(csv.path) }
                throw error
            }
        }
    }

    /// Run `k` alone: simulate's report (provenance: the sweep file's SHA-256 and the run's own seed)
    /// and, with --out, row.csv — the sweep's header and the row the sweep writes for run `k`.
    func replay(_ plan: SweepPlan, _ k: Int, digests: [ReportProvenance.Input]) throws {
        let replayed: (result: SimulationResult, row: SweepRow)
        do { replayed = try plan.replay(k, fidelity: fidelity) } catch {
            printError("\(sweep): run \(k): \(error.description)")
            throw ExitCode(1)
        }
        let provenance = ReportProvenance(inputs: digests, seed: replayed.row.seed, command: commandLine())
        try Simulate.report(replayed.result, format: .text, out: out, provenance: provenance)
        let header = SweepCSVHeader(plan: plan, sweepSHA256: digests[0].sha256, fidelity: fidelity)
        print("\nsweep row of run \(k) (seed \(replayed.row.seed)):\n\(SweepRow.header)\n\(replayed.row.csv)")
        if let out { try writeFile(out + "/row.csv", header.text + replayed.row.csv + "\n") }
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
        try? FileHandle.standardError.write(contentsOf: Data("\r[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(pct)% \(done)/\(total)".utf8))
    }
    func finish() { if enabled { try? FileHandle.standardError.write(contentsOf: Data("\n".utf8)) } }
}

struct SweepMerge: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge",
        abstract: "Merge the per-run CSVs of every shard of one sweep (in any order) into one summary and, with --out, one runs.csv.",
        discussion: "Refuses (exit 1, naming the file or shard) a missing, duplicate or foreign shard, or one cut short. The merged runs.csv is byte-identical to the unsharded sweep's.")

    @Argument(help: "Per-run CSV files written by `itpump sweep SWEEP --shard I/N --out DIR`.", completion: .file(extensions: ["csv"]))
    var files: [String]
    @Option(help: "Directory for the merged runs.csv and summary.txt.", completion: .directory)
    var out: String?

    func run() throws {
        for path in files {
            var st = stat()
            if stat(path, &st) == 0, st.st_mode & S_IFMT != S_IFREG {
                throw CommandFailure("\(path): is not a regular file (a directory, device, FIFO or socket); give a per-run CSV written by `itpump sweep --out`")
            }
        }
        // Streamed, a block at a time, so memory stays flat whatever the number of runs: a first pass
        // checks the set and every row and builds the summary; only then, with --out, a second writes
        // runs.csv (so a refused merge creates nothing), checked again as it is copied.
        let merged = try Self.merge(files) { _, _ in }
        let h = merged.header
        var text = "\(h.name): runs 0..<\(h.runs) of \(h.runs), seed \(h.seed), \(h.duration) each, \(h.fidelity) fidelity, merged from \(Plural.count(files.count, "shard")), itpump \(h.version)\n"
        text += merged.summary.render(threshold: h.withdrawalThreshold + " of the prescribed dose's steady state")
        print(text)
        if let out {
            try makeOutputDirectory(out)
            let csv = try AtomicFile(out + "/runs.csv")
            var committed = false
            defer { if !committed { csv.abandon() } }
            var block: [UInt8] = Array(h.text.utf8)
            block.reserveCapacity(1 << 20)
            _ = try Self.merge(files) { _, line in
                block.append(contentsOf: line.utf8)
                block.append(UInt8(ascii: "\n"))
                if block.count >= 1 << 20 { csv.append(Data(block)); block.removeAll(keepingCapacity: true) }
            }
            csv.append(Data(block))
            try csv.commit()
            committed = true
            do { try writeFile(out + "/summary.txt", text + "\n") } catch {
                unlink(out + "/runs.csv")
                throw error
            }
        }
    }

    /// One pass over the shards' files, each row handed to `row` in run order.
    static func merge(_ files: [String], row: (SweepRow, Substring) -> Void) throws -> PumpSim.SweepMerge {
        var sources: [FileShardSource] = []
        defer { for s in sources { s.close() } }
        do {
            for path in files { sources.append(try FileShardSource(path: path)) }
            return try PumpSim.SweepMerge(sources: sources, row: row)
        } catch { throw CommandFailure(error.description) }
    }
}
