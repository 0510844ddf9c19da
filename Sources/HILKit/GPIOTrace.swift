/// One `gpio_value` or `gpio_direction` event from the kernel's GPIO trace (tracefs), as the HIL guest
/// records it:
///
///     itpump-293 [000] .....    11.253827: gpio_value: 1020 set 1
///     itpump-293 [000] .....    11.253850: gpio_direction: 1020 out (0)
///
/// Timestamps are the trace clock (`mono` = CLOCK_MONOTONIC) in microseconds, as printed.
public struct TraceEvent: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// A value written (`set`) or read (`get`).
        case value(set: Bool, value: Int)
        /// A direction change (`in`/`out`) with the kernel's error code (0 = success).
        case direction(output: Bool, error: Int)
    }
    /// Microseconds on the trace clock.
    public let microseconds: Int64
    /// Global GPIO number (chip base + offset).
    public let gpio: Int
    public let kind: Kind
}

/// A parsed trace: the events in file order and the lines that were not GPIO events.
public struct GPIOTrace: Sendable {
    public private(set) var events: [TraceEvent] = []
    /// Lines that look like GPIO events but could not be parsed (a truncated dump, say).
    public private(set) var malformed: [String] = []

    /// Whether the text had tracefs' `# tracer:` header. A dump with neither the header nor a GPIO
    /// event line is not a kernel trace at all.
    public private(set) var hasTracerHeader = false

    /// Whether the text is a kernel trace: the tracefs header, or at least one GPIO event line.
    public var isKernelTrace: Bool { hasTracerHeader || !events.isEmpty || !malformed.isEmpty }

    /// The GPIO numbers that have events, ascending.
    public var gpios: [Int] { Set(events.map(\.gpio)).sorted() }

    /// Parses the text of `/sys/kernel/tracing/trace`. Comment lines (`#`) and other events are skipped.
    public init(text: some StringProtocol) {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("#") {
                if line.hasPrefix("# tracer:") { hasTracerHeader = true }
                continue
            }
            guard line.contains(" gpio_value: ") || line.contains(" gpio_direction: ") else { continue }
            if let e = Self.parse(Substring(line)) { events.append(e) } else { malformed.append(String(line)) }
        }
    }

    static func parse(_ line: Substring) -> TraceEvent? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let tag = fields.firstIndex(where: { $0 == "gpio_value:" || $0 == "gpio_direction:" }), tag >= 1,
              fields.count >= tag + 4 else { return nil }
        var stamp = fields[tag - 1]
        guard stamp.hasSuffix(":") else { return nil }
        stamp.removeLast()
        guard let us = microseconds(stamp), let gpio = Int(fields[tag + 1]) else { return nil }
        if fields[tag] == "gpio_value:" {
            guard let v = Int(fields[tag + 3]), fields[tag + 2] == "set" || fields[tag + 2] == "get" else { return nil }
            return TraceEvent(microseconds: us, gpio: gpio, kind: .value(set: fields[tag + 2] == "set", value: v))
        }
        let dir = fields[tag + 2]
        guard dir == "in" || dir == "out" else { return nil }
        let code = fields[tag + 3].trimmingCharacters(in: "()")
        guard let err = Int(code) else { return nil }
        return TraceEvent(microseconds: us, gpio: gpio, kind: .direction(output: dir == "out", error: err))
    }

    /// `12.345678` seconds → 12,345,678 μs, exactly (no floating point).
    static func microseconds(_ s: Substring) -> Int64? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let whole = Int64(parts[0]), parts[1].count <= 6, let frac = Int64(parts[1]) else { return nil }
        var scale: Int64 = 1
        for _ in 0..<(6 - parts[1].count) { scale *= 10 }
        return whole * 1_000_000 + frac * scale
    }

    /// The values written to `gpio`, in order, with their times.
    public func sets(of gpio: Int) -> [(microseconds: Int64, value: Int)] {
        events.compactMap { e in
            if e.gpio == gpio, case let .value(true, v) = e.kind { return (e.microseconds, v) }
            return nil
        }
    }

    /// The value changes of `gpio` (a write of the value the line already had is not an edge). The
    /// first write (the initial value when the line is requested) is not an edge either.
    public func edges(of gpio: Int) -> [Edge] {
        var out: [Edge] = []
        var last: Int?
        for (t, v) in sets(of: gpio) {
            if let l = last, l != v { out.append(Edge(microseconds: t, rising: v != 0)) }
            last = v
        }
        return out
    }
}

/// A value change of one line.
public struct Edge: Hashable, Sendable {
    public let microseconds: Int64
    public let rising: Bool
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
