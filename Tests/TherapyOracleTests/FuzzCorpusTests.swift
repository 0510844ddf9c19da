import FuzzTargets
import PumpCore
import PropertyBased
import Testing
@testable import TherapyOracle

/// The committed seed corpus (Fuzz/corpus/TARGET/) replays clean, with the invariants of
/// `Fuzz/known-failing` off, as `scripts/fuzz` runs it.
@Suite("Fuzz corpus")
struct FuzzCorpusTests {
    @Test("Every committed seed of every target replays without a finding", arguments: FuzzTarget.allCases)
    func seedsReplayClean(_ target: FuzzTarget) {
        let seeds = Repo.corpus(target)
        #expect(seeds.count >= 10, "Fuzz/corpus/\(target.rawValue) holds \(seeds.count) seeds")
        for seed in seeds {
            let problems = target.run(seed.bytes, disabled: Repo.knownFailing)
            #expect(problems.isEmpty, "\(target.rawValue)/\(seed.name):\n\(problems.joined(separator: "\n"))")
        }
    }

    @Test("Fuzz/known-failing names only invariants the oracle knows")
    func knownFailingParses() throws {
        let text = try String(contentsOf: Repo.root.appendingPathComponent("Fuzz/known-failing"), encoding: .utf8)
        _ = try Invariant.parseList(text)
        #expect(throws: InvariantListError.self) { try Invariant.parseList("hardCeiling, noSuchRule") }
    }

    @Test("Random scripts keep every invariant that is not listed as known to fail")
    func randomScripts() async {
        let disabled = Repo.knownFailing
        await propertyCheck(count: 40, input: Gen.uint8(in: 0...255).array(of: 7...120)) { bytes in
            let problems = FuzzTarget.core.run(bytes, disabled: disabled)
            #expect(problems.isEmpty, "bytes \(bytes):\n\(problems.prefix(12).joined(separator: "\n"))")
        }
    }
}

/// What the core fuzz target found on the current core, one test per rule, each with its reproducer
/// (a committed seed). A rule listed in `Fuzz/known-failing` is a known issue here, so the suite
/// passes before the fix lands and fails once it has (delete the line then).
@Suite("Core fuzz findings")
struct CoreFuzzFindingTests {
    /// The seed's script run on a fresh bench.
    static func bench(_ seed: String) throws -> TherapyBench {
        let bytes = try #require(Repo.corpus(.core).first { $0.name == seed }?.bytes, "no seed \(seed)")
        return try TherapyScript(bytes: bytes).run()
    }

    static func violations(_ seed: String) throws -> [Violation] { try bench(seed).violations }

    /// A fixed finding's seed holds its rule strictly, listed in `Fuzz/known-failing` or not (the list
    /// names rules with other, open findings).
    static func expectHolds(_ rule: Invariant, seed: String) throws {
        let found = try violations(seed).filter { $0.invariant == rule }
        #expect(found.isEmpty, "\(found.map(\.description).joined(separator: "\n"))")
    }

    /// An open finding: recorded as a known issue while its rule is listed in `Fuzz/known-failing`.
    static func expectOpen(_ rule: Invariant, seed: String) throws {
        let found = try violations(seed).filter { $0.invariant == rule }
        withKnownIssue("\(rule) is listed in Fuzz/known-failing") {
            #expect(found.isEmpty, "\(found.map(\.description).joined(separator: "\n"))")
        }
    }

    @Test("Titration limits hold on delivered 24 h windows when a flex schedule is reshaped")
    func rollingWindowsAfterReshape() throws { try Self.expectHolds(.rollingTitration, seed: "flex-reshape") }

    @Test("A reserve taper's held level gives way to the floor when an interruption over 24 h is in progress")
    func floorOverReserveHold() throws { try Self.expectHolds(.interruptionFloor, seed: "reserve-hold-under-long-interruption") }

    @Test("An empty-switch reading over 24 h on a profile without a switch puts delivery at the floor: a small refill never entered resumes drug at the floor, not the full dose")
    func floorWhileSwitchReadingPersists() throws { try Self.expectHolds(.interruptionFloor, seed: "silent-resumption-under-switch-reading") }

    @Test("A 48 h stall under a persisting spurious occlusion reading: delivery is at the floor when the stall ends, not the full dose")
    func floorAfterStallUnderPersistingOcclusion() throws { try Self.expectHolds(.interruptionFloor, seed: "stall-under-persisting-spurious-occlusion") }

