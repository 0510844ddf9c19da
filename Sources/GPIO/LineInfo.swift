/// A snapshot of the kernel's view of one line (whoever holds it).
public struct LineInfo: Sendable, Hashable {
    /// Offset on the chip.
    public var offset: UInt32
    /// Name given by the board, `nil` if unnamed.
    public var name: String?
    /// Whether the line is requested (by any process or a kernel driver).
    public var isUsed: Bool
    /// Consumer label of the holder, `nil` if unused or unnamed.
    public var consumer: String?
    /// Current direction.
    public var direction: LineDirection
    /// Whether the holder requested it active-low.
    public var isActiveLow: Bool
    /// Pull resistor, `nil` if the kernel does not know.
    public var bias: Bias?
    /// Output stage.
    public var drive: Drive
    /// Edge detection, `nil` under API v1 (its line info does not report it).
    public var edge: Edge?
    /// Kernel debounce period in microseconds (0: none, and always 0 under API v1).
    public var debouncePeriodMicroseconds: UInt32
    /// Clock of edge-event timestamps.
    public var eventClock: EventClock

    /// Creates line info (the binding fills it from the kernel).
    public init(
        offset: UInt32, name: String?, isUsed: Bool, consumer: String?, direction: LineDirection,
        isActiveLow: Bool = false, bias: Bias? = nil, drive: Drive = .pushPull, edge: Edge? = nil,
        debouncePeriodMicroseconds: UInt32 = 0, eventClock: EventClock = .monotonic
    ) {
        self.offset = offset
        self.name = name
        self.isUsed = isUsed
        self.consumer = consumer
        self.direction = direction
        self.isActiveLow = isActiveLow
        self.bias = bias
        self.drive = drive
        self.edge = edge
        self.debouncePeriodMicroseconds = debouncePeriodMicroseconds
        self.eventClock = eventClock
    }
}
