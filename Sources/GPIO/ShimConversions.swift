import CGPIODShim

// Conversions between the shim's C structs and the Swift value types. No C calls here.

/// Reads a NUL-terminated fixed-size C char array (imported as a tuple); `nil` if empty.
func string<T>(fromFixed tuple: T) -> String? {
    withUnsafeBytes(of: tuple) { raw in
        let bytes = raw.prefix(while: { $0 != 0 })
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }
}

extension LineInfo {
    init(_ c: itp_line_info) {
        let bias: Bias? =
            switch c.bias {
            case ITP_BIAS_DISABLED: .disabled
            case ITP_BIAS_PULL_UP: .pullUp
            case ITP_BIAS_PULL_DOWN: .pullDown
            default: nil
            }
        let edge: Edge? =
            switch c.edge {
            case ITP_EDGE_NONE: Edge.none
            case ITP_EDGE_RISING: .rising
            case ITP_EDGE_FALLING: .falling
            case ITP_EDGE_BOTH: .both
            default: nil
            }
        self.init(
            offset: c.offset, name: string(fromFixed: c.name), isUsed: c.used,
            consumer: string(fromFixed: c.consumer),
            direction: c.direction == ITP_DIRECTION_OUTPUT ? .output : .input,
            isActiveLow: c.active_low, bias: bias,
            drive: c.drive == ITP_DRIVE_OPEN_DRAIN ? .openDrain : c.drive == ITP_DRIVE_OPEN_SOURCE ? .openSource : .pushPull,
            edge: edge, debouncePeriodMicroseconds: c.debounce_us,
            eventClock: c.event_clock == ITP_CLOCK_REALTIME ? .realtime : c.event_clock == ITP_CLOCK_HTE ? .hte : .monotonic)
    }
}

extension LineSettings {
    /// The shim's config for this line; debounce is rounded up to whole microseconds.
    func shimConfig(offset: UInt32) -> itp_line_config {
        var c = itp_line_config()
        c.offset = offset
        c.direction = direction == .output ? ITP_DIRECTION_OUTPUT : ITP_DIRECTION_INPUT
        c.initial = initialValue.rawValue
        c.active_low = isActiveLow
        c.bias =
            switch bias {
            case .asIs: ITP_BIAS_AS_IS
            case .disabled: ITP_BIAS_DISABLED
            case .pullUp: ITP_BIAS_PULL_UP
            case .pullDown: ITP_BIAS_PULL_DOWN
            }
        c.drive =
            switch drive {
            case .pushPull: ITP_DRIVE_PUSH_PULL
            case .openDrain: ITP_DRIVE_OPEN_DRAIN
            case .openSource: ITP_DRIVE_OPEN_SOURCE
            }
        c.edge =
            switch edge {
            case .none: ITP_EDGE_NONE
            case .rising: ITP_EDGE_RISING
            case .falling: ITP_EDGE_FALLING
            case .both: ITP_EDGE_BOTH
            }
        c.debounce_us = debouncePeriod.map { Self.microsecondsRoundedUp($0) } ?? 0
        c.event_clock =
            switch eventClock {
            case .monotonic: ITP_CLOCK_MONOTONIC
            case .realtime: ITP_CLOCK_REALTIME
            case .hte: ITP_CLOCK_HTE
            }
        return c
    }

    static func microsecondsRoundedUp(_ d: Duration) -> UInt32 {
        let (s, atto) = d.components
        guard s >= 0, atto >= 0 else { return 0 }
        let (whole, overflow) = s.multipliedReportingOverflow(by: 1_000_000)
        guard !overflow else { return .max }
        let us = whole + (atto + 999_999_999_999) / 1_000_000_000_000  // 1 µs = 10¹² as
        return UInt32(clamping: us)
    }
}

extension EdgeEvent {
    init(_ e: itp_edge_event, api: GPIOLibrary.API) {
        self.init(
            offset: e.offset, kind: e.type == ITP_EVENT_RISING ? .rising : .falling,
            timestampNanoseconds: e.timestamp_ns,
            globalSequence: api == .v2 ? e.global_seqno : nil,
            lineSequence: api == .v2 ? e.line_seqno : nil)
    }
}