    /// A spurious "clear" 19 h into a real occlusion hides the rest of the 55 h without drug from every
    /// sensor the controller has; the oracle exempts that hidden cessation (a lying sensor), and every
    /// other invariant still holds on the seed.
    @Test("A spurious 'clear' over a real occlusion: the cessation it hides is exempt, nothing else is")
    func spuriousClearOverOcclusion() throws { try Self.expectHolds(.interruptionFloor, seed: "spurious-clear-over-real-occlusion") }

    /// Found by CI's fuzz stage: a stop (then a refused stop and a refused 0 μg/day program) right after
    /// an 18 h 16 min downtime during a reserve taper at 384 μg/day. The stop held 384 μg/day for 24 h
    /// from its instant where the reserve taper cut to 307.2 at its own day's end: the window ending
    /// 24 h later held 384 μg, above +30 % of the 114.5 μg the downtime left in the 24 h before and the
    /// 355.2 μg the reserve taper would have delivered. A stop during a reserve taper now keeps the
    /// reserve's days, each level the lower of the two, so it never delivers above it.
    @Test("A stop during a reserve taper never delivers more in a 24 h window than the titration limit or the reserve taper it replaced allows")
    func stopAfterShortDowntime() throws {
        try Self.expectHolds(.rollingTitration, seed: "stop-after-short-downtime")
        #expect(try Self.violations("stop-after-short-downtime").isEmpty)
    }

    /// Found by scripts/fuzz: a pump without an empty switch run dry by an unentered physical refill
    /// of 10 μL (the residual withdrawn); its switch reads empty from then on. 18 h later a refill of
    /// 5.609 mL is entered but not done: the entry used to end the switch's evidence although the
    /// switch still read empty, so ~35 h without drug resumed at the full dose. A refill entry no longer
    /// answers a switch that still reads empty: the floor 24 h after the reading.
    @Test("A refill entry does not answer an empty-switch reading that persists: the interruption passes 24 h at the floor")
    func switchReadingOutlastsRefillEntry() throws { try Self.expectHolds(.interruptionFloor, seed: "hidden-dry-run-without-switch") }

    /// Found by scripts/fuzz (300 s): a refill ends a reserve taper at 95.028 μg/day after more than
    /// 24 h at its reduced levels, so that level is held until a clinician confirms; an emergency
    /// one-day stop (to the 50 μg/day floor) and a resume at 50 μg/day left delivery at the held 95.028,
    /// above every rate accepted. The held level is now never above the plan in force.
    @Test("A held reserve level gives way to a stop's or a resume's lower level: nothing is delivered above the plan in force")
    func stopAndResumeBelowAHeldReserveLevel() throws {
        try Self.expectHolds(.noCatchUp, seed: "stop-and-resume-below-a-held-reserve-level")
        try Self.expectHolds(.rollingTitration, seed: "stop-and-resume-below-a-held-reserve-level")
    }

    /// Found by scripts/fuzz (300 s): past its calculated empty (an unentered refill; the empty switch
    /// says drug remains), a reserve taper at 64.426 μg/day; one 12 h 16 min advance gave strokes only
    /// up to 12:59 and left the rest due: the stroke loop stopped at a deadline a stroke's reservoir
    /// check had moved past the target, and the next call (a refused `program`) gave 6.5 h of strokes
    /// at once. The loop now goes on while strokes are due by the target.
    @Test("One advance gives every stroke due by its target: none is left for the next call to give at once")
    func strokesLeftBehindByAMovedDeadline() throws {
        try Self.expectHolds(.refusalChangesNothing, seed: "strokes-left-behind-by-a-moved-deadline")
        try Self.expectHolds(.noCatchUp, seed: "strokes-left-behind-by-a-moved-deadline")
    }

    /// Found by scripts/fuzz (300 s): 656 → 582 μg/day (−11 %, within the limit then), the decrease
    /// limit configured down to 2 %, and the same 582 μg/day schedule programmed again at once. The
    /// oracle judged the re-entry as a fresh decrease under the new limit; it delivers exactly what the
    /// schedule it replaced would have, so the oracle now charges a change only for what it takes away.
    @Test("A schedule re-entered as it was is judged on what it takes away: not a decrease under a stricter limit set meanwhile")
    func sameScheduleUnderAStricterDecreaseLimit() throws {
        try Self.expectHolds(.rollingTitration, seed: "same-schedule-under-a-stricter-decrease-limit")
    }

