import Foundation
import PropertyBased
import Testing
@testable import PumpCore

/// Runs random sequences of commands, refills, sensor faults and time steps through a controller on
/// therapy and keeps what the test needs to check the interlock's invariants independently.
struct Harness {
    static let strokeVolume = Volume(nanolitres: 1_000)
    /// The largest drug mass of one stroke (1 μL at 2000 μg/mL), pg.
    static let maxStrokePicograms: Int64 = 2_000_000
    static let day = Int128(TimeConstants.nanosecondsPerDay)

    var c: PumpController
    var rec = StrokeRecorder()
    var model: PrescribedRate
    let start: Instant
    let generousRefills: Bool
    /// ∫ prescribed rate from `start` to `c.now`, pg·ns/day.
    var integral: Int128 = 0
    /// Programmed daily dose changes (ng/day) with the limits in force when made; `restart` marks a new
    /// therapy course (startTherapy after a completed taper), which starts the rules afresh.
    var doseChanges: [DoseChange] = []
    /// Intervals whose 24 h windows need not reach the floor: delivery ended by a completed taper,
    /// until 24 h after therapy restarts.
    var floorExempt: [(from: Instant, to: Instant)] = []

    struct DoseChange {
        var at: Instant
        var dose: Int64
        var decreaseLimitPpm: Int64
        var increaseLimitPpm: Int64
        var restart = false
        /// The level in force when a stop came during the floor after an interruption over 24 h: the
        /// held floor (raised to the patency minimum), which the stop's taper starts from. Reaching it is
        /// the interruption rule, not a programmed decrease; what follows is judged against it.
        var hold = false
    }

    func change(_ t: Instant, _ dose: Int64, restart: Bool = false) -> DoseChange {
        DoseChange(at: t, dose: dose, decreaseLimitPpm: c.settings.decreaseLimit.partsPerMillion,
                   increaseLimitPpm: c.settings.titrationIncreaseLimit.partsPerMillion, restart: restart)
    }
    /// The interruption rule as this test states it: occlusion, stall and the empty switch are
    /// evidence that delivery stopped, each until its own reading clears (a refill entry does not
    /// answer a switch that still reads empty: the profile's switch governs nothing, and the entry is a
    /// record, not the act). An interruption runs from the
    /// earliest evidence to the stroke that proves delivery resumed: the `resumptionProofStrokes`-th
    /// after the last evidence cleared (the sensors trip only after strokes into a blockage or a
    /// stalled motor; evidence before that stroke continues it). Once it has lasted longer than 24 h
    /// without that stroke, delivery is at the floor from that instant, whether its evidence persists
    /// or not: nothing tells the controller when drug reaches the patient again (a reading may be
    /// spurious), so any later stroke may be the first one after more than 24 h without drug.
    var sensors: Set<String> = []
    /// The earliest evidence of the interruption not yet ended by a resumed stroke.
    var evidenceSince: Instant?
    /// When its last evidence cleared (nil while evidence persists).
    var evidenceClearedAt: Instant?
    /// Instants the floor began (the rolling-window decrease bound sets the floor aside).
    var floorStarts: [Instant] = []
    var failures: [String] = []
    var trace: [String] = []
    var refusals = 0

    /// A deliberately broken controller for the anti-vacuity tests: `program` is judged on daily totals
    /// only (the rolling-window rule skipped), as the interlock once did.
    var dailyTotalsOnly = false
    /// Each accepted `program`, for the rolling-window check on delivered strokes.
    var programs: [ProgramRecord] = []
    /// Instants the prescription changed (program, start, stop, resume): a program's windows are judged
    /// up to the next one, which the interlock judges in its turn.
    var modelChanges: [Instant] = []
    /// The oracle's last increase (daily dose up, or any 24 h window raised) and course start.
    var lastIncrease: Instant?
    var courseStart: Instant

    struct ProgramRecord {
        var at: Instant
        var without: PrescribedRate
        var increaseLimitPpm: Int64
        var decreaseLimitPpm: Int64
    }

