import Testing
@testable import PumpCore

@Suite("Delivery: stroke clock")
struct StrokeClockTests {
    static let day = Int128(TimeConstants.nanosecondsPerDay)

    struct RateCase: Sendable, CustomTestStringConvertible {
        var dose: DoseRate
        var concentration: Concentration
        /// Strokes in the first 24 h, derived by hand: floor(dose pg/day ÷ stroke pg).
        var strokesPerDay: Int64
        var note: String
        var testDescription: String { "\(dose) at \(concentration): \(strokesPerDay) strokes/day (\(note))" }
        /// 250 nL × concentration.
        var strokePg: Int64 { 250 * concentration.microgramsPerMillilitre }
    }

    static let rates: [RateCase] = [
        // 1.2e9 pg/day ÷ 125,000 pg = 9,600 strokes, one every 86,400 s / 9,600 = 9 s exactly.
        RateCase(dose: ug(1200), concentration: c500, strokesPerDay: 9_600, note: "9 s interval"),
        // 7e8 ÷ 125,000 = 5,600 strokes, every 15.428571428571… s (not an integer number of ns).
        RateCase(dose: ug(700), concentration: c500, strokesPerDay: 5_600, note: "15.4285714… s"),
        // 601,300,000 ÷ 125,000 = 4,810.4: 4,810 strokes, 0.4 stroke carried.
        RateCase(dose: ngPerDay(601_300), concentration: c500, strokesPerDay: 4_810, note: "fraction carried"),
        // 5e7 ÷ 250,000 = 200 strokes, every 432 s.
        RateCase(dose: ug(50), concentration: c1000, strokesPerDay: 200, note: "floor dose"),
        // 9.7e7 ÷ 500,000 = 194 strokes, every 445.3608247… s.
        RateCase(dose: ug(97), concentration: c2000, strokesPerDay: 194, note: "445.36… s"),
        // 1,199,999,000 ÷ 125,000 = 9,599.992: 9,599.
        RateCase(dose: ngPerDay(1_199_999), concentration: c500, strokesPerDay: 9_599, note: "just under the ceiling"),
        // 333,333,000 ÷ 250,000 = 1,333.332: 1,333.
        RateCase(dose: ngPerDay(333_333), concentration: c1000, strokesPerDay: 1_333, note: "1/3 mg"),
    ]

    @Test("the k-th stroke is due at ⌈k × cost ÷ rate⌉ and a day holds ⌊rate ÷ stroke⌋ strokes", arguments: rates)
    func dueInstants(_ k: RateCase) {
        let origin = at(.hours(5))
        var clock = StrokeClock(at: origin)
        clock.set(picogramsPerDay: k.dose.picogramsPerDay, strokePicograms: k.strokePg, at: origin)
        let cost = Int128(k.strokePg) * Self.day
        let rate = Int128(k.dose.picogramsPerDay)
        var count: Int64 = 0
        while clock.nextDue <= origin + .days(1) {
            count += 1
            let expected = origin + ns(Int64((Int128(count) * cost + rate - 1) / rate))
            if clock.nextDue != expected { Issue.record("stroke \(count) due \(clock.nextDue), expected \(expected)"); return }
            clock.strokeGiven(nextStrokePicograms: k.strokePg)
        }
        #expect(count == k.strokesPerDay)
        // Delivered vs the integral: short by less than one stroke.
        let shortfall = k.dose.picogramsPerDay - count * k.strokePg
        #expect(shortfall >= 0 && shortfall < k.strokePg)
    }

    @Test("the fractional remainder is carried: day totals of 601.3 μg/day at 500 μg/mL")
    func remainderCarried() {
        // Cumulative strokes after n days = ⌊n × 4,810.4⌋: 4,810, 9,620, 14,431, 19,241, 24,052.
        let expected: [Int64] = [4_810, 9_620, 14_431, 19_241, 24_052]
        var clock = StrokeClock(at: .zero)
        clock.set(picogramsPerDay: 601_300_000, strokePicograms: 125_000, at: .zero)
        var count: Int64 = 0
        for (i, total) in expected.enumerated() {
            while clock.nextDue <= at(.days(Int64(i + 1))) { count += 1; clock.strokeGiven(nextStrokePicograms: 125_000) }
            #expect(count == total, "after day \(i + 1)")
        }
    }

    @Test("a rate change keeps the credit earned so far")
    func rateChangeKeepsCredit() {
        // 1200 μg/day (9 s per 125,000 pg stroke) for 4.5 s earns half a stroke; then 600 μg/day earns
        // the other half in 9 s: the stroke is due at 13.5 s, not 4.5 + 18 = 22.5 s.
        var clock = StrokeClock(at: .zero)
        clock.set(picogramsPerDay: 1_200_000_000, strokePicograms: 125_000, at: .zero)
        #expect(clock.nextDue == at(.seconds(9)))
        clock.set(picogramsPerDay: 600_000_000, strokePicograms: 125_000, at: at(.milliseconds(4_500)))
        #expect(clock.nextDue == at(.milliseconds(13_500)))
    }

    @Test("zero rate: nothing is due; resetting the credit forgets what was owed")
    func zeroAndReset() {
        var clock = StrokeClock(at: .zero)
        #expect(clock.nextDue == .distantFuture)
        clock.set(picogramsPerDay: 1_200_000_000, strokePicograms: 125_000, at: .zero)
        clock.set(picogramsPerDay: 0, strokePicograms: 125_000, at: at(.seconds(6)))
        #expect(clock.nextDue == .distantFuture)
        // 6 s of 9 were earned; resuming at 1 h would make the stroke due 3 s later…
        var kept = clock
        kept.set(picogramsPerDay: 1_200_000_000, strokePicograms: 125_000, at: at(.hours(1)))
        #expect(kept.nextDue == at(.hours(1) + .seconds(3)))
        // …unless the credit is reset: then a full 9 s.
        clock.resetCredit(at: at(.hours(1)))
        clock.set(picogramsPerDay: 1_200_000_000, strokePicograms: 125_000, at: at(.hours(1)))
        #expect(clock.nextDue == at(.hours(1) + .seconds(9)))
    }
}
