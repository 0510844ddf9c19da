import PumpCore
#if canImport(Glibc)
import Glibc
#endif

/// The one place the runner reads time: nanoseconds on the monotonic clock, and waiting until a
/// monotonic instant. `SystemMonotonicClock` reads `CLOCK_MONOTONIC` (the clock the kernel stamps
/// GPIO edge events with); tests use `ManualClock`, which jumps instead of waiting.
public protocol MonotonicClock: AnyObject {
    /// Nanoseconds since the clock's arbitrary origin; never decreases.
    func now() -> UInt64
    /// Returns at or after `deadline` (at once if it has passed).
    func sleep(until deadline: UInt64)
}

/// `CLOCK_MONOTONIC`. Waits longer than `spinThreshold` sleep in the kernel (`clock_nanosleep`,
/// absolute) up to `spinThreshold` before the deadline, then spin: the kernel's wake-up latency (tens
/// of µs) is too coarse for microsecond STEP pulses.
public final class SystemMonotonicClock: MonotonicClock {
    /// Below this, wait by spinning (default 200 µs).
    public let spinThreshold: UInt64
    public init(spinThreshold: UInt64 = 200_000) { self.spinThreshold = spinThreshold }

    public func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    public func sleep(until deadline: UInt64) {
        var t = now()
        if deadline > t + spinThreshold {
            let wake = deadline - spinThreshold
            var ts = timespec(tv_sec: Int(wake / 1_000_000_000), tv_nsec: Int(wake % 1_000_000_000))
            while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
            t = now()
        }
        while t < deadline { t = now() }
    }
}

/// A clock that moves only when told: `sleep(until:)` jumps to the deadline, `advance(by:)` adds time.
/// For tests; every wait is exact, so timing errors measured on it are zero.
public final class ManualClock: MonotonicClock {
    public private(set) var current: UInt64
    public init(start: UInt64 = 1_000_000_000) { current = start }
    public func now() -> UInt64 { current }
    public func sleep(until deadline: UInt64) { current = max(current, deadline) }
    public func advance(by nanoseconds: UInt64) { current += nanoseconds }
}

/// Maps the controller's time line (`Instant`) to the monotonic clock, `scale` times faster than wall
/// time: `instant = origin + (mono − monoAtOrigin) × scale`.
///
/// Invariant: `scale ≥ 1`. Conversions are exact integer arithmetic; `monotonic(at:)` rounds up so a
/// deadline is never reached early.
public struct TherapyTimeLine: Hashable, Sendable {
    public let origin: Instant
    public let monotonicAtOrigin: UInt64
    /// Therapy nanoseconds per wall nanosecond (`--time-scale`).
    public let scale: Int64

    /// Allowed `--time-scale` values: 1 (real time) … 100,000 (a day in under a second).
    public static let scaleRange: ClosedRange<Int64> = 1...100_000

    public init(origin: Instant, monotonicAtOrigin: UInt64, scale: Int64) {
        self.origin = origin
        self.monotonicAtOrigin = monotonicAtOrigin
        self.scale = max(1, scale)
    }

    /// The controller instant at monotonic time `mono` (before the origin maps to the origin).
    public func instant(atMonotonic mono: UInt64) -> Instant {
        guard mono > monotonicAtOrigin else { return origin }
        let (v, o) = Int64(clamping: mono - monotonicAtOrigin).multipliedReportingOverflow(by: scale)
        return o ? .distantFuture : origin + TimeSpan(nanoseconds: v)
    }

    /// The monotonic time at which `instant` is reached (rounded up; `UInt64.max` for never).
    public func monotonic(at instant: Instant) -> UInt64 {
        if instant == .distantFuture { return .max }
        let d = instant - origin
        guard d.nanoseconds > 0 else { return monotonicAtOrigin }
        let wall = (d.nanoseconds + scale - 1) / scale
        let (v, o) = monotonicAtOrigin.addingReportingOverflow(UInt64(wall))
        return o ? .max : v
    }
}