    init(setupSeed: UInt64, generousRefills: Bool, schedule: Schedule? = nil) throws {
        var profile = PumpProfile.bench20
        profile.strokeVolume = Self.strokeVolume
        var settings = ControllerSettings(patientGroup: PatientGroup.allCases[Int(setupSeed % 3)])
        settings.clock = ClockReference(timeOfDayAtOrigin: TimeOfDay(nanosecondsAfterMidnight: Int64((setupSeed >> 2) % 1440) * TimeConstants.nanosecondsPerMinute)!)
        let conc = Concentration(microgramsPerMillilitre: [500, 1000, 2000][Int((setupSeed >> 13) % 3)])
        let schedule = schedule ?? .continuous(DoseRate(nanogramsPerDay: 100_000 + Int64((setupSeed >> 16) % 1_100_001)))
        let dose = schedule.dailyDose
        var c = try PumpController(profile: profile, settings: settings)
        let fill = c.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: conc)), at: .zero)
        let prime = c.handle(.prime(confirmVolume: c.primingVolume), at: .zero)
        let t0 = Instant.zero + .hours(1)
        let startR = c.handle(.startTherapy(schedule, basis: .transfer(previousDailyDose: dose)), at: t0)
        guard fill.isAccepted, prime.isAccepted, startR.isAccepted else {
            throw HarnessError.setup("\(fill.refusal.map(\.description) ?? "") \(prime.refusal.map(\.description) ?? "") \(startR.refusal.map(\.description) ?? "")")
        }
        self.c = c
        self.start = t0
        self.generousRefills = generousRefills
        self.model = PrescribedRate(schedule: schedule, taper: nil, clock: settings.clock)
        self.courseStart = t0
        doseChanges = [change(t0, dose.nanogramsPerDay, restart: true)]
    }

    enum HarnessError: Error { case setup(String) }

    mutating func run(_ seeds: [UInt64]) {
        for seed in seeds {
            if generousRefills, c.reservoir.estimate < .millilitres(10) {
                apply(.command(.refill(RefillRequest(withdrawn: c.reservoir.estimate, added: .millilitres(20), concentration: c.reservoir.concentration))))
            }
            apply(Action(seed: seed, now: c.now, estimate: c.reservoir.estimate, generousRefills: generousRefills))
        }
        checkAll()
    }

    mutating func checkAll() {
        checkWindows()
        checkDoseChanges()
        checkRollingWindows()
    }

    mutating func apply(_ action: Action) {
        trace.append("\(c.now) \(action)")
        switch action {
        case let .advance(span):
            let from = c.now, to = c.now + span
            c.advance(to: to, into: &rec)
            settleFloor(upTo: to)
            integral += model.integral(from: from, to: to)
        case let .sensor(reading):
            for e in c.sense(reading, at: c.now) { rec.receive(e) }
            switch reading {
            case let .occlusion(on): updateEvidence("occlusion", on)
            case let .motorStall(on): updateEvidence("stall", on)
            case let .reservoirEmpty(on): updateEvidence("switch", on)
            }
        case var .command(command):
            if case var .configure(s) = command { s.clock = c.settings.clock; command = .configure(s) }
            var expected = c
            expected.advance(to: c.now, into: &rec)
            let planBefore = c.taper
            let modelBefore = model
            let response: CommandResponse
            if dailyTotalsOnly, case let .program(s) = command { response = brokenProgram(s) } else { response = c.handle(command, at: c.now) }
            for e in response.effects { rec.receive(e) }
            switch response.result {
            case .failure:
                refusals += 1
                // A refused command changes nothing but the log and the refusal alarm.
                var actual = c
                actual.alarms = expected.alarms
                actual.updateDeadlines()
                expected.updateDeadlines()
                if actual != expected { failures.append("refused \(command) changed the controller's state") }
            case let .success(acceptance):
                update(model: command, acceptance, planBefore: planBefore, awaitingBefore: expected.awaitingConfirmationSince != nil)
                if case .program = command { judgeIncrease(without: modelBefore) }
            }
        }
        let e = c.reservoir.estimate
        if e < .zero || e > c.reservoir.capacity { failures.append("estimate \(e) outside 0…\(c.reservoir.capacity) at \(c.now)") }
        if c.haltedSince != nil, e >= c.profile.strokeVolume { failures.append("delivery halted at \(c.now) with \(e) in the reservoir") }
        if generousRefills {
            // Delivered never exceeds the prescribed integral and lags it by less than one stroke.
            let lag = integral - Int128(rec.total) * Self.day
            if lag < 0 || lag >= Int128(Self.maxStrokePicograms) * Self.day {
                failures.append("at \(c.now): delivered \(rec.total) pg vs prescribed \(integral / Self.day) pg (lag \(lag / Self.day) pg)")
            }
        }
    }

    mutating func updateEvidence(_ name: String, _ on: Bool) {
        guard on != sensors.contains(name) else { return }
        if on {
            sensors.insert(name)
            if case .running = c.phase {
                // Evidence before the stroke that proves delivery resumed continues the interruption.
                if let cleared = evidenceClearedAt, rec.times.count - rec.firstIndex(after: cleared) >= Int(c.profile.resumptionProofStrokes) {
                    evidenceSince = nil
                }
                // A reading is dated back over the strokes its sensor may have needed: the stroke
                // before the last n basal strokes (n the labelled trip strokes) may have been the last
                // to deliver; with fewer since the course began, its start. The switch is read at once.
                let n: Int? = name == "occlusion" ? Int(c.profile.occlusionDetectionStrokes)
                    : name == "stall" ? Int(c.profile.stallDetectionStrokes) : nil
                var at = c.now
                if let n {
                    let i = rec.times.count - 1 - n
                    at = min(c.now, max(courseStart, i >= 0 ? Instant(nanoseconds: rec.times[i]) : courseStart))
                }
                evidenceSince = min(evidenceSince ?? at, at)
                evidenceClearedAt = nil
            }
        } else {
            sensors.remove(name)
        }
        settleEvidence()
    }

    /// Marks the interruption's evidence cleared when none remains (forgets it if therapy no longer
    /// runs); it ends at the first stroke after that.
    mutating func settleEvidence() {
        guard evidenceSince != nil else { return }
        guard case .running = c.phase else { evidenceSince = nil; evidenceClearedAt = nil; return }
        if sensors.isEmpty, evidenceClearedAt == nil { evidenceClearedAt = c.now }
        if !sensors.isEmpty { evidenceClearedAt = nil }
    }

    /// After advancing to `t`: the interruption not yet resumed passes 24 h at its earliest evidence
    /// + 24 h + 1 ns, unless the stroke that proves delivery resumed came after its evidence cleared
    /// and by then; the floor starts there. An interruption so resumed is over.
    mutating func settleFloor(upTo t: Instant) {
        guard let since = evidenceSince else { return }
        let deadline = since + .hours(24) + TimeSpan(nanoseconds: 1)
        var resumedAt: Instant?
        if let cleared = evidenceClearedAt {
            let i = rec.firstIndex(after: cleared) + Int(c.profile.resumptionProofStrokes) - 1
            if i < rec.times.count { resumedAt = Instant(nanoseconds: rec.times[i]) }
        }
        if model.floorFrom == nil, deadline <= t, resumedAt.map({ $0 > deadline }) ?? true {
            // Unless a stop taper had ended delivery by then.
            let taperEnd = model.taper.map { $0.startedAt + .days(Int64($0.levels.count)) } ?? .distantFuture
            if deadline < taperEnd { model.floorFrom = deadline; floorStarts.append(deadline) }
        }
        if resumedAt != nil { evidenceSince = nil; evidenceClearedAt = nil }
    }

    /// `awaitingBefore`: the controller awaited a clinician's confirmation before the command (read
    /// only where the model does not follow the cause: halts for an empty reservoir with refill lapses).
    mutating func update(model command: Command, _ acceptance: Acceptance, planBefore: TaperPlan?, awaitingBefore: Bool) {
        let t = c.now
        switch command {
        case .program, .startTherapy, .stop, .resume: modelChanges.append(t)
        default: break
        }
        if case .startTherapy = command { courseStart = t; lastIncrease = nil }
        switch (command, acceptance) {
        case (.refill, _):
            settleEvidence()
        case let (.program(s), _):
            model.schedule = s
            doseChanges.append(change(t, s.dailyDose.nanogramsPerDay))
        case let (.startTherapy(s, _), _):
            // A new course after a completed taper: the credit of the old one was dropped with it.
            model.schedule = s
            model.taper = nil
            model.floorFrom = nil
            evidenceSince = nil
            evidenceClearedAt = nil
            integral = Int128(rec.total) * Self.day
            doseChanges.append(change(t, s.dailyDose.nanogramsPerDay, restart: true))
            if let last = floorExempt.indices.last, floorExempt[last].to == .distantFuture { floorExempt[last].to = t + .hours(24) }
        case let (.stop, .taper(plan)):
            // At the floor after an interruption over 24 h, awaiting a clinician, the taper starts from
            // the level in force: the floor, raised to the patency minimum (a taper's own floor), never
            // above the programmed dose. The model knows the floor from the evidence it follows; with
            // refill lapses it does not follow halts for an empty reservoir and reads the controller's
            // awaiting state instead.
            let programmed = DoseRate(nanogramsPerDay: currentModelDose(at: t))
            let atFloor = model.floorFrom.map { $0 <= t } == true || (!generousRefills && awaitingBefore)
            let held = max(DoseRate.floor, TaperPlan.floor(patencyMinimum: c.profile.minimumPatencyRate, concentration: c.reservoir.concentration))
            let expectedFrom = atFloor ? min(programmed, held) : programmed
            if plan.fromDose != expectedFrom {
                failures.append("stop at \(t) tapers from \(plan.fromDose), not the level in force \(expectedFrom)\(atFloor ? " (at the floor)" : "")")
            }
            if atFloor {
                var hold = change(t, plan.fromDose.nanogramsPerDay)
                hold.hold = true
                doseChanges.append(hold)
            }
            model.taper = plan
            for (k, level) in plan.levels.enumerated() where k > 0 {
                doseChanges.append(change(plan.startedAt + .days(Int64(k)), level.nanogramsPerDay))
            }
            doseChanges.append(change(plan.startedAt + .days(Int64(plan.levels.count)), 0))
            floorExempt.append((plan.startedAt + .days(Int64(plan.levels.count)), .distantFuture))
        case let (.resume, .resumed(holding)):
            guard let plan = planBefore else { failures.append("resume accepted with no taper"); return }
            let day = (t - plan.startedAt).nanoseconds / TimeConstants.nanosecondsPerDay
            doseChanges.removeAll { $0.at > t }
            floorExempt.removeLast()
            if !(day == 0 && holding == plan.fromDose && model.schedule.dailyDose == holding) { model.schedule = .continuous(holding) }
            model.taper = nil
            if holding.nanogramsPerDay != currentModelDose(at: t) {
                doseChanges.append(change(t, holding.nanogramsPerDay))
            }
        default: break
        }
    }

    func currentModelDose(at t: Instant) -> Int64 { doseChanges.last { $0.at <= t }?.dose ?? 0 }

    /// Every 24 h window of delivery after the first day of therapy holds 50–1200 μg within one stroke,
    /// while drug remains and delivery has not been stopped by a completed taper.
    mutating func checkWindows() {
        let s = Int64(Self.maxStrokePicograms)
        let low = DoseRate.floor.picogramsPerDay - s, high = DoseRate.ceiling.picogramsPerDay + s
        var w = start + .hours(24)
        while w <= c.now {
            let m = rec.delivered(after: w - .hours(24), upTo: w)
            // The upper bound holds always: no catch-up burst after a halt.
            if m > high { failures.append("window ending \(w): \(m) pg > 1200 μg + one stroke") }
            let exempt = floorExempt.contains { $0.from < w && w - .hours(24) < $0.to }
            if generousRefills && !exempt && m < low {
                failures.append("window ending \(w): \(m) pg < 50 μg − one stroke")
            }
            w = w + .minutes(37)
        }
    }

    /// Decreases never exceed the limit against the highest dose of the past 24 h; increases are at most
    /// the titration limit over the lowest dose of the past 24 h, once per 24 h, none in the first day.
    mutating func checkDoseChanges() {
        var lastIncrease: Instant?
        var courseStart = start
        var courseFirst = 0
        for i in doseChanges.indices.dropFirst() {
            let change = doseChanges[i]
            let (t, dose, limit, titration) = (change.at, change.dose, change.decreaseLimitPpm, change.increaseLimitPpm)
            if t > c.now { break }
            if change.restart { courseStart = t; courseFirst = i; lastIncrease = nil; continue }
            let previous = doseChanges[i - 1].dose
            if dose == 0 || change.hold { continue } // the end of a completed taper; the floor's held level
            var window: [Int64] = [previous]
            for j in courseFirst..<i where doseChanges[j].at > t - .hours(24) { window.append(doseChanges[j].dose) }
            if let inForce = doseChanges[courseFirst..<i].last(where: { $0.at <= t - .hours(24) }) { window.append(inForce.dose) }
            if dose < previous {
                let maxW = window.max()!
                if Int128(dose) * 1_000_000 < Int128(maxW) * Int128(1_000_000 - limit) {
                    failures.append("decrease at \(t) to \(dose) ng/day from a 24 h maximum of \(maxW) exceeds \(limit) ppm")
                }
            } else if dose > previous {
                if t < courseStart + .hours(24) { failures.append("increase at \(t) in the first 24 h") }
                if let last = lastIncrease, t < last + .hours(24) { failures.append("second increase at \(t) within 24 h of \(last)") }
                let minW = window.min()!
                if Int128(dose) * 1_000_000 > Int128(minW) * Int128(1_000_000 + titration) {
                    failures.append("increase at \(t) to \(dose) ng/day from a 24 h minimum of \(minW) exceeds \(titration) ppm")
                }
                lastIncrease = t
            }
            if dose < DoseRate.floor.nanogramsPerDay || dose > DoseRate.ceiling.nanogramsPerDay {
                failures.append("programmed daily dose \(dose) ng/day outside 50–1200 μg/day at \(t)")
            }
        }
    }
}

