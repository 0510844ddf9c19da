import Foundation
import Testing
@testable import ITPumpFiles

/// Hostile inputs and hostile output destinations, through the `itpump` binary where the defect was
/// seen through it: a clear error naming the file, a non-zero status (1, never a trap), no hang, no
/// unbounded read, and no partial output file left behind.
@Suite("Hostile inputs and outputs (binary)", .serialized)
struct HostileInputTests {
    struct Outcome {
        var status: Int32
        var reason: Process.TerminationReason
        var stdout: String
        var stderr: String
    }

    /// Runs `itpump` (or, with `shell`, `/bin/sh -c shell` with `$ITPUMP` set) and kills it after
    /// `timeout` seconds, so a hang fails the test instead of hanging the suite.
    static func run(_ arguments: [String], shell: String? = nil, stdout: FileHandle? = nil, stderr: FileHandle? = nil,
                    timeout: Double = 60) throws -> Outcome {
        let p = Process()
        if let shell {
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", shell]
            p.environment = ProcessInfo.processInfo.environment.merging(["ITPUMP": CLIOutputTests.itpump]) { $1 }
        } else {
            p.executableURL = URL(fileURLWithPath: CLIOutputTests.itpump)
            p.arguments = arguments
        }
        p.currentDirectoryURL = URL(fileURLWithPath: CLIOutputTests.root)
        let out = Pipe(), err = Pipe()
        p.standardOutput = stdout ?? out
        p.standardError = stderr ?? err
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { p.terminate() }
        let o = stdout == nil ? out.fileHandleForReading.readDataToEndOfFile() : Data()
        let e = stderr == nil ? err.fileHandleForReading.readDataToEndOfFile() : Data()
        p.waitUntilExit()
        return Outcome(status: p.terminationStatus, reason: p.terminationReason,
                       stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func scratch(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("itpump-hostile-\(getpid())-\(name)").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    // MARK: Inputs that are not regular files

    @Test("a FIFO given as the file is refused at once as not a regular file (no hang)")
    func fifo() throws {
        let dir = try Self.scratch("fifo")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkfifo(dir + "/pump.yaml", 0o600) == 0)
        for command in ["validate", "simulate", "sweep"] {
            let r = try Self.run([command, dir + "/pump.yaml"], timeout: 20)
            #expect(r.reason == .exit && r.status == 1, "\(command): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("\(dir)/pump.yaml:0: is not a regular file (a device, FIFO or socket)"), "\(command): \(r.stderr)")
        }
    }

    @Test("/dev/zero and /dev/null are refused as devices, not read", arguments: ["/dev/zero", "/dev/null"])
    func devices(path: String) throws {
        let r = try Self.run(["validate", path], timeout: 20)
        #expect(r.reason == .exit && r.status == 1)
        #expect(r.stderr.contains("\(path):0: is not a regular file"), "\(r.stderr)")
    }

    @Test("a symbolic link loop says so, not 'file not found'")
    func symlinkLoop() throws {
        let dir = try Self.scratch("loop")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(symlink(dir + "/b.yaml", dir + "/a.yaml") == 0 && symlink(dir + "/a.yaml", dir + "/b.yaml") == 0)
        let r = try Self.run(["validate", dir + "/a.yaml"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("a.yaml:0: is a symbolic link loop"), "\(r.stderr)")
    }

    @Test("a 5 GB (sparse) file is refused by its size, naming the size and the limit, without reading it")
    func hugeFileRefusedBySize() throws {
        let dir = try Self.scratch("huge")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/huge.yaml"
        #expect(FileManager.default.createFile(atPath: path, contents: Data("kind: pump\n".utf8)))
        #expect(truncate(path, 5 << 30) == 0)
        let started = Date()
        let r = try Self.run(["validate", path], timeout: 30)
        #expect(r.status == 1)
        #expect(r.stderr.contains("huge.yaml:0: the file is too large for an itpump file"), "\(r.stderr)")
        #expect(r.stderr.contains("value: 5368709120 bytes; allowed: at most 4194304 bytes"), "\(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 20, "the file was read, not refused by its size")
    }

    @Test("the reader refuses a file grown past the limit and bytes that are not UTF-8, naming the file")
    func readerLimits() throws {
        let dir = try Self.scratch("reader")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let big = dir + "/big.yaml"
        #expect(FileManager.default.createFile(atPath: big, contents: Data(repeating: UInt8(ascii: "#"), count: DocumentLoader.maximumBytes + 1)))
        guard case let .failure(d) = DocumentLoader.text(ofFile: big) else { Issue.record("accepted"); return }
        #expect(d.file == big && d.message.contains("too large") && d.allowed.contains("\(DocumentLoader.maximumBytes)"))
        let exact = dir + "/exact.yaml"
        #expect(FileManager.default.createFile(atPath: exact, contents: Data(repeating: UInt8(ascii: "#"), count: DocumentLoader.maximumBytes)))
        guard case let .success(text) = DocumentLoader.text(ofFile: exact) else { Issue.record("refused at the limit"); return }
        #expect(text.utf8.count == DocumentLoader.maximumBytes)
        let bad = dir + "/bad.yaml"
        #expect(FileManager.default.createFile(atPath: bad, contents: Data([0x6B, 0x3A, 0x20, 0xFF, 0xFE, 0x0A])))
        guard case let .failure(u) = DocumentLoader.text(ofFile: bad) else { Issue.record("accepted"); return }
        #expect(u.file == bad && u.message.contains("not UTF-8"))
    }

    @Test("sweep merge refuses a FIFO, and a 30 MB foreign file by its first line at once")
    func mergeHostileInputs() throws {
        let dir = try Self.scratch("merge")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkfifo(dir + "/runs-1-of-2.csv", 0o600) == 0)
        let f = try Self.run(["sweep", "merge", dir + "/runs-1-of-2.csv"], timeout: 20)
        #expect(f.reason == .exit && f.status == 1)
        #expect(f.stderr.contains("runs-1-of-2.csv: is not a regular file"), "\(f.stderr)")
        let big = dir + "/big.csv"
        #expect(FileManager.default.createFile(atPath: big, contents: Data("kind: pump\n# ".utf8) + Data(repeating: UInt8(ascii: "x"), count: 30 << 20)))
        let started = Date()
        let b = try Self.run(["sweep", "merge", big], timeout: 60)
        #expect(b.status == 1)
        #expect(b.stderr.contains("big.csv: not a per-run CSV of `itpump sweep --out`"), "\(b.stderr)")
        #expect(Date().timeIntervalSince(started) < 5, "the whole file was decoded before its first line was checked")
    }

    @Test("--shard at Int.max/Int.max runs the one last run, no overflow trap")
    func hugeShard() throws {
        let r = try Self.run(["sweep", "profiles/sweeps/late-refills-small.yaml", "--runs", "12", "--jobs", "1",
                              "--shard", "9223372036854775807/9223372036854775807"])
        #expect(r.reason == .exit && r.status == 0, "\(r.reason) \(r.status) \(r.stderr)")
        #expect(r.stdout.contains("runs 11..<12 of 12"), "\(r.stdout)")
    }

    @Test("sweep merge of a shard whose header claims 2^63−1 shards and runs: refused at once naming the missing ones")
    func hostileShardHeader() throws {
        let dir = try Self.scratch("header")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try Self.run(["sweep", "profiles/sweeps/late-refills-small.yaml", "--runs", "4", "--jobs", "1", "--shard", "1/2", "--out", dir])
        #expect(w.status == 0)
        let csv = try String(contentsOfFile: dir + "/runs-1-of-2.csv", encoding: .utf8)
            .replacingOccurrences(of: "# shard: 1/2\n", with: "# shard: 1/9223372036854775807\n")
            .replacingOccurrences(of: "# runs: 4\n", with: "# runs: 9223372036854775807\n")
        try csv.write(toFile: dir + "/hostile.csv", atomically: true, encoding: .utf8)
        let started = Date()
        let r = try Self.run(["sweep", "merge", dir + "/hostile.csv"], timeout: 30)
        #expect(r.reason == .exit && r.status == 1, "\(r.reason) \(r.status)")
        #expect(r.stderr.contains("missing shards 2/9223372036854775807 (runs-2-of-9223372036854775807.csv, runs 1..<2)"), "\(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 10)
    }

    // MARK: Outputs that cannot be written

    @Test("simulate --out past the file size limit fails naming the file, exit 1, and leaves no report files")
    func simulateOutFileSizeLimit() throws {
        let dir = try Self.scratch("fsize-sim")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 20 × 512-byte blocks: report.txt and report.json fit, series.csv (stroke fidelity) does not.
        let r = try Self.run([], shell: "ulimit -f 20; exec \"$ITPUMP\" simulate profiles/scenarios/occlusion.yaml --fidelity stroke --out '\(dir)/o'")
        #expect(r.reason == .exit && r.status == 1, "killed or wrong status: \(r.reason) \(r.status)")
        #expect(r.stderr.contains("\(dir)/o/series.csv: cannot be written: the file size limit was reached"), "\(r.stderr)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/o")) ?? []
        #expect(left.isEmpty, "files left behind: \(left)")
    }

    @Test("sweep --out past the file size limit leaves no runs.csv, summary or temporary file")
    func sweepOutFileSizeLimit() throws {
        let dir = try Self.scratch("fsize-sweep")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Self.run([], shell: "ulimit -f 2; exec \"$ITPUMP\" sweep profiles/sweeps/late-refills-small.yaml --runs 24 --jobs 1 --out '\(dir)/s'")
        #expect(r.reason == .exit && r.status == 1, "killed or wrong status: \(r.reason) \(r.status)")
        #expect(r.stderr.contains("cannot be written: the file size limit was reached"), "\(r.stderr)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/s")) ?? []
        #expect(left.isEmpty, "files left behind: \(left)")
    }

    @Test("--out onto a directory where a report file goes is refused naming it, nothing else left")
    func outFileIsADirectory() throws {
        let dir = try Self.scratch("dir-in-way")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/o/plot.svg", withIntermediateDirectories: true)
        let r = try Self.run(["simulate", "profiles/scenarios/occlusion.yaml", "--out", dir + "/o"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(dir)/o/plot.svg: cannot be written: a directory of that name is in the way"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/o") == ["plot.svg"])
    }

    @Test("a standard output that cannot be written (/dev/full) is exit 1 with a message, not a silent 0")
    func stdoutFull() throws {
        guard let full = FileHandle(forWritingAtPath: "/dev/full") else { return }
        for args in [["simulate", "profiles/scenarios/occlusion.yaml"], ["validate", "profiles/pumps/bench20.yaml"]] {
            let r = try Self.run(args, stdout: full)
            #expect(r.status == 1, "\(args): \(r.status)")
            #expect(r.stderr.contains("standard output: cannot be written"), "\(r.stderr)")
        }
    }

    @Test("a standard error that cannot be written (/dev/full) does not turn a diagnostic into a trap")
    func stderrFull() throws {
        guard let full = FileHandle(forWritingAtPath: "/dev/full") else { return }
        let r = try Self.run(["validate", "/dev/null"], stderr: full)
        #expect(r.reason == .exit && r.status == 1, "\(r.reason) \(r.status)")
    }
}

/// Hostile YAML through the one reader every loader uses.
@Suite("Hostile YAML")
struct HostileYAMLTests {
    static func validate(_ text: String) -> [Diagnostic] {
        FileKinds.validate(text: text, file: "h.yaml", directory: ".")
    }

    @Test("100,000 nested brackets: one diagnostic saying how deep is allowed, no stack overflow")
    func deepNesting() {
        let d = Self.validate("kind: pump\nx: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n")
        #expect(d.count == 1)
        #expect(d.first?.message.contains("nested deeper than the YAML reader allows (an itpump file is at most \(DocumentLoader.maximumDepth) levels deep)") == true, "\(d)")
    }

    @Test("a billion-laughs alias bomb is refused by the node budget, not expanded")
    func aliasBomb() {
        var text = "kind: pump\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        var previous = "a"
        for i in 1...9 {
            text += "l\(i): &l\(i) [\(Array(repeating: "*" + previous, count: 9).joined(separator: ","))]\n"
            previous = "l\(i)"
        }
        let d = Self.validate(text)
        #expect(d.count == 1 && d.first?.message.contains("too large or too deeply nested once aliases are expanded") == true, "\(d)")
    }

    @Test("two documents, a duplicated key and a NUL byte are each one clear diagnostic", arguments: [
        ("kind: pump\n---\nkind: pump\n", "expected a single document"),
        ("kind: pump\nkind: pump\n", "duplicated keys kind"),
        ("kind: pump\nname: a\u{0}b\n", "NUL byte"),
    ])
    func refusedDocuments(text: String, message: String) {
        let d = Self.validate(text)
        #expect(d.count == 1 && d.first?.message.contains(message) == true, "\(d)")
    }
}

@Suite("Hostile history arguments (binary)")
struct HostileHistoryArgumentTests {
    @Test("history --since past the largest instant is a usage error (64) with the range, not a trap",
          arguments: ["106752d", "99999999999999999999d", "-5"])
    func sinceOutOfRange(since: String) throws {
        let r = try HostileInputTests.run(["history", "--journal", "/nonexistent.journal", "--since=\(since)"])
        #expect(r.reason == .exit && r.status == 64, "\(r.reason) \(r.status) \(r.stderr)")
        #expect(r.stderr.contains("is outside the allowed range 0 … 106751d23h47m16s"), "\(r.stderr)")
    }

    @Test("history --kind unknown is a usage error (64) naming the allowed kinds, before the journal is opened")
    func unknownKind() throws {
        let r = try HostileInputTests.run(["history", "--journal", "/nonexistent.journal", "--kind", "nope"])
        #expect(r.status == 64, "\(r.status) \(r.stderr)")
        #expect(r.stderr.contains("unknown event kind 'nope'; use one of: alarms"), "\(r.stderr)")
    }
}

@Suite("Hostile hil trace input (binary)")
struct HostileTraceTests {
    @Test("hil trace on a missing file, a directory or a FIFO is a data failure (exit 1) naming the file, not a usage error",
          arguments: ["/nonexistent/trace", "/tmp", "fifo"])
    func unreadableTrace(path: String) throws {
        var file = path
        if path == "fifo" {
            let dir = try HostileInputTests.scratch("trace")
            file = dir + "/trace"
            #expect(mkfifo(file, 0o600) == 0)
        }
        defer { if path == "fifo" { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: file).deletingLastPathComponent().path) } }
        let r = try HostileInputTests.run(["hil", "trace", file, "--gpio", "1"], timeout: 20)
        #expect(r.reason == .exit && r.status == 1, "\(r.reason) \(r.status) \(r.stderr)")
        #expect(r.stderr.contains("\(file): cannot be read"), "\(r.stderr)")
        #expect(!r.stderr.contains("Usage:"), "\(r.stderr)")
    }

