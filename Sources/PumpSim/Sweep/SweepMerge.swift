import Glibc

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
    /// The merged rows, in run order (kept by `init(files:)` only; `init(sources:row:)` hands each on).
    public private(set) var rows: [SweepRow] = []
    public private(set) var summary = SweepSummary()

    /// The merged per-run CSV of `init(files:)`: byte-identical to the unsharded sweep's `runs.csv`.
    public var csv: String { header.text + rows.map { $0.csv + "\n" }.joined() }

    /// Merges `files` (path and contents, in any order), keeping every row.
    public init(files: [(path: String, text: String)]) throws(Failure) {
        var kept: [SweepRow] = []
        try self.init(sources: files.map { TextShardSource(path: $0.path, text: $0.text) }) { row, _ in kept.append(row) }
        rows = kept
    }

    /// Merges the shards `sources` reads (in any order), holding one line at a time: the headers are
    /// read and the set checked first (foreign, duplicate and missing shards are refused before any
    /// row), then each shard's rows in shard order, each checked (its run is the next of its shard's
    /// range) and handed to `row` with its CSV line, in run order. `row` is called only for rows of a
    /// complete set; a shard cut short or a bad row throws after the rows before it were handed on, so
    /// a caller writing them must discard what it wrote when this throws.
    public init(sources: [any SweepShardSource], row: (SweepRow, Substring) -> Void) throws(Failure) {
        var shards: [(source: any SweepShardSource, header: SweepCSVHeader, firstLine: Int)] = []
        for var source in sources {
            var lines: [Substring] = []
            // The header: the first line, the `# key: value` lines, and the column line.
            while let line = try source.nextLine() {
                lines.append(line)
                if lines.count == 1 && line != "# itpump sweep runs" { break }
                if lines.count > 1 && !line.hasPrefix("# ") { break }
                if lines.count > 64 { break }
            }
            let parsed: (header: SweepCSVHeader, lineCount: Int)
            do { parsed = try SweepCSVHeader.parse(ArraySlice(lines)) } catch { throw .unreadable(file: source.path, reason: error.description) }
            shards.append((source, parsed.header, parsed.lineCount + 1))
        }
        guard let reference = shards.first else { throw .missing(shards: ["(no files given)"]) }
        let refPath = reference.source.path
        let refIdentity = reference.header.identity
        var byIndex: [Int: String] = [:]
        for s in shards {
            for (a, b) in zip(s.header.identity, refIdentity) where a.value != b.value {
                throw .foreign(file: s.source.path, field: a.field, value: a.value, expected: b.value, reference: refPath)
            }
            let name = "\(s.header.shardIndex)/\(s.header.shardCount)"
            if let other = byIndex[s.header.shardIndex] { throw .duplicate(file: s.source.path, shard: name, other: other) }
            byIndex[s.header.shardIndex] = s.source.path
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
        for var s in shards.sorted(by: { $0.header.shardIndex < $1.header.shardIndex }) {
            let expected = s.header.range
            let name = "\(s.header.shardIndex)/\(s.header.shardCount)"
            var next = expected.lowerBound
            var lineNumber = s.firstLine
            while let line = try s.source.nextLine() {
                let parsed: SweepRow
                do { parsed = try SweepRow(csv: line) } catch { throw .badRow(file: s.source.path, line: lineNumber, reason: error.description) }
                guard parsed.run == next, expected.contains(parsed.run) else {
                    throw .wrongRuns(file: s.source.path, shard: name, expected: expected, reason: "line \(lineNumber) holds run \(parsed.run)")
                }
                row(parsed, line)
                summary.add(parsed)
                next += 1
                lineNumber += 1
            }
            guard next == expected.upperBound else {
                throw .wrongRuns(file: s.source.path, shard: name, expected: expected, reason: "it ends after run \(next - 1) (cut short?)")
            }
        }
    }
}

/// The lines of one shard's per-run CSV, in order, for `SweepMerge`.
public protocol SweepShardSource {
    /// The file, as errors name it.
    var path: String { get }
    /// The next line without its newline; nil at the end (a last line without a newline is a line).
    mutating func nextLine() throws(SweepMerge.Failure) -> Substring?
}

/// A shard's text held in memory.
public struct TextShardSource: SweepShardSource {
    public let path: String
    private var lines: ArraySlice<Substring>

    public init(path: String, text: String) {
        self.path = path
        lines = ArraySlice(text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0))
    }

    public mutating func nextLine() throws(SweepMerge.Failure) -> Substring? { lines.popFirst() }
}

/// A shard read from its file a block at a time, so a merge of any size holds one block and one line.
public struct FileShardSource: SweepShardSource {
    public let path: String
    /// The longest line accepted: a row is a few hundred bytes; a file without newlines is no shard.
    public static let maximumLine = 1 << 20
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    /// Opens `path` for reading; `close()` it when done.
    public init(path: String) throws(SweepMerge.Failure) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .unreadable(file: path, reason: "cannot be read (missing, or not a readable file)") }
    }

    public func close() { _ = Glibc.close(fd) }

    public mutating func nextLine() throws(SweepMerge.Failure) -> Substring? {
        while true {
            if let nl = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                defer { start = nl + 1 }
                return Substring(decoding: buffer[start..<nl], as: UTF8.self)
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count }
                return Substring(decoding: buffer[start...], as: UTF8.self)
            }
            guard buffer.count - start <= Self.maximumLine else {
                throw .unreadable(file: path, reason: "a line longer than \(Self.maximumLine) bytes: not a per-run CSV of `itpump sweep --out`")
            }
            buffer.removeFirst(start)
            start = 0
            let old = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: 1 << 16))
            var n: Int
            repeat { n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + old, 1 << 16) } } while n < 0 && errno == EINTR
            if n < 0 { throw .unreadable(file: path, reason: "a read failed (\(String(cString: strerror(errno))))") }
            buffer.removeLast((1 << 16) - n)
            if n == 0 { atEnd = true }
        }
    }
}