/// Shrinking is off: an action is decoded from all 64 bits of its seed, so shrinking the integers
/// only turns one action into an unrelated one and takes very long; a failure prints the setup seed,
/// the action seeds and the whole decoded trace instead, and `.fixedSeed(…)` replays it.
@Suite("Interlock properties", .shrinking(false))
struct InterlockPropertyTests {
    static let actions = Gen.uint64(in: 0...UInt64.max).array(of: 1...40)

    @Test("With drug in the reservoir: delivery tracks the prescription, every 24 h window stays in bounds, limits hold, refusals change nothing")
    func therapyWithTimelyRefills() async throws { await Self.check(generousRefills: true) }

    @Test("With refill lapses: estimate within 0…capacity, halts only when empty, no catch-up burst, limits hold, refusals change nothing")
    func therapyWithRefillLapses() async throws { await Self.check(generousRefills: false) }

    static func check(generousRefills: Bool) async {
        let count = ProcessInfo.processInfo.environment["ITPUMP_PROPERTY_ITERATIONS"].flatMap(Int.init) ?? 150
        await propertyCheck(count: count, input: Gen.uint64(in: 0...UInt64.max), actions) { setup, seeds in
            guard var h = try? Harness(setupSeed: setup, generousRefills: generousRefills) else {
                Issue.record("setup refused for seed \(setup)"); return
            }
            h.run(seeds)
            #expect(h.failures.isEmpty, "setup \(setup), seeds \(seeds)\n\(h.failures.prefix(5).joined(separator: "\n"))\ntrace:\n\(h.trace.joined(separator: "\n"))")
        }
    }

