import Foundation
import PropertyBased
import Testing
@testable import PumpCore
@testable import PumpSim

/// The controller driving a simulated pump (the truth) through random faults, refill lapses and
/// controller downtime. Delivery is judged on the drug that reached the patient, stroke by stroke: a
/// cessation runs from the last stroke that delivered drug to the next one (the volume an occlusion
/// releases when it clears is drug, not a resumed stroke).
///
/// Invariants:
/// - **interruption, whatever the cause**: a true cessation of delivered drug longer than 24 h (plus
///   the sensors' detection latency, at most `latency`) is followed by floor-rate delivery: at the
///   first delivered stroke the controller awaits `confirmResumption`, and the 24 h after it hold at
///   most 50 μg (times the pump's own over-infusion) plus one stroke.
/// - **no fall to zero by software decision while drug remains, where a switch exists**: with an empty
///   switch in the profile, the commanded dose is never zero while therapy runs and the true reservoir
///   is above the switch level.
struct InterruptionRig {
    static let concentration = Concentration(microgramsPerMillilitre: 2000)
    /// Stall and occlusion sensors trip after 2 and 3 quiet strokes; the slowest stroke, 500 ng at
    /// 50 μg/day, comes every 864 s: 3 strokes = 43.2 min. One hour bounds the detection latency.
    static let latency = TimeSpan.hours(1)

    struct Event: Sendable, CustomStringConvertible {
        enum What: Sendable { case fault(FaultKind, Bool), refill, down(TimeSpan) }
        var at: Instant
        var what: What
        var description: String { "\(at) \(what)" }
    }

    var controller: PumpController
    var pump: SimulatedPump
    let hasSwitch: Bool
    /// A deliberately broken controller for the anti-vacuity tests: it never hears of a stall or an
    /// occlusion.
    let blindToFaults: Bool
    let therapyStart: Instant
    var lastDelivery: Instant
    var deliveredSinceStart = false
    var pendingChecks: [(resumed: Instant, since: Instant)] = []
    /// Drug delivered to the patient per delivery instant (fg), for the window checks.
    var deliveries: [(Instant, Int64)] = []
    var failures: [String] = []
    var trace: [String] = []
    /// An occlusion reading came within the sensor's trip strokes after an interruption had ended: the
    /// strokes the controller counted as resumed may have gone into the occlusion (the class of the
    /// fuzz finding `occlusion-on-the-first-stroke-after-refill`). Kept so a test can show the class
    /// was met, not only that nothing failed.
    var occlusionRightAfterResumption = false

    /// `occlusionDetectionStrokes`: what the controller's profile says its occlusion sensor needs to
    /// trip (the pump's sensor trips after 3); fewer is a deliberately broken controller.
    init(dose: DoseRate, fill: Volume, bias: Fraction, hasSwitch: Bool, controllerHasSwitch: Bool? = nil,
         blindToFaults: Bool = false, occlusionDetectionStrokes: Int64 = 3) throws {
        var profile = PumpProfile.bench20
        profile.hasEmptySwitch = controllerHasSwitch ?? hasSwitch
        profile.occlusionDetectionStrokes = occlusionDetectionStrokes
        profile.stallDetectionStrokes = 2
        var m = PumpMechanics()
        m.calibrationBias = bias
        m.stallTripStrokes = 2
        m.occlusionTripStrokes = 3
        controller = try PumpController(profile: profile)
        // The pump's own profile as labelled (the simulator refuses a sensor slower than its label); a
        // controller told fewer detection strokes is a deliberately broken one.
        var truth = profile
        truth.occlusionDetectionStrokes = max(profile.occlusionDetectionStrokes, m.occlusionTripStrokes)
        pump = try SimulatedPump(profile: truth, mechanics: m)
        self.hasSwitch = hasSwitch
        self.blindToFaults = blindToFaults
        let c = Self.concentration
        _ = controller.handle(.refill(RefillRequest(withdrawn: .zero, added: fill, concentration: c)), at: .zero)
        pump.refill(added: fill, concentration: c, at: .zero)
        therapyStart = .zero + .hours(1)
        lastDelivery = therapyStart
        try command(.prime(confirmVolume: controller.primingVolume), at: .zero)
        step(to: therapyStart)
        try command(.startTherapy(.continuous(dose), basis: .transfer(previousDailyDose: dose)), at: therapyStart)
    }

