@testable import PumpCore

/// A random command, sensor change or time step, decoded from one 64-bit seed so the property library
/// can generate and shrink sequences of plain integers.
enum Action: CustomStringConvertible {
    case advance(TimeSpan)
    case command(Command)
    case sensor(SensorReading)

    static let concentrations: [Int64] = [500, 1000, 2000, 50, 777]

    /// Decodes `seed`; `now` places refill dates, `estimate` sets refill residuals near the truth.
    init(seed: UInt64, now: Instant, estimate: Volume, generousRefills: Bool) {
        var bits = seed >> 8
        func take(_ n: UInt64) -> Int64 { let v = bits % n; bits /= n; return Int64(v) }
        switch seed % 20 {
        case 0...6:
            self = .advance(.minutes(1 + take(3 * 24 * 60)))
        case 7, 8:
            self = .command(.program(.continuous(DoseRate(nanogramsPerDay: 30_000 + take(1_300_000)))))
        case 9:
            var steps: [FlexStep] = []
            var minute: Int64 = take(2) == 0 ? 0 : take(120)
            for _ in 0...take(4) {
                guard minute < 24 * 60 else { break }
                steps.append(FlexStep(start: TimeOfDay(nanosecondsAfterMidnight: minute * TimeConstants.nanosecondsPerMinute)!,
                                      rate: DoseRate(nanogramsPerDay: 40_000 + take(1_210_000))))
                minute += 1 + take(12 * 60)
            }
            self = .command(.program(.flex(steps)))
        case 10:
            let days = take(3) == 0 ? nil : Int(10 + take(12))
            self = .command(.stop(taperDays: days, override: nil))
        case 11:
            self = .command(.resume)
        case 12:
            let c = Concentration(microgramsPerMillilitre: Action.concentrations[Int(take(UInt64(Action.concentrations.count)))])
            let added = generousRefills ? Volume(nanolitres: 12_000_000 + take(9_000_000)) : Volume(nanolitres: take(22_000_000))
            let error = take(4) == 0 ? take(4_000_000) - 2_000_000 : 0
            let withdrawn = Volume(nanolitres: max(0, estimate.nanolitres + error))
            self = .command(.refill(RefillRequest(withdrawn: withdrawn, added: added, concentration: c,
                                                  confirmConcentrationChange: take(4) != 0)))
        case 13:
            let on = take(2) == 0
            switch take(3) {
            case 0: self = .sensor(.occlusion(on))
            case 1: self = .sensor(.motorStall(on))
            default: self = .sensor(.reservoirEmpty(on))
            }
        case 14:
            self = .command(.acknowledge(AlarmKind.allCases[Int(take(UInt64(AlarmKind.allCases.count)))]))
        case 15:
            let offset = TimeSpan.hours(take(60 * 24) - 24)
            self = .command(.setRefillDate(take(5) == 0 ? nil : now + offset))
        case 16:
            var s = ControllerSettings(patientGroup: PatientGroup.allCases[Int(take(3))])
            s.decreaseLimit = .percent(5 + take(20))          // 21…24 % are refused
            s.alarms.lowReservoirThreshold = .millilitres(1 + take(9)) // 1 and 9 mL are refused
            self = .command(.configure(s))
        case 17:
            self = .command(.testDose(.micrograms(25 * (1 + take(4)))))
        case 18:
            self = .command(.prime(confirmVolume: Volume(nanolitres: take(400_000))))
        default:
            self = .command(.startTherapy(.continuous(.microgramsPerDay(50 + take(300))), basis: .transfer(previousDailyDose: .microgramsPerDay(400))))
        }
    }

    /// Applies a command or a sensor reading to `c` at its own instant, its effects into `sink`; an
    /// advance is left to the caller (each test cuts time its own way). Returns the advance's span, if
    /// that is what the action is.
    func applyUnlessAdvance<S: EffectSink>(to c: inout PumpController, into sink: inout S) -> TimeSpan? {
        switch self {
        case let .advance(span): return span
        case let .command(cmd): for e in c.handle(cmd, at: c.now).effects { sink.receive(e) }
        case let .sensor(r): for e in c.sense(r, at: c.now) { sink.receive(e) }
        }
        return nil
    }

    var description: String {
        switch self {
        case let .advance(s): return "advance \(s)"
        case let .command(c): return c.description
        case let .sensor(r): return r.description
        }
    }
}