    @Test("The property harness catches a controller that ignores the decrease limit")
    func harnessDetectsViolations() throws {
        // Guard against a vacuous property: the same check must fail on a forged dose history.
        var h = try Harness(setupSeed: 7, generousRefills: true)
        h.apply(.advance(.hours(30)))
        h.doseChanges.append(h.change(h.c.now, h.doseChanges[0].dose / 2))
        h.checkDoseChanges()
        #expect(h.failures.contains { $0.contains("decrease") })
    }
}

// MARK: - The rolling-window titration invariant, on delivered strokes

extension Harness {
    /// The broken controller's `program`: the daily-total rules (`checkDoseChange`) and nothing about
    /// 24 h windows of delivered drug. Commits with the real controller's own steps.
    mutating func brokenProgram(_ s: Schedule) -> CommandResponse {
        let t = c.now
        var refused: Refusal?
        if case .running = c.phase, c.taper == nil, c.awaitingConfirmationSince == nil {
            do throws(ScheduleError) {
                try s.validate(concentration: c.reservoir.concentration, profile: c.profile, maximumSteps: c.settings.maximumFlexSteps)
            } catch { refused = .invalidSchedule(error) }
            if refused == nil, case let .failure(r) = c.checkDoseChange(to: s.dailyDose, at: t) { refused = r }
        } else {
            refused = .therapyNotRunning(phase: c.phase.description)
        }
        if let refused { return CommandResponse(result: .failure(refused), effects: []) }
        c.schedule = s
        c.doseHistory.record(s.dailyDose, at: t)
        var log = EffectLog()
        c.applyRate(at: t, log: &log)
        return CommandResponse(result: .success(.programmed(ProgramSummary(schedule: s, dailyDose: s.dailyDose, concentration: c.reservoir.concentration))),
                               effects: log.effects)
    }