    struct Refused: Error { var description: String }

    mutating func command(_ c: Command, at t: Instant) throws {
        let r = controller.handle(c, at: t)
        carryOut(r.effects)
        if let refusal = r.refusal { throw Refused(description: "\(c): \(refusal)") }
        poll()
    }

    mutating func carryOut(_ effects: [Effect]) {
        for e in effects { if case let .stroke(s) = e { perform(s) } }
    }

    mutating func perform(_ s: Stroke) {
        let before = pump.toPatient.value
        try? pump.perform(s)
        if pump.toPatient.value > before { noteDelivered(pump.toPatient.value - before, at: s.at) }
    }

    /// Sensor changes to the controller at its instant (the stall and occlusion ones withheld from a
    /// blind controller).
    mutating func poll() {
        guard let changes = try? pump.sensorChanges(upTo: controller.now) else { return }
        for ch in changes {
            if blindToFaults { if case .occlusion = ch.reading { continue }; if case .motorStall = ch.reading { continue } }
            if case .occlusion(true) = ch.reading, controller.interruption == nil, let e = controller.endedInterruption,
               controller.ledger.basalStrokes - e.basalStrokes <= pump.mechanics.occlusionTripStrokes {
                occlusionRightAfterResumption = true
            }
            carryOut(controller.sense(ch.reading, at: controller.now))
        }
        checkSwitchRule()
    }

    mutating func checkSwitchRule() {
        guard hasSwitch, case .running = controller.phase, !pump.emptySensor else { return }
        if controller.deliveringDose == .zero {
            failures.append("delivery at zero at \(controller.now) by the controller's decision with \(pump.reservoir) in the reservoir (switch open)")
        }
    }

    /// Carries strokes out on the pump during an advance and keeps what reached the patient.
    struct StrokeSink: EffectSink {
        var pump: SimulatedPump
        var delivered: [(Instant, Int64)] = []
        mutating func receive(_ effect: Effect) {
            guard case let .stroke(s) = effect else { return }
            let before = pump.toPatient.value
            try? pump.perform(s)
            if pump.toPatient.value > before { delivered.append((s.at, pump.toPatient.value - before)) }
        }
    }

    mutating func noteDelivered(_ fg: Int64, at t: Instant) {
        deliveries.append((t, fg))
        // A cessation needs drug delivered before it: after the start the catheter's dead volume of
        // saline goes first (0.29 mL: over a day at low rates at 2000 μg/mL), which is no interruption.
        if t >= therapyStart, deliveredSinceStart, case .running = controller.phase, t - lastDelivery > .hours(24) + Self.latency {
            pendingChecks.append((t, lastDelivery))
            if controller.awaitingConfirmationSince == nil {
                failures.append("delivery resumed at \(t) after a cessation since \(lastDelivery) (\((t - lastDelivery).roundedDescription)) at \(controller.deliveringDose), not awaiting confirmation")
            }
        }
        lastDelivery = t
        if t >= therapyStart { deliveredSinceStart = true }
    }

    /// Advances controller and pump to `target`, never past a possible sensor change.
    mutating func step(to target: Instant) {
        while controller.now < target {
            let k = min(pump.strokesBeforeNextChange(), 100_000)
            // The shortest stroke gap: 500 ng at the 1200 μg/day ceiling = 36 s.
            let limit = k > 1 ? min(target, max(controller.now + .seconds(36) * (k - 1), controller.nextDeadline))
                : min(target, controller.nextDeadline)
            var sink = StrokeSink(pump: pump)
            controller.advance(to: limit, into: &sink)
            pump = sink.pump
            for (t, fg) in sink.delivered { noteDelivered(fg, at: t) }
            poll()
        }
    }

