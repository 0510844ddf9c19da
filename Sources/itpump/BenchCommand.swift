import ArgumentParser
import PumpCore

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Release-mode benchmarks (build with -c release).",
        subcommands: [BenchCore.self, BenchSim.self, BenchSweep.self, BenchRunner.self]
    )
}

/// Counts strokes and drug without storing them.
struct CountingSink: EffectSink {
    var strokes = 0
    var picograms: Int64 = 0
    var events = 0
    mutating func receive(_ effect: Effect) {
        switch effect {
        case let .stroke(s): strokes += 1; picograms += s.picograms
        case .event: events += 1
        case .alert: break
        }
    }
    mutating func receiveStroke(_ stroke: Stroke) { strokes += 1; picograms += stroke.picograms }
}

struct BenchCore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "One simulated year at 1200 μg/day, 500 μg/mL, 0.25 μL strokes through the core; median wall time.")

    @Option(help: "Timed runs (the median is reported).")
    var runs: Int = 7
    @Option(help: "Simulated days per run.")
    var days: Int = 365

    func run() throws {
        guard runs > 0, days > 0 else { throw usageError("--runs and --days must be positive", command: "bench core") }
        var times: [Duration] = []
        var last = CountingSink()
        var expectedPg: Int64 = 0
        for _ in 0..<(runs + 1) { // first run warms up
            let clock = ContinuousClock()
            var sink = CountingSink()
            let start = clock.now
            let (controller, therapyStart, end) = try Self.simulateYear(days: days, into: &sink)
            let elapsed = clock.now - start
            times.append(elapsed)
            last = sink
            expectedPg = Int64(Int128(DoseRate.microgramsPerDay(1200).picogramsPerDay) * Int128((end - therapyStart).nanoseconds) / Int128(TimeConstants.nanosecondsPerDay))
            _ = controller
        }
        times.removeFirst()
        times.sort()
        let median = times[times.count / 2]
        let ms = Double(median.components.seconds) * 1e3 + Double(median.components.attoseconds) / 1e15
        let basalStrokes = last.strokes
        let nsPerStroke = ms * 1e6 / Double(basalStrokes)
        let strokePg = Concentration(microgramsPerMillilitre: 500).picograms(in: Volume(nanolitres: 250))
        let deliveredPg = last.picograms
        let diff = deliveredPg - expectedPg
        print("bench core: \(days) days at 1200 μg/day, 500 μg/mL, 0.25 μL strokes; \(runs) runs (+1 warm-up)")
        print("  strokes per run:     \(basalStrokes) (\(last.events) events)")
        print("  median wall time:    \(String(format2: ms)) ms  (min \(String(format2: times.first!.ms)) ms, max \(String(format2: times.last!.ms)) ms)")
        print("  per stroke:          \(String(format2: nsPerStroke)) ns")
        print("  delivered:           \(Mass(nanograms: deliveredPg / 1000)) vs prescribed integral \(Mass(nanograms: expectedPg / 1000)) (difference \(diff) pg; one stroke = \(strokePg) pg)")
        guard abs(diff) <= strokePg else {
            throw CommandFailure("delivered total is off the prescription by more than one stroke")
        }
        print("  check:               delivered within one stroke of the prescription: OK")
    }

    /// Fills, primes and runs a transfer-started continuous 1200 μg/day therapy for `days` days with a
    /// 40 mL reservoir refilled every 14 days. Returns the controller, therapy start and end instants.
    static func simulateYear<S: EffectSink>(days: Int, into sink: inout S) throws -> (PumpController, Instant, Instant) {
        var c = try PumpController(profile: .bench40)
        let c500 = Concentration(microgramsPerMillilitre: 500)
        var t = Instant.zero
        func must(_ r: CommandResponse) throws {
            if let refusal = r.refusal { throw CommandFailure("bench setup refused: \(refusal)") }
            for e in r.effects { sink.receive(e) }
        }
        try must(c.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(40), concentration: c500)), at: t))
        try must(c.handle(.prime(confirmVolume: c.primingVolume), at: t))
        t = t + .hours(1)
        let dose = DoseRate.microgramsPerDay(1200)
        try must(c.handle(.startTherapy(.continuous(dose), basis: .transfer(previousDailyDose: dose)), at: t))
        let therapyStart = t
        let end = therapyStart + .days(Int64(days))
        var nextRefill = therapyStart + .days(14)
        while nextRefill < end {
            c.advance(to: nextRefill, into: &sink)
            try must(c.handle(.refill(RefillRequest(withdrawn: c.reservoir.estimate, added: .millilitres(40), concentration: c500)), at: nextRefill))
            nextRefill = nextRefill + .days(14)
        }
        c.advance(to: end, into: &sink)
        return (c, therapyStart, end)
    }
}

extension Duration {
    var ms: Double { Double(components.seconds) * 1e3 + Double(components.attoseconds) / 1e15 }
}

extension String {
    /// Two decimals without Foundation.
    init(format2 v: Double) {
        let r = (v * 100).rounded()
        let whole = Int(r / 100)
        let frac = Int(abs(r).truncatingRemainder(dividingBy: 100))
        self = "\(whole).\(frac < 10 ? "0" : "")\(frac)"
    }
}
