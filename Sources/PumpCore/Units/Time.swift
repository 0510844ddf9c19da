/// Nanoseconds in one second, minute, hour and day. Inlinable literals, not stored globals, so other
/// modules fold them (a division by a day is then a multiplication, not an `idiv`).
public enum TimeConstants {
    @inlinable public static var nanosecondsPerSecond: Int64 { 1_000_000_000 }
    @inlinable public static var nanosecondsPerMinute: Int64 { 60_000_000_000 }
    @inlinable public static var nanosecondsPerHour: Int64 { 3_600_000_000_000 }
    @inlinable public static var nanosecondsPerDay: Int64 { 86_400_000_000_000 }
}

/// A point on the controller's monotonic time line, in integer nanoseconds since an arbitrary origin
/// chosen by the caller (the simulator uses the start of the scenario, the runner the start of the
/// process's monotonic clock plus the journal's offset).
///
/// The core never reads a clock: every call that needs "now" takes an `Instant`. Arithmetic is exact
/// integer arithmetic, so the same inputs give the same outputs bit for bit.
public struct Instant: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Nanoseconds since the time line's origin.
    public var nanoseconds: Int64

    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The time line's origin.
    public static let zero = Instant(nanoseconds: 0)
    /// Later than any real instant; used for "never".
    public static let distantFuture = Instant(nanoseconds: .max)

    @inlinable public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }
    @inlinable public static func + (a: Instant, d: TimeSpan) -> Instant {
        let (v, o) = a.nanoseconds.addingReportingOverflow(d.nanoseconds)
        return Instant(nanoseconds: o ? (d.nanoseconds > 0 ? .max : .min) : v)
    }
    @inlinable public static func - (a: Instant, d: TimeSpan) -> Instant { a + TimeSpan(nanoseconds: -d.nanoseconds) }
    @inlinable public static func - (a: Instant, b: Instant) -> TimeSpan {
        TimeSpan(nanoseconds: a.nanoseconds &- b.nanoseconds)
    }

    /// Seconds since the origin, for display and reports (rounds).
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    /// `d+hh:mm:ss` since the origin, for logs.
    public var description: String {
        if self == .distantFuture { return "never" }
        return TimeSpan(nanoseconds: nanoseconds).clockDescription
    }
}

/// A signed length of time in integer nanoseconds.
public struct TimeSpan: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var nanoseconds: Int64
    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = TimeSpan(nanoseconds: 0)
    @inlinable public static func seconds(_ s: Int64) -> TimeSpan { TimeSpan(nanoseconds: s * TimeConstants.nanosecondsPerSecond) }
    @inlinable public static func milliseconds(_ ms: Int64) -> TimeSpan { TimeSpan(nanoseconds: ms * 1_000_000) }
    @inlinable public static func minutes(_ m: Int64) -> TimeSpan { TimeSpan(nanoseconds: m * TimeConstants.nanosecondsPerMinute) }
    @inlinable public static func hours(_ h: Int64) -> TimeSpan { TimeSpan(nanoseconds: h * TimeConstants.nanosecondsPerHour) }
    @inlinable public static func days(_ d: Int64) -> TimeSpan { TimeSpan(nanoseconds: d * TimeConstants.nanosecondsPerDay) }

    @inlinable public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.nanoseconds < b.nanoseconds }
    @inlinable public static func + (a: TimeSpan, b: TimeSpan) -> TimeSpan { TimeSpan(nanoseconds: a.nanoseconds + b.nanoseconds) }
    @inlinable public static func - (a: TimeSpan, b: TimeSpan) -> TimeSpan { TimeSpan(nanoseconds: a.nanoseconds - b.nanoseconds) }
    @inlinable public static func * (a: TimeSpan, k: Int64) -> TimeSpan { TimeSpan(nanoseconds: a.nanoseconds * k) }

    /// Seconds, for display (rounds).
    public var seconds: Double { Double(nanoseconds) / 1e9 }
    /// Hours, for display (rounds).
    public var hours: Double { Double(nanoseconds) / Double(TimeConstants.nanosecondsPerHour) }
    /// Days, for display (rounds).
    public var days: Double { Double(nanoseconds) / Double(TimeConstants.nanosecondsPerDay) }

    /// `[-]d+hh:mm:ss[.fff]`.
    public var clockDescription: String {
        let ns = nanoseconds.magnitude
        let totalSeconds = ns / 1_000_000_000
        let ms = (ns % 1_000_000_000) / 1_000_000
        let d = totalSeconds / 86_400, h = (totalSeconds / 3600) % 24, m = (totalSeconds / 60) % 60, s = totalSeconds % 60
        // Written backwards into a buffer on the stack: instants are formatted on hot paths (an
        // alarm's detail). `-`, 18 digits of days, `d+hh:mm:ss.mmm` at most.
        let capacity = 40
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buf in
            var i = capacity
            func put(_ c: UInt8) { i -= 1; buf[i] = c }
            func two(_ v: UInt64) { put(48 + UInt8(v % 10)); put(48 + UInt8(v / 10)) }
            if ms != 0 { put(48 + UInt8(ms % 10)); put(48 + UInt8(ms / 10 % 10)); put(48 + UInt8(ms / 100)); put(46) }
            two(s); put(58); two(m); put(58); two(h); put(43); put(100)
            var v = d
            repeat { put(48 + UInt8(v % 10)); v /= 10 } while v > 0
            if nanoseconds < 0 { put(45) }
            return String(decoding: UnsafeBufferPointer(rebasing: buf[i..<capacity]), as: UTF8.self)
        }
    }

    /// A compact exact form: `14d`, `36h`, `15m`, `2d12h`, `59m59s999999999ns` (exact, so a value one
    /// nanosecond from a bound never prints as the bound).
    public var description: String { Self.compact(nanoseconds.magnitude, negative: nanoseconds < 0) }

    /// The span to be written rounded for people (`roundedDescription`), formatted when read: for an
    /// alarm's detail, which may never be read.
    public var rounded: Rounded { Rounded(span: self) }

    /// A span whose description is its `roundedDescription`.
    public struct Rounded: Hashable, Sendable, CustomStringConvertible {
        public let span: TimeSpan
        public var description: String { span.roundedDescription }
    }

    /// The compact form rounded for people: to the second from a minute up, to the millisecond below.
    public var roundedDescription: String {
        var m = nanoseconds.magnitude
        if m >= UInt64(TimeConstants.nanosecondsPerMinute) {
            m = (m + 500_000_000) / 1_000_000_000 * 1_000_000_000
        } else if m >= 1_000_000 {
            m = (m + 500_000) / 1_000_000 * 1_000_000
        }
        return Self.compact(m, negative: nanoseconds < 0)
    }

    private static func compact(_ magnitude: UInt64, negative: Bool) -> String {
        if magnitude == 0 { return "0s" }
        var rest = magnitude
        var parts: [String] = []
        for (unit, size) in [("d", UInt64(TimeConstants.nanosecondsPerDay)), ("h", UInt64(TimeConstants.nanosecondsPerHour)),
                             ("m", UInt64(TimeConstants.nanosecondsPerMinute)), ("s", UInt64(TimeConstants.nanosecondsPerSecond))] {
            if rest >= size { parts.append("\(rest / size)\(unit)"); rest %= size }
        }
        if rest > 0 {
            if rest % 1_000_000 == 0 { parts.append("\(rest / 1_000_000)ms") } else { parts.append("\(rest)ns") }
        }
        return (negative ? "-" : "") + parts.joined()
    }
}

