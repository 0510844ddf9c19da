import Foundation
import PropertyBased
import Testing
@testable import PumpCore

/// The division-free steps of the hot paths against the formulas they replace: each must give the
/// same instants and the same state, bit for bit.
@Suite("Delivery: division-free stroke steps", .shrinking(false))
struct StrokeStepShortcutTests {
    @Test("a bolus's stroke schedule gives every stroke at nextAt = startedAt + ⌈k·duration/strokes⌉, from any stroke on")
    func bolusScheduleMatchesNextAt() async {
        // Steps where the slack wraps (the +1) and where it does not must both occur, or the
        // comparison could pass with the carry left out.
        var wraps = 0, plain = 0
        await propertyCheck(count: 300, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var g = seed
            func next(_ n: UInt64) -> Int64 { g = g &* 6364136223846793005 &+ 1442695040888963407; return Int64((g >> 17) % n) }
            let strokes = 1 + next(3_000)
            // Durations from 0 (all at once) through a few ns per stroke to days.
            let duration: Int64 = [next(UInt64(strokes) * 3 + 1), next(86_400_000_000_000 * 3) ][Int(next(2))]
            let given = next(UInt64(strokes))
            var b = BolusState(purpose: .priming, target: .micrograms(0), strokes: strokes, startedAt: Instant(nanoseconds: next(1 << 40)),
                               duration: TimeSpan(nanoseconds: duration), given: given, picograms: 0)
            var s = b.schedule
            while b.given < b.strokes {
                guard s.nextAt == b.nextAt else {
                    Issue.record("stroke \(b.given + 1) of \(strokes) over \(duration) ns: schedule \(s.nextAt), nextAt \(b.nextAt)"); return
                }
                let before = s.off
                s.advance()
                b.given += 1
                if s.off - before > s.q { wraps += 1 } else { plain += 1 }
            }
        }
        #expect(wraps > 0 && plain > 0)
    }

    @Test("strokesGiven(k) leaves the clock exactly as k single strokeGiven calls do (steady state without a division)")
    func strokesGivenMatchesSingleSteps() async {
        await propertyCheck(count: 300, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var g = seed
            func next(_ n: UInt64) -> Int64 { g = g &* 6364136223846793005 &+ 1442695040888963407; return Int64((g >> 17) % n) }
            let rate = DoseRate.floor.picogramsPerDay + next(UInt64(DoseRate.ceiling.picogramsPerDay - DoseRate.floor.picogramsPerDay + 1))
            let mass = 25_000 + next(2_000_000)
            var clock = StrokeClock(at: .zero)
            clock.set(picogramsPerDay: rate, strokePicograms: mass, at: Instant(nanoseconds: next(1 << 36)))
            // Leave some credit standing: a few single strokes, sometimes a rate change between.
            for _ in 0..<next(4) { clock.strokeGiven(nextStrokePicograms: mass) }
            if next(2) == 0 { clock.set(picogramsPerDay: rate, strokePicograms: mass, at: clock.anchor + TimeSpan(nanoseconds: next(1 << 30))) }
            for _ in 0..<3 {
                let k = 1 + next(5_000)
                var single = clock
                for _ in 0..<k { single.strokeGiven(nextStrokePicograms: mass) }
                let last = clock.strokesGiven(k)
                guard clock == single, last == single.anchor else {
                    Issue.record("rate \(rate) pg/day, mass \(mass) pg, k \(k): batched \(clock), single \(single)"); return
                }
            }
        }
    }