    /// After an accepted `program` at `c.now` (the model already updated): it is an increase if its
    /// daily dose rises or it puts more drug into any 24 h window ending in the next 24 h than the
    /// prescription it replaced would have; increases come none in the first 24 h of a course and at
    /// most one per 24 h. Judged on the test's own model of the prescription, exactly.
    mutating func judgeIncrease(without old: PrescribedRate) {
        let t = c.now
        programs.append(ProgramRecord(at: t, without: old, increaseLimitPpm: c.settings.titrationIncreaseLimit.partsPerMillion,
                                      decreaseLimitPpm: c.settings.decreaseLimit.partsPerMillion))
        // ∫(new − old) from t to w is piecewise linear in w: its maximum is at a rate change of either.
        var ends: [Instant] = [t + .hours(24)]
        for m in [old, model] {
            var x = t
            while true {
                let next = m.rate(at: x).1
                if next >= t + .hours(24) { break }
                ends.append(next)
                x = next
            }
        }
        let raised = ends.contains { model.integral(from: t, to: $0) > old.integral(from: t, to: $0) }
        let dailyUp = model.schedule.dailyDose > old.schedule.dailyDose
        guard raised || dailyUp else { return }
        if t < courseStart + .hours(24) { failures.append("program at \(t) raises delivery in the first 24 h of therapy") }
        if let last = lastIncrease, t < last + .hours(24) {
            failures.append("program at \(t) raises delivery \(raised ? "(a 24 h window)" : "(daily dose)") within 24 h of the increase at \(last)")
        }
        lastIncrease = t
    }

    /// Rolling windows on delivered strokes: after each accepted `program` at t, with R the drug
    /// delivered in (t − 24 h, t], every 24 h window ending in (t, t + 24 h] (until the next change of
    /// prescription) holds at most max(the titration limit over R, what it would hold without the
    /// change) and, with drug in the reservoir, at least min(R less the decrease limit, what it would
    /// hold without the change). The amounts are strokes actually given; the bounds allow four strokes
    /// (each window and R differ from the exact integral by under one stroke).
    mutating func checkRollingWindows() {
        let tolerance = 4 * Int128(Self.maxStrokePicograms)
        let day = TimeSpan.hours(24)
        for p in programs {
            let t = p.at
            let next = modelChanges.first { $0 > t } ?? .distantFuture
            let horizon = min(t + day, next, c.now)
            guard horizon > t else { continue }
            let r = Int128(rec.delivered(after: t - day, upTo: t))
            let upper = r * Int128(1_000_000 + p.increaseLimitPpm) / 1_000_000
            let lower = r * Int128(1_000_000 - p.decreaseLimitPpm) / 1_000_000
            // A window's stroke count rises only where its end meets a stroke and falls only where its
            // (exclusive) start reaches one, so its extremes are at those ends.
            var ends: Set<Int64> = [horizon.nanoseconds]
            var i = rec.firstIndex(after: t - day)
            while i < rec.times.count, rec.times[i] <= horizon.nanoseconds {
                let x = rec.times[i]
                if x > t.nanoseconds { ends.insert(x) } else if x + day.nanoseconds <= horizon.nanoseconds { ends.insert(x + day.nanoseconds) }
                i += 1
            }
            // A taper's end, and the floor after an interruption over 24 h, are aside from the decrease bound.
            let exempt = floorExempt.contains { $0.from < horizon && t - day < $0.to }
                || floorStarts.contains { $0 > t - day && $0 < horizon }
            for e in ends.sorted() {
                let w = Instant(nanoseconds: e)
                let m = Int128(rec.delivered(after: w - day, upTo: w))
                let without = Int128(rec.delivered(after: w - day, upTo: t)) + p.without.integral(from: t, to: w) / Self.day
                if m > max(upper, without) + tolerance {
                    failures.append("program at \(t): window ending \(w) delivered \(m) pg > max(\(upper) pg = \(p.increaseLimitPpm) ppm over the \(r) pg of the 24 h before, \(without) pg without the change)")
                    break
                }
                if generousRefills && !exempt && m + tolerance < min(lower, without) {
                    failures.append("program at \(t): window ending \(w) delivered \(m) pg < min(\(lower) pg = \(p.decreaseLimitPpm) ppm under the \(r) pg of the 24 h before, \(without) pg without the change)")
                    break
                }
            }
        }
    }
}

