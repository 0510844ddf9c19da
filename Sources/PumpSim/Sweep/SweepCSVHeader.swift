import PumpCore

/// The lines `# key: value` that open a sweep's per-run CSV (`runs.csv` or `runs-I-of-N.csv`): which
/// sweep the rows belong to (program version, the sweep file's SHA-256, name, seed, duration, runs,
/// fidelity, withdrawal-risk threshold) and which shard I/N of it they are. `itpump sweep merge` reads
/// them to refuse a missing, duplicate or foreign shard and to keep the sweep's header; a merged CSV
/// carries shard 1/1 and is byte-identical to the unsharded sweep's.
public struct SweepCSVHeader: Hashable, Sendable {
    public var version: String
    public var sweepSHA256: String
    public var name: String
    public var seed: UInt64
    /// The duration of each run, as the sweep file writes durations (e.g. `180d`).
    public var duration: String
    public var runs: Int
    public var fidelity: String
    /// The withdrawal-risk threshold as a fraction of the prescribed dose's steady state (e.g. `0.5`).
    public var withdrawalThreshold: String
    /// The shard these rows are, 1-based; 1/1 for a whole sweep.
    public var shardIndex: Int
    public var shardCount: Int

    public init(version: String = ITPumpVersion.current, sweepSHA256: String, name: String, seed: UInt64, duration: String, runs: Int,
                fidelity: String, withdrawalThreshold: String, shardIndex: Int = 1, shardCount: Int = 1) {
        self.version = version
        self.sweepSHA256 = sweepSHA256
        self.name = name
        self.seed = seed
        self.duration = duration
        self.runs = runs
        self.fidelity = fidelity
        self.withdrawalThreshold = withdrawalThreshold
        self.shardIndex = shardIndex
        self.shardCount = shardCount
    }

    /// The header of `plan`'s shard `index`/`count` (1-based) run at `fidelity`.
    public init(plan: SweepPlan, sweepSHA256: String, fidelity: Fidelity, shardIndex: Int = 1, shardCount: Int = 1) {
        self.init(sweepSHA256: sweepSHA256, name: plan.name, seed: plan.seed, duration: plan.duration.description, runs: plan.runs,
                  fidelity: fidelity.rawValue, withdrawalThreshold: plan.base.pk.withdrawalFraction.description,
                  shardIndex: shardIndex, shardCount: shardCount)
    }

    /// The runs shard I/N holds: ⌊(I−1)·R/N⌋ ..< ⌊I·R/N⌋ (0-based run indices).
    /// Full-width products, so no `--shard` or header value (1 ≤ I ≤ N, R ≥ 0) overflows: ⌊I·R/N⌋ ≤ R.
    public static func range(shard index: Int, of count: Int, runs: Int) -> Range<Int> {
        func cut(_ i: Int) -> Int { count.dividingFullWidth(i.multipliedFullWidth(by: runs)).quotient }
        return cut(index - 1)..<cut(index)
    }

    public var range: Range<Int> { Self.range(shard: shardIndex, of: shardCount, runs: runs) }

    /// Fields whose values must agree for two shards to be of one sweep, with their values.
    public var identity: [(field: String, value: String)] {
        [("version", version), ("sweep_sha256", sweepSHA256), ("sweep", name), ("seed", String(seed)), ("duration", duration),
         ("runs", String(runs)), ("fidelity", fidelity), ("withdrawal_threshold", withdrawalThreshold), ("shards", String(shardCount))]
    }

    /// The header lines, each ending in a newline, followed by the CSV's column line.
    public var text: String {
        var s = "# itpump sweep runs\n"
        for (k, v) in identity where k != "shards" { s += "# \(k): \(v.replacingNewlines())\n" }
        s += "# shard: \(shardIndex)/\(shardCount)\n"
        return s + SweepRow.header + "\n"
    }

    /// Why the top of a file is not a sweep CSV header.
    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads the header from a CSV's first lines; `lines` must start at the file's first line.
    /// Returns the header and the number of lines it takes (the column line included).
    public static func parse(_ lines: ArraySlice<Substring>) throws(ParseError) -> (header: SweepCSVHeader, lineCount: Int) {
        guard lines.first == "# itpump sweep runs" else {
            throw ParseError(description: "not a per-run CSV of `itpump sweep --out` (its first line is not `# itpump sweep runs`)")
        }
        var fields: [String: String] = [:]
        var n = 1
        for line in lines.dropFirst() {
            guard line.hasPrefix("# ") else { break }
            n += 1
            let body = line.dropFirst(2)
            guard let colon = body.firstIndex(of: ":") else { throw ParseError(description: "line \(n): `\(line)` is not `# key: value`") }
            fields[String(body[..<colon])] = String(body[body.index(after: colon)...].drop { $0 == " " })
        }
        func field(_ k: String) throws(ParseError) -> String {
            guard let v = fields[k] else { throw ParseError(description: "the header lacks `# \(k):`") }
            return v
        }
        let shard = try field("shard").split(separator: "/")
        guard shard.count == 2, let i = Int(shard[0]), let c = Int(shard[1]), c >= 1, (1...c).contains(i) else {
            throw ParseError(description: "`# shard: \(fields["shard"] ?? "")` is not I/N with 1 ≤ I ≤ N")
        }
        guard let seed = UInt64(try field("seed")) else { throw ParseError(description: "`# seed:` is not a whole number") }
        guard let runs = Int(try field("runs")), runs >= 1 else { throw ParseError(description: "`# runs:` is not a positive whole number") }
        let h = SweepCSVHeader(version: try field("version"), sweepSHA256: try field("sweep_sha256"), name: try field("sweep"), seed: seed,
                               duration: try field("duration"), runs: runs, fidelity: try field("fidelity"),
                               withdrawalThreshold: try field("withdrawal_threshold"), shardIndex: i, shardCount: c)
        let columns = lines.dropFirst(n).first
        guard columns == Substring(SweepRow.header) else {
            throw ParseError(description: "line \(n + 1): the column line differs from this version's (\(SweepRow.header))")
        }
        return (h, n + 1)
    }
}

extension String {
    func replacingNewlines() -> String { String(map { $0 == "\n" || $0 == "\r" ? " " : $0 }) }
}