    @Test("a bolus's strokesDue(by:) is the inverse of instant(ofStroke:): stroke j is due by its own instant, not a nanosecond before")
    func bolusStrokesDueInvertsInstants() async {
        await propertyCheck(count: 300, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var g = seed
            func next(_ n: UInt64) -> Int64 { g = g &* 6364136223846793005 &+ 1442695040888963407; return Int64((g >> 17) % n) }
            let strokes = 1 + next(3_000)
            let duration: Int64 = [next(UInt64(strokes) * 3 + 1), next(86_400_000_000_000 * 3)][Int(next(2))]
            let b = BolusState(purpose: .priming, target: .micrograms(0), strokes: strokes, startedAt: Instant(nanoseconds: next(1 << 40)),
                               duration: TimeSpan(nanoseconds: duration), given: 0, picograms: 0)
            #expect(b.strokesDue(by: b.startedAt - TimeSpan(nanoseconds: 1)) == 0)
            #expect(b.strokesDue(by: b.endsAt) == strokes)
            for _ in 0..<8 {
                let j = 1 + next(UInt64(strokes))
                let at = b.instant(ofStroke: j)
                // Strokes sharing an instant are all due by it; none later than j is due before it.
                #expect(b.strokesDue(by: at) >= j, "seed \(seed): stroke \(j) at \(at)")
                if at > b.startedAt { #expect(b.strokesDue(by: at - TimeSpan(nanoseconds: 1)) < j, "seed \(seed): stroke \(j) before \(at)") }
            }
        }
    }

    @Test("strokesDue and due(afterStrokes:) without a 128-bit division give the integers of the 128-bit formulas")
    func divisionFreeCountsMatchTheFormulas() async {
        // The 128-bit formulas the clock's shortcuts replace.
        func strokesDue(_ c: StrokeClock, _ limit: Instant) -> Int64 {
            guard c.picogramsPerDay > 0, limit >= c.anchor else { return 0 }
            let earned = Int128(c.picogramsPerDay) * Int128((limit - c.anchor).nanoseconds) + c.credit
            return Int64(clamping: earned / (Int128(c.strokePicograms) * StrokeClock.day))
        }
        func due(_ c: StrokeClock, _ k: Int64) -> Instant {
            let rate = Int128(c.picogramsPerDay)
            let owed = Int128(k) * Int128(c.strokePicograms) * StrokeClock.day - c.credit
            guard owed > 0 else { return c.anchor }
            return c.anchor + TimeSpan(nanoseconds: Int64((owed + rate - 1) / rate))
        }
        // Stroke costs on both sides of 2⁶⁴ (a 214 ng stroke) must occur, and counts on a stroke's
        // edge (the correction steps), or the comparison proves less than it says.
        var wide = 0, narrow = 0, edges = 0
        await propertyCheck(count: 400, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var g = seed
            func next(_ n: UInt64) -> Int64 { g = g &* 6364136223846793005 &+ 1442695040888963407; return Int64((g >> 17) % n) }
            let rate = DoseRate.floor.picogramsPerDay + next(UInt64(DoseRate.ceiling.picogramsPerDay - DoseRate.floor.picogramsPerDay + 1))
            // From a 25 pg stroke to a 20 μg one (past any pump's, so the wide path is certain; a
            // heavier one at the floor rate would fall due past Instant's range within a few strokes).
            let mass = [25 + next(1_000), 25_000 + next(2_000_000), 200_000_000 + next(20_000_000_000)][Int(next(3))]
            var clock = StrokeClock(at: .zero)
            clock.set(picogramsPerDay: rate, strokePicograms: mass, at: Instant(nanoseconds: next(1 << 36)))
            for _ in 0..<next(4) { clock.strokeGiven(nextStrokePicograms: mass) }
            if next(2) == 0 { clock.accrue(to: clock.anchor + TimeSpan(nanoseconds: next(1 << 40))) }
            if Int128(mass) * StrokeClock.day >= Int128(1) << 64 { wide += 1 } else { narrow += 1 }
            for _ in 0..<8 {
                let k = 1 + next([10, 5_000, 10_000_000][Int(next(3))])
                // Within Instant's range (a 2 mg stroke 10⁷ times at the floor rate is not).
                guard Int128(k) * Int128(mass) * StrokeClock.day / Int128(rate) < Int128(1) << 61 else { continue }
                let at = due(clock, k)
                guard clock.due(afterStrokes: k) == at else {
                    Issue.record("due(afterStrokes: \(k)) of \(clock): \(clock.due(afterStrokes: k)), formula \(at)"); return
                }
                // On the edge: exactly k by `at`, k − 1 a nanosecond before; and anywhere up to 10 years on.
                let limits = [at, at - TimeSpan(nanoseconds: 1), clock.anchor + TimeSpan(nanoseconds: next(3_650 * 86_400_000_000_000))]
                for limit in limits where clock.strokesDue(upTo: limit) != strokesDue(clock, limit) {
                    Issue.record("strokesDue(upTo: \(limit)) of \(clock): \(clock.strokesDue(upTo: limit)), formula \(strokesDue(clock, limit))"); return
                }
                if strokesDue(clock, at) == k, at > clock.anchor, strokesDue(clock, at - TimeSpan(nanoseconds: 1)) == k - 1 { edges += 1 }
            }
        }
        #expect(wide > 0 && narrow > 0 && edges > 100)
    }

    @Test("a clock decoded with a quotient that does not match its rate still counts by the formula")
    func inconsistentDecodedClockFallsBack() throws {
        var clock = StrokeClock(at: .zero)
        clock.set(picogramsPerDay: 600_000_000, strokePicograms: 125_000, at: .zero)
        let honest = clock.due(afterStrokes: 40)
        var json = try #require(String(data: JSONEncoder().encode(clock), encoding: .utf8))
        let quotient = try #require(json.firstMatch(of: /"quotient":(\d+)/))
        json.replaceSubrange(quotient.range, with: "\"quotient\":\(Int64(quotient.1)! + 1)")
        let tampered = try JSONDecoder().decode(StrokeClock.self, from: Data(json.utf8))
        #expect(tampered.due(afterStrokes: 40) == honest)
    }

    @Test("counted re-alerts reach the sink in the order counted, past the four held inline, and once")
    func quietAlertsFlushInOrder() {
        struct Counts: EffectSink {
            var got: [String] = []
            var wantsEachAlert: Bool { false }
            mutating func receive(_ effect: Effect) {}
            mutating func receiveAlerts(_ kind: AlarmKind, count: Int64, first: Instant, last: Instant) { got.append("\(kind) \(count)") }
        }
        var log = EffectLog()
        let kinds = Array(AlarmKind.allCases.prefix(6))
        for (i, k) in kinds.enumerated() { log.quietAlerts.append((k, Int64(i + 1), .zero, .zero)) }
        var sink = Counts()
        log.flush(into: &sink)
        #expect(sink.got == kinds.enumerated().map { "\($0.element) \($0.offset + 1)" })
        log.quietAlerts.append((kinds[0], 9, .zero, .zero))
        log.flush(into: &sink)
        #expect(sink.got.count == 7 && sink.got.last == "\(kinds[0]) 9")
    }

    @Test("a held run of strokes is flushed at its place among the other effects")
    func effectLogKeepsOrder() {
        func stroke(_ n: Int64) -> Stroke { Stroke(at: Instant(nanoseconds: n), purpose: .priming, volume: Volume(nanolitres: 250), picograms: n) }
        func event(_ n: Int64) -> Effect { .event(Event(at: Instant(nanoseconds: n), kind: .alarmCleared(.refillDue))) }
        var log = EffectLog()
        var expected: [Effect] = []
        log.alert(.lowReservoir, at: Instant(nanoseconds: 1)); expected.append(.alert(.lowReservoir, .medium, at: Instant(nanoseconds: 1)))
        for n in 2...4 as ClosedRange<Int64> { log.stroke(stroke(n)); expected.append(.stroke(stroke(n))) }
        log.event(.alarmCleared(.refillDue), at: Instant(nanoseconds: 5)); expected.append(event(5))
        // A second run after another effect: the first is put in its place.
        for n in 6...7 as ClosedRange<Int64> { log.stroke(stroke(n)); expected.append(.stroke(stroke(n))) }
        log.event(.alarmCleared(.refillDue), at: Instant(nanoseconds: 8)); expected.append(event(8))
        var sink = EffectCollector()
        log.flush(into: &sink)
        #expect(sink.effects == expected)
        // Flushed: nothing is given twice, and a run at the start of a fresh log comes first.
        log.stroke(stroke(9))
        log.event(.alarmCleared(.refillDue), at: Instant(nanoseconds: 10))
        log.flush(into: &sink)
        #expect(sink.effects == expected + [.stroke(stroke(9)), event(10)])
    }

    @Test("a run of saline strokes in the log gives its strokes, at its place among the other effects, however it is followed")
    func effectLogKeepsARunInPlace() {
        // A priming bolus of 1,344 strokes over 80 min 38.4 s: stroke k at ⌈k·D/S⌉ (not a whole step).
        let bolus = BolusState(purpose: .priming, target: .micrograms(0), strokes: 1_344, startedAt: Instant(nanoseconds: 7),
                               duration: TimeSpan(nanoseconds: 4_838_400_000_001), given: 10, picograms: 0)
        let run = StrokeRun(schedule: bolus.schedule, count: 5, last: BolusState(purpose: .priming, target: .micrograms(0), strokes: 1_344,
                                                                      startedAt: bolus.startedAt, duration: bolus.duration, given: 14, picograms: 0).nextAt,
                            purpose: .priming, volume: Volume(nanolitres: 250))
        var strokes: [Stroke] = []
        var b = bolus
        for _ in 0..<5 { strokes.append(Stroke(at: b.nextAt, purpose: .priming, volume: Volume(nanolitres: 250), picograms: 0)); b.given += 1 }
        #expect(Array(run) == strokes && run.first == strokes[0].at && run.last == strokes[4].at)
        func event(_ n: Int64) -> Effect { .event(Event(at: Instant(nanoseconds: n), kind: .alarmCleared(.refillDue))) }
        let single = Stroke(at: Instant(nanoseconds: 1 << 50), purpose: .priming, volume: Volume(nanolitres: 250), picograms: 3)
        // Held as a run, then a stroke after it, then an event: the run, the stroke, the event.
        var log = EffectLog()
        log.event(.alarmCleared(.refillDue), at: Instant(nanoseconds: 1))
        log.strokeRun(run)
        log.stroke(single)
        log.event(.alarmCleared(.refillDue), at: Instant(nanoseconds: 2))
        var a = EffectCollector()
        log.flush(into: &a)
        #expect(a.effects == [event(1)] + strokes.map { .stroke($0) } + [.stroke(single), event(2)])
        // An event after the run, then a stroke: the run is put in its place before the event.
        log.strokeRun(run)
        log.event(.alarmCleared(.refillDue), at: Instant(nanoseconds: 3))
        log.stroke(single)
        var c = EffectCollector()
        log.flush(into: &c)
        #expect(c.effects == strokes.map { .stroke($0) } + [event(3), .stroke(single)])
        // A run after held strokes: its strokes follow them.
        log.stroke(single)
        log.strokeRun(run)
        var d = EffectCollector()
        log.flush(into: &d)
        #expect(d.effects == [.stroke(single)] + strokes.map { .stroke($0) })
    }
}
