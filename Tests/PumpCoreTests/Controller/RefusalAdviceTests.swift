import Testing
@testable import PumpCore

/// What a refusal tells the user to do, as a command: the words of the advice that say it (checked in
/// the refusal's description) and the command they describe, at the instant they name. Nil command:
/// the refusal says there is nothing to do (the patient is not a candidate; no alarm to acknowledge).
struct Advice {
    var words: String
    var command: Command?
    var at: Instant
}

extension Command {
    /// The schedule a programming command carries.
    var carriedSchedule: Schedule? {
        switch self {
        case let .program(s), let .confirmResumption(s), let .startTherapy(s, _): return s
        default: return nil
        }
    }

    /// The same command with `s` in place of its schedule.
    func with(_ s: Schedule) -> Command {
        switch self {
        case .program: return .program(s)
        case .confirmResumption: return .confirmResumption(s)
        case let .startTherapy(_, basis): return .startTherapy(s, basis: basis)
        default: return self
        }
    }

    var refillRequest: RefillRequest? { if case let .refill(r) = self { return r } else { return nil } }
}

/// Follows the advice of `refusal` (refusing `command` at `t` on `c`) literally.
func advice(for refusal: Refusal, refusing command: Command, at t: Instant, on c: PumpController) -> Advice? {
    let full = RefillRequest(withdrawn: c.reservoir.estimate, added: c.reservoir.capacity,
                             concentration: c.reservoir.concentration == .none ? c500 : c.reservoir.concentration)
    switch refusal {
    case let .instantBeforeNow(_, now): return Advice(words: "time only moves forward", command: command, at: now)
    case let .invalidSchedule(.rateOutOfRange(_, rate, allowed)):
        let nearest = min(max(rate, allowed.lowerBound), allowed.upperBound)
        return Advice(words: "outside \(allowed.lowerBound) … \(allowed.upperBound)", command: command.with(.continuous(nearest)), at: t)
    case .invalidSchedule: return Advice(words: "schedule refused", command: c.schedule.map(command.with), at: t)
    case .invalidSettings:
        var s = ControllerSettings(patientGroup: c.settings.patientGroup)
        s.clock = c.settings.clock
        return Advice(words: "set it within the range", command: .configure(s), at: t)
    case let .decreaseTooLarge(_, _, _, smallest):
        return Advice(words: "the lowest dose allowed now is \(smallest)", command: command.with(.continuous(smallest)), at: t)
    case let .increaseTooLarge(_, _, _, largest):
        return Advice(words: "the highest dose allowed now is \(largest)", command: command.with(.continuous(largest)), at: t)
    case let .increaseDuringFirstDay(_, _, from): return Advice(words: "allowed from \(from)", command: command, at: from)
    case .windowAboveTitrationLimit:
        // "A smaller increase": the smallest is none, the schedule as it is (it raises no window).
        return Advice(words: "program a smaller or later increase", command: c.schedule.map(Command.program), at: t)
    case .windowBelowDecreaseLimit: return Advice(words: "stop with a taper", command: .stop(taperDays: nil, override: nil), at: t)
    case let .windowIncreaseTooSoon(_, _, _, from): return Advice(words: "allowed from \(from)", command: command, at: from)
    case let .windowIncreaseDuringFirstDay(_, _, from): return Advice(words: "allowed from \(from)", command: command, at: from)
    case let .increaseTooSoon(_, _, _, from): return Advice(words: "allowed from \(from)", command: command, at: from)
    case .therapyNotRunning:
        let s = command.carriedSchedule ?? .continuous(ug(600))
        return Advice(words: "start therapy first", command: .startTherapy(s, basis: .transfer(previousDailyDose: s.dailyDose)), at: t)
    case .therapyAlreadyStarted:
        return Advice(words: "use program", command: .program(command.carriedSchedule ?? c.schedule!), at: t)
    case .taperInProgress: return Advice(words: "resume therapy", command: .resume, at: t)
    case .reserveTaperInProgress: return Advice(words: "refill the reservoir", command: .refill(full), at: t)
    case .noTaperToResume: return Advice(words: "use program", command: c.schedule.map(Command.program), at: t)
    case let .taperTooShort(_, minimum):
        return Advice(words: "\(minimum)-day minimum", command: .stop(taperDays: minimum, override: nil), at: t)
    case .overrideReasonMissing:
        guard case let .stop(days, _) = command else { return nil }
        return Advice(words: "a reason and the clinician's name",
                      command: .stop(taperDays: days, override: EmergencyOverride(reason: "severe side effects", clinician: "Dr A")), at: t)
    case .deliveryAwaitsConfirmation: return Advice(words: "confirm the dose", command: c.schedule.map(Command.confirmResumption), at: t)
    case .noInterruptionToConfirm:
        return Advice(words: "use program", command: .program(command.carriedSchedule ?? c.schedule!), at: t)
    case .confirmedDoseMismatch: return Advice(words: "confirm the dose as programmed", command: c.schedule.map(Command.confirmResumption), at: t)
    case let .notPrimed(v): return Advice(words: "prime it first", command: .prime(confirmVolume: v), at: t)
    case .alreadyPrimed:
        return Advice(words: "start therapy", command: .startTherapy(.continuous(ug(600)), basis: .transfer(previousDailyDose: ug(600))), at: t)
    case let .primingVolumeMismatch(_, computed): return Advice(words: "confirm \(computed)", command: .prime(confirmVolume: computed), at: t)
    case let .bolusInProgress(endsAt): return Advice(words: "wait for it to finish", command: command, at: endsAt)
    case let .testDoseNotAllowed(_, allowed): return Advice(words: "allowed now", command: .testDose(allowed[0]), at: t)
    case let .testDoseTooSoon(_, from): return Advice(words: "allowed from \(from)", command: command, at: from)
    case let .observationLockout(until): return Advice(words: "until \(until)", command: command, at: until)
    case .testDoseResponsePending: return Advice(words: "record the patient's response", command: .recordTestDoseResponse(.noResponse), at: t)
    case .noTestDoseToRecord:
        let allowed = (try? c.screening.nextAllowed().get()) ?? [.micrograms(25)]
        return Advice(words: "give a test dose first", command: .testDose(allowed[0]), at: t)
    case .screeningComplete:
        let dose = c.screening.permittedStartingDose ?? .floor
        return Advice(words: "start therapy", command: .startTherapy(.continuous(dose), basis: .testDose), at: t)
    case .notACandidate: return Advice(words: "not a candidate", command: nil, at: t)
    case .noEffectiveTestDose:
        let s = command.carriedSchedule ?? .continuous(ug(600))
        return Advice(words: "start as a transfer", command: .startTherapy(s, basis: .transfer(previousDailyDose: s.dailyDose)), at: t)
    case let .startDoseAboveOffer(_, offered):
        return Advice(words: "\(offered)", command: .startTherapy(.continuous(max(offered, .floor)), basis: .testDose), at: t)
    case let .startDoseAbovePreviousPump(_, previous):
        return Advice(words: "previous pump's \(previous)", command: .startTherapy(.continuous(previous), basis: .transfer(previousDailyDose: previous)), at: t)
    case .screeningConcentrationForTherapy:
        var r = full; r.concentration = c500; r.confirmConcentrationChange = true
        return Advice(words: "refill with 500, 1000 or 2000 μg/mL", command: .refill(r), at: t)
    case .insufficientDrug: return Advice(words: "refill first", command: .refill(full), at: t)
    case .reservoirNotFilled:
        return Advice(words: "refill it first", command: .refill(RefillRequest(withdrawn: .zero, added: c.reservoir.capacity, concentration: c500)), at: t)
    case let .overfill(_, capacity):
        var r = command.refillRequest ?? full; r.added = capacity
        return Advice(words: "capacity \(capacity)", command: .refill(r), at: t)
    case .residualOutOfRange:
        var r = command.refillRequest ?? full; r.withdrawn = c.reservoir.estimate
        return Advice(words: "re-measure", command: .refill(r), at: t)
    case .concentrationNotAllowed:
        var r = command.refillRequest ?? full; r.concentration = c500
        return Advice(words: "500, 1000 or 2000 μg/mL", command: .refill(r), at: t)
    case .concentrationChangeNotConfirmed:
        var r = command.refillRequest ?? full; r.confirmConcentrationChange = true
        return Advice(words: "confirm the new concentration", command: .refill(r), at: t)
    case let .refillDateInPast(_, now): return Advice(words: "set a date after now", command: .setRefillDate(now + .days(1)), at: t)
    case .alarmNotActive: return Advice(words: "nothing to acknowledge", command: nil, at: t)
    }
}

