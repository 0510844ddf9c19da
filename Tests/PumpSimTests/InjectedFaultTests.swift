import Testing
@testable import PumpCore
@testable import PumpSim

/// Faults injected into a running simulated pump (`SimulatedPump.inject`): the same fault model as a
/// `FaultPlan`, started now and ended at a scheduled instant or on request.
@Suite("Injected faults")
struct InjectedFaultTests {
    @Test("an occlusion with an end holds strokes until its end, then releases them to the patient")
    func occlusionUntil() throws {
        var p = try primedPump()
        let t0 = Instant.zero + .seconds(10_000)
        try p.inject(.occlusion, at: t0, until: t0 + .seconds(100))
        let patient = p.toPatient
        for i in 0..<50 { try p.perform(stroke(10_000 + Int64(i))) }
        #expect(p.toPatient == patient, "nothing reaches the patient while occluded")
        #expect(p.pressurised == Picolitres(50 * 250_000))
        #expect(p.injected.count == 1)
        // The first stroke at or after the end: the occlusion is over, the held volume released.
        try p.perform(stroke(10_100))
        #expect(p.injected.isEmpty)
        #expect(p.pressurised == .zero)
        #expect(p.toPatient == patient + Picolitres(51 * 250_000).femtograms(at: c500))
    }

    @Test("the occlusion sensor trips after the mechanics' trip strokes and reopens when cleared")
    func occlusionSensor() throws {
        var p = try primedPump()
        let t0 = Instant.zero + .seconds(10_000)
        try p.inject(.occlusion, at: t0)
        for i in 0..<40 { try p.perform(stroke(10_000 + Int64(i))) }
        let tripped = try p.sensorChanges(upTo: t0 + .seconds(40))
        #expect(tripped.map(\.reading) == [.occlusion(true)])
        let cleared = p.clearInjected(.occlusion, at: t0 + .seconds(50))
        #expect(cleared)
        let reopened = try p.sensorChanges(upTo: t0 + .seconds(50))
        #expect(reopened.map(\.reading) == [.occlusion(false)])
        let again = p.clearInjected(.occlusion, at: t0 + .seconds(60))
        #expect(!again, "nothing left to clear")
    }

    @Test("the empty switch reads closed over a full reservoir, and opens when the fault ends at its instant")
    func emptySwitch() throws {
        var p = try primedPump()
        let t0 = Instant.zero + .seconds(10_000)
        try p.inject(.emptySwitch, at: t0, until: t0 + .hours(1))
        let closed = try p.sensorChanges(upTo: t0)
        #expect(closed.map(\.reading) == [.reservoirEmpty(true)])
        #expect(p.reservoir > Picolitres(Volume.millilitres(10)))
        let end = try p.sensorChanges(upTo: t0 + .hours(2))
        #expect(end.map(\.reading) == [.reservoirEmpty(false)])
        #expect(end.map(\.at) == [t0 + .hours(1)], "the switch opens at the fault's end instant")
    }

    @Test("a calibration bias changes every stroke's true volume until cleared")
    func bias() throws {
        var p = try primedPump()
        let t0 = Instant.zero + .seconds(10_000)
        try p.inject(.calibrationBias(.percent(-30)), at: t0)
        let before = p.reservoir
        for i in 0..<10 { try p.perform(stroke(10_000 + Int64(i))) }
        #expect(before - p.reservoir == Picolitres(10 * 175_000))
        p.clearInjected(.calibrationBias(.percent(1)), at: t0 + .seconds(20))
        #expect(p.strokeMean == Picolitres(250_000))
    }

    @Test("a second fault of an injected family, an end before the start, a bias out of range are refused")
    func refusals() throws {
        var p = try primedPump()
        let t0 = Instant.zero + .seconds(10_000)
        try p.inject(.leak(fraction: .percent(20)), at: t0)
        for (kind, until) in [(FaultKind.disconnection, nil), (.motorStall, t0), (.calibrationBias(.percent(60)), nil)] as [(FaultKind, Instant?)] {
            var q = p
            #expect(throws: FaultPlan.Problem.self) { try q.inject(kind, at: t0, until: until) }
        }
        #expect(p.injected.map(\.kind) == [.leak(fraction: .percent(20))])
        #expect(p.leak == .percent(20))
        #expect(p.strokeMean == Picolitres(250_000) && !p.stalled)
    }
}
