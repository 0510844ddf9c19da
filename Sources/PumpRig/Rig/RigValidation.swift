import PumpCore

/// One thing wrong with a rig: the field (dotted path as in the rig file), its value, what is wrong,
/// and what is allowed.
public struct RigProblem: Hashable, Sendable, CustomStringConvertible {
    public var field: String
    public var value: String
    public var problem: String
    public var allowed: String
    public init(field: String, value: String, problem: String, allowed: String) {
        self.field = field
        self.value = value
        self.problem = problem
        self.allowed = allowed
    }
    public var description: String { "\(field) = \(value): \(problem); allowed: \(allowed)" }
}

extension RigDescription {
    /// Every problem of the rig, in a stable order (empty when it is valid): data-sheet timing,
    /// the project's bounds, missing roles, lines used twice, alarm patterns that are not distinct or
    /// outside IEC 60601-1-8's ranges.
    public func problems() -> [RigProblem] {
        var out: [RigProblem] = []
        func add(_ f: String, _ v: String, _ p: String, _ a: String) { out.append(RigProblem(field: f, value: v, problem: p, allowed: a)) }
        let s = stepper, chip = driver
        if !StepperTiming.Limits.stepsPerStroke.contains(s.stepsPerStroke) {
            add("stepper.stepsPerStroke", "\(s.stepsPerStroke)", "out of range", "1 … 10000")
        }
        if s.stepRate < 1 || s.stepRate > chip.maximumStepRate {
            add("stepper.stepRate", "\(s.stepRate)", "outside what the \(chip) can follow", "1 … \(chip.maximumStepRate) steps/s")
        } else {
            let period = s.stepPeriod
            let maxHigh = period - chip.minimumPulseLow
            if s.pulseWidth < chip.minimumPulseHigh || s.pulseWidth > maxHigh || s.pulseWidth > StepperTiming.Limits.longestSetup {
                let upper = min(maxHigh, StepperTiming.Limits.longestSetup)
                add("stepper.pulseWidth", "\(s.pulseWidth.rigDescription)",
                    s.pulseWidth < chip.minimumPulseHigh ? "shorter than the \(chip)'s minimum STEP high time"
                        : "leaves less than the \(chip)'s minimum STEP low time in a \(period.rigDescription) step period",
                    upper >= chip.minimumPulseHigh ? "\(chip.minimumPulseHigh.rigDescription) … \(upper.rigDescription) at \(s.stepRate) steps/s"
                        : "none at \(s.stepRate) steps/s: lower the step rate")
            }
            if StepperTiming.Limits.stepsPerStroke.contains(s.stepsPerStroke), s.strokeDuration > StepperTiming.Limits.strokeDuration {
                let minRate = (Int64(s.stepsPerStroke) * 1_000_000_000 + StepperTiming.Limits.strokeDuration.nanoseconds - 1)
                    / StepperTiming.Limits.strokeDuration.nanoseconds
                add("stepper.stepRate", "\(s.stepRate)",
                    "a stroke of \(s.stepsPerStroke) steps would take \(s.strokeDuration.rigDescription), longer than \(StepperTiming.Limits.strokeDuration.rigDescription)",
                    "\(minRate) … \(chip.maximumStepRate) steps/s for \(s.stepsPerStroke) steps per stroke")
            }
        }
        if s.dirSetup < chip.minimumDirectionSetup || s.dirSetup > StepperTiming.Limits.longestSetup {
            add("stepper.dirSetup", "\(s.dirSetup.rigDescription)", "outside the \(chip)'s DIR setup time", "\(chip.minimumDirectionSetup.rigDescription) … \(StepperTiming.Limits.longestSetup.rigDescription)")
        }
        if s.enableSetup < chip.minimumEnableSetup || s.enableSetup > StepperTiming.Limits.longestSetup {
            add("stepper.enableSetup", "\(s.enableSetup.rigDescription)", "outside the \(chip)'s wake-up time", "\(chip.minimumEnableSetup.rigDescription) … \(StepperTiming.Limits.longestSetup.rigDescription)")
        }
        if !Self.Limits.feedbackTimeout.contains(feedbackTimeout) {
            add("feedbackTimeout", "\(feedbackTimeout.rigDescription)", "out of range", "\(Self.Limits.feedbackTimeout.lowerBound.rigDescription) … \(Self.Limits.feedbackTimeout.upperBound.rigDescription)")
        }
        // Roles and lines.
        for role in RigRole.allCases where role.isRequired && lines[role] == nil {
            add("\(role.isOutput ? "outputs" : "inputs").\(role)", "(missing)", "every rig needs this role", "a line name or offset")
        }
        var seen: [String: RigRole] = [:]
        for role in roles {
            guard let l = lines[role] else { continue }
            let section = role.isOutput ? "outputs" : "inputs"
            if l.chip.isEmpty { add("\(section).\(role).chip", "\"\"", "empty chip", "a path, gpiochipN, a number or a label") }
            if case let .name(n) = l.line, n.isEmpty || n.count > 31 {
                add("\(section).\(role).line", "\"\(n)\"", "not a usable line name", "1 … 31 characters, or an offset")
            }
            if role.isOutput, l.bias != .asIs {
                add("\(section).\(role).bias", l.bias.rawValue, "a pull resistor on an output", "as-is")
            }
            let key = "\(l.chip)|\(l.line)"
            if let first = seen[key] {
                add("\(section).\(role).line", "\(l.line) on \(l.chip)", "already used by \(first)", "a line no other role uses")
            } else { seen[key] = role }
        }
        // Alarm patterns.
        for p in AlarmPriority.allCases {
            let led = alarms.led(p)
            let f = "alarms.\(p).led"
            if led.on <= .zero || led.period <= .zero {
                add(f, "\(led)", "times must be positive", "on > 0, period > 0")
            } else if let range = LEDPattern.allowedFrequencyMilliHertz(p) {
                let mHz = 1_000_000_000_000 / led.period.nanoseconds
                // In 128 bits: any durations a file can write, up to Int64.max ns, without overflow.
                let duty = Int128(led.on.nanoseconds) * 100 / Int128(led.period.nanoseconds)
                if !range.contains(mHz) || !(20...60).contains(duty) || led.isSteady {
                    add(f, "\(led)", "not an IEC 60601-1-8 \(p)-priority flash",
                        "period \(TimeSpan(nanoseconds: 1_000_000_000_000 / range.upperBound)) … \(TimeSpan(nanoseconds: 1_000_000_000_000 / range.lowerBound)), on-time 20 … 60 % of it")
                }
            } else if !led.isSteady {
                add(f, "\(led)", "a low-priority alarm is shown steady (IEC 60601-1-8)", "steady")
            }
            let b = alarms.buzzer(p)
            let bf = "alarms.\(p).buzzer"
            if !BuzzerPattern.Limits.beeps.contains(b.beeps) { add("\(bf).beeps", "\(b.beeps)", "out of range", "1 … 10") }
            if !BuzzerPattern.Limits.tone.contains(b.on) { add("\(bf).on", "\(b.on.rigDescription)", "out of range", "50ms … 2s") }
            if !BuzzerPattern.Limits.tone.contains(b.off) { add("\(bf).off", "\(b.off.rigDescription)", "out of range", "50ms … 2s") }
            if BuzzerPattern.Limits.beeps.contains(b.beeps), BuzzerPattern.Limits.tone.contains(b.on), BuzzerPattern.Limits.tone.contains(b.off),
               b.duration > BuzzerPattern.Limits.alertDuration {
                add(bf, "\(b)", "an alert lasting \(b.duration.rigDescription)", "at most \(BuzzerPattern.Limits.alertDuration.rigDescription) per alert")
            }
        }
        // Priorities must be told apart by ear: no two buzzer patterns alike, and more urgency, more beeps.
        let (lo, me, hi) = (alarms.buzzer(.low), alarms.buzzer(.medium), alarms.buzzer(.high))
        if !(lo.beeps < me.beeps && me.beeps < hi.beeps) {
            add("alarms.buzzer", "low \(lo.beeps), medium \(me.beeps), high \(hi.beeps) beeps",
                "priorities must sound distinct", "strictly more beeps for each higher priority")
        }
        return out
    }

    /// Throws the first problem (see `problems()`).
    public func validate() throws(RigValidationError) {
        let p = problems()
        if !p.isEmpty { throw RigValidationError(problems: p) }
    }
}

/// A rig that breaks one or more rules; `problems` lists each with field, value and allowed range.
public struct RigValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    public var problems: [RigProblem]
    public var description: String { "invalid rig: " + problems.map(\.description).joined(separator: "; ") }
}