/// A random reprogramming sequence aimed at the rolling windows: flex reshapes around the current
/// dose, a 1200 μg/day pulse starting now, the current schedule's halves swapped, small continuous
/// changes, and time steps.
enum ReshapeAction {
    static func decode(_ seed: UInt64, _ h: Harness) -> Action {
        var bits = seed >> 8
        func take(_ n: UInt64) -> Int64 { let v = bits % n; bits /= n; return Int64(v) }
        let current = h.c.schedule?.dailyDose.nanogramsPerDay ?? 600_000
        func clamp(_ v: Int64) -> DoseRate { DoseRate(nanogramsPerDay: min(1_200_000, max(50_000, v))) }
        let hour = Int(h.c.settings.clock.nanosecondsAfterMidnight(at: h.c.now) / TimeConstants.nanosecondsPerHour)
        switch seed % 8 {
        case 0, 1, 2:
            return .advance(.minutes(10 + take(30 * 60)))
        case 3:
            var steps: [FlexStep] = []
            var minute: Int64 = take(2) == 0 ? 0 : take(180)
            for _ in 0...(1 + take(4)) {
                guard minute < 24 * 60 else { break }
                steps.append(FlexStep(start: TimeOfDay(nanosecondsAfterMidnight: minute * TimeConstants.nanosecondsPerMinute)!,
                                      rate: clamp(current * (30 + take(220)) / 100)))
                minute += 30 + take(10 * 60)
            }
            return .command(.program(.flex(steps)))
        case 4:
            var steps = [FlexStep(start: TimeOfDay(hour: hour)!, rate: .ceiling)]
            if hour < 23 { steps.append(FlexStep(start: TimeOfDay(hour: hour + 1)!, rate: .floor)) }
            if hour > 0 { steps.insert(FlexStep(start: .midnight, rate: .floor), at: 0) }
            return .command(.program(.flex(steps)))
        case 5:
            guard let s = h.c.schedule else { return .advance(.hours(1)) }
            let half = TimeConstants.nanosecondsPerDay / 2
            var rotated: [FlexStep] = []
            for step in s.steps {
                let ns: Int64 = (step.start.nanosecondsAfterMidnight + half) % TimeConstants.nanosecondsPerDay
                rotated.append(FlexStep(start: TimeOfDay(nanosecondsAfterMidnight: ns)!, rate: step.rate))
            }
            rotated.sort { $0.start < $1.start }
            return .command(.program(.flex(rotated)))
        default:
            return .command(.program(.continuous(clamp(current * (70 + take(71)) / 100))))
        }
    }
}

@Suite("Interlock properties: rolling 24 h windows", .shrinking(false))
struct InterlockWindowPropertyTests {
    static let actions = Gen.uint64(in: 0...UInt64.max).array(of: 5...60)

    static func run(_ h: inout Harness, _ seeds: [UInt64]) {
        for seed in seeds {
            // Drug always remains: refill before the estimate falls below 10 mL, as `Harness.run` does.
            if h.c.reservoir.estimate < .millilitres(10) {
                h.apply(.command(.refill(RefillRequest(withdrawn: h.c.reservoir.estimate, added: .millilitres(20), concentration: h.c.reservoir.concentration))))
            }
            h.apply(ReshapeAction.decode(seed, h))
        }
        h.apply(.advance(.hours(30)))
        h.checkAll()
    }

    @Test("titration limits on rolling 24 h windows of delivered strokes hold over random flex reprogramming")
    func rollingWindowTitrationInvariant() async {
        await propertyCheck(count: 120, input: Gen.uint64(in: 0...UInt64.max), Self.actions) { setup, seeds in
            // Start on a flex schedule half the time, so reshaping starts from one.
            let shape: UInt64 = setup &* 0x9E37_79B9_7F4A_7C15
            let first: Int64 = 100_000 + Int64(shape % 1_100_000)
            let second: Int64 = 100_000 + Int64((shape / 2_000_000) % 1_100_000)
            var start: Schedule?
            if shape % 2 == 1 {
                let a = FlexStep(start: .midnight, rate: DoseRate(nanogramsPerDay: first))
                let b = FlexStep(start: TimeOfDay(hour: 12)!, rate: DoseRate(nanogramsPerDay: second))
                start = .flex([a, b])
            }
            guard var h = try? Harness(setupSeed: setup, generousRefills: true, schedule: start) else { return }
            Self.run(&h, seeds)
            #expect(h.failures.isEmpty, "\(h.failures.prefix(5).joined(separator: "\n"))\ntrace:\n\(h.trace.joined(separator: "\n"))")
        }
    }