@Suite("Every refusal's advice can be followed")
struct RefusalAdviceTests {
    @Test("every refusal's advice is followable: doing what it says leads to an accepted command", arguments: refusalCases)
    func adviceLeadsToAcceptance(_ k: RefusalCase) throws {
        var (c, command, t) = try k.setup()
        var trail: [String] = []
        for _ in 0..<6 {
            let response = c.handle(command, at: t)
            guard let refusal = response.refusal else { return } // accepted
            trail.append("\(command) at \(t) → \(refusal)")
            guard let next = advice(for: refusal, refusing: command, at: t, on: c) else {
                Issue.record("no way to follow \(refusal.caseName): \(refusal)\n\(trail.joined(separator: "\n"))"); return
            }
            #expect(refusal.description.contains(next.words), "the advice of \(refusal.caseName) should say \"\(next.words)\": \(refusal)")
            guard let nextCommand = next.command else {
                // Terminal by design: the refusal says there is nothing to do.
                #expect(["notACandidate", "alarmNotActive"].contains(refusal.caseName), "\(refusal.caseName) gives no advice")
                return
            }
            (command, t) = (nextCommand, max(next.at, c.now))
        }
        Issue.record("following the advice never led to an accepted command:\n\(trail.joined(separator: "\n"))")
    }

    @Test("during a reserve taper, program and resume both say to refill, and the refill is accepted")
    func reserveTaperAdviceIsConsistent() throws {
        var (c, t) = try reserveTapering()
        let program = expectRefusal(&c, .program(.continuous(ug(600))), at: t)
        let resume = expectRefusal(&c, .resume, at: t)
        #expect(program == .reserveTaperInProgress(level: ug(480)) && resume == program)
        #expect(program?.description.contains("refill the reservoir") == true)
        try c.handle(.refill(RefillRequest(withdrawn: c.reservoir.estimate, added: .millilitres(20), concentration: c500)), at: t).accepted()
        // 40 h after the start, the reduced level (from 34 h) ran 6 h: the schedule resumes; program works.
        try c.handle(.program(.continuous(ug(500))), at: t).accepted()
    }
}