/// A time of day on the patient's wall clock, in nanoseconds after midnight (0 ..< 24 h).
///
/// The core maps an `Instant` to a time of day through `ClockReference`, which the caller sets (the
/// clinician programmer sets the pump's clock); flex schedules are written in times of day.
public struct TimeOfDay: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let nanosecondsAfterMidnight: Int64

    /// Fails (returns nil) outside 00:00 ..< 24:00.
    public init?(nanosecondsAfterMidnight ns: Int64) {
        guard ns >= 0, ns < TimeConstants.nanosecondsPerDay else { return nil }
        nanosecondsAfterMidnight = ns
    }
    /// Fails (returns nil) outside 00:00 ..< 24:00.
    public init?(hour: Int, minute: Int = 0, second: Int = 0) {
        guard (0..<24).contains(hour), (0..<60).contains(minute), (0..<60).contains(second) else { return nil }
        self.init(nanosecondsAfterMidnight: Int64(hour * 3600 + minute * 60 + second) * TimeConstants.nanosecondsPerSecond)
    }
    public static let midnight = TimeOfDay(nanosecondsAfterMidnight: 0)!

    public static func < (a: TimeOfDay, b: TimeOfDay) -> Bool { a.nanosecondsAfterMidnight < b.nanosecondsAfterMidnight }

    /// `HH:MM` (with `:SS` when seconds are set).
    public var description: String {
        let s = nanosecondsAfterMidnight / TimeConstants.nanosecondsPerSecond
        let h = s / 3600, m = (s / 60) % 60, sec = s % 60
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return sec == 0 ? "\(two(h)):\(two(m))" : "\(two(h)):\(two(m)):\(two(sec))"
    }
}

/// Ties the monotonic time line to the patient's wall clock: the time of day at `Instant.zero`.
public struct ClockReference: Hashable, Sendable, Codable {
    /// The wall-clock time of day at `Instant.zero`.
    public var timeOfDayAtOrigin: TimeOfDay
    public init(timeOfDayAtOrigin: TimeOfDay = .midnight) { self.timeOfDayAtOrigin = timeOfDayAtOrigin }

    /// Nanoseconds after midnight at `t` (wall clock).
    @inlinable public func nanosecondsAfterMidnight(at t: Instant) -> Int64 {
        let v = (t.nanoseconds % TimeConstants.nanosecondsPerDay + timeOfDayAtOrigin.nanosecondsAfterMidnight) % TimeConstants.nanosecondsPerDay
        return v < 0 ? v + TimeConstants.nanosecondsPerDay : v
    }
    /// The instant of the last wall-clock midnight at or before `t`.
    @inlinable public func midnight(atOrBefore t: Instant) -> Instant {
        Instant(nanoseconds: t.nanoseconds - nanosecondsAfterMidnight(at: t))
    }
}