    @Test("hil trace on a file that is not a kernel trace is a data failure naming the file, not \"0 writes\"")
    func notATrace() throws {
        let dir = try HostileInputTests.scratch("not-a-trace")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/notes.txt"
        try "just some notes\nno trace here\n".write(toFile: file, atomically: true, encoding: .utf8)
        let r = try HostileInputTests.run(["hil", "trace", file, "--gpio", "1"], timeout: 20)
        #expect(r.reason == .exit && r.status == 1, "\(r.reason) \(r.status) \(r.stderr)")
        #expect(r.stderr.contains("\(file): not a kernel trace"), "\(r.stderr)")
        #expect(!r.stdout.contains("0 writes"), "\(r.stdout)")
    }

    @Test("hil trace on an empty trace counts zero; on a trace without the asked line it warns which lines it has")
    func emptyTraceAndOtherLine() throws {
        let dir = try HostileInputTests.scratch("empty-trace")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let empty = dir + "/empty"
        try "# tracer: nop\n#\n".write(toFile: empty, atomically: true, encoding: .utf8)
        let r = try HostileInputTests.run(["hil", "trace", empty, "--gpio", "1"], timeout: 20)
        #expect(r.reason == .exit && r.status == 0, "\(r.reason) \(r.status) \(r.stderr)")
        #expect(r.stdout.contains("line 1: 0 writes"), "\(r.stdout)")
        let other = dir + "/other"
        try "# tracer: nop\n  itpump-1 [000] .....   12.000001: gpio_value: 7 set 1\n".write(toFile: other, atomically: true, encoding: .utf8)
        let o = try HostileInputTests.run(["hil", "trace", other, "--gpio", "1"], timeout: 20)
        #expect(o.reason == .exit && o.status == 0, "\(o.reason) \(o.status) \(o.stderr)")
        #expect(o.stderr.contains("no event for GPIO 1; it has events for GPIO 7"), "\(o.stderr)")
    }
}
