import ArgumentParser
import Foundation
import ITPumpFiles
import Logging
import PumpCore
import PumpRig
import PumpRuntime

/// `itpump run`: the real-time runner on the bench rig (or, once issue 3 lands, the simulated pump).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Drive the control core in real time on a bench rig (libgpiod) or the simulated pump.",
        discussion: """
            Starts a fresh controller, fills and primes it and starts the prescription's schedule (as a
            transfer from a previous pump), then delivers on the monotonic clock. With --bring-up
            screening it stops after priming: the clinician gives test doses (`itpump ctl bolus ug=50`,
            25/50/75/100 μg, 24 h apart, each followed by an 8 h observation lockout), records the
            response (`test_dose_response`) and starts therapy (`start ug_per_day=…`). With --journal every
            command, event and step is committed to the SQLite therapy journal before it is carried out
            or replied to; a later start on the same journal recovers instead (the downtime accounted as a
            therapy interruption; a bring-up the last run did not finish continues where it stopped,
            never a second fill, priming or start). A journal is created only with --create-journal; a
            missing or unusable journal makes the run refuse to start. Control it with
            `itpump ctl` over the Unix socket. SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2 and every other
            catchable terminating signal put the rig in its safe state (motor disabled, STEP low, buzzer
            off), journal and log the stop as a therapy interruption, remove the socket, save the state
            and print the timing against the schedule (p50/p99/max); exit 0. A pump driver failure on any
            path does the same and exits 1. A stroke reached more than --max-stroke-lateness after it was
            due (the process stopped, a lock or disk wait, suspend) is never given late: the gap is
            downtime (missed, not caught up, therapy-interruption alarm).
            """)

    @Option(help: "The pump driven: sim (the simulated pump) or gpiod (the bench rig).") var backend: Backend
    @Option(help: "Rig file (profiles/rigs/*.yaml); with --backend sim it is checked but no line is used.", completion: .file(extensions: ["yaml", "yml"])) var rig: String
    @Option(help: "Prescription file (kind: prescription, profiles/prescriptions/*.yaml).", completion: .file(extensions: ["yaml", "yml"])) var prescription: String
    @Option(help: "Therapy seconds per wall second (1 … 100000).") var timeScale: Int64 = 1
    @Option(help: "Control socket path (default $XDG_RUNTIME_DIR/itpump/control.sock or /tmp/itpump-UID/control.sock).")
    var socket: String?
    @Option(help: "State file written at exit (a human-readable JSON export; the journal is the durable state). None unless given.")
    var state: String?
    @Option(help: "Therapy journal (SQLite). Without it the run keeps no durable state.") var journal: String?
    @Flag(help: "Create the journal (a new pump); refused if the file exists.") var createJournal = false
    @Option(help: "N: strokes committed ahead of the pump at most, and between full checkpoints.") var strokesPerStep: Int64 = 16
    @Option(help: "--backend sim only: append every stroke the simulated pump performs to this file (8 bytes each; the true delivery).")
    var simStrokeLog: String?
    @Option(help: "--backend sim only: append the CLOCK_MONOTONIC ns at which each stroke started to this file (8 bytes each; shows bursts).")
    var simStrokeTimes: String?
    @Flag(help: "--backend sim only: each stroke takes the rig file's time (ENABLE/DIR setup and STEP pulse train on simulated lines: 100 ms on the Raspberry Pi rig), and the alarm outputs are driven on those lines.")
    var simRigTiming = false
    @Option(help: "--sim-rig-timing only: append every write of a simulated line other than STEP to this file (`MONOTONIC_NS ROLE 0|1` per line).")
    var simLineLog: String?
    @Option(help: "Milliseconds (wall) a stroke may be reached after it was due before the gap counts as downtime (1 … 10000).")
    var maxStrokeLateness: Int64 = Int64(Runner.defaultMaxStrokeLateness / 1_000_000)
    @Option(help: "How far the bring-up goes: therapy (fill, prime, start the prescription's schedule) or screening (fill, prime, then wait for the clinician's test doses: ctl bolus ug=…, test_dose_response, start).")
    var bringUp: BringUp.Mode = .therapy
    @Option(help: "Log level (stderr).") var logLevel: Logger.Level = .info
    @Option(help: "Close a control connection with no request in progress after this many seconds (a request must complete within 2 s).")
    var controlIdleTimeout: UInt64 = 30
    @Option(help: ArgumentHelp("Run the loop under SCHED_FIFO at PRIORITY (1 … 99, default 50 when given as plain --realtime) with its memory locked; needs CAP_SYS_NICE or RLIMIT_RTPRIO (and CAP_IPC_LOCK or RLIMIT_MEMLOCK).", valueName: "priority"))
    var realtime: Int32?
    @Option(help: "Hardware watchdog device (e.g. /dev/watchdog): kicked by the loop, disarmed ('V') on a clean stop only.")
    var watchdog: String?

    func run() throws {
        LoggingSystem.bootstrap(EscapingLogHandler.standardError)
        var logger = Logger(label: "itpump.run")
        logger.logLevel = logLevel
        // Both files read, and every problem of both listed exactly as `itpump validate` lists it, before
        // anything else: a refused file leaves every GPIO line, the journal and the socket untouched.
        var diagnostics: [Diagnostic] = []
        var loadedRig: RigDescription?, loadedPrescription: Prescription?
        do { loadedRig = try RigFile.load(path: rig) } catch { diagnostics += error.diagnostics }
        do { loadedPrescription = try PrescriptionFile.load(path: prescription) } catch { diagnostics += error.diagnostics }
        guard let rigFile = loadedRig, let p = loadedPrescription else {
            for d in diagnostics { printError(d.description) }
            printError("itpump run: refused to start: \(diagnostics.count) problem\(diagnostics.count == 1 ? "" : "s") above (as `itpump validate` lists them); no GPIO line, journal or socket was touched")
            throw ExitCode(1)
        }
        let rx = RunPrescription(concentration: p.concentration, schedule: p.schedule, settings: p.settings)
        if createJournal && journal == nil { throw ValidationError("--create-journal needs --journal PATH") }
        if simStrokeLog != nil && backend != .sim { throw ValidationError("--sim-stroke-log is for --backend sim only") }
        if simStrokeTimes != nil && backend != .sim { throw ValidationError("--sim-stroke-times is for --backend sim only") }
        if simRigTiming && backend != .sim { throw ValidationError("--sim-rig-timing is for --backend sim only") }
        if simLineLog != nil && !simRigTiming { throw ValidationError("--sim-line-log needs --sim-rig-timing") }
        guard (1...10_000).contains(maxStrokeLateness) else { throw ValidationError("--max-stroke-lateness \(maxStrokeLateness) is outside 1 … 10000 ms") }
        guard strokesPerStep >= 1 else { throw ValidationError("--strokes-per-step must be at least 1") }
        let mode = bringUp
        guard (1...86_400).contains(controlIdleTimeout) else { throw ValidationError("--control-idle-timeout must be 1 … 86400 seconds, not \(controlIdleTimeout)") }
        let setup = journal.map { JournalSetup(path: $0, create: createJournal, strokesPerStep: strokesPerStep) }
        // Signals and the control socket first: a start that cannot open its socket must fail before
        // the runner creates a journal or requests lines, or the next start would resume a journal
        // whose bring-up (fill, prime, start) never ran.
        let signals = try SignalWatcher()
        let server = try ControlSocketServer(path: socket ?? ControlSocketServer.defaultPath,
                                             limits: .init(idle: controlIdleTimeout * 1_000_000_000))
        defer { server.close() }
        let strokeTimes = try simStrokeTimes.map { p throws(StrokeLogError) in try StrokeLog(path: p) }
        let board = try BoardServices.forRun(watchdogPath: watchdog, realtime: realtime, logger: logger)
        let runner: Runner
        switch backend {
        case .gpiod:
            runner = try Runner.gpiod(rig: rigFile, prescription: rx, timeScale: timeScale, logger: logger, journal: setup, bringUpMode: mode)
        case .sim:
            runner = try Runner.sim(prescription: rx, timeScale: timeScale, logger: logger, journal: setup, strokeLogPath: simStrokeLog,
                                    bringUpMode: mode, pacedBy: simRigTiming ? rigFile : nil, lineLogPath: simLineLog)
            runner.strokeTimesLog = strokeTimes
        }
        runner.maxStrokeLateness = UInt64(maxStrokeLateness) * 1_000_000
        let journalText = journal.map { ", journal \($0)" } ?? ", no journal"
        logger.notice("running \(rigFile.name) (\(backend)), time scale \(timeScale)×, control socket \(server.path)\(journalText)")
        do {
            var loop = RunLoop(runner: runner, server: server, signals: signals)
            loop.board = board
            let end = try loop.run()
            guard case let .signal(name) = end else { return }
            board.stopping(status: "stopping: \(name)")
            defer { board.finish(clean: true) }
            logger.notice("\(name) received: stopping")
            runner.enterSafeState()
            runner.journalStop(reason: "stopped by \(name)")
            server.close(after: runner.endEvents(reason: "stopped by \(name)", clean: true))
            try runner.stop(reason: name, statePath: state)
            runner.rigDriver.map { try? $0.shutDown() }
            print("itpump run: stopped by \(name); outputs safe; \(state.map { "state saved to \($0)" } ?? "no state file (--state)")\n\(runner.timing.report)")
        } catch let error as RunnerError {
            runner.enterSafeState()
            runner.journalStop(reason: "driver failure: \(error)")
            server.close(after: runner.endEvents(reason: "driver failure: \(error)", clean: false))
            board.stopping(status: "driver failure")
            defer { board.finish(clean: false) }
            _ = try? runner.stop(reason: "driver failure", statePath: state)
            runner.rigDriver.map { try? $0.shutDown() }
            throw error
        }
    }
}

