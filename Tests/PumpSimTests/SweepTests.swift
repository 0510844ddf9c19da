import Foundation
import Synchronization
import Testing
@testable import PumpCore
@testable import PumpSim

@Suite("Sweeps")
struct SweepTests {
    static func plan(runs: Int) -> SweepPlan {
        SweepPlan(name: "t", base: TestScenarios.basic(days: 1), runs: runs, seed: 99, duration: .days(40),
                  refillDelay: .uniform(lower: .days(-3), upper: .days(6)), dailyDose: .uniform(lower: .microgramsPerDay(300), upper: .microgramsPerDay(900)),
                  concentration: .choice([Concentration(microgramsPerMillilitre: 500), Concentration(microgramsPerMillilitre: 1000)]),
                  reservoir: .choice([.millilitres(20), .millilitres(40)]), alarmPolicy: .choice([.alarmOnly, .reserveTaper]))
    }

    func rows(_ p: SweepPlan, _ range: Range<Int>, jobs: Int) -> [String] {
        var out: [String] = []
        _ = SweepRunner.run(p, range: range, jobs: jobs, fidelity: .fast) { out += $0.map(\.csv) }
        return out
    }

    @Test("the same seed gives the same rows whatever the number of jobs, and shards concatenate to the whole")
    func deterministic() {
        let p = Self.plan(runs: 24)
        let one = rows(p, 0..<24, jobs: 1)
        #expect(one.count == 24)
        #expect(rows(p, 0..<24, jobs: 3) == one)
        #expect(rows(p, 0..<10, jobs: 2) + rows(p, 10..<24, jobs: 4) == one)
        #expect(one.map { Int($0.prefix { $0 != "," }) } == Array(0..<24))
    }

    /// Several blocks with two jobs: the rows of block k are summarised and emitted on the emitter
    /// thread while block k + 1 is computed. Emits come one at a time, in run order, and all have
    /// finished when `run` returns (each emit here sleeps, so one still running at the return, or two
    /// at once, would be seen); the summary is the rows'.
    @Test("with two jobs over several blocks, emits come one at a time in run order, all done when the sweep returns, and the summary is the rows'")
    func pipelinedBlocks() {
        var p = Self.plan(runs: 600)
        p.duration = .days(2)
        let one = rows(p, 0..<600, jobs: 1)
        let inFlight = Atomic<Int>(0), overlaps = Atomic<Int>(0)
        var sizes: [Int] = [], got: [SweepRow] = []
        let summary = SweepRunner.run(p, range: 0..<600, jobs: 2, fidelity: .fast) { block in
            if inFlight.add(1, ordering: .sequentiallyConsistent).oldValue != 0 { overlaps.add(1, ordering: .relaxed) }
            usleep(20_000)
            sizes.append(block.count)
            got += block
            inFlight.subtract(1, ordering: .sequentiallyConsistent)
        }
        #expect(sizes == [256, 256, 88])
        #expect(overlaps.load(ordering: .relaxed) == 0)
        #expect(got.map(\.csv) == one)
        var expected = SweepSummary()
        for r in got { expected.add(r) }
        #expect(summary.runs == 600)
        #expect(summary.render(threshold: "x") == expected.render(threshold: "x"))
    }

    @Test("a row survives the CSV round trip that sweep merge relies on")
    func csvRoundTrip() throws {
        let row = Self.plan(runs: 1).run(0)
        #expect(try SweepRow(csv: Substring(row.csv)) == row)
    }

    @Test("run draws depend only on the seed and the index")
    func draws() {
        let p = Self.plan(runs: 100)
        #expect(p.draw(57) == p.draw(57))
        #expect(p.draw(57) != p.draw(58))
        var q = p
        q.runs = 5
        #expect(q.draw(3) == p.draw(3))
        let d = p.draw(7)
        #expect((TimeSpan.days(-3)...TimeSpan.days(6)).contains(d.refillDelay))
        #expect((DoseRate.microgramsPerDay(300)...DoseRate.microgramsPerDay(900)).contains(d.dailyDose))
    }

    /// The per-run CSV of shard `i` of `n` of `p`, as `itpump sweep --shard i/n --out` writes it.
    func shardCSV(_ p: SweepPlan, _ i: Int, of n: Int, sha: String = "abc") -> String {
        let h = SweepCSVHeader(plan: p, sweepSHA256: sha, fidelity: .fast, shardIndex: i, shardCount: n)
        return h.text + rows(p, h.range, jobs: 1).map { $0 + "\n" }.joined()
    }

