import Foundation
@testable import PumpRig
@testable import PumpRuntime
#if canImport(Glibc)
import Glibc
#endif

/// One `itpump run --backend sim` process, for tests through the real binary: its control socket at
/// `dir/s/c.sock`, its state at `dir/state.json`, a journal at `dir/pump.journal` (`journal`), the
/// simulated pump's stroke log at `dir/strokes.log` (`strokeLog: true`). Its standard error is
/// appended to `dir/run.err` (one file over every run in `dir`, so a failing round can be read;
/// `stderr` is this run's part), its standard output to `dir/run.out`.
final class RunningBinary {
    /// How the run uses the journal at `dir/pump.journal`.
    enum JournalUse { case none, create, resume }

    /// The `itpump` built beside the test bundle.
    static var itpump: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("itpump").path
    }
    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
    }

    let process = Process()
    let dir: String
    var socket: String { dir + "/s/c.sock" }
    var journal: String { dir + "/pump.journal" }
    var strokeLog: String { dir + "/strokes.log" }
    var errPath: String { dir + "/run.err" }
    /// Where this run's standard error starts in `errPath`.
    private let errOffset: UInt64
    /// This run's standard error.
    var stderr: String {
        guard let h = FileHandle(forReadingAtPath: errPath) else { return "" }
        defer { try? h.close() }
        try? h.seek(toOffset: errOffset)
        return String(decoding: (try? h.readToEnd()) ?? Data(), as: UTF8.self)
    }

    /// This run's standard output (`dir/run.out`).
    var stdout: String { (try? String(contentsOfFile: dir + "/run.out", encoding: .utf8)) ?? "" }

    /// Starts the run: the Raspberry Pi rig, spinal-600, at `timeScale`, with `extra` appended;
    /// `--state` at `stateFile` (relative to `dir`; nil: none), in `cwd` if given; `launcher` (e.g.
    /// `["/usr/bin/prlimit", "--rtprio=0"]`) runs it through another program. systemd's notification
    /// variables are removed from its environment unless `environment` sets them.
    init(dir: String, journal: JournalUse = .none, timeScale: Int64 = 60, strokesPerStep: Int64? = nil, strokeLog: Bool = false,
         stateFile: String? = "state.json", cwd: String? = nil,
         extra: [String] = [], environment: [String: String] = [:], launcher: [String] = []) throws {
        self.dir = dir
        let root = Self.packageRoot
        var args = ["run", "--backend", "sim", "--rig", root + "/profiles/rigs/raspberry-pi.yaml",
                    "--prescription", root + "/profiles/prescriptions/spinal-600.yaml", "--time-scale", String(timeScale),
                    "--socket", dir + "/s/c.sock", "--log-level", "notice"]
        if let stateFile { args += ["--state", stateFile.hasPrefix("/") ? stateFile : dir + "/" + stateFile] }
        switch journal {
        case .none: break
        case .create: args += ["--journal", dir + "/pump.journal", "--create-journal"]
        case .resume: args += ["--journal", dir + "/pump.journal"]
        }
        if let strokesPerStep { args += ["--strokes-per-step", String(strokesPerStep)] }
        if strokeLog { args += ["--sim-stroke-log", dir + "/strokes.log"] }
        args += extra
        if let first = launcher.first {
            process.executableURL = URL(fileURLWithPath: first)
            process.arguments = Array(launcher.dropFirst()) + [Self.itpump] + args
        } else {
            process.executableURL = URL(fileURLWithPath: Self.itpump)
            process.arguments = args
        }
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = nil
        env["WATCHDOG_USEC"] = nil
        env["WATCHDOG_PID"] = nil
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let errPath = dir + "/run.err"
        if !FileManager.default.fileExists(atPath: errPath) { FileManager.default.createFile(atPath: errPath, contents: nil) }
        FileManager.default.createFile(atPath: dir + "/run.out", contents: nil)
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        errOffset = try err.seekToEnd()
        process.standardError = err
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/run.out"))
        try process.run()
    }

    /// A run in a new temporary directory named after `name`, once it answers `status` (a test
    /// failure, with its standard error, if it does not within 30 s).
    static func started(_ name: String, journal: JournalUse = .none, timeScale: Int64 = 60,
                        extra: [String] = []) throws -> RunningBinary {
        let run = try RunningBinary(dir: try temporaryDirectory(name), journal: journal, timeScale: timeScale, extra: extra)
        guard run.waitUntilListening() else {
            run.stop(SIGKILL)
            throw StartFailure(description: "the runner did not start: \(run.stderr)")
        }
        return run
    }

    struct StartFailure: Error, CustomStringConvertible { let description: String }

    /// A client on the run's socket once it listens (nil if the process ends or `seconds` pass first).
    func connect(within seconds: Double = 20) -> ControlClient? {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end && process.isRunning {
            if let c = try? ControlClient(path: socket, timeoutSeconds: 20) { return c }
            usleep(2_000)
        }
        return nil
    }

    /// True once the control socket answers `status` (false if the process ends or `seconds` pass).
    func waitUntilListening(seconds: Double = 30) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end && process.isRunning {
            if let r = try? ControlClient(path: socket, timeoutSeconds: 5).request(#"{"cmd":"status"}"#), r.contains("\"ok\":true") { return true }
            usleep(20_000)
        }
        return false
    }

    /// One request on a fresh connection.
    func request(_ line: String) throws -> String { try ControlClient(path: socket, timeoutSeconds: 10).request(line) }

    /// `status`'s object (empty if the reply has none).
    func status() throws -> [String: Any] { Reply(try request(#"{"cmd":"status"}"#))?.status ?? [:] }

    /// Polls `status` until `condition` holds; the status then, or nil after `seconds`.
    func waitForStatus(seconds: Double = 20, _ condition: ([String: Any]) -> Bool) throws -> [String: Any]? {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            let s = try status()
            if condition(s) { return s }
            usleep(20_000)
        }
        return nil
    }

    /// Polls `status` until `condition` holds: false after `seconds`.
    func waitUntil(seconds: Double = 20, _ condition: ([String: Any]) -> Bool) throws -> Bool {
        try waitForStatus(seconds: seconds, condition) != nil
    }

    /// Waits until therapy runs (the bring-up has filled, primed and started): false after `seconds`.
    func waitForTherapy(seconds: Double = 60) throws -> Bool {
        try waitUntil(seconds: seconds) {
            ($0["phase"] as? String)?.hasPrefix("running") == true && [nil, "done"].contains($0["bring_up"] as? String)
        }
    }

    /// Sends `signal` and waits for the end; returns the exit status (-1 if killed by a signal).
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM) -> Int32 {
        if process.isRunning { _ = kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        return process.terminationReason == .exit ? process.terminationStatus : -1
    }

    /// Runs to its exit (for a start that should be refused); the exit status.
    func waitForExit(seconds: Double = 60) -> Int32? {
        let end = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < end { usleep(20_000) }
        if process.isRunning { stop(SIGKILL); return nil }
        return process.terminationReason == .exit ? process.terminationStatus : -1
    }

    /// What a one-shot `itpump` invocation printed and how it ended.
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    }

    /// Runs `itpump arguments…` (in `cwd` if given) to its end.
    static func itpump(_ arguments: [String], cwd: String? = nil) throws -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: itpump)
        p.arguments = arguments
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Both pipes drained at once: a child filling one while we wait on the other would block.
        final class Box: @unchecked Sendable { var data = Data() }
        let e = Box(), group = DispatchGroup()
        DispatchQueue.global().async(group: group) { e.data = err.fileHandleForReading.readDataToEndOfFile() }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Outcome(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e.data, as: UTF8.self))
    }

    /// Strokes in a stroke log (8 bytes each): the simulated pump's true delivery over every run.
    static func strokeInstants(_ path: String) -> [Int64] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        precondition(data.count % 8 == 0, "stroke log of \(data.count) bytes: a torn write")
        return stride(from: 0, to: data.count, by: 8).map { i in
            data[data.startIndex + i ..< data.startIndex + i + 8].enumerated().reduce(Int64(0)) { $0 | Int64($1.element) << (8 * $1.offset) }
        }
    }

    static func temporaryDirectory(_ name: String) throws -> String {
        // Short: the socket path must stay under 100 bytes.
        let d = "/tmp/itpk-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }
}

/// A raw Unix stream connection for tests that misbehave on purpose (partial lines, half-closes,
/// idling).
final class RawClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init?(path: String) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var addr = ControlSocketServer.address(path)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard rc == 0 else { close(fd); return nil }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Sends one line (a newline is added).
    func send(_ s: String) -> Bool { ControlSocketServer.send(fd, s) }

    /// Writes `s` as is (no newline added).
    func write(_ s: String) -> Bool {
        let b = Array(s.utf8)
        return b.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == b.count
    }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// The next line, or nil at the end of the connection or after `seconds`.
    func readLine(seconds: Double = 10) -> String? {
        let end = Date().addingTimeInterval(seconds)
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            let left = end.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(left * 1000) + 1) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk.prefix(n))
        }
    }

    /// True when the peer has closed the connection (read returns 0) within `seconds`, after any
    /// pending lines (which are dropped).
    func closedByPeer(within seconds: Double) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 50) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &chunk, chunk.count)
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
            buffer.append(contentsOf: chunk.prefix(n))
        }
        return false
    }
}