extension Backend: ExpressibleByArgument {}
extension BringUp.Mode: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `itpump ctl`: one request to a running `itpump run`.
struct CtlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Send one request to a running `itpump run` and print the reply (JSON).",
        discussion: """
            Examples: itpump ctl status · itpump ctl program ug_per_day=550 · itpump ctl bolus ug=50 ·
            itpump ctl refill withdrawn_ul=1500 added_ul=20000 ug_per_ml=500 · itpump ctl acknowledge alarm=occlusion ·
            itpump ctl stop taper_days=21 · itpump ctl resume · itpump ctl set_refill_date at=10d ·
            itpump ctl inject occlusion for=2h · itpump ctl inject calibration_bias percent=-20 · itpump ctl clear_fault occlusion
            (inject and clear_fault: --backend sim only) · itpump ctl --json '{"cmd":"status"}' ·
            itpump ctl watch [--events alarm,command,phase,dose,stroke,outage,restart]: print the event stream (one
            JSON line per event) until the runner stops (exit 0) or the connection is lost (exit 1).
            Durations use the files' syntax (90s, 15m, 2h, 10d, 2d12h). The control protocol is in README "Control protocol".
            Values that are whole numbers, true, false or null are sent as such; others as text.
            Exits 0 when accepted, 2 when refused, 1 on an error, 64 on a usage error (e.g. a field not key=value).
            """)

    @Option(help: "Control socket path.") var socket: String?
    @Option(help: "Send this JSON line as is.") var json: String?
    @Option(help: "ctl watch only: the event kinds to print, comma-separated (alarm,command,phase,dose,stroke,outage,restart; default all).")
    var events: String?
    @Argument(help: "Command and key=value fields.") var words: [String] = []

    func run() throws {
        if words.first == "watch", json == nil {
            guard words.count == 1 else { throw usageError("`ctl watch` takes no fields; choose events with --events alarm,command,…", command: "ctl") }
            let code = try CtlWatch.run(socket: socket ?? ControlSocketServer.defaultPath, events: events)
            if code != 0 { throw ExitCode(code) }
            return
        }
        if events != nil { throw usageError("--events is for `ctl watch`", command: "ctl") }
        let line: String
        if let json { line = json } else {
            guard let cmd = words.first else { throw usageError("give a command (status, program, bolus, refill, acknowledge, stop, resume, …) or --json", command: "ctl") }
            var o: [String: JSONValue] = ["cmd": .string(cmd)]
            for (i, w) in words.dropFirst().enumerated() {
                // `ctl inject occlusion for=2h`, `ctl clear_fault occlusion`: the fault may be named bare.
                if i == 0, ["inject", "clear_fault"].contains(cmd), !w.contains("=") { o["fault"] = .string(w); continue }
                guard let eq = w.firstIndex(of: "=") else { throw usageError("`\(w)`: fields are key=value, e.g. `ctl program ug_per_day=550`", command: "ctl") }
                let k = String(w[..<eq]), v = String(w[w.index(after: eq)...])
                o[k] = Int64(v).map(JSONValue.int) ?? (v == "true" ? .bool(true) : v == "false" ? .bool(false) : v == "null" ? .null : .string(v))
            }
            line = JSONValue.object(o).line
        }
        let client = try ControlClient(path: socket ?? ControlSocketServer.defaultPath)
        let reply = try client.request(line)
        print(reply)
        if reply.contains("\"refused\"") { throw ExitCode(2) }
        if !reply.hasPrefix("{\"ok\":true") && !reply.contains("\"ok\":true") { throw ExitCode(1) }
    }
}