    mutating func run(_ events: [Event], until end: Instant) {
        for e in events.sorted(by: { $0.at < $1.at }) where e.at >= controller.now && e.at <= end {
            step(to: e.at)
            trace.append(e.description)
            switch e.what {
            case let .fault(kind, on):
                let before = pump.toPatient.value
                pump.apply(FaultChange(at: e.at, kind: kind, active: on))
                poll()
                // An occlusion clearing releases the held volume to the patient: drug, but not a
                // resumed stroke (a stall may still hold the motor), so it does not end a cessation.
                let released = pump.toPatient.value - before
                if released > 0 { deliveries.append((e.at, released)) }
            case .refill:
                let r = controller.handle(.refill(RefillRequest(withdrawn: pump.measurableResidual, added: .millilitres(20),
                                                                concentration: Self.concentration)), at: e.at)
                carryOut(r.effects)
                if r.isAccepted { pump.refill(added: .millilitres(20), concentration: Self.concentration, at: e.at) }
                poll()
            case let .down(span):
                // Nothing runs while the controller is down; then it accounts the gap.
                let report = controller.recoverAfterDowntime(until: e.at + span)
                carryOut(report.effects)
                poll()
            }
        }
        step(to: end)
        checkWindows()
    }

    /// After each resumption that followed a cessation over the limit: at most 50 μg + one stroke in
    /// the next 24 h (or up to the end of the run).
    mutating func checkWindows() {
        let oneStroke = Int64(pump.maximumStroke.value) * Int64(Self.concentration.microgramsPerMillilitre) // pL × μg/mL = fg
        for (resumed, since) in pendingChecks {
            let fg = deliveries.filter { $0.0 > resumed && $0.0 <= resumed + .hours(24) }.reduce(Int64(0)) { $0 + $1.1 }
            let span = min(.hours(24), controller.now - resumed)
            // The floor as commanded, scaled by the pump's own over-infusion (the truth of a biased pump).
            let bias = Int128(1_000_000 + max(0, pump.mechanics.calibrationBias.partsPerMillion))
            let allowed = Int64(Int128(DoseRate.floor.picogramsPerDay) * 1_000 * Int128(span.nanoseconds) * bias
                                / Int128(TimeConstants.nanosecondsPerDay) / 1_000_000) + oneStroke
            if fg > allowed {
                failures.append("after the cessation \(since)–\(resumed): \(fg / 1_000_000) ng in the next \(span.roundedDescription), above the floor's \(allowed / 1_000_000) ng")
            }
        }
    }
}

@Suite("Interruption properties", .shrinking(false))
struct InterruptionPropertyTests {
    static let day = TimeSpan.days(1)

    /// Decodes a run from seeds: a dose, a fill, a bias within the labelled ±14.5 %, a switch or not,
    /// and up to 6 events (stalls and occlusions of 1–80 h, refills, downtimes of 1–40 h) over 8 days.
    static func decode(_ setup: UInt64, _ seeds: [UInt64], occlusionDetectionStrokes: Int64 = 3) -> (rig: () throws -> InterruptionRig, events: [InterruptionRig.Event]) {
        let dose = DoseRate.microgramsPerDay(200 + Int64(setup % 1_001))
        let fill = Volume(nanolitres: 1_000_000 + Int64((setup >> 10) % 5_000_000))
        let bias = Fraction(partsPerMillion: Int64((setup >> 24) % 290_001) - 145_000)
        let hasSwitch = (setup >> 44) % 2 == 0
        var events: [InterruptionRig.Event] = []
        let t0 = Instant.zero + .hours(2)
        for s in seeds {
            let at = t0 + .minutes(Int64(s % (8 * 24 * 60)))
            let length = TimeSpan.minutes(60 + Int64((s >> 20) % (79 * 60)))
            switch (s >> 40) % 4 {
            case 0: events += [.init(at: at, what: .fault(.motorStall, true)), .init(at: at + length, what: .fault(.motorStall, false))]
            case 1: events += [.init(at: at, what: .fault(.occlusion, true)), .init(at: at + length, what: .fault(.occlusion, false))]
            case 2: events.append(.init(at: at, what: .refill))
            default: events.append(.init(at: at, what: .down(.minutes(60 + Int64((s >> 20) % (39 * 60))))))
            }
        }
        return ({ try InterruptionRig(dose: dose, fill: fill, bias: bias, hasSwitch: hasSwitch, occlusionDetectionStrokes: occlusionDetectionStrokes) }, events)
    }

