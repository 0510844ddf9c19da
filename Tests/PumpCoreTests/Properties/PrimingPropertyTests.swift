import PropertyBased
import Testing
@testable import PumpCore

@Suite("Interrupted priming", .shrinking(false))
struct PrimingPropertyTests {
    @Test("however often a priming bolus is cut by downtime, confirming what is left completes it with exactly the strokes and tip drug of one priming")
    func interruptedPrimingCompletes() async throws {
        await propertyCheck(count: 200, input: Gen.uint64(in: 0...UInt64.max), Gen.uint64(in: 0...UInt64.max).array(of: 1...5)) { setup, cuts in
            // A bench pump with a stroke volume of 100…1,000 nL, so the dead volume is not always whole strokes.
            var profile = PumpProfile.bench20
            profile.strokeVolume = Volume(nanolitres: 100 + Int64(setup % 901))
            let sv = profile.strokeVolume.nanolitres
            let strokes = (profile.deadVolume.nanolitres + sv - 1) / sv
            guard var c = try? PumpController(profile: profile) else { Issue.record("profile \(profile.strokeVolume)"); return }
            let conc = Concentration(microgramsPerMillilitre: [500, 1000, 2000][Int((setup >> 12) % 3)])
            _ = c.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: conc)), at: .zero)
            var trace: [String] = ["stroke \(sv) nL, \(strokes) priming strokes"]
            for cut in cuts where !c.primed {
                let full = Volume(nanolitres: strokes * sv)
                let left = c.primingVolume
                // Never more than one priming's worth in all; the refusal of a full priming once part is done.
                if left != full {
                    let r = c.handle(.prime(confirmVolume: full), at: c.now).refusal
                    guard r == .primingVolumeMismatch(confirmed: full, computed: left) else {
                        Issue.record("full priming after a partial one: \(String(describing: r))\n\(trace.joined(separator: "\n"))"); return
                    }
                }
                let accepted = c.handle(.prime(confirmVolume: left), at: c.now)
                guard accepted.isAccepted, let b = c.bolus else {
                    Issue.record("prime \(left) refused: \(String(describing: accepted.refusal))\n\(trace.joined(separator: "\n"))"); return
                }
                // Cut somewhere in the bolus (or just after it), then a downtime of up to 3 days.
                let into = TimeSpan(nanoseconds: Int64(cut % UInt64(b.duration.nanoseconds + 1)))
                _ = c.advance(to: b.startedAt + into)
                let givenBefore = c.ledger.priming.strokes
                let report = c.recoverAfterDowntime(until: c.now + TimeSpan(nanoseconds: Int64((cut >> 20) % UInt64(TimeSpan.days(3).nanoseconds))))
                trace.append("prime \(left) at \(b.startedAt), cut after \(into): \(givenBefore) priming strokes so far, interrupted \(report.interruptedBolus.map { "\($0.given)/\($0.strokes)" } ?? "none")")
                guard report.effects.strokes.isEmpty, c.bolus == nil else {
                    Issue.record("recovery gave strokes or kept the bolus\n\(trace.joined(separator: "\n"))"); return
                }
            }
            if !c.primed {
                _ = c.handle(.prime(confirmVolume: c.primingVolume), at: c.now)
                _ = c.advance(to: c.now + .hours(2))
            }
            // Only what one uninterrupted priming pushes past the tip (its rounding up to whole strokes).
            let tip = (strokes * sv - profile.deadVolume.nanolitres) * conc.microgramsPerMillilitre
            let ok = c.primed && c.primingVolume == .zero && c.ledger.priming.strokes == strokes
                && c.ledger.priming.picograms == tip && c.catheter.isUniform(conc)
                && c.reservoir.estimate == .millilitres(20) - Volume(nanolitres: strokes * sv)
            if !ok {
                Issue.record("primed \(c.primed), \(c.ledger.priming.strokes) priming strokes (one priming is \(strokes)), \(c.ledger.priming.picograms) pg at the tip (one priming: \(tip)), priming volume left \(c.primingVolume)\n\(trace.joined(separator: "\n"))")
            }
        }
    }
}
