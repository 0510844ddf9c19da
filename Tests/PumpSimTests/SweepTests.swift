import Testing
@testable import PumpCore
@testable import PumpSim

@Suite("Sweeps")
struct SweepTests {
    static func plan(runs: Int) -> SweepPlan {
        SweepPlan(name: "t", base: TestScenarios.basic(days: 1), runs: runs, seed: 99, duration: .days(40),
                  refillDelay: .uniform(lower: .days(-3), upper: .days(6)), dailyDose: .uniform(lower: .microgramsPerDay(300), upper: .microgramsPerDay(900)),
                  concentration: .choice([Concentration(microgramsPerMillilitre: 500), Concentration(microgramsPerMillilitre: 1000)]),
                  reservoir: .choice([.millilitres(20), .millilitres(40)]), alarmPolicy: .choice([.alarmOnly, .reserveTaper]))
    }

    func rows(_ p: SweepPlan, _ range: Range<Int>, jobs: Int) -> [String] {
        var out: [String] = []
        _ = SweepRunner.run(p, range: range, jobs: jobs, fidelity: .fast) { out += $0.map(\.csv) }
        return out
    }

    @Test("the same seed gives the same rows whatever the number of jobs, and shards concatenate to the whole")
    func deterministic() {
        let p = Self.plan(runs: 24)
        let one = rows(p, 0..<24, jobs: 1)
        #expect(one.count == 24)
        #expect(rows(p, 0..<24, jobs: 3) == one)
        #expect(rows(p, 0..<10, jobs: 2) + rows(p, 10..<24, jobs: 4) == one)
        #expect(one.map { Int($0.prefix { $0 != "," }) } == Array(0..<24))
    }

    @Test("a row survives the CSV round trip that sweep merge relies on")
    func csvRoundTrip() throws {
        let row = Self.plan(runs: 1).run(0)
        #expect(try SweepRow(csv: Substring(row.csv)) == row)
    }

    @Test("run draws depend only on the seed and the index")
    func draws() {
        let p = Self.plan(runs: 100)
        #expect(p.draw(57) == p.draw(57))
        #expect(p.draw(57) != p.draw(58))
        var q = p
        q.runs = 5
        #expect(q.draw(3) == p.draw(3))
        let d = p.draw(7)
        #expect((TimeSpan.days(-3)...TimeSpan.days(6)).contains(d.refillDelay))
        #expect((DoseRate.microgramsPerDay(300)...DoseRate.microgramsPerDay(900)).contains(d.dailyDose))
    }
}
