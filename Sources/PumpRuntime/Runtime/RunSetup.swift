import GPIO
import ITPumpFiles
import Logging
import PumpCore
import PumpJournal
import PumpSim
import PumpRig

/// Which pump the runner drives.
public enum Backend: String, CaseIterable, Sendable {
    /// The simulated pump (`PumpSim.SimulatedPump`, issue 3).
    case sim
    /// The bench rig through libgpiod.
    case gpiod
}

/// Why a run could not start. Each says what to do.
public enum RunSetupError: Error, CustomStringConvertible {
    case rigFile(DiagnosticReport)
    case gpio(GPIOError)
    case backendUnavailable(Backend, reason: String)
    case timeScale(Int64)
    case controller(String)
    /// The journal cannot be created, opened or recovered: the run refuses to start (it never starts
    /// fresh over a journal it cannot read, which would lose the patient's history).
    case journal(JournalError)
    /// The simulated pump's stroke log cannot be opened.
    case strokeLog(StrokeLogError)

    public var description: String {
        switch self {
        case let .rigFile(e): "\(e)"
        case let .gpio(e): "cannot take the rig's lines: \(e)"
        case let .backendUnavailable(b, reason): "backend \(b) is not available in this build: \(reason)"
        case let .timeScale(k): "--time-scale \(k) is outside \(TherapyTimeLine.scaleRange.lowerBound) … \(TherapyTimeLine.scaleRange.upperBound)"
        case let .controller(m): "the controller refused its configuration: \(m)"
        case let .journal(e): "itpump run refuses to start: \(e)"
        case let .strokeLog(e): "\(e)"
        }
    }
}

extension Runner {
    /// A runner on the GPIO rig: requests the rig's lines (outputs inactive from the first moment),
    /// builds the driver and a fresh controller for `profile`, and plans the bring-up from
    /// `prescription` (`bringUpMode`: up to therapy, or up to screening). Nothing stays requested when
    /// this throws.
    ///
    /// With `journal`, the run journals (see `JournalSetup`): a resumed run continues an unfinished
    /// bring-up and skips a finished one.
    public static func gpiod(rig: RigDescription, prescription: RunPrescription?, profile: PumpProfile = .bench20,
                             timeScale: Int64, clock: any MonotonicClock = SystemMonotonicClock(), logger: Logger,
                             journal: JournalSetup? = nil, bringUpMode: BringUp.Mode = .therapy) throws(RunSetupError) -> Runner {
        guard TherapyTimeLine.scaleRange.contains(timeScale) else { throw .timeScale(timeScale) }
        let lines: GPIORigLines
        do { lines = try GPIORigLines(rig: rig) } catch { throw .gpio(error) }
        var controller: PumpController
        do { controller = try PumpController(profile: profile, settings: prescription?.settings ?? ControllerSettings()) } catch {
            lines.release()
            throw .controller("\(error)")
        }
        var start: JournalStart?
        if let journal {
            do throws(RunSetupError) { start = try openJournal(journal, fresh: controller, timeScale: timeScale) } catch {
                lines.release()
                throw error
            }
            controller = start!.controller
        }
        let timeLine = TherapyTimeLine(origin: controller.now, monotonicAtOrigin: clock.now(), scale: timeScale)
        let driver: RigDriver
        do { driver = try RigDriver(rig: rig, lines: lines, clock: clock, timeLine: timeLine) } catch {
            lines.release()
            throw .controller("reading the rig's inputs: \(error)")
        }
        return try finish(Runner(controller: controller, driver: driver, clock: clock, timeScale: timeScale,
                                 bringUp: bringUp(prescription, bringUpMode, start, controller), logger: logger,
                                 journal: start?.journal, strokesPerStep: journal?.strokesPerStep ?? JournalSetup.defaultStrokesPerStep),
                          start)
    }

