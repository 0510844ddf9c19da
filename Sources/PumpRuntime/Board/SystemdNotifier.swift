import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// systemd's notification protocol (sd_notify(3)) without libsystemd: one datagram per message to the
/// Unix socket named by `$NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace).
///
/// With `Type=notify` the service counts as started only at `READY=1`; with `WatchdogSec=` systemd
/// sets `$WATCHDOG_USEC` and kills (then, with `Restart=on-failure`, restarts) a service that sends no
/// `WATCHDOG=1` for that long. `STOPPING=1` says a stop is under way.
public final class SystemdNotifier {
    public let socketPath: String
    /// How often systemd expects `WATCHDOG=1` at the latest (ns), from `$WATCHDOG_USEC`; nil when the
    /// service has no watchdog (or `$WATCHDOG_PID` names another process).
    public let watchdogTimeout: UInt64?
    private let fd: Int32

    /// Nil when `$NOTIFY_SOCKET` is unset or empty (not started by systemd as `Type=notify`).
    public convenience init?(environment: [String: String] = ProcessInfo.processInfo.environment) throws(BoardError) {
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return nil }
        var timeout: UInt64?
        if let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0,
           environment["WATCHDOG_PID"].flatMap(Int32.init).map({ $0 == getpid() }) ?? true {
            timeout = usec * 1_000
        }
        try self.init(socketPath: path, watchdogTimeout: timeout)
    }

    public init(socketPath: String, watchdogTimeout: UInt64?) throws(BoardError) {
        guard socketPath.utf8.count < 108, socketPath.hasPrefix("/") || socketPath.hasPrefix("@") else {
            throw .notifySocket(socketPath, reason: "not an absolute path or @abstract name under 108 bytes")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .notifySocket(socketPath, reason: String(cString: strerror(errno))) }
        self.fd = fd
        self.socketPath = socketPath
        self.watchdogTimeout = watchdogTimeout
    }

    deinit { close(fd) }

    /// Sends one message (`READY=1`, `WATCHDOG=1`, `STOPPING=1`, `STATUS=…`; several separated by
    /// newlines). A datagram: it never blocks on a slow reader (`MSG_DONTWAIT`).
    public func send(_ message: String) throws(BoardError) {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            if bytes.first == UInt8(ascii: "@") { raw[0] = 0 }      // abstract namespace
        }
        let len = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == UInt8(ascii: "@") ? 0 : 1))
        let payload = Array(message.utf8)
        let n = withUnsafePointer(to: &addr) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                payload.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT), sa, len) }
            }
        }
        guard n == payload.count else { throw .notifySocket(socketPath, reason: String(cString: strerror(errno))) }
    }
}

/// Why a board service (systemd notification, hardware watchdog, real-time scheduling) failed. Each
/// says what to do.
public enum BoardError: Error, Hashable, Sendable, CustomStringConvertible {
    case notifySocket(String, reason: String)
    case watchdog(String, reason: String)
    case realtimePriority(Int32, reason: String, limit: String)
    case memoryLock(reason: String)
    case priorityOutOfRange(Int32)

    public var description: String {
        switch self {
        case let .notifySocket(p, r):
            "cannot notify systemd at NOTIFY_SOCKET=\(p): \(r)"
        case let .watchdog(p, r):
            "cannot use the watchdog \(p): \(r); check that the device exists (a board's driver, or `modprobe softdog`), that this user may open it (root, or a udev rule), and that no other process holds it (a watchdog opens once)"
        case let .realtimePriority(p, r, limit):
            "--realtime=\(p): SCHED_FIFO priority \(p) refused (\(r)). It needs CAP_SYS_NICE, or RLIMIT_RTPRIO of at least \(p) (now \(limit)): run as root, or grant it (systemd: LimitRTPRIO=\(p) or AmbientCapabilities=CAP_SYS_NICE; a login: `@gpio - rtprio \(p)` in /etc/security/limits.d/), or run without --realtime"
        case let .memoryLock(r):
            "--realtime: mlockall refused (\(r)). Locking the runner's memory (so no page fault delays a stroke) needs CAP_IPC_LOCK or RLIMIT_MEMLOCK unlimited (systemd: LimitMEMLOCK=infinity), or run without --realtime"
        case let .priorityOutOfRange(p):
            "--realtime=\(p): the SCHED_FIFO priority must be 1 … 99 (default 50; keep it below the kernel's interrupt threads, 50 on PREEMPT_RT)"
        }
    }
}
