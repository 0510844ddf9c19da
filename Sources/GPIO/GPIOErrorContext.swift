/// What the binding was doing when a C call failed: the input of the errno → ``GPIOError`` mapping.
public struct GPIOErrorContext: Sendable, Hashable {
    /// The binding operation that failed.
    public enum Operation: String, Sendable, Hashable {
        case openChip = "opening the chip"
        case openChipByLabel = "looking up the chip by label"
        case chipInfo = "reading chip info"
        case findLine = "looking up a line name"
        case lineInfo = "reading line info"
        case requestLines = "requesting lines"
        case setValues = "setting line values"
        case getValues = "reading line values"
        case waitEdgeEvents = "waiting for edge events"
        case readEdgeEvents = "reading edge events"
        case requestFD = "getting the request's file descriptor"
    }

    /// The operation that failed.
    public var operation: Operation
    /// The chip as the user named it (path, name or label).
    public var chip: String
    /// Chips that exist (for "chip not found"), as `path [label]`.
    public var availableChips: [String]
    /// The line name looked up (``Operation/findLine``).
    public var lineName: String?
    /// The line offsets concerned, in the order given; the first is blamed unless a better one is known.
    public var offsets: [UInt32]
    /// The chip's line count, when known (to recognise an out-of-range offset).
    public var lineCount: UInt32?
    /// Kernel line info of the line found busy after EBUSY (its consumer names the holder).
    public var busyLine: LineInfo?

    /// Creates a context; only `operation` and `chip` are needed.
    public init(
        _ operation: Operation, chip: String, availableChips: [String] = [], lineName: String? = nil,
        offsets: [UInt32] = [], lineCount: UInt32? = nil, busyLine: LineInfo? = nil
    ) {
        self.operation = operation
        self.chip = chip
        self.availableChips = availableChips
        self.lineName = lineName
        self.offsets = offsets
        self.lineCount = lineCount
        self.busyLine = busyLine
    }
}