    /// Flex 1200 μg/day 00:00–12:00 and 50 μg/day 12:00–24:00 (625 μg/day); at 2d+12:00 the same steps
    /// swapped; then three days.
    static func swappedHalves(dailyTotalsOnly: Bool) throws -> Harness {
        let highFirst = Schedule.flex([FlexStep(start: .midnight, rate: .ceiling), FlexStep(start: TimeOfDay(hour: 12)!, rate: .floor)])
        let highSecond = Schedule.flex([FlexStep(start: .midnight, rate: .floor), FlexStep(start: TimeOfDay(hour: 12)!, rate: .ceiling)])
        // Setup seed 0: spinal, 500 μg/mL, wall clock 00:00 at instant zero.
        var h = try Harness(setupSeed: 0, generousRefills: true, schedule: highFirst)
        h.dailyTotalsOnly = dailyTotalsOnly
        h.apply(.advance(at(.days(2) + .hours(12)) - h.c.now))
        h.apply(.command(.program(highSecond)))
        h.apply(.advance(.days(3)))
        h.checkAll()
        return h
    }

    /// A one-hour 1200 μg/day pulse (50 μg/day otherwise, 97.917 μg/day), reprogrammed every hour for
    /// three days so that it always starts now.
    static func hourlyPulse(dailyTotalsOnly: Bool) throws -> Harness {
        func pulse(_ hour: Int) -> Schedule {
            var steps = [FlexStep(start: TimeOfDay(hour: hour)!, rate: .ceiling)]
            if hour < 23 { steps.append(FlexStep(start: TimeOfDay(hour: hour + 1)!, rate: .floor)) }
            if hour > 0 { steps.insert(FlexStep(start: .midnight, rate: .floor), at: 0) }
            return .flex(steps)
        }
        var h = try Harness(setupSeed: 0, generousRefills: true, schedule: pulse(0))
        h.dailyTotalsOnly = dailyTotalsOnly
        h.apply(.advance(at(.days(2)) - h.c.now))
        for k in 1...72 {
            h.apply(.advance(.hours(1)))
            h.apply(.command(.program(pulse(k % 24))))
        }
        h.apply(.advance(.days(1)))
        h.checkAll()
        return h
    }

    @Test("titration limits on rolling windows: the swapped-halves and hourly-pulse reproductions hold the invariant")
    func reproductionsHoldTheInvariant() throws {
        for h in [try Self.swappedHalves(dailyTotalsOnly: false), try Self.hourlyPulse(dailyTotalsOnly: false)] {
            #expect(h.failures.isEmpty, "\(h.failures.prefix(5).joined(separator: "\n"))")
        }
    }

    @Test("anti-vacuity: a controller that checks only daily totals fails the rolling-window invariant on both reproductions")
    func dailyTotalsOnlyControllerFails() throws {
        let swapped = try Self.swappedHalves(dailyTotalsOnly: true)
        #expect(swapped.failures.contains { $0.contains("window ending") && $0.contains("program at 2d+12:00:00") })
        let pulse = try Self.hourlyPulse(dailyTotalsOnly: true)
        #expect(pulse.failures.contains { $0.contains("window ending") })
        #expect(pulse.failures.contains { $0.contains("within 24 h of the increase") })
    }

    @Test("anti-vacuity: the broken controller also fails the random property")
    func dailyTotalsOnlyControllerFailsRandomly() throws {
        // Random reprogramming from a fixed set of seeds: the daily-totals-only controller lets some
        // 24 h window exceed its limit in at least one of them.
        var g = SplitMix64(seed: 20_261_128)
        func next() -> UInt64 { g.next() }
        var caught = 0
        for _ in 0..<20 {
            guard var h = try? Harness(setupSeed: next(), generousRefills: true) else { continue }
            h.dailyTotalsOnly = true
            var seeds: [UInt64] = []
            for _ in 0..<60 { seeds.append(next()) }
            Self.run(&h, seeds)
            if !h.failures.isEmpty { caught += 1 }
        }
        #expect(caught > 0)
    }
}

// MARK: - Fixed-seed regressions: the floor after an interruption, on the model and on the windows

@Suite("Interlock properties: the floor after an interruption over 24 h")
struct InterruptionFloorModelTests {
    /// 600 μg/day at 500 μg/mL (setup seed 0: spinal, wall clock 00:00 at instant zero). A stall reading
    /// from 2d+01:00 that persists; at 2d+21:00 a 10 % decrease is programmed (allowed: delivery is not
    /// yet at the floor); the stall, dated 3 strokes (216 s) back, passes 24 h at 3d+00:56:24 + 1 ns,
    /// inside that program's 24 h horizon.
    static let stall = at(.days(2) + .hours(1))
    static let decrease = stall + .hours(20)

