import Foundation
@testable import PumpRig
#if canImport(Glibc)
import Glibc
#endif

/// One `itpump run --backend sim` process (no journal unless `extra` names one), its control socket at
/// `dir/s/c.sock`, its standard error in `dir/run.err`. For tests through the real binary.
final class RunningBinary {
    let process = Process()
    let dir: String
    var socket: String { dir + "/s/c.sock" }
    var errPath: String { dir + "/run.err" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    static var binary: String {
        URL(fileURLWithPath: RunProcess.packageRoot).appendingPathComponent(".build/debug/itpump").path
    }

    /// Starts the run; `launcher` (e.g. `["/usr/bin/prlimit", "--rtprio=0"]`) runs it through another program.
    init(dir: String, extra: [String] = [], environment: [String: String] = [:], launcher: [String] = [], timeScale: Int = 60) throws {
        self.dir = dir
        let root = RunProcess.packageRoot
        let args = ["run", "--backend", "sim", "--rig", root + "/profiles/rigs/raspberry-pi.yaml",
                    "--prescription", root + "/profiles/prescriptions/spinal-600.yaml", "--time-scale", String(timeScale),
                    "--socket", socket, "--state", dir + "/state.json", "--log-level", "notice"] + extra
        if let first = launcher.first {
            process.executableURL = URL(fileURLWithPath: first)
            process.arguments = Array(launcher.dropFirst()) + [Self.binary] + args
        } else {
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = args
        }
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = nil
        env["WATCHDOG_USEC"] = nil
        env["WATCHDOG_PID"] = nil
        for (k, v) in environment { env[k] = v }
        process.environment = env
        FileManager.default.createFile(atPath: errPath, contents: nil)
        FileManager.default.createFile(atPath: dir + "/run.out", contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/run.out"))
        try process.run()
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

    static func temporaryDirectory(_ name: String) throws -> String { try RunProcess.temporaryDirectory(name) }
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
