import Testing
@testable import PumpCore

/// `PumpController.basalHorizon(strokes:…)`: how far a simulation may run the core with at most k more
/// basal strokes (the runner steps to a sensor change k strokes away in one step with it).
@Suite("Delivery: basal horizon")
struct BasalHorizonTests {
    /// Counts basal strokes, batched, as a simulation takes them.
    struct Counter: EffectSink {
        var quiet: Bool
        var strokes: Int64 = 0
        var acceptsStrokeBatches: Bool { true }
        var wantsEachAlert: Bool { !quiet }
        var wantsDailyDelivery: Bool { !quiet }
        mutating func receive(_ effect: Effect) { if case let .stroke(s) = effect, s.purpose == .basal { strokes += 1 } }
        mutating func receiveStroke(_ s: Stroke) { if s.purpose == .basal { strokes += 1 } }
        mutating func receiveStrokes(_ b: StrokeBatch) { strokes += b.count }
    }

    @Test("at 600 μg/day of 500 μg/mL (4,800 strokes of 125 ng a day, one every 18 s) the 100th stroke is the horizon of 100, 30 min after the start")
    func exactInstant() throws {
        var c = try Fixture.onTherapy()
        let h = try #require(c.basalHorizon(strokes: 100, forEachAlert: false, dailyDelivery: false))
        #expect(h == Fixture.therapyStart + .minutes(30))
        var sink = Counter(quiet: true)
        c.advance(to: h, into: &sink)
        #expect(sink.strokes == 100)
        // The 101st is 18 s later, not before.
        c.advance(to: h + .seconds(17), into: &sink)
        #expect(sink.strokes == 100)
        c.advance(to: h + .seconds(18), into: &sink)
        #expect(sink.strokes == 101)
    }

    @Test("the horizon stops at the next deadline the sink's advance stops at: a day's end only for a sink that wants the daily event")
    func boundedByDeadlines() throws {
        let c = try Fixture.onTherapy()
        // 10,000 strokes are 2 d 1 h 20 min away; the first day ends 1 d after the start.
        let quiet = try #require(c.basalHorizon(strokes: 10_000, forEachAlert: false, dailyDelivery: false))
        #expect(quiet == Fixture.therapyStart + .seconds(180_000))
        let daily = try #require(c.basalHorizon(strokes: 10_000, forEachAlert: false, dailyDelivery: true))
        #expect(daily == Fixture.therapyStart + .days(1))
        var a = c, b = c
        var sa = Counter(quiet: true), sb = Counter(quiet: false)
        a.advance(to: quiet, into: &sa)
        b.advance(to: daily, into: &sb)
        #expect(sa.strokes == 10_000 && sb.strokes == 4_800)
    }

    @Test("no horizon where the clock alone cannot tell: no stroke asked for, before therapy, during a test dose")
    func nilCases() throws {
        let c = try Fixture.onTherapy()
        #expect(c.basalHorizon(strokes: 0, forEachAlert: false, dailyDelivery: false) == nil)
        var primed = try Fixture.primed(c500, volume: .millilitres(20))
        #expect(primed.basalHorizon(strokes: 10, forEachAlert: false, dailyDelivery: false) == nil)
        try primed.handle(.testDose(.micrograms(50)), at: primed.now).accepted()
        #expect(primed.bolus != nil)
        #expect(primed.basalHorizon(strokes: 10, forEachAlert: false, dailyDelivery: false) == nil)
    }
}
