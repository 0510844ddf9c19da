import PumpCore

/// What a rig line does. The raw values are the keys rig files use.
public enum RigRole: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    // Outputs
    /// Stepper driver STEP input: one rising edge = one microstep.
    case step
    /// Stepper driver DIR input: the delivery direction while active.
    case dir
    /// Stepper driver ENABLE input (usually active-low on the IC): motor energised while active.
    case enable
    /// Alarm buzzer (active = sounding).
    case buzzer
    /// Alarm LED for low-priority alarms.
    case ledLow
    /// Alarm LED for medium-priority alarms.
    case ledMedium
    /// Alarm LED for high-priority alarms.
    case ledHigh
    // Inputs
    /// Occlusion / pressure switch: active = no flow.
    case occlusion
    /// Reservoir-empty switch: active = empty.
    case reservoirEmpty
    /// Stroke-feedback sensor (optional): pulses active at least once per stroke; none = motor stall.
    case strokeFeedback

    public var isOutput: Bool {
        switch self {
        case .step, .dir, .enable, .buzzer, .ledLow, .ledMedium, .ledHigh: true
        case .occlusion, .reservoirEmpty, .strokeFeedback: false
        }
    }

    /// Roles every rig must map.
    public var isRequired: Bool { self != .strokeFeedback }

    /// The LED role for an alarm priority.
    public static func led(for priority: AlarmPriority) -> RigRole {
        switch priority {
        case .low: .ledLow
        case .medium: .ledMedium
        case .high: .ledHigh
        }
    }

    public var description: String { rawValue }
}

/// Internal pull resistor of an input line, as a rig file names it.
public enum RigBias: String, CaseIterable, Sendable, Codable {
    case asIs = "as-is"
    case disabled
    case pullUp = "pull-up"
    case pullDown = "pull-down"
}

/// One role's line: which chip, which line, and its polarity.
public struct RigLine: Hashable, Sendable, Codable {
    /// Chip as `GPIOChip.open` takes it: a path, `gpiochipN`, a number or a label.
    public var chip: String
    /// Line name (as the board's device tree or gpio-sim names it) or offset.
    public var line: RigLineSelector
    /// The logical value is the inverse of the pin level (e.g. an A4988's ENABLE, a switch to ground).
    public var activeLow: Bool
    /// Inputs: pull resistor. Outputs: always `as-is`.
    public var bias: RigBias

    public init(chip: String, line: RigLineSelector, activeLow: Bool = false, bias: RigBias = .asIs) {
        self.chip = chip
        self.line = line
        self.activeLow = activeLow
        self.bias = bias
    }
}

/// A line by name or offset (kept separate from `GPIO.LineSelector` so rig files load without GPIO).
public enum RigLineSelector: Hashable, Sendable, Codable, CustomStringConvertible {
    case offset(UInt32)
    case name(String)
    public var description: String {
        switch self {
        case let .offset(o): "\(o)"
        case let .name(n): n
        }
    }
}

/// STEP/DIR timing of one stroke.
///
/// Invariants after validation: every time meets the driver chip's data-sheet minimum;
/// `pulseWidth < stepPeriod`; a stroke (`stepsPerStroke × stepPeriod`) lasts at most
/// `StepperTiming.Limits.strokeDuration`.
public struct StepperTiming: Hashable, Sendable, Codable {
    /// Microsteps per pump stroke (1…10,000).
    public var stepsPerStroke: Int
    /// STEP high time.
    public var pulseWidth: TimeSpan
    /// Steps per second (1 … the chip's maximum).
    public var stepRate: Int64
    /// DIR stable before the first STEP edge.
    public var dirSetup: TimeSpan
    /// ENABLE active before the first STEP edge (driver wake-up).
    public var enableSetup: TimeSpan

    public init(stepsPerStroke: Int, pulseWidth: TimeSpan, stepRate: Int64, dirSetup: TimeSpan, enableSetup: TimeSpan) {
        self.stepsPerStroke = stepsPerStroke
        self.pulseWidth = pulseWidth
        self.stepRate = stepRate
        self.dirSetup = dirSetup
        self.enableSetup = enableSetup
    }

    /// Time from one STEP rising edge to the next (rounded down to the nanosecond).
    public var stepPeriod: TimeSpan { TimeSpan(nanoseconds: 1_000_000_000 / max(stepRate, 1)) }
    /// Length of the motor movement of one stroke, without the enable and DIR setup.
    public var strokeDuration: TimeSpan { stepPeriod * Int64(stepsPerStroke) }

    /// The project's bounds beyond the data sheets.
    public enum Limits {
        public static let stepsPerStroke = 1...10_000
        /// A stroke must end well before the next bolus stroke (the bench profile's 1 mL/h bolus gives
        /// a stroke every 0.9 s): at most 500 ms of motor movement per stroke (our choice).
        public static let strokeDuration = TimeSpan.milliseconds(500)
        /// Longest allowed STEP high time, DIR setup and ENABLE setup: 100 ms (our choice).
        public static let longestSetup = TimeSpan.milliseconds(100)
    }
}

