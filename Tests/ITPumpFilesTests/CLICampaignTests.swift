import Foundation
import Testing

/// Sweep campaigns through the `itpump` binary: shards merged or refused, runs replayed, the version
/// in every output, and exit statuses (64 and the usage text only for usage errors).
@Suite("itpump campaigns (binary)")
struct CLICampaignTests {
    static let sweep = "profiles/sweeps/late-refills-small.yaml"

    static func run(_ args: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        p.executableURL = URL(fileURLWithPath: CLIOutputTests.itpump)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: CLIOutputTests.root)
        // stderr into a file, so neither stream can fill a pipe while the other is drained.
        let errPath = FileManager.default.temporaryDirectory.appendingPathComponent("itpump-campaign-err-\(getpid())-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try p.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let errData = FileManager.default.contents(atPath: errPath) ?? Data()
        return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    static func tempDir(_ name: String) -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("itpump-campaign-\(name)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: d)
        return d
    }

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    @Test("sweep merge of every shard gives the unsharded runs.csv byte for byte and keeps name, seed and duration; missing, duplicate and foreign shards are refused, named, exit 1")
    func merge() throws {
        let d = Self.tempDir("merge")
        defer { try? FileManager.default.removeItem(atPath: d) }
        #expect(try Self.run(["sweep", Self.sweep, "--runs", "10", "--jobs", "1", "--out", d + "/all"]).status == 0)
        for i in 1...3 { #expect(try Self.run(["sweep", Self.sweep, "--runs", "10", "--jobs", "1", "--shard", "\(i)/3", "--out", d + "/sh"]).status == 0) }
        let s1 = d + "/sh/runs-1-of-3.csv", s2 = d + "/sh/runs-2-of-3.csv", s3 = d + "/sh/runs-3-of-3.csv"
        let m = try Self.run(["sweep", "merge", s3, s1, s2, "--out", d + "/m"])
        #expect(m.status == 0, "\(m.err)")
        #expect(try Self.read(d + "/m/runs.csv") == Self.read(d + "/all/runs.csv"))
        #expect(m.out.hasPrefix("late refills: runs 0..<10 of 10, seed 7, 90d each, fast fidelity, merged from 3 shards"), "\(m.out)")
        #expect(try Self.read(d + "/m/summary.txt").hasPrefix("late refills: runs 0..<10 of 10, seed 7, 90d each"))

        let missing = try Self.run(["sweep", "merge", s1, s3])
        #expect(missing.status == 1 && missing.err.contains("missing shard 2/3 (runs-2-of-3.csv"), "\(missing.err)")
        #expect(!missing.err.contains("Usage:") && !missing.out.contains("sweep summary"))
        let last = try Self.run(["sweep", "merge", s1, s2])
        #expect(last.status == 1 && last.err.contains("missing shard 3/3"), "\(last.err)")
        let dup = try Self.run(["sweep", "merge", s1, s2, s2, s3])
        #expect(dup.status == 1 && dup.err.contains("\(s2): shard 2/3 again") && !dup.err.contains("Usage:"), "\(dup.err)")
        #expect(try Self.run(["sweep", Self.sweep, "--runs", "10", "--seed", "8", "--shard", "2/3", "--out", d + "/f"]).status == 0)
        let foreign = try Self.run(["sweep", "merge", s1, d + "/f/runs-2-of-3.csv", s3])
        #expect(foreign.status == 1 && foreign.err.contains("\(d)/f/runs-2-of-3.csv: a foreign shard: its seed is `8`"), "\(foreign.err)")
    }

    @Test("sweep SWEEP --run K replays run K with simulate's full report, its row bit-identical to the sweep's and its seed the row's")
    func replay() throws {
        let d = Self.tempDir("replay")
        defer { try? FileManager.default.removeItem(atPath: d) }
        #expect(try Self.run(["sweep", Self.sweep, "--runs", "8", "--jobs", "2", "--out", d + "/all"]).status == 0)
        let sweepRows = try Self.read(d + "/all/runs.csv").split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(sweepRows.first?.hasPrefix("run,seed,") == true)
        for k in [2, 7] {
            let r = try Self.run(["sweep", Self.sweep, "--runs", "8", "--run", String(k), "--out", d + "/r\(k)"])
            #expect(r.status == 0, "\(r.err)")
            for f in ["report.html", "report.txt", "report.json", "series.csv", "plot.svg", "row.csv"] {
                #expect(FileManager.default.fileExists(atPath: d + "/r\(k)/" + f), "\(f)")
            }
            let row = try #require(try Self.read(d + "/r\(k)/row.csv").split(separator: "\n").last)
            let expected = try #require(sweepRows.first { $0.hasPrefix("\(k),") })
            #expect(row == expected)
            let seed = row.split(separator: ",")[1]
            let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d + "/r\(k)/report.json"))) as? [String: Any])
            let prov = try #require(json["provenance"] as? [String: Any])
            #expect((prov["seed"] as? NSNumber)?.stringValue == String(seed))
            #expect(try Self.read(d + "/r\(k)/report.html").contains("<td>\(seed)</td>"))
        }
        let bad = try Self.run(["sweep", Self.sweep, "--runs", "8", "--run", "8"])
        #expect(bad.status == 64 && bad.err.contains("--run must be within 0…7"))
    }

    @Test("--version prints the version, and every JSON, CSV and HTML output carries it with the inputs' SHA-256 and the seed")
    func versionEverywhere() throws {
        let v = try Self.run(["--version"])
        #expect(v.status == 0)
        let version = v.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try Regex(#"^\d+\.\d+\.\d+$"#).wholeMatch(in: version) != nil, "\(version)")
        let d = Self.tempDir("version")
        defer { try? FileManager.default.removeItem(atPath: d) }
        let scenario = "profiles/scenarios/occlusion.yaml"
        #expect(try Self.run(["simulate", scenario, "--out", d + "/sim"]).status == 0)
        let json = try Self.run(["simulate", scenario, "--format", "json"])
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let prov = try #require(obj["provenance"] as? [String: Any])
        #expect(prov["version"] as? String == version && prov["seed"] != nil)
        let input = try #require((prov["inputs"] as? [[String: Any]])?.first)
        let digest = try #require(input["sha256"] as? String)
        #expect(digest.count == 64 && input["path"] as? String == scenario)
        let csv = try Self.run(["simulate", scenario, "--format", "csv"]).out
        #expect(csv.hasPrefix("# itpump series\n# version: \(version)\n# seed: "))
        #expect(csv.contains("# sha256 \(scenario): \(digest)\n"))
        for f in ["report.json", "series.csv", "report.html"] { #expect(try Self.read(d + "/sim/" + f).contains(version), "\(f)") }
        #expect(try Self.read(d + "/sim/report.html").contains(digest))
        #expect(try Self.run(["sweep", Self.sweep, "--runs", "4", "--out", d + "/sw"]).status == 0)
        for f in ["runs.csv", "summary.json", "report.html", "summary.txt"] { #expect(try Self.read(d + "/sw/" + f).contains(version), "\(f)") }
        #expect(try Self.read(d + "/sw/runs.csv").contains("# seed: 7\n"))
    }

    @Test("usage errors exit 64 with the option's message; data failures and a file in --out's way exit 1 without usage text; validate's diagnostics go to stderr")
    func exitStatuses() throws {
        let jobs = try Self.run(["sweep", Self.sweep, "--jobs", "0"])
        #expect(jobs.status == 64 && jobs.err.contains("'--jobs <jobs>'") && jobs.err.contains("1…1024"), "\(jobs.err)")
        #expect(!jobs.err.contains("Usage: itpump <subcommand>"))
        let ctl = try Self.run(["ctl", "program", "550", "--socket", "/nonexistent/itpump.sock"])
        #expect(ctl.status == 64 && ctl.err.contains("`550`: fields are key=value") && ctl.err.contains("itpump ctl --help"), "\(ctl.err)")
        #expect(!ctl.err.contains("Usage: itpump <subcommand>"))
        let runs = try Self.run(["sweep", Self.sweep, "--runs", "0"])
        #expect(runs.status == 64 && runs.err.contains("--runs must be within 1…") && !runs.err.contains("Usage: itpump <subcommand>"), "\(runs.err)")
        let d = Self.tempDir("exit")
        defer { try? FileManager.default.removeItem(atPath: d) }
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: d + "/file", contents: Data())
        let out = try Self.run(["simulate", "profiles/scenarios/occlusion.yaml", "--out", d + "/file"])
        #expect(out.status == 1 && out.err.contains("--out \(d)/file: a file of that name exists"), "\(out.err)")
        #expect(!out.err.contains("NSCocoaErrorDomain") && !out.err.contains("Usage:"))
        try Data("kind: scenario\nname: x\n".utf8).write(to: URL(fileURLWithPath: d + "/bad.yaml"))
        let v = try Self.run(["validate", d + "/bad.yaml", "profiles/scenarios/occlusion.yaml"])
        #expect(v.status == 1)
        #expect(v.out == "profiles/scenarios/occlusion.yaml: ok\n", "\(v.out)")
        #expect(v.err.contains("\(d)/bad.yaml") && v.err.contains("1 of 2 files invalid"), "\(v.err)")
    }

    @Test("--shard auto takes the shard from a Slurm array task's or a Kubernetes Indexed Job's environment, each shard's files carry its name, and the merged shards are the unsharded sweep")
    func shardAuto() throws {
        let d = Self.tempDir("auto")
        defer { try? FileManager.default.removeItem(atPath: d) }
        #expect(try Self.run(["sweep", Self.sweep, "--runs", "9", "--jobs", "1", "--out", d + "/all"]).status == 0)
        for id in 0...2 {
            let env = ["SLURM_ARRAY_TASK_ID": "\(id)", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "2", "SLURM_ARRAY_TASK_COUNT": "3"]
            let r = try Self.run(["sweep", Self.sweep, "--runs", "9", "--jobs", "1", "--shard", "auto", "--out", d + "/slurm"], environment: env)
            #expect(r.status == 0, "\(r.err)")
            let k = try Self.run(["sweep", Self.sweep, "--runs", "9", "--jobs", "1", "--shard", "auto/3", "--out", d + "/k8s"], environment: ["JOB_COMPLETION_INDEX": "\(id)"])
            #expect(k.status == 0, "\(k.err)")
        }
        for dir in ["slurm", "k8s"] {
            // The shards share the directory; each one's summary and report carry its name, none overwrites another's.
            for i in 1...3 {
                #expect(try Self.read("\(d)/\(dir)/summary-\(i)-of-3.txt").hasPrefix("late refills: runs \((i - 1) * 3)..<\(i * 3) of 9"))
                for f in ["summary-\(i)-of-3.json", "report-\(i)-of-3.html"] { #expect(FileManager.default.fileExists(atPath: "\(d)/\(dir)/\(f)"), "\(f)") }
            }
            for f in ["summary.txt", "summary.json", "report.html"] { #expect(!FileManager.default.fileExists(atPath: "\(d)/\(dir)/\(f)"), "\(f)") }
            let files = (1...3).map { "\(d)/\(dir)/runs-\($0)-of-3.csv" }
            #expect(try Self.run(["sweep", "merge"] + files + ["--out", d + "/m-" + dir]).status == 0)
            #expect(try Self.read(d + "/m-\(dir)/runs.csv") == Self.read(d + "/all/runs.csv"))
        }
        let none = try Self.run(["sweep", Self.sweep, "--runs", "9", "--shard", "auto"], environment: ["SLURM_ARRAY_TASK_ID": "", "JOB_COMPLETION_INDEX": ""])
        #expect(none.status == 1 && none.err.contains("JOB_COMPLETION_INDEX"), "\(none.err)")
    }

    /// Runs a shipped script with `bash` in the package root, `ITPUMP` pointing at the built binary.
    static func script(_ args: [String], environment: [String: String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: CLIOutputTests.root)
        p.environment = ProcessInfo.processInfo.environment.merging(environment.merging(["ITPUMP": CLIOutputTests.itpump]) { $1 }) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    @Test("the shipped sbatch scripts, run as Slurm would run each array task and then the merge, give the unsharded sweep's runs.csv")
    func sbatchScripts() throws {
        let d = Self.tempDir("sbatch")
        defer { try? FileManager.default.removeItem(atPath: d) }
        #expect(try Self.run(["sweep", Self.sweep, "--runs", "7", "--jobs", "1", "--out", d + "/all"]).status == 0)
        for id in 1...2 {
            let env = ["SLURM_ARRAY_TASK_ID": "\(id)", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "2", "SLURM_ARRAY_TASK_COUNT": "2",
                       "SLURM_CPUS_PER_TASK": "1"]
            #expect(try Self.script(["scripts/slurm/sweep.sbatch", Self.sweep, d + "/arr", "--runs", "7"], environment: env) == 0)
        }
        #expect(try Self.script(["scripts/slurm/merge.sbatch", d + "/arr", "2"], environment: [:]) == 0)
        #expect(try Self.read(d + "/arr/merged/runs.csv") == Self.read(d + "/all/runs.csv"))
        // A merge job started although a task failed (its CSV absent) fails rather than summarising part of the sweep.
        try FileManager.default.removeItem(atPath: d + "/arr/runs-2-of-2.csv")
        #expect(try Self.script(["scripts/slurm/merge.sbatch", d + "/arr", "2"], environment: [:]) == 1)
    }

    @Test("enumerated options are typed: help lists their values, a wrong value is a usage error naming them, completions offer them and file arguments complete as paths")
    func typedOptions() throws {
        // Help text wraps at 80 columns; compare with runs of white space as one space.
        func flat(_ s: String) -> String { s.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ") }
        let help = flat(try Self.run(["run", "--help"]).out)
        #expect(help.contains("(values: sim, gpiod)") && help.contains("(values: therapy, screening; default: therapy)"), "\(help)")
        #expect(help.contains("(values: trace, debug, info, notice, warning, error, critical; default: info)"))
        #expect(flat(try Self.run(["history", "--help"]).out).contains("(values: text, json, csv; default: text)"))
        #expect(flat(try Self.run(["simulate", "--help"]).out).contains("(values: text, json, csv; default: text)"))
        let level = try Self.run(["run", "--backend", "sim", "--rig", "r.yaml", "--prescription", "p.yaml", "--log-level", "loud"])
        #expect(level.status == 64 && level.err.contains("'--log-level <log-level>'") && level.err.contains("- critical"), "\(level.err)")
        let bash = try Self.run(["--generate-completion-script", "bash"]).out
        for values in ["'sim'$'\\n''gpiod'", "'therapy'$'\\n''screening'", "'text'$'\\n''json'$'\\n''csv'", "'trace'$'\\n''debug'"] {
            #expect(bash.contains(values), "\(values)")
        }
        #expect(bash.contains("-fX '!*.@(yaml|yml)'") && bash.contains("-fX '!*.@(csv)'"))
    }
}
