import PumpCore

/// A safety invariant the oracle checks on the simulated pump's truth after every step.
///
/// Every check is on by default. `TherapyOracle.Options.disabled` turns named ones off; the list of
/// invariants known to fail on the current core (and why) is kept in `Fuzz/known-failing`, which both
/// `scripts/fuzz` and the oracle's tests read, so the list is flipped in one place.
public enum Invariant: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Every 24 h window of basal drug the controller commanded holds at most 1200 μg (plus one stroke,
    /// the stroke clock's granularity), whatever happened.
    case hardCeiling
    /// While drug remains (true reservoir, empty switch off) and therapy runs untapered, every 24 h
    /// window of commanded basal drug holds at least 50 μg (less one stroke).
    case hardFloor
    /// After an accepted change at t (program, stop, resume), every 24 h window ending within 24 h after
    /// t (until the next change) holds at most (1 + increase limit) × the drug of the 24 h before t,
    /// unless it holds no more than it would without the change (the drug before t, then the plan the
    /// change replaced, with drug present; for a resume, the level in force held), and, while drug
    /// remains and no taper, floor or stop intervenes, at least (1 − decrease limit) × it unless it holds
    /// no less than it would without the change (plus or minus two strokes).
    case rollingTitration
    /// While therapy runs, the reservoir-empty switch is off and the true reservoir holds at least a
    /// stroke, the controller is delivering: it never falls to zero on its own decision (an estimate).
    /// Where the profile has no empty switch, the halt at the calculated empty is the rule and exempt
    /// (from `hardFloor` too); any other zero is not.
    case noSoftwareZero
    /// A refused command leaves therapy as it was: schedule, taper, reservoir, catheter, dose history,
    /// phase, settings; only the refusal event and the interlock-refusal alarm are added.
    case refusalChangesNothing
    /// Missed drug (empty, stall, occlusion, downtime) is never caught up: in every step the commanded
    /// basal drug is at most the highest rate in force times the step's length, plus one stroke.
    case noCatchUp
    /// An interruption that lasted longer than the limit (24 h), timed from the earliest evidence that
    /// delivery stopped (empty switch, calculated empty, stall, occlusion, downtime) to the first
    /// stroke that really delivers again, is followed by delivery at the 50 μg/day floor until a
    /// clinician confirms the dose; and after the confirmation nothing but a `program` delivers above
    /// the highest rate of the schedule confirmed (not a running taper, a `resume` or a `stop`).
    case interruptionFloor
    /// The controller's reservoir estimate is never above the true volume by more than the pump's
    /// labelled accuracy allows (14.5 % of what it pumped since a refill entered as done), plus a stroke.
    case estimateNotAboveTruth
    /// Drug is conserved in the simulated pump, to the femtogram: drug put in minus drug withdrawn at
    /// refills equals reservoir + catheter column + volume held behind an occlusion + CSF + pocket.
    case drugConserved

    public var description: String { rawValue }

    /// Parses a list such as the contents of `Fuzz/known-failing`: one invariant name per line or
    /// separated by commas or spaces; `#` starts a comment. Throws on an unknown name, listing the known ones.
    public static func parseList(_ text: String) throws(InvariantListError) -> Set<Invariant> {
        var out = Set<Invariant>()
        for line in text.split(whereSeparator: \.isNewline) {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for word in content.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
                guard let i = Invariant(rawValue: String(word)) else {
                    throw InvariantListError(name: String(word), known: allCases.map(\.rawValue))
                }
                out.insert(i)
            }
        }
        return out
    }
}

/// An unknown invariant name in a list.
public struct InvariantListError: Error, Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let known: [String]
    public var description: String { "unknown invariant \(name); known: \(known.joined(separator: ", "))" }
}

/// One broken invariant, at an instant of the run, with the figures that show it.
public struct Violation: Hashable, Sendable, CustomStringConvertible {
    public let invariant: Invariant
    public let at: Instant
    public let detail: String
    public var description: String { "\(invariant) at \(at): \(detail)" }
}
