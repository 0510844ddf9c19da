import Foundation
import Testing
import PumpCore
@testable import PumpJournal
#if canImport(Glibc)
import Glibc
#endif

/// The journal's guarantees seen through the real binary, where the defects were seen: `itpump run`
/// on the simulated pump, `itpump journal …` and `itpump history`.
@Suite("Journal through the binary", .serialized)
struct JournalBinaryTests {
    static var itpump: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("itpump").path
    }
    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// A short-lived `itpump` command: its exit status and what it printed. Output goes through files
    /// (two pipes read one after the other could fill and hang).
    static func run(_ arguments: [String], asNobody: Bool = false) throws -> (status: Int32, out: String, err: String) {
        let dir = try temporaryDirectory()
        let p = Process()
        if asNobody {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            p.arguments = ["--reuid", "65534", "--regid", "65534", "--clear-groups", itpump] + arguments
        } else {
            p.executableURL = URL(fileURLWithPath: itpump)
            p.arguments = arguments
        }
        FileManager.default.createFile(atPath: dir + "/out", contents: nil)
        FileManager.default.createFile(atPath: dir + "/err", contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/out"))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/err"))
        try p.run()
        p.waitUntilExit()
        let read = { (f: String) in (try? String(contentsOfFile: dir + "/" + f, encoding: .utf8)) ?? "" }
        return (p.terminationStatus, read("out"), read("err"))
    }

    /// An `itpump run --backend sim` on `journal`, its stderr in `dir/run-N.log`.
    final class Runner {
        let process = Process()
        let socket: String
        let log: String
        init(dir: String, journal: String, create: Bool, name: String, timeScale: Int = 20_000) throws {
            socket = dir + "/s-\(name)/c.sock"
            log = dir + "/\(name).log"
            process.executableURL = URL(fileURLWithPath: JournalBinaryTests.itpump)
            process.arguments = ["run", "--backend", "sim", "--rig", root + "/profiles/rigs/raspberry-pi.yaml",
                                 "--prescription", root + "/profiles/prescriptions/spinal-600.yaml", "--journal", journal,
                                 "--time-scale", String(timeScale), "--socket", socket, "--log-level", "notice"]
                + (create ? ["--create-journal"] : [])
            FileManager.default.createFile(atPath: log, contents: nil)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            try process.run()
        }
        var pid: Int32 { process.processIdentifier }
        var stderr: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        /// True once the runner answers `status` (it has opened or created its journal).
        func ready(within seconds: Double = 30) throws -> Bool {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end && process.isRunning {
                if try JournalBinaryTests.run(["ctl", "--socket", socket, "status"]).status == 0 { return true }
                usleep(50_000)
            }
            return false
        }
        func signal(_ s: Int32) { _ = kill(pid, s); process.waitUntilExit() }
        /// Waits for the process to end by itself (at most `seconds`); kills it if it does not.
        func exit(within seconds: Double) -> Bool {
            let end = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < end { usleep(20_000) }
            if process.isRunning { signal(SIGKILL); return false }
            return true
        }
    }

    static func binaryBuilt() -> Bool {
        FileManager.default.isExecutableFile(atPath: itpump)
    }

    @Test("a second itpump run and a journal migrate refuse, naming the runner's PID; history, verify and backup read alongside")
    func secondRunnerRefused() throws {
        try #require(Self.binaryBuilt(), "build itpump first: swift build --build-tests")
        let dir = try temporaryDirectory()
        let journal = dir + "/pump.journal"
        let first = try Runner(dir: dir, journal: journal, create: true, name: "first")
        defer { if first.process.isRunning { first.signal(SIGKILL) } }
        #expect(try first.ready(), "\(first.stderr)")
        let second = try Runner(dir: dir, journal: journal, create: false, name: "second")
        #expect(second.exit(within: 30))
        #expect(second.process.terminationStatus != 0)
        #expect(second.stderr.contains("process \(first.pid) holds its writer lock"), "\(second.stderr)")
        let migrate = try Self.run(["journal", "migrate", journal])
        #expect(migrate.status != 0 && migrate.err.contains("process \(first.pid)"), "\(migrate)")
        #expect(first.process.isRunning)
        // Each read is one snapshot: never a checkpoint paired with a later progress row, however
        // fast the runner commits (20,000×).
        for _ in 0..<20 {
            let history = try Self.run(["history", "--journal", journal])
            #expect(history.status == 0, "\(history)")
        }
        let verify = try Self.run(["journal", "verify", journal])
        #expect(verify.status == 0 && verify.out.contains("OK"), "\(verify)")
        let backup = try Self.run(["journal", "backup", journal, dir + "/copy.journal"])
        #expect(backup.status == 0 && backup.out.contains("OK"), "\(backup)")
        #expect(try Self.run(["journal", "verify", dir + "/copy.journal"]).status == 0)
        // A clean stop folds everything into the main file and releases the lock: its copy alone is whole.
        first.signal(SIGTERM)
        #expect(!FileManager.default.fileExists(atPath: journal + "-wal"), "\(first.stderr)")
        try FileManager.default.copyItem(atPath: journal, toPath: dir + "/clean.journal")
        #expect(try Self.run(["journal", "verify", dir + "/clean.journal"]).status == 0)
        let again = try Runner(dir: dir, journal: journal, create: false, name: "again")
        #expect(try again.ready(), "\(again.stderr)")
        again.signal(SIGTERM)
    }

    @Test("after a crash, a copy of the journal without its -wal is refused by run and verify, with advice; with its -wal it is accepted")
    func copyWithoutWALRefused() throws {
        try #require(Self.binaryBuilt(), "build itpump first: swift build --build-tests")
        let dir = try temporaryDirectory()
        let journal = dir + "/pump.journal"
        let first = try Runner(dir: dir, journal: journal, create: true, name: "first")
        #expect(try first.ready(), "\(first.stderr)")
        usleep(500_000)     // commits pile up in the -wal at 20,000×
        first.signal(SIGKILL)
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/copy", withIntermediateDirectories: false)
        try fm.copyItem(atPath: journal, toPath: dir + "/copy/pump.journal")
        let run = try Runner(dir: dir, journal: dir + "/copy/pump.journal", create: false, name: "copy")
        #expect(run.exit(within: 30))
        #expect(run.process.terminationStatus != 0)
        #expect(run.stderr.contains("copied without its -wal") && run.stderr.contains("itpump journal backup"), "\(run.stderr)")
        let verify = try Self.run(["journal", "verify", dir + "/copy/pump.journal"])
        #expect(verify.status != 0 && verify.err.contains("-wal"), "\(verify)")
        try fm.copyItem(atPath: journal + "-wal", toPath: dir + "/copy/pump.journal-wal")
        #expect(try Self.run(["journal", "verify", dir + "/copy/pump.journal"]).status == 0)
    }

    @Test("itpump run refuses a journal verify calls NOT SOUND and writes nothing to it")
    func runRefusesUnsound() throws {
        try #require(Self.binaryBuilt(), "build itpump first: swift build --build-tests")
        let dir = try temporaryDirectory()
        let journal = dir + "/pump.journal"
        let first = try Runner(dir: dir, journal: journal, create: true, name: "first")
        #expect(try first.ready(), "\(first.stderr)")
        first.signal(SIGTERM)
        do {
            let db = try SQLiteDatabase(path: journal, mode: .readWrite)
            try db.execute("UPDATE events SET at_ns = at_ns - 7200000000000 WHERE seq = (SELECT max(seq) FROM events)")
        }
        #expect(try Self.run(["journal", "verify", journal]).status == 1)
        let size = try FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int
        let run = try Runner(dir: dir, journal: journal, create: false, name: "unsound")
        #expect(run.exit(within: 30))
        #expect(run.process.terminationStatus != 0)
        #expect(run.stderr.contains("refuses to start") && run.stderr.contains("earlier than the event before it"), "\(run.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int == size)
        #expect(try Journal.open(at: journal, access: .readOnly).restarts().isEmpty)
    }

    @Test("verify refuses a progress row 2^62 ns past its checkpoint at once (exit 1, no abort)")
    func verifyBoundsReplay() throws {
        try #require(Self.binaryBuilt(), "build itpump first: swift build --build-tests")
        let dir = try temporaryDirectory()
        let journal = dir + "/pump.journal"
        let first = try Runner(dir: dir, journal: journal, create: true, name: "first")
        #expect(try first.ready(), "\(first.stderr)")
        first.signal(SIGTERM)
        do {
            let db = try SQLiteDatabase(path: journal, mode: .readWrite)
            try db.execute("UPDATE progress SET at_ns = at_ns + 4611686018427387904")
        }
        let start = Date()
        let verify = try Self.run(["journal", "verify", journal])
        #expect(verify.status == 1, "\(verify)")
        #expect(verify.out.contains("NOT SOUND") && verify.out.contains("between full checkpoints"), "\(verify)")
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test("history and verify read a journal on storage they cannot write")
    func readOnlyStorage() throws {
        try #require(Self.binaryBuilt(), "build itpump first: swift build --build-tests")
        let dir = try temporaryDirectory()
        let journal = dir + "/pump.journal"
        let first = try Runner(dir: dir, journal: journal, create: true, name: "first")
        #expect(try first.ready(), "\(first.stderr)")
        first.signal(SIGTERM)
        // Root writes anywhere: read as an unprivileged user from a directory and file it cannot write.
        let asNobody = getuid() == 0
        chmod(dir, 0o755)
        chmod(journal, 0o444)
        if !asNobody { chmod(dir, 0o555) }
        defer { chmod(dir, 0o755) }
        #expect(!FileManager.default.fileExists(atPath: journal + "-wal"))
        let history = try Self.run(["history", "--journal", journal], asNobody: asNobody)
        #expect(history.status == 0 && !history.err.contains("readonly"), "\(history)")
        let verify = try Self.run(["journal", "verify", journal], asNobody: asNobody)
        #expect(verify.status == 0 && verify.out.contains("OK"), "\(verify)")
        #expect(!FileManager.default.fileExists(atPath: journal + "-shm"))
    }

    @Test("the journal and its -wal, -shm and lock files are created 0600 by itpump run")
    func ownerOnly() throws {
        try #require(Self.binaryBuilt(), "build itpump first: swift build --build-tests")
        let dir = try temporaryDirectory()
        let journal = dir + "/pump.journal"
        let first = try Runner(dir: dir, journal: journal, create: true, name: "first")
        defer { if first.process.isRunning { first.signal(SIGTERM) } }
        #expect(try first.ready(), "\(first.stderr)")
        for f in [journal, journal + "-wal", journal + "-shm", journal + ".lock"] {
            #expect(JournalIntegrityTests.mode(f) == 0o600, "\(f)")
        }
    }
}
