import Foundation
import Logging
@testable import PumpCore
@testable import PumpRig
@testable import PumpRuntime
import RigTestSupport

/// A runner on the fast test rig, a manual clock and fake lines, optionally with the bench-600
/// prescription's bring-up (600 μg/day at 500 μg/mL, 20 mL).
struct RunnerFixture {
    let clock = ManualClock()
    let lines: FakeLines
    let runner: Runner
    static let rx = RunPrescription(concentration: Concentration(microgramsPerMillilitre: 500), schedule: .continuous(.microgramsPerDay(600)),
                                    fill: .millilitres(20))

    init(bringUp: Bool = true, scale: Int64 = 100, mode: BringUp.Mode = .therapy) throws {
        lines = FakeLines(clock: clock)
        let controller = try PumpController(profile: .bench20)
        let tl = TherapyTimeLine(origin: .zero, monotonicAtOrigin: clock.now(), scale: scale)
        let driver = try RigDriver(rig: fastRig(), lines: lines, clock: clock, timeLine: tl)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        runner = Runner(controller: controller, driver: driver, clock: clock, timeScale: scale,
                        bringUp: bringUp ? BringUp(prescription: Self.rx, mode: mode) : nil, logger: logger)
    }

    /// Steps the runner at every wake-up it asks for until therapy time `t`.
    func run(until t: Instant) throws {
        let end = runner.timeLine.monotonic(at: t)
        while clock.now() < end {
            try runner.step()
            clock.sleep(until: min(runner.nextWakeup, end))
        }
        try runner.step()
    }

    func request(_ json: String) -> [String: Any] {
        let reply = runner.handle(line: Array(json.utf8))
        return (try? JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any]) ?? ["unparsable": reply]
    }
}