/// How an LED shows an alarm priority: steady, or flashing at a period with an on-time.
public struct LEDPattern: Hashable, Sendable, Codable, CustomStringConvertible {
    /// On-time of each flash; equal to `period` for steady light.
    public var on: TimeSpan
    /// Flash period (on + off).
    public var period: TimeSpan
    public init(on: TimeSpan, period: TimeSpan) { self.on = on; self.period = period }
    public static func steady() -> LEDPattern { LEDPattern(on: .seconds(1), period: .seconds(1)) }
    public var isSteady: Bool { on >= period }
    public var description: String { isSteady ? "steady" : "flash \(on) every \(period)" }

    /// IEC 60601-1-8 visual alarm signals: high priority flashes at 1.4–2.8 Hz, medium at 0.4–0.8 Hz,
    /// both with a 20–60 % on-time; low priority is steady (constant on).
    public static func allowedFrequencyMilliHertz(_ p: AlarmPriority) -> ClosedRange<Int64>? {
        switch p {
        case .high: 1_400...2_800
        case .medium: 400...800
        case .low: nil
        }
    }
}

/// How the buzzer sounds an alert: `beeps` tones of `on` separated by `off`, once per alert.
public struct BuzzerPattern: Hashable, Sendable, Codable, CustomStringConvertible {
    public var beeps: Int
    public var on: TimeSpan
    public var off: TimeSpan
    public init(beeps: Int, on: TimeSpan, off: TimeSpan) { self.beeps = beeps; self.on = on; self.off = off }
    /// Length of one alert.
    public var duration: TimeSpan { on * Int64(beeps) + off * Int64(max(beeps - 1, 0)) }
    public var description: String { "\(beeps) × \(on) on / \(off) off" }

    public enum Limits {
        public static let beeps = 1...10
        public static let tone = TimeSpan.milliseconds(50)...TimeSpan.seconds(2)
        /// An alert must end within 10 s (our choice), far below the shortest re-alert (1 min).
        public static let alertDuration = TimeSpan.seconds(10)
    }
}

/// Per-priority alarm output patterns.
public struct AlarmPatterns: Hashable, Sendable, Codable {
    public var led: [AlarmPriority: LEDPattern]
    public var buzzer: [AlarmPriority: BuzzerPattern]

    /// Defaults after IEC 60601-1-8: LEDs high 2 Hz (250 ms on), medium 0.5 Hz (1 s on), low steady;
    /// buzzer high 5 beeps, medium 3 beeps, low 1 beep.
    public static let standard = AlarmPatterns(
        led: [.high: LEDPattern(on: .milliseconds(250), period: .milliseconds(500)),
              .medium: LEDPattern(on: .seconds(1), period: .seconds(2)),
              .low: .steady()],
        buzzer: [.high: BuzzerPattern(beeps: 5, on: .milliseconds(150), off: .milliseconds(100)),
                 .medium: BuzzerPattern(beeps: 3, on: .milliseconds(200), off: .milliseconds(200)),
                 .low: BuzzerPattern(beeps: 1, on: .milliseconds(300), off: .milliseconds(300))])

    public func led(_ p: AlarmPriority) -> LEDPattern { led[p] ?? Self.standard.led[p]! }
    public func buzzer(_ p: AlarmPriority) -> BuzzerPattern { buzzer[p] ?? Self.standard.buzzer[p]! }
}

/// A bench rig: which driver IC, how it steps, which line plays which role, and the alarm patterns.
/// Build one with `RigFile.load(path:)` (which validates it) or `RigDescription.init` + `validate()`.
public struct RigDescription: Hashable, Sendable, Codable {
    /// A human name (`"Raspberry Pi 4/5 header"`).
    public var name: String
    public var driver: StepperDriverChip
    public var stepper: StepperTiming
    /// Every required role, and `strokeFeedback` if the rig has the sensor.
    public var lines: [RigRole: RigLine]
    public var alarms: AlarmPatterns
    /// How long after a stroke's last step the feedback sensor may take to report it.
    public var feedbackTimeout: TimeSpan

    public init(name: String, driver: StepperDriverChip, stepper: StepperTiming, lines: [RigRole: RigLine],
                alarms: AlarmPatterns = .standard, feedbackTimeout: TimeSpan = .milliseconds(50)) {
        self.name = name
        self.driver = driver
        self.stepper = stepper
        self.lines = lines
        self.alarms = alarms
        self.feedbackTimeout = feedbackTimeout
    }

    /// Roles in a stable order (outputs first, then inputs).
    public var roles: [RigRole] { RigRole.allCases.filter { lines[$0] != nil } }

    public enum Limits {
        public static let feedbackTimeout = TimeSpan.milliseconds(1)...TimeSpan.seconds(1)
    }
}
