import PropertyBased
import Testing
@testable import PumpCore

/// Takes basal strokes in batches, counting them; everything else is kept.
struct BatchingSink: EffectSink {
    var strokes: Int64 = 0
    var picograms: Int64 = 0
    var batches = 0
    var others: [Effect] = []
    var acceptsStrokeBatches: Bool { true }
    mutating func receive(_ effect: Effect) {
        if case let .stroke(s) = effect, s.purpose == .basal { receiveStroke(s) } else { others.append(effect) }
    }
    mutating func receiveStroke(_ s: Stroke) { strokes += 1; picograms += s.picograms }
    mutating func receiveStrokes(_ b: StrokeBatch) {
        #expect(b.count > 0 && b.first <= b.last)
        strokes += b.count; picograms += b.picograms; batches += 1
    }
}

/// Batches strokes, takes re-alerts as counts and wants no `dailyDelivery` events, as a simulation does.
struct QuietSink: EffectSink {
    var inner = BatchingSink()
    var alerts: Int64 = 0
    var acceptsStrokeBatches: Bool { true }
    var wantsEachAlert: Bool { false }
    var wantsDailyDelivery: Bool { false }
    mutating func receive(_ effect: Effect) {
        if case .alert = effect { alerts += 1 } else { inner.receive(effect) }
    }
    mutating func receiveStroke(_ s: Stroke) { inner.receiveStroke(s) }
    mutating func receiveStrokes(_ b: StrokeBatch) { inner.receiveStrokes(b) }
    mutating func receiveAlerts(_ kind: AlarmKind, count: Int64, first: Instant, last: Instant) {
        #expect(count > 0 && first <= last)
        alerts += count
    }
}

/// Takes every stroke singly.
struct SingleSink: EffectSink {
    var strokes: Int64 = 0
    var picograms: Int64 = 0
    var others: [Effect] = []
    mutating func receive(_ effect: Effect) {
        if case let .stroke(s) = effect, s.purpose == .basal { receiveStroke(s) } else { others.append(effect) }
    }
    mutating func receiveStroke(_ s: Stroke) { strokes += 1; picograms += s.picograms }
}

@Suite("Batched delivery", .shrinking(false))
struct BatchingPropertyTests {
    @Test("batching strokes, counting re-alerts instead of waking for each, and logging no daily events leave the controller exactly as stroke-by-stroke")
    func batchingEqualsStrokes() async throws {
        // Days the quiet sink's own advances closed without a `dailyDelivery` event (it must happen,
        // or the comparison says nothing about the skipped events).
        var daysWithoutEvent = 0
        await propertyCheck(count: 150, input: Gen.uint64(in: 0...UInt64.max), Gen.uint64(in: 0...UInt64.max).array(of: 1...40)) { setup, seeds in
            guard let h = try? Harness(setupSeed: setup, generousRefills: setup % 2 == 0) else { Issue.record("setup"); return }
            var single = h.c, batched = h.c, quiet = h.c
            var s = SingleSink(), b = BatchingSink(), q = QuietSink()
            var trace: [String] = []
            for seed in seeds {
                let action = Action(seed: seed, now: single.now, estimate: single.reservoir.estimate, generousRefills: setup % 2 == 0)
                trace.append("\(single.now) \(action)")
                switch action {
                case let .advance(span):
                    single.advance(to: single.now + span, into: &s)
                    batched.advance(to: batched.now + span, into: &b)
                    quiet.advance(to: quiet.now + span, into: &q)
                case let .command(cmd):
                    s.others += single.handle(cmd, at: single.now).effects
                    b.others += batched.handle(cmd, at: batched.now).effects
                    // As the simulation does: the effects straight into the quiet sink.
                    _ = quiet.handle(cmd, at: quiet.now, into: &q)
                case let .sensor(r):
                    s.others += single.sense(r, at: single.now)
                    b.others += batched.sense(r, at: batched.now)
                    quiet.sense(r, at: quiet.now, into: &q)
                }
                let alertsSingle = Int64(s.others.filter { if case .alert = $0 { return true } else { return false } }.count)
                // The quiet sink gets every other effect but the days' `dailyDelivery` events (the
                // controller's day bookkeeping is compared in full below).
                let nonAlert = s.others.filter {
                    switch $0 {
                    case .alert: return false
                    case let .event(e): if case .dailyDelivery = e.kind { return false } else { return true }
                    default: return true
                    }
                }
                // Commands and readings gave their effects straight to the quiet sink (as in a
                // simulation), so its `dailyDelivery` events are those of days no advance of its own
                // closed: none are compared.
                let quietOthers = q.inner.others.filter { if case let .event(e) = $0, case .dailyDelivery = e.kind { return false } else { return true } }
                if single != quiet || q.alerts != alertsSingle || quietOthers != nonAlert || q.inner.picograms != s.picograms {
                    Issue.record("quiet sink diverged after \(action); alerts \(alertsSingle) vs \(q.alerts)\n\(trace.joined(separator: "\n"))")
                    return
                }
                if single != batched || s.strokes != b.strokes || s.picograms != b.picograms || s.others != b.others {
                    Issue.record("diverged after \(action); strokes \(s.strokes) vs \(b.strokes)\n\(trace.joined(separator: "\n"))")
                    return
                }
            }
            func days(_ e: [Effect]) -> Int { e.filter { if case let .event(x) = $0, case .dailyDelivery = x.kind { return true } else { return false } }.count }
            daysWithoutEvent += days(s.others) - days(q.inner.others)
        }
        #expect(daysWithoutEvent > 0)
    }

    @Test("a year at 1200 μg/day in batches: same state as stroke by stroke, in a handful of batches")
    func yearInBatches() throws {
        var profile = PumpProfile.bench40
        profile.strokeVolume = Volume(nanolitres: 250)
        var c = try PumpController(profile: profile)
        let c500 = Concentration(microgramsPerMillilitre: 500)
        _ = c.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(40), concentration: c500)), at: .zero)
        _ = c.handle(.prime(confirmVolume: c.primingVolume), at: .zero)
        let start = Instant.zero + .hours(1)
        let r = c.handle(.startTherapy(.continuous(.microgramsPerDay(1200)), basis: .transfer(previousDailyDose: .microgramsPerDay(1200))), at: start)
        #expect(r.isAccepted)
        var single = c, batched = c
        var s = SingleSink(), b = BatchingSink()
        var t = start
        for _ in 0..<26 {
            t = t + .days(14)
            single.advance(to: t, into: &s)
            batched.advance(to: t, into: &b)
            let refill = Command.refill(RefillRequest(withdrawn: single.reservoir.estimate, added: .millilitres(40), concentration: c500))
            _ = single.handle(refill, at: t)
            _ = batched.handle(refill, at: t)
        }
        #expect(single == batched)
        // 364 days at 1200 μg/day = 436,800 μg = 3,494,400 strokes of 125 ng (2.4 mL/day ÷ 0.25 μL).
        #expect(s.strokes == 3_494_400 && b.strokes == 3_494_400)
        #expect(b.picograms == 436_800_000_000) // 436,800 μg × 10⁶ pg/μg
        // Batches break only at deadlines, not per stroke: 364 daily milestones, 26 refills, and the
        // refill-due alarm (raised 7 days before the 4 mL mark, day 8 of each 14-day cycle) re-alerting
        // hourly while unacknowledged: about 6 days × 24 = 144 per cycle, 3,744 in all.
        #expect(b.batches < 4_500)
    }
}
