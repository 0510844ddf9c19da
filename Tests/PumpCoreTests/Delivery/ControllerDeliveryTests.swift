import Testing
@testable import PumpCore

@Suite("Delivery through the controller")
struct ControllerDeliveryTests {
    @Test("priming fills the dead volume: 1,344 strokes, no drug reaches the patient", arguments: [c50, c500, c2000])
    func priming(_ c: Concentration) throws {
        var ctl = try Fixture.filled(c)
        #expect(ctl.primingVolume == nl(Bench.deadNL))
        let r = ctl.handle(.prime(confirmVolume: nl(Bench.deadNL)), at: .zero)
        // 336,000 nL at 16,667 nL/min = ⌈336,000 × 60e9 / 16,667⌉ ns = 1,209,575,808,484 ns (≈ 20.16 min).
        let duration = ns(1_209_575_808_484)
        #expect(try r.accepted() == .bolusStarted(purpose: .priming, target: .zero, volume: nl(Bench.deadNL), endsAt: at(duration)))
        #expect(!ctl.primed)
        let effects = ctl.advance(to: at(duration))
        #expect(effects.strokes.count == 1_344)
        #expect(effects.strokes.allSatisfy { $0.purpose == .priming && $0.picograms == 0 })
        #expect(effects.strokes.last?.at == at(duration))
        #expect(ctl.primed)
        #expect(ctl.catheter.isUniform(c))
        // 20 mL − 336,000 nL = 19,664,000 nL.
        #expect(ctl.reservoir.estimate == nl(19_664_000))
        #expect(ctl.ledger.pumpedVolume(.priming, strokeVolume: nl(250)) == nl(Bench.deadNL))
        #expect(ctl.ledger.deliveredPicograms(.priming) == 0)
        #expect(effects.eventKinds.contains(.bolusCompleted(purpose: .priming, delivered: .zero, volume: nl(Bench.deadNL))))
    }

    @Test("a day of continuous therapy delivers the prescribed integral within one stroke", arguments: StrokeClockTests.rates)
    func dayOfTherapy(_ k: StrokeClockTests.RateCase) throws {
        var ctl = try Fixture.onTherapy(.continuous(k.dose), concentration: k.concentration)
        let dayEnd = Fixture.therapyStart + .days(1)
        let effects = ctl.advance(to: dayEnd)
        #expect(ctl.ledger.basalStrokes == k.strokesPerDay)
        #expect(ctl.ledger.basalPicograms == k.strokesPerDay * k.strokePg)
        #expect(effects.strokes.allSatisfy { $0.picograms == k.strokePg && $0.purpose == .basal })
        // The milestone reports the same, rounded down to the ng.
        let milestone = EventKind.dailyDelivery(day: 1, basal: Mass(nanograms: k.strokesPerDay * k.strokePg / 1_000),
                                                volume: nl(250 * k.strokesPerDay))
        #expect(effects.eventKinds.contains(milestone))
        // Estimate: 19,664,000 nL after priming, less 250 nL per stroke.
        #expect(ctl.reservoir.estimate == nl(19_664_000 - 250 * k.strokesPerDay))
    }

    @Test("a flex schedule's day is delivered within one stroke of its integral, the remainder carried across steps")
    func flexDay() throws {
        // 00–08 at 601, 08–20 at 901, 20–24 at 300 μg/day; therapy starts at 01:00 (clock origin is midnight).
        let s = Schedule.flex([step(0, 0, ug(601)), step(8, 0, ug(901)), step(20, 0, ug(300))])
        // Daily dose (601·8 + 901·12 + 300·4) / 24 = 16,820 / 24 = 700.8333… μg → 700,833 ng/day (nearest).
        #expect(s.dailyDose == ngPerDay(700_833))
        var ctl = try Fixture.onTherapy(s)
        // Cumulative integral in pg × 24 (to stay whole), one 125,000 pg stroke = 3,000,000 "pg·h/day" units.
        // 01→08: 601e6 × 7 = 4,207e6; 08→20: + 901e6 × 12 = 10,812e6 → 15,019e6; 20→24: + 300e6 × 4 → 16,219e6;
        // 24→25: + 601e6 × 1 → 16,820e6. Strokes = ⌊units / 3e6⌋: 1,402; 5,006; 5,406; 5,606.
        let checkpoints: [(Int64, Int64)] = [(8, 1_402), (20, 5_006), (24, 5_406), (25, 5_606)]
        for (hour, strokes) in checkpoints {
            _ = ctl.advance(to: at(.hours(hour)))
            #expect(ctl.ledger.basalStrokes == strokes, "at \(hour):00")
        }
        // Day 1 integral = 700.8333 μg = 5,606.67 strokes; delivered 5,606: within one stroke.
        // Days 2 and 3 end at 49 h and 73 h: cumulative ⌊n × 16,820e6 / 3e6⌋ = 11,213, 16,820.
        _ = ctl.advance(to: at(.hours(49)))
        #expect(ctl.ledger.basalStrokes == 11_213)
        _ = ctl.advance(to: at(.hours(73)))
        #expect(ctl.ledger.basalStrokes == 16_820)
    }

