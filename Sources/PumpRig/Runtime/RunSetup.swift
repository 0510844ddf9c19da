import GPIO
import Logging
import PumpCore
import PumpSim

/// Which pump the runner drives.
public enum Backend: String, CaseIterable, Sendable {
    /// The simulated pump (`PumpSim.SimulatedPump`, issue 3).
    case sim
    /// The bench rig through libgpiod.
    case gpiod
}

/// Why a run could not start. Each says what to do.
public enum RunSetupError: Error, CustomStringConvertible {
    case rigFile(RigFileError)
    case gpio(GPIOError)
    case backendUnavailable(Backend, reason: String)
    case timeScale(Int64)
    case controller(String)

    public var description: String {
        switch self {
        case let .rigFile(e): "\(e)"
        case let .gpio(e): "cannot take the rig's lines: \(e)"
        case let .backendUnavailable(b, reason): "backend \(b) is not available in this build: \(reason)"
        case let .timeScale(k): "--time-scale \(k) is outside \(TherapyTimeLine.scaleRange.lowerBound) … \(TherapyTimeLine.scaleRange.upperBound)"
        case let .controller(m): "the controller refused its configuration: \(m)"
        }
    }
}

extension Runner {
    /// A runner on the GPIO rig: requests the rig's lines (outputs inactive from the first moment),
    /// builds the driver and a fresh controller for `profile`, and plans the bring-up from
    /// `prescription`. Nothing stays requested when this throws.
    public static func gpiod(rig: RigDescription, prescription: RunPrescription?, profile: PumpProfile = .bench20,
                             timeScale: Int64, clock: any MonotonicClock = SystemMonotonicClock(), logger: Logger) throws(RunSetupError) -> Runner {
        guard TherapyTimeLine.scaleRange.contains(timeScale) else { throw .timeScale(timeScale) }
        let lines: GPIORigLines
        do { lines = try GPIORigLines(rig: rig) } catch { throw .gpio(error) }
        let controller: PumpController
        do { controller = try PumpController(profile: profile, settings: prescription?.settings ?? ControllerSettings()) } catch {
            lines.release()
            throw .controller("\(error)")
        }
        let timeLine = TherapyTimeLine(origin: controller.now, monotonicAtOrigin: clock.now(), scale: timeScale)
        let driver: RigDriver
        do { driver = try RigDriver(rig: rig, lines: lines, clock: clock, timeLine: timeLine) } catch {
            lines.release()
            throw .controller("reading the rig's inputs: \(error)")
        }
        return Runner(controller: controller, driver: driver, clock: clock, timeScale: timeScale,
                      bringUp: prescription.map(BringUp.init), logger: logger)
    }

    /// A runner on the simulated pump (`PumpSim.SimulatedPump` with default mechanics: no faults), the
    /// same loop, clock and control channel as on the rig.
    public static func sim(prescription: RunPrescription?, profile: PumpProfile = .bench20, timeScale: Int64,
                           clock: any MonotonicClock = SystemMonotonicClock(), logger: Logger) throws(RunSetupError) -> Runner {
        guard TherapyTimeLine.scaleRange.contains(timeScale) else { throw .timeScale(timeScale) }
        let controller: PumpController
        let pump: SimulatedPump
        do {
            controller = try PumpController(profile: profile, settings: prescription?.settings ?? ControllerSettings())
            pump = try SimulatedPump(profile: profile)
        } catch { throw .controller("\(error)") }
        return Runner(controller: controller, driver: pump, clock: clock, timeScale: timeScale,
                      bringUp: prescription.map(BringUp.init), logger: logger)
    }
}