    @Test("merging every shard, in any order, gives the unsharded CSV byte for byte, header (name, seed, duration) kept")
    func mergeWhole() throws {
        let p = Self.plan(runs: 11)
        let whole = shardCSV(p, 1, of: 1)
        let m = try SweepMerge(files: [("c", shardCSV(p, 3, of: 3)), ("a", shardCSV(p, 1, of: 3)), ("b", shardCSV(p, 2, of: 3))])
        #expect(m.csv == whole)
        #expect(m.header.name == "t" && m.header.seed == 99 && m.header.duration == TimeSpan.days(40).description && m.header.runs == 11)
        #expect(m.summary.runs == 11)
    }

    @Test("a missing shard is refused, naming it (the middle one, and the last one)")
    func mergeMissing() {
        let p = Self.plan(runs: 11)
        #expect(throws: SweepMerge.Failure.missing(shards: ["2/3 (runs-2-of-3.csv, runs 3..<7)"])) {
            try SweepMerge(files: [("a", shardCSV(p, 1, of: 3)), ("c", shardCSV(p, 3, of: 3))])
        }
        #expect(throws: SweepMerge.Failure.missing(shards: ["3/3 (runs-3-of-3.csv, runs 7..<11)"])) {
            try SweepMerge(files: [("a", shardCSV(p, 1, of: 3)), ("b", shardCSV(p, 2, of: 3))])
        }
    }

    @Test("a duplicate shard is refused, naming both files")
    func mergeDuplicate() {
        let p = Self.plan(runs: 11)
        #expect(throws: SweepMerge.Failure.duplicate(file: "b2", shard: "2/3", other: "b")) {
            try SweepMerge(files: [("a", shardCSV(p, 1, of: 3)), ("b", shardCSV(p, 2, of: 3)), ("b2", shardCSV(p, 2, of: 3)), ("c", shardCSV(p, 3, of: 3))])
        }
    }

    @Test("a foreign shard (another seed, sweep file, shard count or run count) is refused, naming it and the field")
    func mergeForeign() {
        let p = Self.plan(runs: 11)
        var q = p
        q.seed = 100
        #expect(throws: SweepMerge.Failure.foreign(file: "x", field: "seed", value: "100", expected: "99", reference: "a")) {
            try SweepMerge(files: [("a", shardCSV(p, 1, of: 2)), ("x", shardCSV(q, 2, of: 2))])
        }
        #expect(throws: SweepMerge.Failure.foreign(file: "x", field: "sweep_sha256", value: "def", expected: "abc", reference: "a")) {
            try SweepMerge(files: [("a", shardCSV(p, 1, of: 2)), ("x", shardCSV(p, 2, of: 2, sha: "def"))])
        }
        #expect(throws: SweepMerge.Failure.foreign(file: "x", field: "shards", value: "3", expected: "2", reference: "a")) {
            try SweepMerge(files: [("a", shardCSV(p, 1, of: 2)), ("x", shardCSV(p, 2, of: 3))])
        }
        var r = p
        r.runs = 12
        #expect(throws: SweepMerge.Failure.foreign(file: "x", field: "runs", value: "12", expected: "11", reference: "a")) {
            try SweepMerge(files: [("a", shardCSV(p, 1, of: 2)), ("x", shardCSV(r, 2, of: 2))])
        }
    }

    @Test("a shard cut short, a CSV without the sweep header, and a row out of its shard are refused")
    func mergeDamaged() {
        let p = Self.plan(runs: 11)
        let b = shardCSV(p, 2, of: 2)
        let cut = b.split(separator: "\n").dropLast().joined(separator: "\n") + "\n"
        #expect(throws: SweepMerge.Failure.self) { try SweepMerge(files: [("a", shardCSV(p, 1, of: 2)), ("b", cut)]) }
        let bare = b.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
        #expect(throws: SweepMerge.Failure.self) { try SweepMerge(files: [("a", shardCSV(p, 1, of: 2)), ("b", bare)]) }
        let a = shardCSV(p, 1, of: 2)
        let swapped = a + rows(p, 10..<11, jobs: 1)[0] + "\n"
        #expect(throws: SweepMerge.Failure.self) { try SweepMerge(files: [("a", swapped), ("b", b)]) }
    }

    @Test("a merge read from files a block at a time gives the rows and summary of the texts, and holds no row")
    func mergeStreamedFromFiles() throws {
        let p = Self.plan(runs: 11)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("itpump-merge-\(getpid())-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var texts: [(path: String, text: String)] = []
        for i in [3, 1, 2] {
            let path = "\(dir)/runs-\(i)-of-3.csv"
            let text = shardCSV(p, i, of: 3)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            texts.append((path, text))
        }
        let inMemory = try SweepMerge(files: texts)
        let sources = try texts.map { try FileShardSource(path: $0.path) }
        defer { for s in sources { s.close() } }
        var lines = ""
        let streamed = try SweepMerge(sources: sources) { _, line in lines += line + "\n" }
        #expect(streamed.header.text + lines == inMemory.csv)
        #expect(inMemory.csv == shardCSV(p, 1, of: 1))
        #expect(streamed.rows.isEmpty && streamed.summary.runs == 11)
        #expect(streamed.summary.render(threshold: "50 %") == inMemory.summary.render(threshold: "50 %"))
    }

    @Test("a shard file's lines: across read blocks, a last line without a newline, empty lines; a line over 1 MiB is refused")
    func fileShardLines() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("itpump-lines-\(getpid())-\(UUID().uuidString)").path
        defer { unlink(path) }
        let long = String(repeating: "x", count: 200_000)   // several 64 KiB blocks
        let expected = ["a", long, "", "b", long + "y", "", "last"]
        try expected.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        var source = try FileShardSource(path: path)
        var got: [String] = []
        while let line = try source.nextLine() { got.append(String(line)) }
        source.close()
        #expect(got == expected)
        try (String(repeating: "z", count: FileShardSource.maximumLine + 70_000) + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        var huge = try FileShardSource(path: path)
        defer { huge.close() }
        #expect(throws: SweepMerge.Failure.self) { _ = try huge.nextLine() }
        #expect(throws: SweepMerge.Failure.unreadable(file: path + ".absent", reason: "cannot be read (missing, or not a readable file)")) {
            _ = try FileShardSource(path: path + ".absent")
        }
    }

    @Test("each row carries its run's seed, and a replay of run K gives the sweep's row bit for bit")
    func replay() throws {
        let p = Self.plan(runs: 6)
        for k in [0, 3, 5] {
            let row = p.run(k)
            #expect(row.seed == p.draw(k).pumpSeed && row.seed == p.scenario(p.draw(k)).mechanics.seed)
            let r = try p.replay(k)
            #expect(r.row.csv == row.csv)
            #expect(!r.result.recorder.series.isEmpty)
        }
    }

    @Test("--shard auto: a Slurm array (from 0 or 1) gives index and count; a Kubernetes Indexed Job needs the count; anything else is refused")
    func shardFromEnvironment() throws {
        func slurm(_ id: Int, _ lo: Int, _ hi: Int, step: Int? = nil) -> [String: String] {
            var e = ["SLURM_ARRAY_TASK_ID": "\(id)", "SLURM_ARRAY_TASK_MIN": "\(lo)", "SLURM_ARRAY_TASK_MAX": "\(hi)", "SLURM_ARRAY_TASK_COUNT": "\(hi - lo + 1)"]
            if let step { e["SLURM_ARRAY_TASK_STEP"] = "\(step)" }
            return e
        }
        #expect(try SweepShard.fromEnvironment(slurm(1, 1, 4), count: nil) == SweepShard(index: 1, count: 4))
        #expect(try SweepShard.fromEnvironment(slurm(4, 1, 4, step: 1), count: 4) == SweepShard(index: 4, count: 4))
        #expect(try SweepShard.fromEnvironment(slurm(0, 0, 2), count: nil) == SweepShard(index: 1, count: 3))
        #expect(try SweepShard.fromEnvironment(slurm(2, 0, 2), count: nil) == SweepShard(index: 3, count: 3))
        #expect(throws: SweepShard.AutoError.self) { try SweepShard.fromEnvironment(slurm(2, 1, 4), count: 5) }
        #expect(throws: SweepShard.AutoError.self) { try SweepShard.fromEnvironment(slurm(3, 1, 7, step: 2), count: nil) }
        var gappy = slurm(3, 1, 7)
        gappy["SLURM_ARRAY_TASK_COUNT"] = "4"
        #expect(throws: SweepShard.AutoError.self) { try SweepShard.fromEnvironment(gappy, count: nil) }
        #expect(throws: SweepShard.AutoError.self) { try SweepShard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "2"], count: nil) }
        #expect(throws: SweepShard.AutoError.self) { try SweepShard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "x2"], count: nil) }
        #expect(try SweepShard.fromEnvironment(["JOB_COMPLETION_INDEX": "0"], count: 5) == SweepShard(index: 1, count: 5))
        #expect(try SweepShard.fromEnvironment(["JOB_COMPLETION_INDEX": "4"], count: 5) == SweepShard(index: 5, count: 5))
        #expect(throws: SweepShard.AutoError.self) { try SweepShard.fromEnvironment(["JOB_COMPLETION_INDEX": "5"], count: 5) }
        #expect(throws: SweepShard.AutoError.self) { try SweepShard.fromEnvironment(["JOB_COMPLETION_INDEX": "1"], count: nil) }
        #expect(throws: SweepShard.AutoError.self) { try SweepShard.fromEnvironment(["PATH": "/bin"], count: 3) }
        // Every task of an array covers the runs exactly once.
        let covered = (1...4).flatMap { try! SweepShard.fromEnvironment(slurm($0, 1, 4), count: nil).range(runs: 10) }
        #expect(covered == Array(0..<10))
    }
}