    @Test("the rate in force follows the wall clock set by the clock reference")
    func clockReference() throws {
        var settings = ControllerSettings()
        // The pump's clock reads 22:00 at instant zero; therapy starts at instant 1 h = 23:00.
        settings.clock = ClockReference(timeOfDayAtOrigin: tod(22))
        let s = Schedule.flex([step(0, 0, ug(1200)), step(6, 0, ug(600))])
        var ctl = try Fixture.onTherapy(s, settings: settings)
        // 23:00–24:00 (instants 1 h–2 h) at 600, from 00:00 (instant 2 h) at 1200.
        #expect(ctl.deliveringDose == ug(600))
        _ = ctl.advance(to: at(.hours(2) - ns(1)))
        #expect(ctl.deliveringDose == ug(600))
        _ = ctl.advance(to: at(.hours(2)))
        #expect(ctl.deliveringDose == ug(1200))
        // 600 μg/day for one hour = 25 μg = 200 strokes exactly.
        #expect(ctl.ledger.basalStrokes == 200)
    }

    @Test("bridge after a concentration change: the old concentration for exactly the dead volume, μg/day kept")
    func bridgeThroughController() throws {
        var ctl = try Fixture.onTherapy(.continuous(ug(600)))
        let refillAt = at(.days(2))
        _ = ctl.advance(to: refillAt)
        let r = ctl.handle(.refill(RefillRequest(withdrawn: ctl.reservoir.estimate, added: .millilitres(20),
                                                 concentration: c1000, confirmConcentrationChange: true)), at: refillAt)
        try r.accepted()
        // μg/day unchanged; mL/day recomputed: 600,000 × 1000 / 1000 = 600,000 nL/day.
        #expect(r.events.contains(.concentrationChanged(from: c500, to: c1000, volumeRate: VolumeRate(nanolitresPerDay: 600_000))))
        #expect(ctl.schedule == .continuous(ug(600)))
        #expect(ctl.deliveringDose == ug(600))
        // Bridge: 1,344 strokes of old drug, 125,000 pg each = 168 μg; at 600 μg/day that takes
        // 168/600 day = 0.28 day = 24,192 s, one stroke every 18 s (600 μg/day ÷ 125,000 pg).
        let bridgeEnd = refillAt + .seconds(24_192)
        let bridge = ctl.advance(to: bridgeEnd)
        #expect(bridge.strokes.count == 1_344)
        #expect(bridge.strokes.allSatisfy { $0.picograms == 125_000 })
        #expect(bridge.strokes.last?.at == bridgeEnd)
        #expect(ctl.catheter.isUniform(c1000))
        // After the bridge, 250,000 pg per stroke, one every 36 s.
        let after = ctl.advance(to: bridgeEnd + .hours(1))
        #expect(after.strokes.count == 100)
        #expect(after.strokes.allSatisfy { $0.picograms == 250_000 })
        #expect(after.strokes.first?.at == bridgeEnd + .seconds(36))
    }

    /// A simulation's sink: batches of strokes, re-alerts reported in bulk (the quiet stroke loop).
    struct QuietCounter: EffectSink {
        var strokes: [Instant] = []
        var acceptsStrokeBatches: Bool { true }
        var wantsEachAlert: Bool { false }
        mutating func receive(_ effect: Effect) { if case let .stroke(s) = effect { strokes.append(s.at) } }
        mutating func receiveStroke(_ s: Stroke) { strokes.append(s.at) }
        mutating func receiveStrokes(_ b: StrokeBatch) {
            for k in 0..<b.count { strokes.append(b.first + TimeSpan(nanoseconds: (b.last - b.first).nanoseconds * k / max(1, b.count - 1))) }
        }
    }

