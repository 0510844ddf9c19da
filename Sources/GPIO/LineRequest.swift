import CGPIODShim

/// A requested line: its offset, the name it was requested by (if any), and its settings.
public struct RequestedLine: Sendable, Hashable {
    /// Offset on the chip.
    public var offset: UInt32
    /// The name it was requested by, `nil` if requested by offset.
    public var name: String?
    /// How it was requested.
    public var settings: LineSettings
}

/// Lines held from the kernel: set outputs, read inputs, wait for and read edge events.
///
/// ```swift
/// let request = try chip.requestLines([
///     LineConfig("STEP", .output()),
///     LineConfig("OCCLUSION", .input(bias: .pullUp, edge: .both, activeLow: true)),
/// ])
/// defer { request.close() }
/// try request.setValue(.active, of: request.offset(of: "STEP")!)
/// for event in try request.edgeEvents(timeout: .milliseconds(100)) { print(event) }
/// ```
///
/// The lines are released by ``close()`` or `deinit`; until then they stay at their last value
/// (releasing an output leaves the pin wherever the kernel/driver leaves it: drive it safe first).
/// Not `Sendable`: use a request from one task or thread at a time.
///
/// API differences: under v2 one kernel request holds all lines and ``setValues(_:)`` is one atomic
/// write; under v1 each line is its own kernel request and ``setValues(_:)`` writes the lines one after
/// another in the order given (so order DIR before STEP).
public final class LineRequest {
    private var handle: OpaquePointer?
    /// The chip the lines belong to.
    public let chip: ChipInfo
    /// The requested lines in request order.
    public let lines: [RequestedLine]

    init(adopting handle: OpaquePointer, chip: ChipInfo, lines: [RequestedLine]) {
        self.handle = handle
        self.chip = chip
        self.lines = lines
    }

    /// The offsets of the requested lines, in request order.
    public var offsets: [UInt32] { lines.map(\.offset) }

    /// The offset of a requested line given by offset or by the name it was requested by; `nil` if not in this request.
    public func offset(of line: LineSelector) -> UInt32? {
        switch line {
        case .offset(let o): lines.contains { $0.offset == o } ? o : nil
        case .name(let n): lines.first { $0.name == n }?.offset
        }
    }

    /// Releases the lines. Idempotent; later calls throw ``GPIOError/closed(what:failure:)``.
    public func close() {
        if let handle {
            itp_request_release(handle)
            self.handle = nil
        }
    }

    deinit { close() }

    /// Drives one output to a logical value.
    public func setValue(_ value: LineValue, of offset: UInt32) throws(GPIOError) {
        try setValues([(offset, value)])
    }

    /// Drives several outputs (atomically under API v2; in the order given under v1).
    public func setValues(_ values: [(offset: UInt32, value: LineValue)]) throws(GPIOError) {
        let handle = try live(.setValues, call: "itp_request_set_values")
        let offsets = values.map(\.offset)
        let raw = values.map { CInt($0.value.rawValue) }
        var status = itp_status()
        let rc = itp_request_set_values(handle, offsets.count, offsets, raw, &status)
        guard rc == 0 else { throw error(status, .setValues, offsets: offsets) }
    }

    /// Reads the logical value of one requested line (input, or what an output drives).
    public func value(of offset: UInt32) throws(GPIOError) -> LineValue {
        try values(of: [offset])[0]
    }

    /// Reads the logical values of requested lines, in the order given.
    public func values(of offsets: [UInt32]) throws(GPIOError) -> [LineValue] {
        let handle = try live(.getValues, call: "itp_request_get_values")
        var raw = [CInt](repeating: 0, count: offsets.count)
        var status = itp_status()
        let rc = itp_request_get_values(handle, offsets.count, offsets, &raw, &status)
        guard rc == 0 else { throw error(status, .getValues, offsets: offsets) }
        return raw.map { LineValue($0 != 0) }
    }

