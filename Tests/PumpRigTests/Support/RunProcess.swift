import Foundation
import PumpCore
@testable import PumpRig
#if canImport(Glibc)
import Glibc
#endif

/// One `itpump run --backend sim` process of a kill test, on a journal, a stroke log and a control
/// socket in `dir`. The run's stderr goes to `dir/run.log` (appended), so a failing round can be read.
final class RunProcess {
    static var itpump: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("itpump").path
    }
    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
    }

    let process = Process()
    let dir: String
    var journal: String { dir + "/pump.journal" }
    var strokeLog: String { dir + "/strokes.log" }
    var socket: String { dir + "/s/c.sock" }

    /// Starts the run (`create`: with `--create-journal`; `strokeLog`: with `--sim-stroke-log`), with
    /// `extraArguments` appended.
    init(dir: String, create: Bool, timeScale: Int64, strokesPerStep: Int64, strokeLog: Bool = true,
         extraArguments: [String] = []) throws {
        self.dir = dir
        let root = Self.packageRoot
        process.executableURL = URL(fileURLWithPath: Self.itpump)
        process.arguments = ["run", "--backend", "sim", "--rig", root + "/profiles/rigs/raspberry-pi.yaml",
                             "--prescription", root + "/profiles/prescriptions/spinal-600.yaml",
                             "--journal", journal, "--time-scale", String(timeScale),
                             "--strokes-per-step", String(strokesPerStep), "--socket", socket, "--state", dir + "/state.json",
                             "--log-level", "notice"] + (create ? ["--create-journal"] : [])
            + (strokeLog ? ["--sim-stroke-log", self.strokeLog] : []) + extraArguments
        process.standardOutput = FileHandle.nullDevice
        if !FileManager.default.fileExists(atPath: dir + "/run.log") { FileManager.default.createFile(atPath: dir + "/run.log", contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/run.log"))
        try log.seekToEnd()
        process.standardError = log
        try process.run()
        try log.close()
    }

    /// SIGKILL, and waits for the process to end.
    func kill() {
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// A client on the run's socket once it listens (nil if the process ends or `seconds` pass first).
    func connect(within seconds: Double = 20) -> ControlClient? {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end && process.isRunning {
            if let c = try? ControlClient(path: socket, timeoutSeconds: 20) { return c }
            usleep(2_000)
        }
        return nil
    }

    /// Strokes in the stroke log (8 bytes each): the simulated pump's true delivery over every run.
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

/// Replies collected by a client thread while the main thread picks the moment to kill the run.
final class ReplyBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(request: String, reply: String)] = []
    private var stopped = false, connected = false
    /// Tells the client thread to send nothing more (the run is about to be killed).
    func stop() { lock.lock(); stopped = true; lock.unlock() }
    var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
    /// The client connected before the kill.
    func ready() { lock.lock(); connected = true; lock.unlock() }
    var wasReady: Bool { lock.lock(); defer { lock.unlock() }; return connected }
    func append(_ request: String, _ reply: String) { lock.lock(); items.append((request, reply)); lock.unlock() }
    var all: [(request: String, reply: String)] { lock.lock(); defer { lock.unlock() }; return items }
}

/// A parsed control reply.
struct Reply {
    let object: [String: Any]
    init?(_ line: String) {
        guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
        object = o
    }
    /// The command the runner journaled and answered (accepted or refused), with the journal row its
    /// reply names, if this reply is one.
    var acknowledged: (command: String, accepted: Bool, seq: Int64?)? {
        guard let c = object["command"] as? String else { return nil }
        let seq = (object["journal_seq"] as? NSNumber)?.int64Value
        if object["accepted"] != nil { return (c, true, seq) }
        if object["refused"] != nil { return (c, false, seq) }
        return nil     // "not applied" (journal outage) or another error: nothing was journaled
    }
    var status: [String: Any]? { object["status"] as? [String: Any] }
}