    @Test("a cessation of delivered drug over 24 h, whatever the cause, is followed by floor-rate delivery until confirmResumption; with an empty switch, never zero by software decision while drug remains")
    func interruptionCauseInvariant() async {
        await propertyCheck(count: Self.iterations(80), input: Gen.uint64(in: 0...UInt64.max), Gen.uint64(in: 0...UInt64.max).array(of: 0...6)) { setup, seeds in
            let (make, events) = Self.decode(setup, seeds)
            guard var rig = try? make() else { Issue.record("setup refused for \(setup)"); return }
            rig.run(events, until: .zero + .days(9))
            #expect(rig.failures.isEmpty, Comment(rawValue: "setup \(setup), seeds \(seeds)\n\(rig.failures.prefix(4).joined(separator: "\n"))\nevents:\n\(rig.trace.joined(separator: "\n"))"))
        }
    }

    static let hiddenByAStall = (setup: UInt64(14542341888731856431),
                                 seeds: [UInt64(3325294428606399638), 14236842368054998805, 13092364784497238637, 10656068538432514080, 7404121872294431294])

    /// A case the random property met: a stall ends while an occlusion it hid persists; the first
    /// strokes go into the occlusion, which trips the sensor after 3 of them. Those strokes are not
    /// resumed delivery: the reading continues the interruption timed from the stall (35 h without
    /// drug), so delivery resumes at the floor, not the full dose.
    @Test("an occlusion read within the sensor's trip strokes after an interruption ended continues that interruption: an occlusion hidden by a stall")
    func occlusionHiddenByAStall() throws {
        let (make, events) = Self.decode(Self.hiddenByAStall.setup, Self.hiddenByAStall.seeds)
        var rig = try make()
        rig.run(events, until: .zero + .days(9))
        #expect(rig.occlusionRightAfterResumption)
        #expect(rig.failures.isEmpty, Comment(rawValue: rig.failures.joined(separator: "\n")))
    }

    /// Anti-vacuity: the same run with a controller told its occlusion sensor trips on the first
    /// stroke (it needs 3) takes the strokes into the occlusion for resumed delivery and fails.
    @Test("the interruption invariant catches a controller that underestimates its occlusion sensor's trip strokes")
    func catchesUnderestimatedOcclusionTrip() throws {
        let (make, events) = Self.decode(Self.hiddenByAStall.setup, Self.hiddenByAStall.seeds, occlusionDetectionStrokes: 1)
        var broken = try make()
        broken.run(events, until: .zero + .days(9))
        #expect(broken.failures.contains { $0.contains("not awaiting confirmation") }, "\(broken.failures)")
    }

    /// The property's iteration count, raised with `ITPUMP_PROPERTY_ITERATIONS` to hunt for rare cases.
    static func iterations(_ n: Int) -> Int {
        ProcessInfo.processInfo.environment["ITPUMP_PROPERTY_ITERATIONS"].flatMap(Int.init) ?? n
    }

    /// The issue's reproduction: +14.5 % over-infusion, the switch trips about 2 days before the
    /// calculated empty, the refill comes 63 h after the switch.
    @Test("an over-infusing pump whose switch trips 2 days early, refilled after 63 h: the floor until confirmResumption", arguments: [false, true])
    func overInfusionRefilledAfter63Hours(hasSwitch: Bool) throws {
        // 600 μg/day at 2000 μg/mL = 0.3 mL/day. 4.336 mL fill − 0.336 mL priming = 4 mL: calculated
        // empty after 13.3 days; at +14.5 % the true 4 mL (less the extra the priming took) runs out
        // about 1.7 days earlier.
        var rig = try InterruptionRig(dose: .microgramsPerDay(600), fill: Volume(nanolitres: 4_336_000),
                                      bias: Fraction(partsPerMillion: 145_000), hasSwitch: hasSwitch)
        var projectedEmpty: Instant?
        while rig.controller.emptySwitchEvidenceSince == nil && rig.controller.now < .zero + .days(20) {
            projectedEmpty = rig.controller.projectedEmpty
            rig.step(to: rig.controller.now + .hours(1))
        }
        guard let tripped = rig.controller.emptySwitchEvidenceSince, let projectedEmpty else {
            Issue.record("the switch never tripped"); return
        }
        #expect(projectedEmpty - tripped > .hours(36), "switch at \(tripped), calculated empty at \(projectedEmpty)")
        let refill = tripped + .hours(63)
        rig.run([InterruptionRig.Event(at: refill, what: .refill)], until: refill + .days(2))
        #expect(rig.controller.awaitingConfirmationSince == tripped)
        #expect(rig.controller.deliveringDose == DoseRate.floor)
        #expect(rig.failures.isEmpty, "\(rig.failures)")
    }

