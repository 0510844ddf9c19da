#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import PumpCore
import PumpJournal

extension JournalCommand {
    /// The process the journal's kill test kills: the journaled driver loop on the core at an
    /// accelerated time scale, with a stroke-log pump (see `StrokeLogDriver`). Until `itpump run`
    /// journals, this is the loop the runner will run.
    struct Exercise: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the journaled driver loop on the core against a stroke-log pump (for the kill test).",
            shouldDisplay: false)

        @Option(help: "The journal file.") var journal: String
        @Option(help: "The stroke log: 8 bytes per stroke carried out (the true delivery).") var strokeLog: String
        @Flag(help: "Create the journal and start a therapy (fill 20 mL at 500 μg/mL, prime, 1200 μg/day).") var create = false
        @Option(help: "Controller nanoseconds per wall nanosecond.") var scale: Int64 = 3_600
        @Option(help: "Wall seconds to run before exiting (0 = until killed).") var seconds: Double = 0
        @Option(help: "N: strokes committed ahead at most, and between full checkpoints.") var strokesPerStep: Int64 = 16
        @Option(help: "Controller time between commands (s).") var commandEvery: Int64 = 1_800

        func run() throws {
            let driver = try StrokeLogDriver(path: strokeLog)
            var pump: JournaledPump<StrokeLogDriver>
            if create {
                let c = try PumpController(profile: .bench20)
                pump = try JournaledPump.create(at: journal, controller: c, driver: driver, wallNanoseconds: Self.wallNow(),
                                                strokesPerStep: strokesPerStep)
                let c500 = Concentration(microgramsPerMillilitre: 500)
                try send(&pump, .refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: c500)))
                try send(&pump, .prime(confirmVolume: pump.controller.primingVolume))
            } else {
                let (p, report) = try JournaledPump.resume(at: journal, driver: driver, wallNanoseconds: Self.wallNow(),
                                                           timeScale: scale, strokesPerStep: strokesPerStep)
                pump = p
                Self.emit("resumed lastSeen=\(report.lastSeen.nanoseconds) at=\(report.resumedAt.nanoseconds)")
            }
            Self.emit("ready")
            let origin = pump.controller.now
            let start = Self.monotonicNow()
            var nextCommand = origin + .seconds(commandEvery)
            var turn = 0
            while true {
                let elapsed = Self.monotonicNow() - start
                if seconds > 0 && Double(elapsed) / 1e9 >= seconds { return }
                let (scaled, overflow) = elapsed.multipliedReportingOverflow(by: scale)
                let t = origin + TimeSpan(nanoseconds: overflow ? .max / 2 : scaled)
                if t >= nextCommand {
                    try nextCommandTurn(&pump, turn)
                    turn += 1
                    nextCommand = pump.controller.now + .seconds(commandEvery)
                }
                try pump.run(until: t, wallNanoseconds: Self.wallNow())
                // Sleep until the next deadline (at most 2 ms, so commands and exits stay prompt).
                let wait = (pump.controller.nextDeadline - t).nanoseconds / max(1, scale)
                if wait > 0 { Self.sleep(nanoseconds: min(wait, 2_000_000)) }
            }
        }

        /// Starts therapy once priming is done, then alternates a command the interlock accepts with one
        /// it refuses (halving the dose), so both outcomes are journaled and acknowledged.
        func nextCommandTurn(_ pump: inout JournaledPump<StrokeLogDriver>, _ turn: Int) throws {
            let c = pump.controller
            if case .notStarted = c.phase {
                if c.primed {
                    try send(&pump, .startTherapy(.continuous(.microgramsPerDay(1200)), basis: .transfer(previousDailyDose: .microgramsPerDay(1200))))
                }
                return
            }
            if let a = c.alarms.active.first(where: { $0.acknowledgedAt == nil }) {
                try send(&pump, .acknowledge(a.kind))
            } else if let s = c.awaitingConfirmationSince.flatMap({ _ in c.schedule }) {
                try send(&pump, .confirmResumption(s))
            } else {
                try send(&pump, .program(.continuous(.microgramsPerDay(turn % 2 == 0 ? 1200 : 100))))
            }
        }

        /// Journals the command, then acknowledges it on stdout ("ack" seq outcome): the kill test checks
        /// that every acknowledged command is in the journal.
        func send(_ pump: inout JournaledPump<StrokeLogDriver>, _ command: Command) throws {
            let r = try pump.handle(command, at: pump.controller.now, source: "exercise", wallNanoseconds: Self.wallNow())
            Self.emit("ack \(r.isAccepted ? "accepted" : "refused") \(command)")
        }

        /// One line to stdout with one unbuffered `write(2)`, so it is out before anything that follows.
        static func emit(_ line: String) {
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        }

        static func wallNow() -> Int64 { clockNanoseconds(CLOCK_REALTIME) }
        static func monotonicNow() -> Int64 { clockNanoseconds(CLOCK_MONOTONIC) }
        static func clockNanoseconds(_ id: clockid_t) -> Int64 {
            var ts = timespec()
            clock_gettime(id, &ts)
            return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
        }
        static func sleep(nanoseconds ns: Int64) {
            var ts = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
            _ = nanosleep(&ts, nil)
        }
    }
}
