import Testing
@testable import PumpCore

/// A stop taper keeps its schedule while the reservoir is empty: it must not freeze, and a resume
/// after it has ended must not jump back to the pre-taper dose (found by the interlock properties).
@Suite("Stop taper while the reservoir is empty")
struct TaperDuringHaltTests {
    @Test("the taper steps and ends on schedule during an empty-reservoir halt; resume afterwards is refused")
    func taperEndsDuringHalt() throws {
        // 1 mL fill at 600 μg/day: 664,000 nL after priming = 2,656 strokes of 18 s ≈ 13.3 h of drug.
        var c = try Fixture.onTherapy(.continuous(ug(600)), volume: .millilitres(1))
        let stopAt = Fixture.therapyStart + .hours(2)
        let plan = try #require({ () -> TaperPlan? in
            if case let .success(.taper(p)) = c.handle(.stop(taperDays: nil, override: nil), at: stopAt).result { return p }
            return nil
        }())
        #expect(plan.levels.count == 14 && plan.levels.first == ug(600) && plan.levels.last == .floor)
        _ = c.advance(to: stopAt + .days(1))
        #expect(c.haltedSince != nil)
        // Day 3 of the taper, still empty: the programmed dose has stepped down twice.
        _ = c.advance(to: stopAt + .days(2) + .hours(1))
        #expect(c.doseHistory.current == plan.levels[2])
        // After 14 days the taper has ended: delivery stopped, no resume to the old dose.
        let end = try #require(plan.endsAt)
        let effects = c.advance(to: end + .hours(1))
        #expect(effects.eventKinds.contains(.deliveryHalted(.taperCompleted)))
        if case .stopped(at: end, .taperCompleted) = c.phase {} else { Issue.record("phase \(c.phase)") }
        let resume = c.handle(.resume, at: end + .hours(2))
        #expect(resume.refusal == .noTaperToResume)
        // A refill after the end does not restart delivery.
        let refill = c.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(10), concentration: c500)), at: end + .hours(3))
        #expect(refill.isAccepted)
        #expect(!refill.events.contains { if case .deliveryResumed = $0 { return true } else { return false } })
        #expect(c.advance(to: end + .days(2)).strokes.isEmpty)
    }

    @Test("a refill during a stop taper resumes at the taper's current level, not the pre-taper dose")
    func refillMidTaper() throws {
        var c = try Fixture.onTherapy(.continuous(ug(600)), volume: .millilitres(1))
        let stopAt = Fixture.therapyStart + .hours(2)
        guard case let .success(.taper(plan)) = c.handle(.stop(taperDays: nil, override: nil), at: stopAt).result else {
            Issue.record("stop refused"); return
        }
        // Empty at about therapy start + 13.3 h; a refill on taper day 1 (stop + 30 h) comes after
        // about 18.7 h without drug, under the 24 h interruption limit, so it resumes at once.
        let refillAt = stopAt + .days(1) + .hours(6)
        let r = c.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(10), concentration: c500)), at: refillAt)
        #expect(r.events.contains(.deliveryResumed(dose: plan.levels[1])))
        #expect(c.deliveringDose == plan.levels[1])
    }
}
