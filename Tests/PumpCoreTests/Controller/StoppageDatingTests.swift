import PropertyBased
import Testing
@testable import PumpCore

// The bench profile at 500 μg/mL: a 0.25 μL stroke holds 125 ng. The occlusion sensor may need 40
// strokes into a blockage to trip, the stall reading 3 strokes without feedback (bench20's labelling).

@Suite("Interruptions: a sensor reading is dated back over the strokes its sensor may have needed")
struct StoppageDatingTests {
    static let start = Fixture.therapyStart

    @Test("an occlusion read at 10 h on 600 μg/day is timed from the 1,960th stroke (9 h 48 min), a stall from the 1,997th")
    func occlusionAndStallDatedBack() throws {
        // 600 μg/day of 125 ng strokes: 4,800 a day, one every 18 s exactly, the k-th at start + 18k s.
        // At start + 10 h the 2,000th has just been given. 40 strokes back: the 1,960th at 35,280 s
        // (9 h 48 min), the last that may have delivered; the 41st to 2,000th may all have gone into
        // the blockage the sensor read.
        var c = try Fixture.onTherapy()
        let strokes = c.advance(to: Self.start + .hours(10)).strokes.filter { $0.purpose == .basal }
        #expect(strokes.count == 2_000 && strokes.last?.at == Self.start + .hours(10))
        #expect(c.recentBasalStrokes?.instant(ofStroke: c.ledger.basalStrokes - 40) == strokes[1_959].at)
        var occluded = c
        _ = occluded.sense(.occlusion(true), at: Self.start + .hours(10))
        #expect(occluded.interruption?.since == Self.start + .seconds(35_280))
        #expect(occluded.interruption?.firstEvidence == .occlusion)
        // The stall reading comes within 3 strokes without feedback: from the 1,997th, 35,946 s.
        _ = c.sense(.motorStall(true), at: Self.start + .hours(10))
        #expect(c.interruption?.since == Self.start + .seconds(35_946))
    }

    @Test("at 60 μg/day the 40 strokes take 2 h: an occlusion read at 20 h passes the 24 h limit at 42 h, not 44 h")
    func lowRateFloorComesFromTheDatedStart() throws {
        // 60 μg/day of 125 ng strokes: 480 a day, one every 180 s; the 400th at 20 h. 40 strokes back:
        // the 360th at 18 h. The interruption passes 24 h at 42 h + 1 ns; from then on the floor.
        var c = try Fixture.onTherapy(.continuous(ug(60)))
        _ = c.advance(to: Self.start + .hours(20))
        _ = c.sense(.occlusion(true), at: Self.start + .hours(20))
        #expect(c.interruption?.since == Self.start + .hours(18))
        _ = c.advance(to: Self.start + .hours(42))
        #expect(c.deliveringDose == ug(60) && c.awaitingConfirmationSince == nil)
        _ = c.advance(to: Self.start + .hours(42) + .minutes(1))
        #expect(c.deliveringDose == .floor && c.awaitingConfirmationSince == Self.start + .hours(18))
        #expect(c.alarms.isActive(.therapyInterruption))
    }

    @Test("an occlusion read when its trip strokes span more than the limit puts delivery at the floor at once")
    func readingPastTheLimitFloorsAtOnce() throws {
        // A pump labelled to trip after up to 1,000 strokes; 60 μg/day of 125 ng strokes: one every
        // 180 s, 1,440 by 72 h. 1,000 back: the 440th at 79,200 s (22 h). The interruption passed 24 h
        // at 46 h: the reading at 72 h puts delivery at the floor before `sense` returns.
        var p = PumpProfile.bench20
        p.occlusionDetectionStrokes = 1_000
        var c = try Fixture.onTherapy(.continuous(ug(60)), profile: p)
        _ = c.advance(to: Self.start + .hours(72))
        #expect(c.ledger.basalStrokes == 1_440)
        let effects = c.sense(.occlusion(true), at: Self.start + .hours(72))
        #expect(c.interruption?.since == Self.start + .hours(22))
        #expect(c.deliveringDose == .floor && c.awaitingConfirmationSince == Self.start + .hours(22))
        #expect(effects.contains { if case let .event(e) = $0, case .alarmRaised(.therapyInterruption, _, _) = e.kind { return true } else { return false } })
        #expect(c.now == Self.start + .hours(72))
    }

    @Test("with fewer strokes since the course began than the sensor may need, an occlusion counts from the course's start")
    func fewerStrokesThanTheSensorNeeds() throws {
        // 10 strokes by 3 min at 600 μg/day: fewer than 40, so the blockage may predate them all.
        var c = try Fixture.onTherapy()
        _ = c.advance(to: Self.start + .minutes(3))
        #expect(c.ledger.basalStrokes == 10)
        _ = c.sense(.occlusion(true), at: Self.start + .minutes(3))
        #expect(c.interruption?.since == Self.start)
    }