    @Test("an under-infusing pump with an empty switch delivers past its calculated empty until the switch trips")
    func underInfusionWithSwitchKeepsDelivering() throws {
        var rig = try InterruptionRig(dose: .microgramsPerDay(600), fill: Volume(nanolitres: 4_336_000), bias: Fraction(partsPerMillion: -145_000), hasSwitch: true)
        rig.step(to: .zero + .days(20))
        #expect(rig.controller.alarms.isActive(.reservoirEmpty) && rig.pump.emptySensor)
        // Drug kept flowing past the calculated empty: what is left is at most the switch level.
        #expect(rig.pump.reservoir <= Picolitres(PumpMechanics().emptySensorLevel))
        #expect(rig.failures.isEmpty, "\(rig.failures)")
    }

    /// Fixed seeds: a real occlusion from 5 h to 80 h with a real 48 h stall inside it (10 h–58 h). The
    /// stall clears while the occlusion reading persists; the occlusion clears after 75 h. Delivery is
    /// at the floor from 24 h after the occlusion tripped, before either clears, and stays there.
    @Test("a stall that ends while an occlusion persists, 75 h without drug in all: the floor from 24 h after the first evidence, on the pump's truth")
    func stallInsidePersistingOcclusion() throws {
        let events: [InterruptionRig.Event] = [.init(at: .zero + .hours(5), what: .fault(.occlusion, true)),
                                               .init(at: .zero + .hours(10), what: .fault(.motorStall, true)),
                                               .init(at: .zero + .hours(58), what: .fault(.motorStall, false)),
                                               .init(at: .zero + .hours(80), what: .fault(.occlusion, false))]
        var rig = try InterruptionRig(dose: .microgramsPerDay(600), fill: .millilitres(20), bias: .percent(0), hasSwitch: false)
        rig.run(events.filter { $0.at < .zero + .hours(57) }, until: .zero + .hours(57))
        let tripped = try #require(rig.controller.interruption?.since)
        #expect(tripped >= .zero + .hours(5) && tripped < .zero + .hours(5) + InterruptionRig.latency)
        #expect(rig.controller.awaitingConfirmationSince == tripped && rig.controller.deliveringDose == .floor)
        rig.run(events.filter { $0.at >= .zero + .hours(57) }, until: .zero + .days(5))
        #expect(rig.controller.awaitingConfirmationSince == tripped && rig.controller.deliveringDose == .floor)
        #expect(rig.failures.isEmpty, "\(rig.failures)")
    }

    // MARK: - Anti-vacuity: deliberately broken controllers fail the invariants

    @Test("the interruption invariant catches a controller blind to a 48 h stall")
    func catchesBlindController() throws {
        let events: [InterruptionRig.Event] = [.init(at: .zero + .hours(5), what: .fault(.motorStall, true)),
                                               .init(at: .zero + .hours(53), what: .fault(.motorStall, false))]
        var sound = try InterruptionRig(dose: .microgramsPerDay(600), fill: .millilitres(20), bias: .percent(0), hasSwitch: false)
        sound.run(events, until: .zero + .days(4))
        #expect(sound.failures.isEmpty, "\(sound.failures)")
        var blind = try InterruptionRig(dose: .microgramsPerDay(600), fill: .millilitres(20), bias: .percent(0), hasSwitch: false, blindToFaults: true)
        blind.run(events, until: .zero + .days(4))
        #expect(blind.failures.contains { $0.contains("not awaiting confirmation") })
        #expect(blind.failures.contains { $0.contains("above the floor") })
    }

    @Test("the switch invariant catches a controller that halts on its estimate although the pump has a switch")
    func catchesEstimateHalt() throws {
        var broken = try InterruptionRig(dose: .microgramsPerDay(600), fill: Volume(nanolitres: 4_336_000), bias: Fraction(partsPerMillion: -145_000),
                                         hasSwitch: true, controllerHasSwitch: false)
        broken.step(to: .zero + .days(20))
        #expect(broken.failures.contains { $0.contains("delivery at zero") })
    }
}