/// The prescribed rate as the test understands it, built only from accepted commands: the schedule,
/// a stop taper's plan, and the wall clock. Integrates it exactly, independently of the controller's
/// own stroke clock.
struct PrescribedRate {
    var schedule: Schedule
    var taper: TaperPlan?
    let clock: ClockReference
    /// Once an interruption has lasted longer than 24 h without a resumed stroke: the floor from this
    /// instant until a clinician confirms (the random actions never confirm, so for the rest of the
    /// course).
    var floorFrom: Instant?

    /// μg/day in force at `t` (ng/day), and the next instant it may change.
    func rate(at t: Instant) -> (Int64, Instant) {
        let (r, next) = unflooredRate(at: t)
        guard let f = floorFrom, r > 0 else { return (r, next) }
        if t >= f { return (DoseRate.floor.nanogramsPerDay, taper == nil ? .distantFuture : next) }
        return (r, min(next, f))
    }

    func unflooredRate(at t: Instant) -> (Int64, Instant) {
        if let p = taper {
            let day = (t - p.startedAt).nanoseconds / TimeConstants.nanosecondsPerDay
            if day >= Int64(p.levels.count) { return (0, .distantFuture) }
            let dayEnd = p.startedAt + .days(day + 1)
            // The first level, the programmed dose itself, is the schedule as it is (a flex keeps its shape).
            if day == 0 && p.levels[0] == p.fromDose && p.fromDose == schedule.dailyDose {
                let (r, next) = scheduleRate(at: t)
                return (r, min(next, dayEnd))
            }
            return (p.levels[Int(day)].nanogramsPerDay, dayEnd)
        }
        return scheduleRate(at: t)
    }

    func scheduleRate(at t: Instant) -> (Int64, Instant) {
        let steps = schedule.steps
        let tod = clock.nanosecondsAfterMidnight(at: t)
        let midnight = t - TimeSpan(nanoseconds: tod)
        // Step in force: the last start ≤ tod, else the last step of the previous day.
        var current = steps[steps.count - 1]
        var next: Instant = midnight + .days(1) + TimeSpan(nanoseconds: steps[0].start.nanosecondsAfterMidnight)
        for (i, s) in steps.enumerated() {
            if s.start.nanosecondsAfterMidnight <= tod {
                current = s
                next = i + 1 < steps.count ? midnight + TimeSpan(nanoseconds: steps[i + 1].start.nanosecondsAfterMidnight)
                    : midnight + .days(1) + TimeSpan(nanoseconds: steps[0].start.nanosecondsAfterMidnight)
            } else {
                if i == 0 { next = midnight + TimeSpan(nanoseconds: s.start.nanosecondsAfterMidnight) }
                break
            }
        }
        if case .continuous = schedule { next = .distantFuture }
        return (current.rate.nanogramsPerDay, next)
    }

    /// ∫ rate dt over [a, b) in pg·ns/day (exact).
    func integral(from a: Instant, to b: Instant) -> Int128 {
        var sum: Int128 = 0
        var t = a
        while t < b {
            let (r, next) = rate(at: t)
            let end = min(b, next)
            sum += Int128(r) * 1_000 * Int128((end - t).nanoseconds)
            t = end
        }
        return sum
    }
}

/// Records basal strokes (time and cumulative drug) without storing effects.
struct StrokeRecorder: EffectSink {
    var times: [Int64] = []
    var cumulative: [Int64] = []
    var total: Int64 = 0
    var events: [Event] = []
    mutating func receive(_ effect: Effect) {
        switch effect {
        case let .stroke(s) where s.purpose == .basal: receiveStroke(s)
        case let .event(e): events.append(e)
        default: break
        }
    }
    mutating func receiveStroke(_ s: Stroke) {
        total += s.picograms
        times.append(s.at.nanoseconds)
        cumulative.append(total)
    }
    /// The index of the first stroke after `t` (`times.count` if none).
    func firstIndex(after t: Instant) -> Int {
        var lo = 0, hi = times.count
        while lo < hi { let mid = (lo + hi) / 2; if times[mid] <= t.nanoseconds { lo = mid + 1 } else { hi = mid } }
        return lo
    }
    /// Basal drug delivered in (a, b], pg.
    func delivered(after a: Instant, upTo b: Instant) -> Int64 { cumulativeAt(b) - cumulativeAt(a) }
    func cumulativeAt(_ t: Instant) -> Int64 {
        var lo = 0, hi = times.count
        while lo < hi { let mid = (lo + hi) / 2; if times[mid] <= t.nanoseconds { lo = mid + 1 } else { hi = mid } }
        return lo == 0 ? 0 : cumulative[lo - 1]
    }
}
