/// Merges the per-run CSVs of a sweep's shards (`itpump sweep merge`): every shard 1…N of one sweep,
/// each exactly once, each holding exactly its runs. Anything else is refused with an error naming the
/// file (or the missing shard), so a merged summary is never silently built from part of a sweep.
public struct SweepMerge {
    /// Why shards cannot be merged; each names the file or shard and says what to do.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case unreadable(file: String, reason: String)
        case foreign(file: String, field: String, value: String, expected: String, reference: String)
        case duplicate(file: String, shard: String, other: String)
        case missing(shards: [String])
        case badRow(file: String, line: Int, reason: String)
        case wrongRuns(file: String, shard: String, expected: Range<Int>, reason: String)

        public var description: String {
            switch self {
            case let .unreadable(f, r): return "\(f): \(r)"
            case let .foreign(f, field, v, x, ref):
                return "\(f): a foreign shard: its \(field) is `\(v)`, \(ref)'s is `\(x)`; merge only the shards of one sweep run"
            case let .duplicate(f, shard, other): return "\(f): shard \(shard) again (also \(other)); merge each shard once"
            case let .missing(s):
                return "missing shard\(s.count == 1 ? "" : "s") \(s.joined(separator: ", ")); run \(s.count == 1 ? "it" : "them") with `itpump sweep SWEEP --shard I/N --out DIR` and merge every shard"
            case let .badRow(f, l, r): return "\(f):\(l): \(r)"
            case let .wrongRuns(f, shard, x, r):
                return "\(f): shard \(shard) must hold runs \(x.lowerBound)..<\(x.upperBound) in order, but \(r); rerun that shard"
            }
        }
    }

    /// The merged sweep's header (shard 1/1).
    public private(set) var header: SweepCSVHeader
    /// The merged rows, in run order.
    public private(set) var rows: [SweepRow] = []
    public private(set) var summary = SweepSummary()

    /// The merged per-run CSV: byte-identical to the unsharded sweep's `runs.csv`.
    public var csv: String { header.text + rows.map { $0.csv + "\n" }.joined() }

    /// Merges `files` (path and contents, in any order).
    public init(files: [(path: String, text: String)]) throws(Failure) {
        var shards: [(path: String, header: SweepCSVHeader, lines: ArraySlice<Substring>, firstLine: Int)] = []
        for f in files {
            let lines = ArraySlice(f.text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(f.text.hasSuffix("\n") ? 1 : 0))
            let parsed: (header: SweepCSVHeader, lineCount: Int)
            do { parsed = try SweepCSVHeader.parse(lines) } catch { throw .unreadable(file: f.path, reason: error.description) }
            shards.append((f.path, parsed.header, lines.dropFirst(parsed.lineCount), parsed.lineCount + 1))
        }
        guard let reference = shards.first else { throw .missing(shards: ["(no files given)"]) }
        let refIdentity = reference.header.identity
        var byIndex: [Int: String] = [:]
        for s in shards {
            for (a, b) in zip(s.header.identity, refIdentity) where a.value != b.value {
                throw .foreign(file: s.path, field: a.field, value: a.value, expected: b.value, reference: reference.path)
            }
            let name = "\(s.header.shardIndex)/\(s.header.shardCount)"
            if let other = byIndex[s.header.shardIndex] { throw .duplicate(file: s.path, shard: name, other: other) }
            byIndex[s.header.shardIndex] = s.path
        }
        let count = reference.header.shardCount
        // At most the first 10 absent shards are named: a header claiming 2^62 shards is refused at
        // once, not after enumerating them.
        let absent = Array((1...count).lazy.filter { byIndex[$0] == nil }.prefix(10))
        if !absent.isEmpty {
            throw .missing(shards: absent.map { i in
                let r = SweepCSVHeader.range(shard: i, of: count, runs: reference.header.runs)
                return "\(i)/\(count) (runs-\(i)-of-\(count).csv, runs \(r.lowerBound)..<\(r.upperBound))"
            })
        }
        header = reference.header
        header.shardIndex = 1
        header.shardCount = 1
        rows.reserveCapacity(min(header.runs, 1 << 16))  // a header may claim any number of runs
        for s in shards.sorted(by: { $0.header.shardIndex < $1.header.shardIndex }) {
            let expected = s.header.range
            let name = "\(s.header.shardIndex)/\(s.header.shardCount)"
            var next = expected.lowerBound
            for (k, line) in s.lines.enumerated() {
                let row: SweepRow
                do { row = try SweepRow(csv: line) } catch { throw .badRow(file: s.path, line: s.firstLine + k, reason: error.description) }
                guard row.run == next, expected.contains(row.run) else {
                    throw .wrongRuns(file: s.path, shard: name, expected: expected, reason: "line \(s.firstLine + k) holds run \(row.run)")
                }
                rows.append(row)
                summary.add(row)
                next += 1
            }
            guard next == expected.upperBound else {
                throw .wrongRuns(file: s.path, shard: name, expected: expected, reason: "it ends after run \(next - 1) (cut short?)")
            }
        }
    }
}