    /// Found by scripts/fuzz: awaiting confirmation at a reserve taper's held 384 μg/day, an
    /// emergency-override stop with a one-day taper (50 μg/day) and a `resume` at it; the held level
    /// went on being delivered above both (384 μg/day where the schedule said 50).
    @Test("The held level caps delivery while a confirmation is awaited: an emergency stop's taper and a resume at it are delivered as set")
    func heldLevelOverEmergencyStop() throws {
        try Self.expectHolds(.noCatchUp, seed: "held-level-over-emergency-stop")
        try Self.expectHolds(.interruptionFloor, seed: "held-level-over-emergency-stop")
    }

    /// Found by scripts/fuzz: a switch halt of 16 h ends with a refill while a real occlusion starts;
    /// the first stroke after the refill goes into it and trips the occlusion sensor at its own
    /// instant. It counted as the resumed stroke, so the 26 h without drug were timed as 16 h and 10 h
    /// and the full dose resumed. An occlusion reading within the sensor's labelled trip strokes
    /// (`PumpProfile.occlusionDetectionStrokes`) after an interruption ended now continues it.
    @Test("An occlusion read within the sensor's labelled trip strokes after a halt ends continues the halt's interruption: the floor, not the full dose")
    func occlusionOnTheFirstStrokeAfterRefill() throws { try Self.expectHolds(.interruptionFloor, seed: "occlusion-on-the-first-stroke-after-refill") }

    /// Found by scripts/fuzz with every invariant on, right after the finding above was fixed: at
    /// 2000 μg/mL with 1 μL strokes, a reserve level of 81.92 μg/day held awaiting confirmation; a
    /// spurious occlusion reading clears at once and a real occlusion starts at the same instant. Its
    /// sensor needs 97 strokes; only 93 come in the 55 h it lasts, so no reading ever reports it, and
    /// the controller counted the first stroke after the clear as resumed delivery. An interruption
    /// is proved resumed only after `resumptionProofStrokes` (98) strokes with no new reading, and
    /// passes the limit 24 h after its earliest evidence until then.
    /// Found by scripts/fuzz with every invariant on: a reserve taper past its first day, capped by a
    /// clinician's confirmation of a flex schedule at its daily total (388 μg/day, delivered evenly);
    /// a stop at once followed the reserve's days at that level and delivered it in the flex shape,
    /// 500 μg/day at that hour, so the 24 h windows after it held more than without it.
    /// Found by scripts/fuzz with every invariant on: a stop taper past its first day capped by a
    /// clinician's confirmation of a flex schedule at its daily total (851 μg/day, delivered evenly);
    /// a `resume` held it as the schedule itself, in the flex shape, 4 μg more in a 24 h window than
    /// the even level it replaced, above the titration limit over the floor delivered before.
    @Test("A resume of a capped stop level holds it evenly, as it was delivered")
    func resumeOfACappedStopLevel() throws { try Self.expectHolds(.rollingTitration, seed: "resume-of-a-capped-stop-level") }

    @Test("A stop following a capped reserve level delivers it evenly, never in the schedule's shape")
    func stopAfterACappedReserveLevel() throws { try Self.expectHolds(.rollingTitration, seed: "stop-after-a-capped-reserve-level") }

    /// 1021.556 μg/day flex (842 μg/day 00:13–07:23) in force while the reservoir was empty for 12.5 h,
    /// then continuous 1016 μg/day at 1d+05:47: its windows were clean at every rate change, but
    /// between two of them the flex's windows cross the +30 % limit over the 552 μg delivered before,
    /// and there 1016 μg/day's windows held up to 17 μg more than both (728 μg to 1d+23:00).
    @Test("The titration limit is judged where the plan without the change crosses it, between rate changes")
    func rollingWindowBetweenRateChanges() throws { try Self.expectHolds(.rollingTitration, seed: "rolling-window-between-rate-changes") }

    /// A critical "calculated empty, sensor disagrees" alarm raised at 2d+22:29 stayed active through a
    /// stall, an occlusion and a clinician's `confirmResumption` at 5d+07:05; a refill entered at once
    /// with less than a stroke withdrawn resolved the disagreement as evidence from 2d+22:29. That
    /// reopened the interruption the confirmation had discharged, and the next advance put delivery at
    /// the floor with dose-history entries at 3d+22:29 and 4d+18:00, instants gone by (a refused
    /// `program` then seemed to change therapy). Evidence from before a confirmation now counts from
    /// it, and a deadline a command left in the past is processed now.
    @Test("Evidence of a stop from before a clinician's confirmation counts from the confirmation; nothing is recorded at an instant gone by")
    func evidenceFromBeforeAConfirmation() throws {
        // One run: both rules strictly, and the dose history in time order.
        let bench = try Self.bench("evidence-from-before-a-confirmation")
        let found = bench.violations.filter { $0.invariant == .refusalChangesNothing || $0.invariant == .interruptionFloor }
        #expect(found.isEmpty, "\(found.map(\.description).joined(separator: "\n"))")
        let entries = bench.controller.doseHistory.entries.map(\.at)
        #expect(entries == entries.sorted(), "dose history out of order: \(entries)")
    }

