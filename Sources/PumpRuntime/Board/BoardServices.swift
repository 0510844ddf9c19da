import Logging
#if canImport(Glibc)
import Glibc
#endif

/// What a board's supervisors hear from the run loop: systemd's notifications (`SystemdNotifier`) and
/// the hardware watchdog's kicks (`HardwareWatchdog`). Both are driven by the loop itself, once per
/// pass, so they stop the moment the loop stops turning (hung in a driver call, deadlocked, killed).
///
/// - `READY=1` (with a `STATUS=`) after the loop's first pass: the control socket listens and the
///   runner has stepped to now.
/// - `WATCHDOG=1` at least every half of `$WATCHDOG_USEC`; the hardware watchdog every
///   `HardwareWatchdog.kickInterval`.
/// - `STOPPING=1` when a stop begins; `finish(clean:)` disarms the hardware watchdog on a clean stop
///   only.
/// A failure to notify or kick is logged (once per kind) and never stops the pump.
public final class BoardServices {
    public let notifier: SystemdNotifier?
    public let watchdog: HardwareWatchdog?
    public var logger: Logger
    private let now: () -> UInt64
    private var ready = false
    private var lastNotifyKick: UInt64 = 0
    private var warnedNotify = false, warnedWatchdog = false

    public init(notifier: SystemdNotifier?, watchdog: HardwareWatchdog?, logger: Logger,
                clock: @escaping () -> UInt64 = ControlSocketServer.monotonicNow) {
        self.notifier = notifier
        self.watchdog = watchdog
        self.logger = logger
        self.now = clock
    }

    /// Called by the run loop after each pass (a completed `step()`).
    public func loopPassed(status: @autoclosure () -> String) {
        let t = now()
        if !ready {
            ready = true
            notify("READY=1\nSTATUS=\(status())\nMAINPID=\(getpid())")
            lastNotifyKick = t
        } else if let timeout = notifier?.watchdogTimeout, t &- lastNotifyKick >= timeout / 2 {
            notify("WATCHDOG=1")
            lastNotifyKick = t
        }
        if let watchdog {
            do { try watchdog.kickIfDue(now: t) } catch {
                if !warnedWatchdog { logger.critical("\(error)") }
                warnedWatchdog = true
            }
        }
    }

    /// A stop has begun (a signal, or a driver failure).
    public func stopping(status: String) {
        notify("STOPPING=1\nSTATUS=\(status)")
    }

    /// The run is over: a `clean` stop (the rig safe, the stop journaled) disarms the hardware
    /// watchdog; any other end leaves it counting, so the board resets unless the runner is restarted.
    public func finish(clean: Bool) {
        guard let watchdog else { return }
        do { try watchdog.close(clean: clean) } catch { logger.error("\(error)") }
        if !clean { logger.warning("hardware watchdog \(watchdog.path) left armed: the board resets unless the runner restarts in time") }
    }

    private func notify(_ message: String) {
        guard let notifier else { return }
        do { try notifier.send(message) } catch {
            if !warnedNotify { logger.warning("\(error)") }
            warnedNotify = true
        }
    }
}

extension BoardServices {
    /// What `itpump run` sets up before the runner starts (so a refusal leaves no journal and no
    /// requested line behind): real-time scheduling when `realtime` gives a priority, the hardware
    /// watchdog at `watchdogPath`, and systemd notification when `$NOTIFY_SOCKET` is set.
    public static func forRun(watchdogPath: String?, realtime: Int32?, logger: Logger) throws(BoardError) -> BoardServices {
        if let realtime {
            try RealtimeScheduling.enable(priority: realtime)
            logger.notice("real-time: SCHED_FIFO priority \(realtime), memory locked")
        }
        let notifier = try SystemdNotifier()
        let watchdog = try watchdogPath.map { path throws(BoardError) in try HardwareWatchdog(path: path) }
        if let watchdog { logger.notice("hardware watchdog \(watchdog.path): kicked every \(ControlSocketServer.seconds(watchdog.kickInterval))") }
        if let notifier {
            logger.notice("systemd notification to \(notifier.socketPath)\(notifier.watchdogTimeout.map { ", watchdog \(ControlSocketServer.seconds($0))" } ?? "")")
        }
        return BoardServices(notifier: notifier, watchdog: watchdog, logger: logger)
    }
}
