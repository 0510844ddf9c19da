import Histogram

/// Timing error against the schedule, in nanoseconds, as HdrHistograms (1 ns … 1 h, 3 significant
/// digits): stroke start lateness (actual first STEP edge − scheduled instant on the monotonic clock),
/// STEP high-time error |measured − configured| and STEP period error |measured − configured|.
public struct TimingStats: Sendable {
    package var strokeLatenessStorage = TimingStats.histogram()
    public var strokeLateness: Histogram<UInt64> { strokeLatenessStorage }
    public private(set) var pulseWidthError = TimingStats.histogram()
    public private(set) var stepPeriodError = TimingStats.histogram()

    public init() {}

    static func histogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .three)
    }

    static func clamp(_ ns: UInt64) -> UInt64 { min(max(ns, 0), 3_600_000_000_000) }

    /// Records how late a stroke started (0 when on time or early).
    public mutating func recordStroke(scheduled: UInt64, started: UInt64) {
        _ = strokeLatenessStorage.record(Self.clamp(started > scheduled ? started - scheduled : 0))
    }
    public mutating func recordPulse(measured: UInt64, configured: UInt64) {
        _ = pulseWidthError.record(Self.clamp(measured > configured ? measured - configured : configured - measured))
    }
    public mutating func recordPeriod(measured: UInt64, configured: UInt64) {
        _ = stepPeriodError.record(Self.clamp(measured > configured ? measured - configured : configured - measured))
    }

    /// p50 / p99 / max and the count of one histogram, in nanoseconds.
    public struct Summary: Hashable, Sendable, Codable, CustomStringConvertible {
        public var count: UInt64
        public var p50: UInt64
        public var p99: UInt64
        public var max: UInt64
        public var description: String {
            count == 0 ? "no samples" : "p50 \(Self.us(p50)) µs, p99 \(Self.us(p99)) µs, max \(Self.us(max)) µs (n=\(count))"
        }
        static func us(_ ns: UInt64) -> String {
            let whole = ns / 1000, frac = (ns % 1000) / 10
            return "\(whole).\(frac < 10 ? "0" : "")\(frac)"
        }
    }

    static func summarize(_ h: Histogram<UInt64>) -> Summary {
        h.totalCount == 0 ? Summary(count: 0, p50: 0, p99: 0, max: 0)
            : Summary(count: h.totalCount, p50: h.valueAtPercentile(50), p99: h.valueAtPercentile(99), max: h.max)
    }

    public var strokes: Summary { Self.summarize(strokeLateness) }
    public var pulses: Summary { Self.summarize(pulseWidthError) }
    public var periods: Summary { Self.summarize(stepPeriodError) }

    /// Three lines for logs and the exit report.
    public var report: String {
        "stroke start lateness: \(strokes)\nSTEP high-time error: \(pulses)\nSTEP period error: \(periods)"
    }
}
