import Foundation
import Testing
@testable import PumpCore
@testable import PumpRig
@testable import PumpRuntime

@Suite(.serialized) struct ControlSocketTests {
    func tempDir() -> String { "/tmp/itpt-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }

    @Test func socketIsOwnerOnlyAndAnswersLineByLine() throws {
        let dir = tempDir(), path = dir + "/c.sock"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let f = try RunnerFixture(bringUp: false)
        let server = try ControlSocketServer(path: path)
        defer { server.close() }
        var st = stat()
        #expect(stat(dir, &st) == 0 && st.st_mode & 0o777 == 0o700)
        #expect(lstat(path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        let client = try ControlClient(path: path)
        // Oversized line, then a good one, in one write: an error reply, then the status.
        let big = String(repeating: "x", count: 5_000)
        #expect(ControlSocketServer.send(try fd(of: client), big + "\n{\"cmd\":\"status\"}"))
        server.service { f.runner.handle(line: $0) }
        let first = try client.readLine(), second = try client.readLine()
        #expect(first.contains("\"ok\":false") && first.contains("longer than 4096"))
        #expect(second.contains("\"ok\":true") && second.contains("\"status\""))
        // A second runner may not take the same socket.
        #expect(throws: ControlSocketError.alreadyRunning(path)) { try ControlSocketServer(path: path) }
    }

    /// Inside a stroke's wait the run loop serves at most `RunLoop.requestsPerStrokeWait` requests a
    /// call, so a client flooding the socket cannot stretch the stroke; the connection served goes to
    /// the back of the line, so the other client is next; without the cap everything ready is served.
    @Test func aBoundedServiceAnswersOneRequestAndRotatesClients() throws {
        let dir = tempDir(), path = dir + "/c.sock"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let f = try RunnerFixture(bringUp: false)
        let server = try ControlSocketServer(path: path)
        defer { server.close() }
        let a = try ControlClient(path: path), b = try ControlClient(path: path)
        let three = String(repeating: "{\"cmd\":\"status\"}\n", count: 3)
        server.service { f.runner.handle(line: $0) }   // accept both
        #expect(ControlSocketServer.send(try fd(of: a), three))
        #expect(ControlSocketServer.send(try fd(of: b), three))
        usleep(20_000)
        var answered: [String] = []
        func count() { answered.append("x") }
        server.service(streaming: { count(); return .line(f.runner.handle(line: $0)) }, maxRequests: 1)
        #expect(answered.count == 1, "one request per bounded service")
        #expect(try a.readLine().contains("\"ok\":true"))
        server.service(streaming: { count(); return .line(f.runner.handle(line: $0)) }, maxRequests: 1)
        #expect(answered.count == 2)
        #expect(try b.readLine().contains("\"ok\":true"), "the other client is served next")
        server.service(streaming: { count(); return .line(f.runner.handle(line: $0)) })
        #expect(answered.count == 6, "unbounded: the four left are all served")
    }

    /// A runner with every slot held by a request in progress writes its refusal to a newcomer and
    /// closes before the newcomer has sent anything: the newcomer's send fails with EPIPE, and
    /// `request` still returns the refusal the runner wrote (`itpump ctl` shows it, not "Broken pipe").
    @Test func aRefusalWrittenBeforeTheRequestIsSentIsReturned() throws {
        let dir = tempDir(), path = dir + "/c.sock"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let f = try RunnerFixture(bringUp: false)
        let server = try ControlSocketServer(path: path)
        defer { server.close() }
        var holders: [ControlClient] = []
        for _ in 0..<ControlSocketServer.maximumClients {
            let c = try ControlClient(path: path)
            #expect(write(try fd(of: c), "{\"cmd\":\"sta", 12) == 12)
            holders.append(c)
        }
        server.service { f.runner.handle(line: $0) }
        let newcomer = try ControlClient(path: path, timeoutSeconds: 2)
        server.service { f.runner.handle(line: $0) }   // refuses the newcomer and closes it
        let reply = try newcomer.request(#"{"cmd":"status"}"#)
        #expect(reply.contains("too many control connections"), "\(reply)")
    }

    @Test func refusesADirectoryOthersCanEnter() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkdir(dir, 0o755) == 0)
        chmod(dir, 0o755)
        #expect(throws: ControlSocketError.unsafeDirectory(dir)) { try ControlSocketServer(path: dir + "/c.sock") }
    }