    /// A runner on the simulated pump (`PumpSim.SimulatedPump` with default mechanics: no faults), the
    /// same loop, clock and control channel as on the rig.
    ///
    /// With `journal`, the run journals (see `JournalSetup`); a resumed run continues an unfinished
    /// bring-up (skips a finished one) and fills the simulated reservoir with the recovered estimate and concentration (the simulated
    /// truth died with the old process). With `strokeLogPath`, every stroke the simulated pump performs
    /// is appended to that file (`StrokeLog`), the durable true delivery the kill test checks against.
    ///
    /// With `pacedBy` (`itpump run --sim-rig-timing`), each stroke takes the rig's time: the rig file's
    /// ENABLE/DIR setup and STEP pulse train run on `SimulatedLines` (`SimulatedRig`), whose writes
    /// other than STEP go to `lineLogPath` when given, and the alarm outputs are driven on those lines.
    public static func sim(prescription: RunPrescription?, profile: PumpProfile = .bench20, timeScale: Int64,
                           clock: any MonotonicClock = SystemMonotonicClock(), logger: Logger,
                           journal: JournalSetup? = nil, strokeLogPath: String? = nil,
                           bringUpMode: BringUp.Mode = .therapy, pacedBy rig: RigDescription? = nil,
                           lineLogPath: String? = nil) throws(RunSetupError) -> Runner {
        guard TherapyTimeLine.scaleRange.contains(timeScale) else { throw .timeScale(timeScale) }
        var controller: PumpController
        var pump: SimulatedPump
        do {
            controller = try PumpController(profile: profile, settings: prescription?.settings ?? ControllerSettings())
            // The simulated pump's sensors as labelled: each trips within the profile's detection
            // strokes (at most the defaults, 40 and 3).
            pump = try SimulatedPump(profile: profile, mechanics: PumpMechanics().withinLabel(of: profile))
        } catch { throw .controller("\(error)") }
        let log: StrokeLog?
        do throws(StrokeLogError) { log = try strokeLogPath.map { p throws(StrokeLogError) in try StrokeLog(path: p) } } catch { throw .strokeLog(error) }
        var start: JournalStart?
        if let journal {
            start = try openJournal(journal, fresh: controller, timeScale: timeScale)
            controller = start!.controller
            if start?.report != nil, controller.reservoir.estimate > .zero {
                pump.refill(added: controller.reservoir.estimate, concentration: controller.reservoir.concentration, at: controller.now)
            }
        }
        var driver: any PumpDriver = pump
        if let rig {
            do {
                let lines = try SimulatedLines(clock: clock, logPath: lineLogPath)
                let timeLine = TherapyTimeLine(origin: controller.now, monotonicAtOrigin: clock.now(), scale: timeScale)
                driver = SimulatedRig(rig: try RigDriver(rig: rig, lines: lines, clock: clock, timeLine: timeLine), pump: pump)
            } catch let e as StrokeLogError { throw .strokeLog(e) } catch { throw .controller("simulated rig lines: \(error)") }
        }
        let runner = Runner(controller: controller, driver: driver, clock: clock, timeScale: timeScale,
                            bringUp: bringUp(prescription, bringUpMode, start, controller), logger: logger,
                            journal: start?.journal, strokesPerStep: journal?.strokesPerStep ?? JournalSetup.defaultStrokesPerStep)
        runner.strokeLog = log
        return try finish(runner, start)
    }

    /// Creates or recovers the journal of `setup`. A new journal starts from `fresh`; an existing one
    /// is recovered, its downtime accounted (`recoverAfterDowntime`: missed delivery, the
    /// therapy-interruption alarm, the floor over the limit) and the restart committed.
    static func openJournal(_ setup: JournalSetup, fresh: PumpController, timeScale: Int64) throws(RunSetupError) -> JournalStart {
        do throws(JournalError) {
            if setup.create {
                let j = try Journal.create(at: setup.path, controller: fresh, wallNanoseconds: setup.wallNanoseconds)
                return JournalStart(journal: j, controller: fresh, recovered: nil, report: nil)
            }
            let j = try Journal.open(at: setup.path, access: .readWrite)
            // The checks of `itpump journal verify`: never commit on top of a journal it calls NOT SOUND.
            try j.requireSound()
            let recovered = try j.recover()
            let clock = RestartClock(lastSeen: recovered.lastSeen, lastWallNanoseconds: recovered.lastWallNanoseconds,
                                     wallNanoseconds: setup.wallNanoseconds, timeScale: timeScale)
            var c = recovered.controller
            let report = c.recoverAfterDowntime(until: clock.resumeAt, durationKnown: clock.durationKnown)
            try j.recordRestart(report, recovered: recovered, state: c, wallNanoseconds: setup.wallNanoseconds)
            return JournalStart(journal: j, controller: c, recovered: recovered, report: report)
        } catch { throw .journal(error) }
    }