    /// Fuzz finding (ninth session, all invariants, 3,600 s): at 316 μg/day and 2000 μg/mL an occlusion
    /// from a clinician's confirmation at 21d+14:20 was read 57 strokes (the pump's labelled trip
    /// strokes) later, at 21d+22:58. Timed from the reading it was 23 h when it cleared at 22d+22:01,
    /// and the full dose resumed; it had truly lasted 31.7 h. Read as it now is, from the stroke before
    /// the 57, it passes 24 h at 22d+14:20 and delivery is at the floor before drug flows again.
    @Test("An occlusion read 8.6 h after it began (57 trip strokes at a low rate) is timed from its start: the floor before drug flows again")
    func occlusionReadHoursAfterItBegan() throws {
        let bench = try Self.bench("occlusion-read-hours-after-it-began")
        let found = bench.violations.filter { $0.invariant == .interruptionFloor }
        #expect(found.isEmpty, "\(found.map(\.description).joined(separator: "\n"))")
        #expect(bench.controller.awaitingConfirmationSince == Instant.zero + .days(21) + .hours(14) + .minutes(20))
    }

    /// Fuzz finding right after the dating back: a spurious occlusion reading at 3d+11:37 (97 trip
    /// strokes at 145 μg/day, 8 h) put the interruption past the limit already, but the floor waited
    /// for the next advance, which the next command's own advance did: a refused emergency stop seemed
    /// to change the dose. `sense`, an accepted command and a downtime recovery now leave the controller
    /// settled (every deadline due by their instant processed) before they return.
    @Test("A reading dated back past the limit floors delivery before sense returns: the next refused command changes nothing")
    func refusedStopAfterADatedBackReading() throws { try Self.expectHolds(.refusalChangesNothing, seed: "refused-stop-after-a-dated-back-reading") }

    /// Fuzz finding (ninth session, 1,800 s): a slow pump (−14.5 %) left 48.7 μL of saline at the tip
    /// after priming; the reservoir was emptied at 1 h and 12 strokes went into it, moving nothing,
    /// before a refill at 5 h 25 min ended the interruption. `drugCertainlyAtTip` counted those 12
    /// strokes as pushing saline out, so delivery counted as resumed about 4 h before drug truly left
    /// the tip (1d+02:00:17, 25 h after the evidence began) and the dose never went to the floor.
    @Test("Strokes into an emptied reservoir push no saline out of the tip: the interruption is not resumed until drug certainly flows, and passes 24 h at the floor")
    func salineAtTheTipAfterAnEmptiedReservoir() throws {
        let bench = try Self.bench("saline-at-the-tip-after-an-emptied-reservoir")
        let found = bench.violations.filter { $0.invariant == .interruptionFloor }
        #expect(found.isEmpty, "\(found.map(\.description).joined(separator: "\n"))")
        #expect((bench.controller.basalStrokesUnderEvidence ?? 0) > 0)
    }

    /// Fuzz seed found at the end of the tenth session: a pump 14.5 % slow leaves 48.7 μL of saline at
    /// the tip; a 3.8-day downtime from the course's start, then a clinician confirms 105 μg/day. At
    /// that rate the saline takes 26 h to push out, so no drug flowed for 26 h after the confirmation
    /// either; the confirmation discharged the unresumed interruption and the dose never went to the
    /// floor. It now counts afresh from the confirmation.
    @Test("A confirmation before drug reaches the tip does not end the interruption: it counts afresh from the confirmation and passes 24 h at the floor")
    func confirmationBeforeDrugReachedTheTip() throws { try Self.expectHolds(.interruptionFloor, seed: "confirmation-before-drug-reached-the-tip") }

    @Test("An occlusion that lasts 55 h within fewer strokes than its sensor needs: the interruption is not proved resumed and passes the limit at 24 h")
    func occlusionInFewerStrokesThanItsSensorNeeds() throws { try Self.expectHolds(.interruptionFloor, seed: "occlusion-in-fewer-strokes-than-its-sensor-needs") }

    @Test("A stop at the floor after 70 h without drug tapers from the floor: confirming a lower dose and resuming never jump to the full dose")
    func stopAtTheFloorThenResume() throws {
        try Self.expectHolds(.rollingTitration, seed: "stop-at-the-floor-then-resume")
        try Self.expectHolds(.interruptionFloor, seed: "stop-at-the-floor-then-resume")
    }

