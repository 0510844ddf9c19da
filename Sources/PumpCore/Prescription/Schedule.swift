/// One step of a flex schedule: from `start` (time of day) until the next step's start, deliver at
/// `rate` (μg/day, i.e. the rate expressed per 24 h).
public struct FlexStep: Hashable, Sendable, Codable {
    public var start: TimeOfDay
    public var rate: DoseRate
    public init(start: TimeOfDay, rate: DoseRate) { self.start = start; self.rate = rate }
}

/// A continuous-delivery schedule: one daily dose all day, or a flex schedule of up to 24 steps that
/// repeats every 24 h of wall-clock time.
///
/// Invariants once `validate` passes: at least one step, start times strictly increasing, every
/// step's rate within 50–1200 μg/day and hence the daily dose too.
public enum Schedule: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The same rate all day.
    case continuous(DoseRate)
    /// Steps sorted by start time; the last step runs until the first step's start on the next day.
    case flex([FlexStep])

    /// The most steps a flex schedule may have (the leading device allows 13; profiles may lower it).
    public static let maximumSteps = 24

    /// The steps, a continuous schedule being one step at midnight.
    public var steps: [FlexStep] {
        switch self {
        case let .continuous(r): return [FlexStep(start: .midnight, rate: r)]
        case let .flex(s): return s
        }
    }

    /// The dose over 24 h: the integral of the step rates, rounded to the nearest ng/day.
    public var dailyDose: DoseRate {
        switch self {
        case let .continuous(r): return r
        case let .flex(steps):
            guard !steps.isEmpty else { return .zero }
            let day = Int128(TimeConstants.nanosecondsPerDay)
            var sum: Int128 = 0
            for (i, s) in steps.enumerated() {
                let end = i + 1 < steps.count ? Int128(steps[i + 1].start.nanosecondsAfterMidnight)
                    : day + Int128(steps[0].start.nanosecondsAfterMidnight)
                sum += Int128(s.rate.nanogramsPerDay) * (end - Int128(s.start.nanosecondsAfterMidnight))
            }
            return DoseRate(nanogramsPerDay: Int64((sum + day / 2) / day))
        }
    }

    /// The rate in force at `nanosecondsAfterMidnight` and how long until the next step starts
    /// (`nil` for a continuous schedule, which never changes).
    public func rate(atNanosecondsAfterMidnight tod: Int64) -> (rate: DoseRate, untilNextStep: TimeSpan?) {
        switch self {
        case let .continuous(r): return (r, nil)
        case let .flex(steps):
            // The step in force is the last one that started at or before tod, else the last step (wrap).
            var index = steps.count - 1
            for (i, s) in steps.enumerated() where s.start.nanosecondsAfterMidnight <= tod { index = i }
            let nextStart: Int64
            if index + 1 < steps.count, steps[index + 1].start.nanosecondsAfterMidnight > tod {
                nextStart = steps[index + 1].start.nanosecondsAfterMidnight
            } else if steps[0].start.nanosecondsAfterMidnight > tod {
                nextStart = steps[0].start.nanosecondsAfterMidnight
            } else {
                nextStart = steps[0].start.nanosecondsAfterMidnight + TimeConstants.nanosecondsPerDay
            }
            return (steps[index].rate, TimeSpan(nanoseconds: nextStart - tod))
        }
    }

    /// The smallest and largest step rate.
    public var rateRange: ClosedRange<DoseRate> {
        let rates = steps.map(\.rate)
        return (rates.min() ?? .zero)...(rates.max() ?? .zero)
    }

    /// Checks the schedule: step count (1…`maximumSteps`), strictly increasing start times, every
    /// step's rate within 50–1200 μg/day, and every step's volume rate at `concentration` at least the
    /// pump's patency minimum. The error names the step (1-based), the value and the bound.
    public func validate(concentration: Concentration, profile: PumpProfile,
                         maximumSteps: Int = Schedule.maximumSteps) throws(ScheduleError) {
        let steps = self.steps
        if steps.isEmpty { throw .noSteps }
        if steps.count > maximumSteps { throw .tooManySteps(count: steps.count, maximum: maximumSteps) }
        for i in steps.indices.dropFirst() where steps[i].start <= steps[i - 1].start {
            throw .stepStartNotIncreasing(step: i + 1, start: steps[i].start, previous: steps[i - 1].start)
        }
        let isFlex: Bool
        if case .flex = self { isFlex = true } else { isFlex = false }
        for (i, s) in steps.enumerated() {
            if !DoseRate.allowedRange.contains(s.rate) {
                throw .rateOutOfRange(step: isFlex ? i + 1 : nil, rate: s.rate, allowed: DoseRate.allowedRange)
            }
            guard concentration.microgramsPerMillilitre > 0 else { throw .noDrugConcentration }
            // Exact comparison (ng/day × 1000 / c < minimum ⇔ ng/day × 1000 < minimum × c): the rounded
            // `volumeRate` is for display only and would let a rate just under the minimum through.
            let c = Int128(concentration.microgramsPerMillilitre)
            let exactNum = Int128(s.rate.nanogramsPerDay) * 1_000
            if exactNum < Int128(profile.minimumPatencyRate.nanolitresPerDay) * c {
                // Reported rounded down, so the value shown is below the minimum shown.
                let vr = VolumeRate(nanolitresPerDay: Int64(exactNum / c))
                throw .belowPatencyRate(step: isFlex ? i + 1 : nil, rate: s.rate, volumeRate: vr,
                                        concentration: concentration, minimum: profile.minimumPatencyRate)
            }
        }
    }

    public var description: String {
        switch self {
        case let .continuous(r): return "continuous \(r)"
        case let .flex(steps):
            return "flex [" + steps.map { "\($0.start) \($0.rate)" }.joined(separator: ", ") + "] = \(dailyDose)"
        }
    }
}

/// Why a schedule was refused. Every case names the step (1-based; `nil` for a continuous schedule),
/// the value and the bound, and says what to do.
public enum ScheduleError: Error, Hashable, Sendable, Codable, CustomStringConvertible {
    case noSteps
    case tooManySteps(count: Int, maximum: Int)
    case stepStartNotIncreasing(step: Int, start: TimeOfDay, previous: TimeOfDay)
    case rateOutOfRange(step: Int?, rate: DoseRate, allowed: ClosedRange<DoseRate>)
    case belowPatencyRate(step: Int?, rate: DoseRate, volumeRate: VolumeRate, concentration: Concentration, minimum: VolumeRate)
    case noDrugConcentration

    public var description: String {
        func where_(_ step: Int?) -> String { step.map { "step \($0): " } ?? "" }
        switch self {
        case .noSteps: return "the flex schedule has no steps; give at least one"
        case let .tooManySteps(count, maximum):
            return "the flex schedule has \(count) steps; at most \(maximum) are allowed per 24 h"
        case let .stepStartNotIncreasing(step, start, previous):
            return "step \(step): starts at \(start), not after the previous step's \(previous); list steps in time order"
        case let .rateOutOfRange(step, rate, allowed):
            return "\(where_(step))rate \(rate) is outside \(allowed.lowerBound) … \(allowed.upperBound); this bound has no override"
        case let .belowPatencyRate(step, rate, vr, c, minimum):
            return "\(where_(step))rate \(rate) at \(c) is \(vr), below the catheter patency minimum \(minimum); use a lower concentration or a higher dose"
        case .noDrugConcentration: return "the reservoir holds no drug; fill it before programming"
        }
    }
}
