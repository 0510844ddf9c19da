/// A line's logical value. With active-low the kernel inverts: ``active`` drives the pin low.
public enum LineValue: Int32, Sendable, Hashable, CustomStringConvertible {
    case inactive = 0
    case active = 1

    /// `true` → ``active``.
    public init(_ active: Bool) { self = active ? .active : .inactive }

    /// Whether the value is ``active``.
    public var isActive: Bool { self == .active }

    public var description: String { isActive ? "1" : "0" }
}

/// Whether a line is driven by this program (output) or read (input).
public enum LineDirection: Sendable, Hashable, CustomStringConvertible {
    case input
    case output

    public var description: String { self == .input ? "input" : "output" }
}

/// Internal pull resistor of a line.
public enum Bias: Sendable, Hashable, CustomStringConvertible {
    /// Leave whatever the kernel or firmware configured.
    case asIs
    case disabled
    case pullUp
    case pullDown

    public var description: String {
        switch self {
        case .asIs: "as-is"
        case .disabled: "disabled"
        case .pullUp: "pull-up"
        case .pullDown: "pull-down"
        }
    }
}

/// Output stage of a line.
public enum Drive: Sendable, Hashable, CustomStringConvertible {
    case pushPull
    case openDrain
    case openSource

    public var description: String {
        switch self {
        case .pushPull: "push-pull"
        case .openDrain: "open-drain"
        case .openSource: "open-source"
        }
    }
}

/// Which edges of an input generate events.
public enum Edge: Sendable, Hashable, CustomStringConvertible {
    case none
    case rising
    case falling
    case both

    public var description: String {
        switch self {
        case .none: "none"
        case .rising: "rising"
        case .falling: "falling"
        case .both: "both"
        }
    }
}

/// The clock of edge-event timestamps. Only ``monotonic`` exists under libgpiod API v1.
public enum EventClock: Sendable, Hashable, CustomStringConvertible {
    /// `CLOCK_MONOTONIC` (the kernel's default since Linux 5.7).
    case monotonic
    /// `CLOCK_REALTIME` (API v2 only).
    case realtime
    /// The hardware timestamp engine (API v2 only, on SoCs that have one).
    case hte

    public var description: String {
        switch self {
        case .monotonic: "monotonic"
        case .realtime: "realtime"
        case .hte: "hte"
        }
    }
}