    @Test func clientWithoutRunnerGetsATypedError() {
        #expect(throws: ControlSocketError.self) { try ControlClient(path: "/tmp/itpt-none-\(getpid())/c.sock") }
    }

    /// Reaches the client's descriptor for writing raw bytes (test only).
    func fd(of client: ControlClient) throws -> Int32 { Mirror(reflecting: client).children.first { $0.label == "fd" }?.value as? Int32 ?? -1 }
}

@Suite(.serialized) struct SignalTests {
    /// SIGTERM to this process wakes the run loop, which returns; stop() then drives the safe state and
    /// saves the state, as `itpump run` does.
    @Test func sigtermStopsTheLoopInTheSafeState() throws {
        let f = try RunnerFixture()
        try f.run(until: .zero + .minutes(25))
        let signals = try SignalWatcher()
        kill(getpid(), SIGTERM)
        let end = try RunLoop(runner: f.runner, server: nil, signals: signals).run()
        #expect(end == .signal("SIGTERM"))
        let path = "/tmp/itpt-state-\(getpid()).json"
        defer { unlink(path) }
        let i = try f.runner.stop(reason: "SIGTERM", statePath: path)
        #expect(i.reason == "SIGTERM")
        #expect(try StateFile.load(from: path).interruption.reason == "SIGTERM")
        #expect(f.lines.levels[.enable] == false && f.lines.levels[.step] == false && f.lines.levels[.buzzer] == false)
    }

    static let root = RunningBinary.packageRoot

    /// The real binary on this machine (no GPIO chip): a typed, actionable error and exit status 1.
    @Test func gpiodBackendWithoutHardwareFailsCleanly() throws {
        guard !FileManager.default.fileExists(atPath: "/dev/gpiochip0") else { return }
        let r = try RunningBinary.itpump(["run", "--backend", "gpiod", "--rig", Self.root + "/profiles/rigs/hil-gpio-sim.yaml",
                                          "--prescription", Self.root + "/profiles/prescriptions/spinal-600.yaml",
                                          "--socket", "/tmp/itpt-bin-\(getpid())/c.sock"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("no GPIO chips at all"), "\(r.stderr)")
    }

    /// A start that cannot open its control socket fails before it creates the journal: otherwise the
    /// next start would resume a journal whose bring-up never ran (an unfilled, unprimed pump).
    @Test func socketFailureCreatesNoJournal() throws {
        let dir = "/tmp/itpt-open-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkdir(dir, 0o755) == 0)
        chmod(dir, 0o755) // others may enter: the server refuses it
        let journal = "/tmp/itpt-open-\(getpid()).journal"
        defer { unlink(journal) }
        let r = try RunningBinary.itpump(["run", "--backend", "sim", "--rig", Self.root + "/profiles/rigs/raspberry-pi.yaml",
                                          "--prescription", Self.root + "/profiles/prescriptions/spinal-600.yaml",
                                          "--socket", dir + "/c.sock", "--journal", journal, "--create-journal"])
        #expect(r.status != 0, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: journal), "the journal was created before the socket failed")
    }

    /// Spawns `itpump run --backend sim`, talks to it over the socket, sends SIGTERM: exit 0, the safe
    /// state and the therapy interruption logged, the state file written (0600) with the interruption.
    @Test func sigtermToTheRealBinary() throws {
        let run = try RunningBinary.started("sig", timeScale: 600)
        defer { try? FileManager.default.removeItem(atPath: run.dir) }
        #expect(run.stop(SIGTERM) == 0, "\(run.stderr)")
        #expect(run.stderr.contains("outputs in safe state") && run.stderr.contains("THERAPY INTERRUPTION"), "\(run.stderr)")
        #expect(run.stdout.contains("stopped by SIGTERM") && run.stdout.contains("stroke start lateness"), "\(run.stdout)")
        let state = run.dir + "/state.json"
        let saved = try StateFile.load(from: state)
        #expect(saved.interruption.reason == "SIGTERM")
        let mode = try FileManager.default.attributesOfItem(atPath: state)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(!FileManager.default.fileExists(atPath: run.socket))  // socket removed at exit
    }
}