    static func run(brokenIgnoresLongEvidence: Bool = false) throws -> Harness {
        var h = try Harness(setupSeed: 0, generousRefills: true, schedule: .continuous(ug(600)))
        h.apply(.advance(Self.stall - h.c.now))
        h.apply(.sensor(.motorStall(true)))
        h.apply(.advance(.hours(20)))
        h.apply(.command(.program(.continuous(ug(540)))))
        if brokenIgnoresLongEvidence {
            // A deliberately broken controller: the floor only when the evidence clears (the rule as
            // it was), so the full dose goes on while the reading persists.
            h.apply(.advance(.hours(5)))
            h.c.awaitingConfirmationSince = nil
            var log = EffectLog()
            h.c.applyRate(at: h.c.now, log: &log)
            h.c.interruption = nil
            h.apply(.advance(.hours(25)))
        } else {
            h.apply(.advance(.hours(30)))
        }
        h.checkAll()
        return h
    }

    @Test("a stall reading that persists past 24 h puts delivery at the floor then: the model and the controller agree to a stroke")
    func floorWhileEvidencePersists() throws {
        let h = try Self.run()
        // The reading dates from the basal stroke 3 before the last by then (one every 72 s: 216 s).
        let since = Instant(nanoseconds: h.rec.times[h.rec.firstIndex(after: Self.stall) - 1 - 3])
        #expect(since == Self.stall - .seconds(216))
        #expect(h.model.floorFrom == since + .hours(24) + TimeSpan(nanoseconds: 1))
        #expect(h.c.awaitingConfirmationSince == since && h.c.deliveringDose == .floor && h.c.motorStall)
        #expect(h.c.alarms[.therapyInterruption]?.detail.contains("its evidence persists") == true)
        #expect(h.failures.isEmpty, "\(h.failures)")
    }

    /// The rolling-window decrease bound sets the floor aside, as the rule does ("a taper, an emergency
    /// override and the floor aside"). The old statement of the bound did not, and failed, rarely, on
    /// random runs where the floor began inside a decrease's 24 h horizon (a window of 402.5 μg against
    /// a bound of 410.875 μg): the statement was wrong, not the controller.
    @Test("the decrease bound on rolling windows sets the floor aside: without that, this run would break it")
    func decreaseBoundSetsFloorAside() throws {
        var h = try Self.run()
        #expect(h.failures.isEmpty, "\(h.failures)")
        // Anti-vacuity: the same windows judged without the floor aside fall below the bound.
        h.floorStarts = []
        h.failures = []
        h.checkRollingWindows()
        #expect(h.failures.contains { $0.contains("program at \(Self.decrease)") && $0.contains("pg < min(") })
    }

    @Test("anti-vacuity: a controller that keeps the full dose while the evidence persists fails the model")
    func brokenControllerFails() throws {
        let h = try Self.run(brokenIgnoresLongEvidence: true)
        #expect(h.failures.contains { $0.contains("vs prescribed") })
    }

    /// The same course with an empty-switch reading from 2d+01:00 instead (the bench profile has no
    /// switch: the reading is evidence, not a stop) and a refill entered 18 h later while the switch
    /// still reads empty. The reading goes on being evidence: the floor from 3d+01:00 + 1 ns.
    /// `brokenRefillAnswersSwitch`: the controller as it was, the refill entry ending the switch's evidence.
    static func runSwitchOverRefill(brokenRefillAnswersSwitch: Bool = false) throws -> Harness {
        var h = try Harness(setupSeed: 0, generousRefills: true, schedule: .continuous(ug(600)))
        h.apply(.advance(Self.stall - h.c.now))
        h.apply(.sensor(.reservoirEmpty(true)))
        h.apply(.advance(.hours(18)))
        h.apply(.command(.refill(RefillRequest(withdrawn: h.c.reservoir.estimate, added: .millilitres(20), concentration: h.c.reservoir.concentration))))
        if brokenRefillAnswersSwitch {
            h.c.emptySwitchEvidenceSince = nil
            var log = EffectLog()
            h.c.endInterruptionIfResumed(at: h.c.now, log: &log)
        }
        h.apply(.advance(.hours(30)))
        h.checkAll()
        return h
    }

    @Test("a refill entry does not answer an empty-switch reading that persists: the floor 24 h after the reading, on the model and the controller alike")
    func switchReadingOutlastsRefillEntry() throws {
        let h = try Self.runSwitchOverRefill()
        #expect(h.model.floorFrom == Self.stall + .hours(24) + TimeSpan(nanoseconds: 1))
        #expect(h.c.awaitingConfirmationSince == Self.stall && h.c.deliveringDose == .floor && h.c.emptySwitch)
        #expect(h.failures.isEmpty, "\(h.failures)")
    }

    @Test("anti-vacuity: a controller whose refill entry ends the switch's evidence fails the model")
    func refillAnsweringTheSwitchFails() throws {
        let h = try Self.runSwitchOverRefill(brokenRefillAnswersSwitch: true)
        #expect(h.c.awaitingConfirmationSince == nil)
        #expect(h.failures.contains { $0.contains("vs prescribed") })
    }
}
