import PumpCore

/// The stepper-motor driver IC on the rig, with the timing minimums of its data sheet.
///
/// Values (nanoseconds) are the data sheets' guaranteed minimums at the recommended operating
/// conditions; a rig file's timing must meet every one of them, or the driver may miss steps and the
/// rig would deliver less than the core counted.
/// - A4988 (Allegro A4988 data sheet, "Timing Requirements"): STEP high ≥ 1 µs, STEP low ≥ 1 µs,
///   DIR setup/hold ≥ 200 ns, wake-up from sleep ≥ 1 ms (the rig may tie SLEEP to ENABLE).
/// - DRV8825 (TI SLVSA73, "Timing Requirements"): f_STEP ≤ 250 kHz, STEP high ≥ 1.9 µs, STEP low
///   ≥ 1.9 µs, DIR setup/hold ≥ 650 ns, wake-up ≥ 1.7 ms.
/// - TMC2209 (Trinamic TMC2209 data sheet, "STEP/DIR timing"): STEP high/low ≥ 100 ns, DIR setup/hold
///   ≥ 20 ns, f_STEP ≤ f_CLK/2 (6 MHz at the internal 12 MHz clock); no wake-up delay.
public enum StepperDriverChip: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case a4988
    case drv8825
    case tmc2209

    /// Minimum STEP high time.
    public var minimumPulseHigh: TimeSpan {
        switch self {
        case .a4988: TimeSpan(nanoseconds: 1_000)
        case .drv8825: TimeSpan(nanoseconds: 1_900)
        case .tmc2209: TimeSpan(nanoseconds: 100)
        }
    }

    /// Minimum STEP low time between two pulses.
    public var minimumPulseLow: TimeSpan {
        switch self {
        case .a4988: TimeSpan(nanoseconds: 1_000)
        case .drv8825: TimeSpan(nanoseconds: 1_900)
        case .tmc2209: TimeSpan(nanoseconds: 100)
        }
    }

    /// Minimum time DIR must be stable before the STEP rising edge (and after it).
    public var minimumDirectionSetup: TimeSpan {
        switch self {
        case .a4988: TimeSpan(nanoseconds: 200)
        case .drv8825: TimeSpan(nanoseconds: 650)
        case .tmc2209: TimeSpan(nanoseconds: 20)
        }
    }

    /// Minimum time from ENABLE (and SLEEP, when tied to it) active to the first STEP.
    public var minimumEnableSetup: TimeSpan {
        switch self {
        case .a4988: .milliseconds(1)
        case .drv8825: TimeSpan(nanoseconds: 1_700_000)
        case .tmc2209: .zero
        }
    }

    /// Highest step rate the data sheet allows, in steps per second.
    public var maximumStepRate: Int64 {
        switch self {
        case .a4988: 500_000
        case .drv8825: 250_000
        case .tmc2209: 6_000_000
        }
    }

    public var description: String {
        switch self {
        case .a4988: "A4988"
        case .drv8825: "DRV8825"
        case .tmc2209: "TMC2209"
        }
    }
}
