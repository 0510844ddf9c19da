/// An edge the kernel saw on a requested input, with its timestamp.
public struct EdgeEvent: Sendable, Hashable, CustomStringConvertible {
    /// Rising (inactive → active) or falling, as the kernel reports it for the requested line.
    public enum Kind: Sendable, Hashable, CustomStringConvertible {
        case rising
        case falling

        public var description: String { self == .rising ? "rising" : "falling" }
    }

    /// Offset of the line on its chip.
    public var offset: UInt32
    /// Rising or falling.
    public var kind: Kind
    /// Kernel timestamp in nanoseconds, on the line's ``EventClock`` (monotonic unless chosen otherwise):
    /// taken in the interrupt handler, so it does not include this process's scheduling latency.
    public var timestampNanoseconds: UInt64
    /// API v2: sequence number of the event within its request (gaps mean lost events); `nil` under v1.
    public var globalSequence: UInt64?
    /// API v2: sequence number of the event on its line; `nil` under v1.
    public var lineSequence: UInt64?

    /// Creates an event (the binding fills it from the kernel).
    public init(
        offset: UInt32, kind: Kind, timestampNanoseconds: UInt64, globalSequence: UInt64? = nil,
        lineSequence: UInt64? = nil
    ) {
        self.offset = offset
        self.kind = kind
        self.timestampNanoseconds = timestampNanoseconds
        self.globalSequence = globalSequence
        self.lineSequence = lineSequence
    }

    /// The timestamp as a `Duration` since the clock's epoch.
    public var timestamp: Duration { .nanoseconds(Int64(clamping: timestampNanoseconds)) }

    /// `line 3 rising at 12.000345678 s (#7, line #2)`.
    public var description: String {
        let s = timestampNanoseconds / 1_000_000_000, ns = timestampNanoseconds % 1_000_000_000
        let frac = String(ns).leftPadded(to: 9)
        var text = "line \(offset) \(kind) at \(s).\(frac) s"
        if let g = globalSequence, let l = lineSequence { text += " (#\(g), line #\(l))" }
        return text
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
