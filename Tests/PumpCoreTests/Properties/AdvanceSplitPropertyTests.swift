import PropertyBased
import Testing
@testable import PumpCore

/// Time is explicit, so how a caller cuts it must not matter: advancing to `t` in one call leaves
/// the controller, and gives the patient, exactly what advancing there in pieces does. A call that
/// runs past a deadline one of its own strokes set (a reserve taper's next step, a re-alert) would
/// give strokes late at the old rate; one that stops short would leave a catch-up burst for the next.
@Suite("Advance in pieces", .shrinking(false))
struct AdvanceSplitPropertyTests {
    /// Every effect, strokes in batches counted stroke by stroke.
    struct Log: EffectSink {
        var quiet: Bool
        var strokes: Int64 = 0
        var picograms: Int64 = 0
        var alerts: Int64 = 0
        var others: [Effect] = []
        var acceptsStrokeBatches: Bool { true }
        var wantsEachAlert: Bool { !quiet }
        var wantsDailyDelivery: Bool { !quiet }
        mutating func receive(_ effect: Effect) {
            switch effect {
            case let .stroke(s) where s.purpose == .basal: receiveStroke(s)
            case .alert where quiet: alerts += 1
            default: others.append(effect)
            }
        }
        mutating func receiveStroke(_ s: Stroke) { strokes += 1; picograms += s.picograms }
        mutating func receiveStrokes(_ b: StrokeBatch) { strokes += b.count; picograms += b.picograms }
        mutating func receiveAlerts(_ kind: AlarmKind, count: Int64, first: Instant, last: Instant) { alerts += count }
    }

    /// Runs random actions on two twins; each advance goes in one call on `one` and in up to 6 random
    /// pieces on `pieces`. Half the setups run the `reserveTaper` policy, whose taper a stroke starts
    /// inside an advance. Returns the first difference, with the actions that led to it, and whether a
    /// reserve taper ran.
    static func divergence(setup: UInt64, seeds: [UInt64], quiet: Bool) -> (difference: String?, reserveTaper: Bool) {
        guard var h = try? Harness(setupSeed: setup, generousRefills: setup % 2 == 0) else { return ("setup \(setup)", false) }
        if (setup >> 1) % 2 == 0 { h.c.settings.reservoirPolicy = .reserveTaper }
        var one = h.c, pieces = h.c
        var a = Log(quiet: quiet), b = Log(quiet: quiet)
        var trace: [String] = []
        var reserve = false
        for seed in seeds {
            let action = Action(seed: seed, now: one.now, estimate: one.reservoir.estimate, generousRefills: setup % 2 == 0)
            trace.append("\(one.now) \(action)")
            if let span = action.applyUnlessAdvance(to: &one, into: &a) {
                let start = one.now
                one.advance(to: start + span, into: &a)
                // Up to 6 cuts at random points of the span, in order.
                let cuts = (0..<Int((seed >> 40) % 7)).map { i in
                    Int64(truncatingIfNeeded: (seed >> UInt64(5 * i)) & 0x3FF) * span.nanoseconds / 0x400
                }.sorted()
                for cut in cuts { pieces.advance(to: start + TimeSpan(nanoseconds: cut), into: &b) }
                pieces.advance(to: start + span, into: &b)
            } else {
                _ = action.applyUnlessAdvance(to: &pieces, into: &b)
            }
            if one.taper?.kind == .reserve { reserve = true }
            if one != pieces || a.strokes != b.strokes || a.picograms != b.picograms || a.alerts != b.alerts || a.others != b.others {
                return ("diverged after \(action): strokes \(a.strokes) vs \(b.strokes), pg \(a.picograms) vs \(b.picograms), "
                    + "alerts \(a.alerts) vs \(b.alerts)\n\(trace.joined(separator: "\n"))", reserve)
            }
        }
        return (nil, reserve)
    }

    @Test("one advance and the same span in pieces leave the controller and the strokes given identical (a simulation's quiet sink)")
    func quietSink() async {
        var reserveTapers = 0
        await propertyCheck(count: 150, input: Gen.uint64(in: 0...UInt64.max), Gen.uint64(in: 0...UInt64.max).array(of: 1...40)) { setup, seeds in
            let (d, reserve) = Self.divergence(setup: setup, seeds: seeds, quiet: true)
            if let d { Issue.record(Comment(rawValue: d)) }
            if reserve { reserveTapers += 1 }
        }
        // The class this guards was found in a reserve taper: the comparison must have seen some.
        #expect(reserveTapers > 0)
    }

    @Test("one advance and the same span in pieces give the same effects in the same order (a device's sink: every alert, every day)")
    func loudSink() async {
        await propertyCheck(count: 100, input: Gen.uint64(in: 0...UInt64.max), Gen.uint64(in: 0...UInt64.max).array(of: 1...40)) { setup, seeds in
            if let d = Self.divergence(setup: setup, seeds: seeds, quiet: false).difference { Issue.record(Comment(rawValue: d)) }
        }
    }
}