    @Test("a clinician's confirmation bounds the dating back: evidence never reaches before it")
    func confirmationBoundsTheDatingBack() throws {
        // A 30 h stall from 2 h, confirmed at 32 h; an occlusion read at 32 h + 5 min, 16 strokes of
        // 50 μg/day (one every 216 s) later, may need 40: dated back to the confirmation, not before.
        var c = try Fixture.onTherapy()
        _ = c.advance(to: Self.start + .hours(2))
        _ = c.sense(.motorStall(true), at: Self.start + .hours(2))
        _ = c.advance(to: Self.start + .hours(32))
        _ = c.sense(.motorStall(false), at: Self.start + .hours(32))
        #expect(c.deliveringDose == .floor)
        try c.handle(.confirmResumption(.continuous(ug(600))), at: Self.start + .hours(32)).accepted()
        _ = c.advance(to: Self.start + .hours(32) + .minutes(5))
        _ = c.sense(.occlusion(true), at: Self.start + .hours(32) + .minutes(5))
        #expect(c.interruption?.since == Self.start + .hours(32))
    }

    @Test("runs decoded with absurd values (a damaged or hostile checkpoint) never trap, and a reading is still dated within the course and before itself")
    func absurdRunsAreBounded() throws {
        var c = try Fixture.onTherapy()
        _ = c.advance(to: Self.start + .hours(3))
        let extremes: [Int64] = [.min, -1, 0, 1, .max]
        for first in extremes {
            for count in extremes {
                for rate in [Int64.min, 0, 1, .max] {
                    var held = RecentBasalStrokes()
                    held.runs = [RecentBasalStrokes.Run(first: first, count: count, anchor: Instant(nanoseconds: rate == 1 ? .max : .min),
                                                        credit: rate == 0 ? .max : .min, picogramsPerDay: rate, strokePicograms: .max)]
                    for number in extremes { _ = held.instant(ofStroke: number) }
                    _ = held.earliest
                    held.record(1, first: first &+ count, anchor: .zero, credit: 0, rate: rate, mass: .max, keep: 41)
                    var d = c
                    d.recentBasalStrokes = held
                    _ = d.sense(.occlusion(true), at: Self.start + .hours(3))
                    let since = try #require(d.interruption?.since)
                    #expect(since >= Self.start && since <= Self.start + .hours(3))
                }
            }
        }
    }

    @Test("the strokes held give the instant of each of the last resumptionProofStrokes basal strokes, batched or one by one")
    func recentStrokesAreExact() async {
        await propertyCheck(count: 60, input: Gen.uint64(in: 0...UInt64.max), Gen.uint64(in: 0...UInt64.max).array(of: 1...25)) { setup, seeds in
            guard let h = try? Harness(setupSeed: setup, generousRefills: true) else { Issue.record("setup"); return }
            var single = h.c, batched = h.c
            var times = StrokeRecorder(), batches = BatchingSink()
            var checked = 0
            for seed in seeds {
                let action = Action(seed: seed, now: single.now, estimate: single.reservoir.estimate, generousRefills: true)
                if let span = action.applyUnlessAdvance(to: &single, into: &times) {
                    single.advance(to: single.now + span, into: &times)
                    batched.advance(to: batched.now + span, into: &batches)
                } else {
                    _ = action.applyUnlessAdvance(to: &batched, into: &batches)
                }
                let keep = single.profile.resumptionProofStrokes
                let total = single.ledger.basalStrokes
                guard total == Int64(times.times.count) + h.c.ledger.basalStrokes else { Issue.record("stroke count \(total) vs \(times.times.count)"); return }
                for number in max(h.c.ledger.basalStrokes + 1, total - keep + 1)...max(total, 1) where number <= total {
                    let actual = Instant(nanoseconds: times.times[Int(number - h.c.ledger.basalStrokes - 1)])
                    guard single.recentBasalStrokes?.instant(ofStroke: number) == actual,
                          batched.recentBasalStrokes?.instant(ofStroke: number) == actual else {
                        Issue.record("stroke \(number) at \(actual): held \(String(describing: single.recentBasalStrokes?.instant(ofStroke: number))) one by one, \(String(describing: batched.recentBasalStrokes?.instant(ofStroke: number))) batched")
                        return
                    }
                    checked += 1
                }
            }
            #expect(checked > 0 || single.ledger.basalStrokes == h.c.ledger.basalStrokes)
        }
    }
}
