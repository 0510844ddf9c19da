/// STEP pulses seen on the line, grouped into strokes, and their timing.
public struct StepAnalysis: Sendable {
    /// Rising edges of STEP, μs.
    public let rises: [Int64]
    /// Pulse widths (rise to the following fall), μs.
    public let pulseWidths: [Int64]
    /// Steps that make one stroke.
    public let stepsPerStroke: Int
    /// The time of each complete stroke: its last step's rising edge, μs.
    public let strokes: [Int64]

    public init(edges: [Edge], stepsPerStroke: Int) {
        precondition(stepsPerStroke > 0, "steps per stroke must be positive")
        var rises: [Int64] = []
        var widths: [Int64] = []
        var pendingRise: Int64?
        for e in edges {
            if e.rising { rises.append(e.microseconds); pendingRise = e.microseconds }
            else if let r = pendingRise { widths.append(e.microseconds - r); pendingRise = nil }
        }
        self.rises = rises
        self.pulseWidths = widths
        self.stepsPerStroke = stepsPerStroke
        self.strokes = stride(from: stepsPerStroke - 1, to: rises.count, by: stepsPerStroke).map { rises[$0] }
    }

    /// Steps that do not complete a stroke (a stroke cut short).
    public var incompleteSteps: Int { rises.count % stepsPerStroke }
}

/// Exact order statistics of a set of timing errors (μs): no binning.
public struct TimingSummary: Hashable, Sendable, CustomStringConvertible {
    public let count: Int
    public let p50: Int64
    public let p99: Int64
    public let max: Int64

    /// Summarises the absolute values of `errors`; nil when empty.
    public init?(absoluteErrors errors: [Int64]) {
        guard !errors.isEmpty else { return nil }
        let sorted = errors.map { $0.magnitude }.sorted()
        // Nearest rank: the ⌈p·n/100⌉-th smallest value.
        func rank(_ p: Int) -> Int64 { Int64(sorted[(sorted.count * p + 99) / 100 - 1]) }
        count = sorted.count
        p50 = rank(50)
        p99 = rank(99)
        max = Int64(sorted[sorted.count - 1])
    }

    public var description: String { "p50 \(p50) μs, p99 \(p99) μs, max \(max) μs (n = \(count))" }

    /// Errors of each stroke against an ideal schedule: stroke k (0-based) due at
    /// `first + k × interval` (μs).
    public static func strokeErrors(strokes: [Int64], first: Int64, intervalMicroseconds interval: Double) -> [Int64] {
        strokes.enumerated().map { k, t in t - first - Int64((Double(k) * interval).rounded()) }
    }

    /// Errors of step intervals within each stroke against the nominal step period (μs).
    public static func stepErrors(rises: [Int64], stepsPerStroke: Int, periodMicroseconds period: Int64) -> [Int64] {
        var out: [Int64] = []
        var i = 0
        while i + stepsPerStroke <= rises.count {
            for j in i + 1 ..< i + stepsPerStroke { out.append(rises[j] - rises[j - 1] - period) }
            i += stepsPerStroke
        }
        return out
    }
}
