/// How one line is to be requested. Build with ``output(initial:activeLow:drive:bias:)`` or
/// ``input(bias:edge:activeLow:debounce:eventClock:)``.
///
/// ```swift
/// let step = LineSettings.output(initial: .inactive)
/// let occlusion = LineSettings.input(bias: .pullUp, edge: .both, activeLow: true)
/// ```
public struct LineSettings: Sendable, Hashable {
    /// Input or output.
    public var direction: LineDirection
    /// Outputs: the logical value driven from the moment of the request (no glitch to another level).
    public var initialValue: LineValue
    /// Logical values are inverted relative to the pin level.
    public var isActiveLow: Bool
    /// Internal pull resistor.
    public var bias: Bias
    /// Outputs: output stage.
    public var drive: Drive
    /// Inputs: which edges produce ``EdgeEvent``s.
    public var edge: Edge
    /// Inputs: kernel debounce period (API v2 only; `nil` = none). Microsecond resolution.
    public var debouncePeriod: Duration?
    /// Inputs with edges: the clock of event timestamps (non-monotonic needs API v2).
    public var eventClock: EventClock

    /// An output that drives `initial` from the moment it is requested.
    public static func output(
        initial: LineValue = .inactive, activeLow: Bool = false, drive: Drive = .pushPull, bias: Bias = .asIs
    ) -> LineSettings {
        LineSettings(
            direction: .output, initialValue: initial, isActiveLow: activeLow, bias: bias, drive: drive,
            edge: .none, debouncePeriod: nil, eventClock: .monotonic)
    }

    /// An input, optionally with a pull resistor and edge detection.
    public static func input(
        bias: Bias = .asIs, edge: Edge = .none, activeLow: Bool = false, debounce: Duration? = nil,
        eventClock: EventClock = .monotonic
    ) -> LineSettings {
        LineSettings(
            direction: .input, initialValue: .inactive, isActiveLow: activeLow, bias: bias, drive: .pushPull,
            edge: edge, debouncePeriod: debounce, eventClock: eventClock)
    }
}

/// A line, by offset or by name, and how to request it.
public struct LineConfig: Sendable, Hashable {
    /// Which line.
    public var line: LineSelector
    /// How to request it.
    public var settings: LineSettings

    /// `LineConfig("STEP", .output())`, `LineConfig(5, .input(bias: .pullUp))`.
    public init(_ line: LineSelector, _ settings: LineSettings) {
        self.line = line
        self.settings = settings
    }
}