    /// An 18 h downtime from the start of a course; the pump under-infused its priming (−7 %), so the
    /// first strokes after the downtime push saline and the first to deliver drug comes 24 h 1 min
    /// after the downtime began. The controller counts a stroke as resuming delivery only once the
    /// saline an under-infusing priming may leave is certainly pushed out.
    @Test("An interruption at the start of a course ends at the first stroke that certainly delivers drug, after the saline a short priming may leave")
    func floorAfterDowntimeAndLateFirstStroke() throws {
        try Self.expectHolds(.interruptionFloor, seed: "floor-after-downtime-and-late-first-stroke")
    }

    /// 306 μg/day; the pump runs dry (switch) and halts; a 2 h 9 min downtime; an emergency-override
    /// stop (a 14-day taper) while halted; a 0.768 mL refill ends the halt; `resume` at once holds the
    /// taper's first level, 306 μg/day. The 24 h after the resume hold more than the titration limit
    /// over the halted 24 h before, and exactly what the taper it cancelled would have delivered: the
    /// excess is the halt's end, not the resume, and the resume answers only for what it adds.
    @Test("A resume after a refill ended a short halt is judged on what it adds over the taper it cancelled")
    func resumeAfterRefillEndsHalt() throws {
        let bytes = try #require(Repo.corpus(.core).first { $0.name == "resume-after-refill-ends-halt" }?.bytes)
        let bench = try TherapyScript(bytes: bytes).run()
        #expect(bench.violations.isEmpty, "\(bench.violations)\n\(bench.trace.joined(separator: "\n"))")
        // Not vacuous: against the titration limit alone the resume's last window is above it.
        let resume = try #require(bench.oracle.changes.last)
        #expect(bench.trace.contains { $0.hasSuffix("resume") } && bench.controller.taper == nil)
        let w = resume.at + TimeSpan.hours(24)
        let held = bench.oracle.log.delivered(after: w - TimeSpan.hours(24), upTo: w)
        let stroke = bench.oracle.log.heaviestStroke
        #expect(Int128(held) > Int128(resume.baseline) * Int128(1_000_000 + resume.increasePpm) / 1_000_000 + Int128(2 * stroke),
                "\(held) pg after the resume, \(resume.baseline) pg before\n\(bench.trace.joined(separator: "\n"))")
    }

    @Test("A motor stall over 24 h is followed by the floor until a clinician confirms")
    func floorAfterStall() throws { try Self.expectHolds(.interruptionFloor, seed: "stall-48h") }

    @Test("An occlusion over 24 h is followed by the floor until a clinician confirms")
    func floorAfterOcclusion() throws { try Self.expectHolds(.interruptionFloor, seed: "occlusion-60h") }

    @Test("Two downtimes back to back (6 h 33 min and 19 h 21 min, no stroke between) are one interruption over 24 h")
    func floorAfterBackToBackDowntimes() throws { try Self.expectHolds(.interruptionFloor, seed: "back-to-back-downtimes") }

    @Test("A pump halted dry for 3 days while a spurious occlusion reading persists resumes at the floor after the refill")
    func floorAfterHaltUnderPersistingEvidence() throws { try Self.expectHolds(.interruptionFloor, seed: "halt-ends-under-spurious-occlusion") }

    @Test("A pump run dry (empty switch on) for 3 days and refilled without an entry resumes at the floor")
    func floorAfterSwitchEmpty() throws { try Self.expectHolds(.interruptionFloor, seed: "unentered-refill-after-empty") }

    @Test("An under-infusing pump is not stopped by its calculated empty while the switch says drug remains")
    func noHaltOnEstimate() throws {
        try Self.expectHolds(.noSoftwareZero, seed: "under-infusing")
        try Self.expectHolds(.hardFloor, seed: "under-infusing")
    }

    @Test("Drug is conserved when a refill changes the concentration during an occlusion")
    func conservationAcrossOcclusionRefill() throws { try Self.expectHolds(.drugConserved, seed: "occlusion-concentration-change") }

    @Test("The other seeds keep every invariant, known-failing ones included",
          arguments: ["steady-refills", "downtime-30h", "emergency-stop", "taper", "misentered-refill", "over-infusing", "reserve-taper"])
    func cleanSeeds(_ seed: String) throws {
        let v = try Self.violations(seed)
        #expect(v.isEmpty, "\(v.map(\.description).joined(separator: "\n"))")
    }
}
