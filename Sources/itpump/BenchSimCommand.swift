import ArgumentParser
import PumpCore
import PumpSim

/// `itpump bench sim`: one simulated year in a chosen fidelity through the whole simulator (core,
/// simulated pump, recorder and PK), median wall time, with the delivered total checked.
struct BenchSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "One simulated year at 1200 μg/day, 500 μg/mL, 0.25 μL strokes on the simulated pump; median wall time (target < 150 ms in stroke fidelity).")

    @Option(help: "Timed runs (the median is reported).")
    var runs: Int = 7
    @Option(help: "Simulated days per run.")
    var days: Int = 365
    @Option(help: "stroke or fast.")
    var fidelity: Fidelity = .stroke

    /// bench40 at 1200 μg/day and 500 μg/mL (2.4 mL/day), refilled with 40 mL every 14 days.
    static func scenario(days: Int) -> Scenario {
        var p = PumpProfile.bench40
        p.strokeVolume = Volume(nanolitres: 250)
        let c = Concentration(microgramsPerMillilitre: 500)
        let refills = stride(from: 14, to: days, by: 14).map {
            ScenarioEvent(at: .zero + .days(Int64($0)), action: .refill(added: .millilitres(40), concentration: c,
                                                                        confirmConcentrationChange: false, withdrawn: nil))
        }
        return Scenario(name: "bench year", profile: p, concentration: c, schedule: .continuous(.microgramsPerDay(1200)),
                        duration: .days(Int64(days)), timeline: refills)
    }

    func run() throws {
        guard runs > 0, (1...3_650).contains(days) else { throw usageError("--runs must be positive and --days within 1…3650", command: "bench sim") }
        let s = Self.scenario(days: days)
        var times: [Duration] = []
        var last: SimulationResult?
        for _ in 0..<(runs + 1) {
            let clock = ContinuousClock()
            let start = clock.now
            let r = try SimulationRunner.run(s, fidelity: fidelity)
            times.append(clock.now - start)
            last = r
        }
        times.removeFirst()
        times.sort()
        guard let r = last else { return }
        let strokes = r.controller.ledger.basalStrokes
        // Expected: 1200 μg/day from therapy start (1 h) to the end, less under one stroke, in fg.
        let therapyNs = Int128(s.duration.nanoseconds - TimeConstants.nanosecondsPerHour)
        let expectedFg = Int128(DoseRate.microgramsPerDay(1200).picogramsPerDay) * 1_000 * therapyNs / Int128(TimeConstants.nanosecondsPerDay)
        let diff = Int128(r.recorder.totalToPatient.value) - expectedFg
        let strokeFg: Int128 = 250_000 * 500
        print("bench sim: \(days) days at 1200 μg/day, 500 μg/mL, 0.25 μL strokes, \(fidelity.rawValue) fidelity; \(Plural.count(runs, "run")) (+1 warm-up)")
        print("  strokes per run:     \(strokes)")
        print("  median wall time:    \(String(format2: times[times.count / 2].ms)) ms  (min \(String(format2: times[0].ms)) ms, max \(String(format2: times[times.count - 1].ms)) ms)")
        print("  per stroke:          \(String(format2: times[times.count / 2].ms * 1e6 / Double(max(strokes, 1)))) ns")
        print("  delivered to CSF:    \(r.recorder.totalToPatient) (prescribed integral differs by \(diff) fg; one stroke = \(strokeFg) fg)")
        guard diff <= 0, -diff <= strokeFg else { throw CommandFailure("delivered total is off the prescription by more than one stroke") }
        print("  check:               delivered within one stroke of the prescription: OK")
    }
}