    /// Waits until edge events are pending or `timeout` passes (`nil`: forever). Retries EINTR
    /// keeping the deadline. Returns whether events are pending.
    public func waitForEdgeEvents(timeout: Duration?) throws(GPIOError) -> Bool {
        let handle = try live(.waitEdgeEvents, call: "itp_request_wait_edge_events")
        var status = itp_status()
        let ns = timeout.map { Self.nanoseconds($0) } ?? -1
        let rc = itp_request_wait_edge_events(handle, ns, &status)
        guard rc >= 0 else { throw error(status, .waitEdgeEvents, offsets: offsets) }
        return rc == 1
    }

    /// Reads pending edge events, oldest first, at most `maxCount`; blocks until at least one is
    /// pending (call ``waitForEdgeEvents(timeout:)`` first to bound the wait).
    public func readEdgeEvents(maxCount: Int = 64) throws(GPIOError) -> [EdgeEvent] {
        let handle = try live(.readEdgeEvents, call: "itp_request_read_edge_events")
        guard lines.contains(where: { $0.settings.direction == .input && $0.settings.edge != .none }) else {
            throw GPIOError(
                CCallFailure(call: "itp_request_read_edge_events", errno: E.EINVAL,
                             detail: "no line of this request has edge detection"),
                context: context(.readEdgeEvents, offsets: offsets))
        }
        var buffer = [itp_edge_event](repeating: itp_edge_event(), count: max(maxCount, 1))
        var status = itp_status()
        let count = buffer.withUnsafeMutableBufferPointer {
            itp_request_read_edge_events(handle, $0.baseAddress, $0.count, &status)
        }
        guard count >= 0 else { throw error(status, .readEdgeEvents, offsets: offsets) }
        let api = GPIOLibrary.compiledAPI
        return buffer.prefix(Int(count)).map { EdgeEvent($0, api: api) }
    }

    /// Waits up to `timeout` for edge events and reads them; empty on timeout.
    public func edgeEvents(timeout: Duration?, maxCount: Int = 64) throws(GPIOError) -> [EdgeEvent] {
        try waitForEdgeEvents(timeout: timeout) ? readEdgeEvents(maxCount: maxCount) : []
    }

    /// Keeps the lines requested (outputs driven, edge events queueing) for `duration`, then returns.
    /// A convenience for tools such as `itpump gpio set --hold-ms`; the rig runner keeps its own time.
    public func hold(for duration: Duration) throws(GPIOError) {
        _ = try live(.setValues, call: "itp_sleep_ns")
        itp_sleep_ns(Self.nanoseconds(duration))
    }

    /// A file descriptor that polls readable while edge events are pending, for an event loop
    /// (`poll`/`epoll`, `DispatchSource`). Owned by the request: do not close it or read from it.
    public func fileDescriptor() throws(GPIOError) -> Int32 {
        let handle = try live(.requestFD, call: "itp_request_fd")
        var status = itp_status()
        let fd = itp_request_fd(handle, &status)
        guard fd >= 0 else { throw error(status, .requestFD, offsets: offsets) }
        return fd
    }

    private func live(_ operation: GPIOErrorContext.Operation, call: String) throws(GPIOError) -> OpaquePointer {
        guard let handle else {
            throw GPIOError(CCallFailure(call: call, errno: E.EBADF), context: context(operation, offsets: offsets))
        }
        return handle
    }

    private func context(_ operation: GPIOErrorContext.Operation, offsets: [UInt32]) -> GPIOErrorContext {
        GPIOErrorContext(operation, chip: chip.path, offsets: offsets, lineCount: chip.lineCount)
    }

    private func error(_ status: itp_status, _ operation: GPIOErrorContext.Operation, offsets: [UInt32]) -> GPIOError {
        var blamed = offsets
        if status.index >= 0, status.index < offsets.count {
            blamed = [offsets[Int(status.index)]]
        }
        return GPIOError(CCallFailure(status), context: context(operation, offsets: blamed))
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        if s < 0 { return 0 }
        let (whole, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : whole &+ atto / 1_000_000_000
    }
}

@available(*, unavailable, message: "a LineRequest belongs to one task or thread; libgpiod is not thread-safe")
extension LineRequest: Sendable {}