    /// The bring-up a run does: all of it on a new journal (or without one); on a recovered journal, the
    /// rest of a bring-up the last run did not finish (`BringUp(prescription:resuming:)`), none once
    /// therapy has started.
    static func bringUp(_ prescription: RunPrescription?, _ mode: BringUp.Mode, _ start: JournalStart?,
                        _ controller: PumpController) -> BringUp? {
        guard let prescription else { return nil }
        guard start?.report != nil else { return BringUp(prescription: prescription, mode: mode) }
        let resumed = BringUp(prescription: prescription, mode: mode, resuming: controller)
        return resumed.stage == .done ? nil : resumed
    }

    /// Carries out a recovery's effects (committed by `openJournal`) on the new runner.
    static func finish(_ runner: Runner, _ start: JournalStart?) throws(RunSetupError) -> Runner {
        guard let start, let report = start.report, let recovered = start.recovered else { return runner }
        runner.restart = report
        runner.logger.notice("resumed from journal \(start.journal.path): last committed \(report.lastSeen), resumed \(report.resumedAt), \(Plural.count(recovered.strokesInDoubt, "stroke")) in doubt (counted as given)")
        if let b = runner.bringUp {
            let prime = b.stage == .prime && !runner.controller.catheter.isUniform(.none)
                ? " (completing an interrupted priming: \(runner.controller.primingVolume) left)" : ""
            runner.logger.notice("the last run did not finish the bring-up: continuing at \(b.stage.rawValue)\(prime)")
        }
        // As the core: an interruption of running therapy (not of a bring-up, nor of a pump halted empty).
        if case .running = runner.controller.phase, runner.controller.haltedSince == nil, report.gap > .zero || !report.durationKnown {
            let floor = report.requiresConfirmation ? "; delivering the floor until a clinician's confirm_resumption" : ""
            runner.logger.critical("THERAPY INTERRUPTION: \(Mass(nanograms: report.missedPicograms / 1_000)) missed while the controller was down\(floor)")
        }
        do throws(RunnerError) {
            try runner.perform(report.effects)
            try runner.updateOutputs()
        } catch { throw .controller("\(error)") }
        return runner
    }
}

/// How `itpump run` uses the therapy journal.
public struct JournalSetup: Sendable {
    /// N = 16 strokes, as `JournaledPump`.
    public static var defaultStrokesPerStep: Int64 { JournaledPump<SimulatedPump>.defaultStrokesPerStep }
    /// The journal file.
    public var path: String
    /// Create a new journal (refused if the file exists); otherwise open and recover an existing one
    /// (refused if it is missing or unusable).
    public var create: Bool
    /// N: the most strokes committed ahead of the pump, and between full checkpoints.
    public var strokesPerStep: Int64
    /// The wall clock now (ns since 1970): the restart's downtime is measured against the last commit's.
    public var wallNanoseconds: Int64

    public init(path: String, create: Bool, strokesPerStep: Int64 = defaultStrokesPerStep,
                wallNanoseconds: Int64 = Runner.realTimeNanoseconds()) {
        self.path = path
        self.create = create
        self.strokesPerStep = strokesPerStep
        self.wallNanoseconds = wallNanoseconds
    }
}

/// What opening the journal gave: a new journal, or a recovered state with its downtime accounted.
struct JournalStart {
    let journal: Journal
    let controller: PumpController
    let recovered: RecoveredState?
    let report: DowntimeReport?
}
