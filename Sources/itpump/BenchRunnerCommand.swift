import ArgumentParser
import Foundation
import PumpRig
import PumpRuntime
import PumpSim
#if canImport(Glibc)
import Glibc
#endif

/// `itpump bench runner`: the real `itpump run` on the simulated pump paced by a rig file's stroke
/// timing (`--sim-rig-timing`), during priming (about 1,300 strokes, all in 16-stroke steps: 1.6 s each
/// on the Raspberry Pi rig): `status` reply latency under socket load, and alarm raised → outputs (an
/// `inject` of `empty_switch`, timed to the first alarm-output write in the simulated line log).
struct BenchRunner: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runner",
        abstract: "status reply latency (p50/p99/max) during priming under socket load, and alarm → outputs latency, through `itpump run --sim-rig-timing` (targets: status p99 < 20 ms, alarm → outputs < 50 ms).")

    @Option(help: "Rig file whose stroke timing paces the simulated pump.", completion: .file(extensions: ["yaml"]))
    var rig = "profiles/rigs/raspberry-pi.yaml"
    @Option(help: "Prescription file.", completion: .file(extensions: ["yaml"]))
    var prescription = "profiles/prescriptions/spinal-600.yaml"
    @Option(help: "Runs (each a fresh runner, one alarm measured per run).") var runs = 3
    @Option(help: "Concurrent control clients sending `status` back to back on their own connections.") var clients = 4
    @Option(help: "Seconds of load per run, during priming.") var seconds = 10
    @Option(help: "Therapy seconds per wall second.") var timeScale: Int64 = 120

    func run() throws {
        guard (1...50).contains(runs), (1...7).contains(clients), (2...60).contains(seconds) else {
            throw usageError("--runs 1 … 50, --clients 1 … 7, --seconds 2 … 60", command: "bench runner")
        }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var status: [UInt64] = [], midStep = 0
        var alarms: [(ns: UInt64, midStroke: Bool)] = []
        print("bench runner: \(rig), \(Plural.count(runs, "run")), \(clients) clients × \(seconds) s of back-to-back status during priming (16-stroke steps)")
        for r in 0..<runs {
            let out = try Self.oneRun(exe: exe, rig: rig, prescription: prescription, clients: clients, seconds: seconds, timeScale: timeScale)
            status += out.latencies
            midStep += out.midStep
            alarms.append(out.alarm)
            print("  run \(r + 1): \(out.latencies.count) status replies (\(out.midStep) served mid-step), alarm → outputs \(Self.ms(out.alarm.ns))\(out.alarm.midStroke ? " (mid-stroke)" : "")")
        }
        status.sort()
        func pct(_ p: Double) -> UInt64 { status[min(status.count - 1, Int(Double(status.count - 1) * p + 0.5))] }
        guard !status.isEmpty else { throw ValidationError("no status reply was measured") }
        print("status reply latency during priming (delivery in 16-stroke steps): p50 \(Self.ms(pct(0.5))), p99 \(Self.ms(pct(0.99))), max \(Self.ms(status.last!)) (\(status.count) replies, \(midStep) answered while a step's strokes were running; target p99 < 20 ms)")
        let a = alarms.map(\.ns).sorted()
        print("alarm raised → outputs: \(a.map(Self.ms).joined(separator: ", ")); max \(Self.ms(a.last!)), \(alarms.filter(\.midStroke).count) of \(alarms.count) mid-stroke (target < 50 ms)")
    }

    static func ms(_ ns: UInt64) -> String { String(format: "%.2f ms", Double(ns) / 1e6) }

    final class Samples: @unchecked Sendable {
        let lock = NSLock()
        var latencies: [UInt64] = []
        var midStep = 0
        var stop = false
        var errors: [String] = []
    }

    static func oneRun(exe: String, rig: String, prescription: String, clients: Int, seconds: Int,
                       timeScale: Int64) throws -> (latencies: [UInt64], midStep: Int, alarm: (ns: UInt64, midStroke: Bool)) {
        var template = Array("/tmp/itpump-bench-XXXXXX".utf8CString)
        guard let d = mkdtemp(&template) else { throw ValidationError("mkdtemp failed") }
        let dir = String(cString: d)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/c.sock", lineLog = dir + "/lines.log"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["run", "--backend", "sim", "--sim-rig-timing", "--sim-line-log", lineLog, "--rig", rig,
                       "--prescription", prescription, "--time-scale", String(timeScale), "--socket", socket,
                       "--bring-up", "screening", "--log-level", "error"]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGTERM); p.waitUntilExit() } }
        // Priming under way: strokes back to back in 16-stroke steps for minutes at the rig's pace.
        let ready = Date().addingTimeInterval(60)
        while true {
            guard p.isRunning, Date() < ready else { throw ValidationError("the runner was not priming within 60 s") }
            if let s = try? ControlClient(path: socket).request(#"{"cmd":"status"}"#), s.contains(#""bolus":"priming"#) { break }
            usleep(100_000)
        }
        let samples = Samples()
        var threads: [Thread] = []
        for _ in 0..<clients {
            let t = Thread {
                guard let c = try? ControlClient(path: socket) else { return }
                while !samples.lock.withLock({ samples.stop }) {
                    let t0 = ControlSocketServer.monotonicNow()
                    guard let reply = try? c.request(#"{"cmd":"status"}"#) else { samples.lock.withLock { samples.errors.append("no reply") }; return }
                    let dt = ControlSocketServer.monotonicNow() - t0
                    let mid = !reply.contains(#""strokes_in_progress":0"#)
                    samples.lock.withLock { samples.latencies.append(dt); if mid { samples.midStep += 1 } }
                }
            }
            t.start()
            threads.append(t)
        }
        usleep(UInt32(seconds) * 500_000)
        // The alarm: the reservoir-empty switch closes; the first alarm-output write after the request.
        let before = ControlSocketServer.monotonicNow()
        let inj = try ControlClient(path: socket).request(#"{"cmd":"inject","fault":"empty_switch"}"#)
        guard inj.contains(#""ok":true"#) else { throw ValidationError("inject refused: \(inj)") }
        var alarm: (ns: UInt64, midStroke: Bool)?
        let deadline = Date().addingTimeInterval(5)
        while alarm == nil && Date() < deadline {
            alarm = Self.firstOutputChange(after: before, in: lineLog)
            if alarm == nil { usleep(2_000) }
        }
        usleep(UInt32(seconds) * 500_000)
        samples.lock.withLock { samples.stop = true }
        while threads.contains(where: { !$0.isFinished }) { usleep(10_000) }
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        guard let alarm else { throw ValidationError("no alarm output changed within 5 s of the inject") }
        return samples.lock.withLock { (samples.latencies, samples.midStep, alarm) }
    }

    /// The first LED/buzzer write at or after `after` in the line log, and whether ENABLE was active then.
    static func firstOutputChange(after: UInt64, in path: String) -> (ns: UInt64, midStroke: Bool)? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var enable = false
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 3, let ns = UInt64(f[0]) else { continue }
            if f[1] == "enable" { enable = f[2] == "1"; continue }
            if ns >= after, f[2] == "1", ["ledLow", "ledMedium", "ledHigh", "buzzer"].contains(String(f[1])) { return (ns - after, enable) }
        }
        return nil
    }
}
