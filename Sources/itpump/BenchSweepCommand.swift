import ArgumentParser
import Foundation
import PumpCore
import PumpSim

/// `itpump bench sweep`: a Monte-Carlo sweep of refill lapses in fast fidelity on every core; wall
/// time and peak memory (target: 10,000 runs × 180 days under 0.5 s on 2 cores, memory flat; README
/// "Sweep speed" has the figures measured).
struct BenchSweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "10,000 runs × 180 days of refill lapses in fast fidelity on every core; wall time and peak memory.")

    @Option(help: "Runs.")
    var runs: Int = 10_000
    @Option(help: "Simulated days per run.")
    var days: Int = 180
    @Option(help: "Worker threads (default: every core).")
    var jobs: Int?

    func run() throws {
        guard runs > 0, (1...3_650).contains(days) else { throw usageError("--runs must be positive and --days within 1…3650", command: "bench sweep") }
        let jobs = self.jobs ?? ProcessInfo.processInfo.activeProcessorCount
        let c500 = Concentration(microgramsPerMillilitre: 500)
        let base = Scenario(name: "bench", profile: .bench20, concentration: c500, schedule: .continuous(.microgramsPerDay(600)), duration: .days(1))
        let plan = SweepPlan(name: "bench sweep", base: base, runs: runs, seed: 1, duration: .days(Int64(days)),
                             refillDelay: .uniform(lower: .days(-7), upper: .days(14)),
                             dailyDose: .uniform(lower: .microgramsPerDay(300), upper: .microgramsPerDay(800)),
                             concentration: .choice([c500, Concentration(microgramsPerMillilitre: 1000)]),
                             reservoir: .choice([.millilitres(20), .millilitres(40)]), alarmPolicy: .choice([.alarmOnly, .reserveTaper]))
        let clock = ContinuousClock()
        let start = clock.now
        var checksum: UInt64 = 0
        let summary = SweepRunner.run(plan, range: 0..<runs, jobs: jobs, fidelity: .fast) { rows in
            for r in rows { for b in r.csv.utf8 { checksum = (checksum &* 31) &+ UInt64(b) } }
        }
        let elapsed = clock.now - start
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print("bench sweep: \(Plural.count(runs, "run")) × \(Plural.count(days, "day")), fast fidelity, \(Plural.count(jobs, "job"))")
        print("  wall time:           \(String(format2: elapsed.ms / 1_000)) s (\(String(format2: elapsed.ms * 1_000 / Double(runs))) μs per run)")
        print("  peak memory (RSS):   \(usage.ru_maxrss / 1_024) MiB")
        print("  rows checksum:       \(String(checksum, radix: 16)) (the same for any --jobs)")
        print(summary.render(threshold: "50 % of the prescribed dose's steady state"))
        let failed = summary.policies.values.reduce(Int64(0)) { $0 + $1.errors }
        guard failed == 0, summary.runs == Int64(runs) else { throw CommandFailure("\(Plural.count(failed, "run")) failed") }
    }
}