    /// Fuzzer finding `strokes-left-behind-by-a-moved-deadline`: past the calculated empty on a pump
    /// whose empty switch says drug remains, under a reserve taper, one long quiet advance stopped
    /// giving strokes at a deadline a stroke's reservoir check had moved past the target, and the
    /// next call gave hours of them at once. One advance gives every stroke due by its target, the
    /// same strokes as many short ones.
    @Test("one advance gives every stroke due by its target, as many short advances do: none is left for the next call to give at once")
    func oneAdvanceLeavesNoStrokeDue() throws {
        // The seed's controller inputs: 1 μL strokes, an empty switch that never trips (18 mL truly
        // went in unentered), 3 mL at 500 μg/mL, 600 μg/day, reserve taper policy, clock 04:00 at zero.
        var p = PumpProfile.bench20
        p.strokeVolume = .microlitres(1)
        p.hasEmptySwitch = true
        // Sensors labelled to trip on the first stroke: two strokes (22 min) prove delivery resumed
        // after the 18 h downtime, as when the seed was found, so no floor comes into these 12 h.
        p.occlusionDetectionStrokes = 1
        p.stallDetectionStrokes = 1
        var s = ControllerSettings()
        s.reservoirPolicy = .reserveTaper
        s.clock = ClockReference(timeOfDayAtOrigin: TimeOfDay(hour: 4)!)
        var c = try Fixture.primed(c500, volume: .millilitres(3), profile: p, settings: s)
        try c.handle(.startTherapy(.continuous(ug(600)), basis: .transfer(previousDailyDose: ug(600))), at: at(.hours(1))).accepted()
        try c.handle(.stop(taperDays: nil, override: nil), at: at(.hours(6))).accepted()
        _ = c.advance(to: at(.days(9) + .hours(12) + .minutes(57)))
        let back = at(.days(10) + .hours(7) + .minutes(13))
        _ = c.recoverAfterDowntime(until: back)
        try c.handle(.resume, at: back).accepted()
        #expect(c.reservoir.estimate == .zero && c.deliveringDose == ngPerDay(64_426))
        let to = back + .hours(12) + .minutes(16)
        var one = c, many = c
        var a = QuietCounter(), b = QuietCounter()
        one.advance(to: to, into: &a)
        var t = back
        while t < to { t = min(to, t + .minutes(7)); many.advance(to: t, into: &b) }
        // 64.426 μg/day in 500 ng strokes: one every 11 min 10.5 s, 65 in 12 h 16 min.
        #expect(a.strokes.count == 65 && b.strokes.count == 65, "\(a.strokes.count) strokes in one advance, \(b.strokes.count) in short ones")
        var again = QuietCounter()
        one.advance(to: to, into: &again)
        #expect(again.strokes.isEmpty, "advancing again to \(to) gave \(again.strokes.count) strokes, from \(again.strokes.first.map(\.description) ?? "")")
    }

    @Test("no catch-up burst after an empty reservoir is refilled")
    func noCatchUp() throws {
        // 1 mL fill: 664,000 nL left after priming = 2,656 strokes; 1200 μg/day = a stroke every 9 s.
        var ctl = try Fixture.onTherapy(.continuous(ug(1200)), volume: .millilitres(1))
        let start = Fixture.therapyStart
        // The 2,656th stroke at 2,656 × 9 s = 23,904 s empties it, and delivery halts right after it.
        let haltAt = start + .seconds(23_904)
        let before = ctl.advance(to: haltAt - ns(1))
        #expect(before.strokes.count == 2_655)
        #expect(ctl.reservoir.estimate == Volume(nanolitres: 250))
        #expect(ctl.haltedSince == nil)
        let halt = ctl.advance(to: haltAt)
        #expect(halt.strokes.count == 1)
        #expect(ctl.reservoir.estimate == .zero)
        #expect(ctl.haltedSince == haltAt)
        #expect(halt.eventKinds.contains(.deliveryHalted(.reservoirEmpty)))
        #expect(ctl.alarms.isActive(.reservoirEmpty))
        #expect(ctl.deliveringDose == .zero)
        // Six hours without drug, then a refill (within the 24 h interruption limit).
        let refillAt = haltAt + .hours(6)
        #expect(ctl.advance(to: refillAt).strokes.isEmpty)
        try ctl.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: c500)), at: refillAt).accepted()
        #expect(!ctl.alarms.isActive(.reservoirEmpty))
        #expect(ctl.deliveringDose == ug(1200))
        // The first hour after the refill holds 3,600 / 9 = 400 strokes, the first 9 s after it.
        let hour = ctl.advance(to: refillAt + .hours(1))
        #expect(hour.strokes.count == 400)
        #expect(hour.strokes.first?.at == refillAt + .seconds(9))
    }

    @Test("a year at 700 μg/day delivers 255,500 μg exactly (2,044,000 strokes)")
    func year() throws {
        var ctl = try Fixture.onTherapy(.continuous(ug(700)), volume: .millilitres(40), profile: .bench40)
        var sink = CountingSink()
        let start = Fixture.therapyStart
        // 700 μg/day at 500 μg/mL = 1.4 mL/day: refill every 14 days (19.6 mL) keeps well above 4 mL.
        for k in Int64(1)..<27 {
            let t = start + .days(14 * k)
            ctl.advance(to: t, into: &sink)
            try ctl.handle(.refill(RefillRequest(withdrawn: ctl.reservoir.estimate, added: .millilitres(40), concentration: c500)), at: t).accepted()
        }
        ctl.advance(to: start + .days(365), into: &sink)
        // 5,600 strokes a day × 365 = 2,044,000; × 125,000 pg = 255,500,000,000 pg = 365 × 700 μg.
        #expect(sink.strokes == 2_044_000)
        #expect(sink.picograms == 255_500_000_000)
        #expect(ctl.ledger.basalPicograms == 255_500_000_000)
        #expect(sink.lastStroke == start + .days(365))
    }
}
