import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Linux watchdog device (`/dev/watchdog`, watchdog(4)): once opened, the board resets unless the
/// device is written to ("kicked") within its timeout. The run loop kicks it every pass (at most every
/// `kickInterval`), so a hung loop, a crash or a kill resets the board; a clean stop writes the magic
/// close character `V` before closing, which disarms it (on drivers built without `nowayout`).
///
/// Any file that can be opened for writing stands in for the device in tests (a regular file, a FIFO):
/// the kicks are NUL bytes, the magic close a `V`.
public final class HardwareWatchdog {
    public let path: String
    /// Longest time between kicks (ns): a quarter of the device's timeout when it reports one
    /// (WDIOC_GETTIMEOUT), else 1 s.
    public let kickInterval: UInt64
    private var fd: Int32
    private var lastKick: UInt64 = 0

    /// Opens the device (write-only, non-blocking: a FIFO without a reader is refused, not waited on).
    public init(path: String) throws(BoardError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw .watchdog(path, reason: String(cString: strerror(errno))) }
        self.fd = fd
        self.path = path
        var seconds: Int32 = 0
        // WDIOC_GETTIMEOUT = _IOR('W', 7, int)
        let getTimeout: UInt = (2 << 30) | (UInt(MemoryLayout<Int32>.size) << 16) | (UInt(UInt8(ascii: "W")) << 8) | 7
        if ioctl(fd, getTimeout, &seconds) == 0, seconds > 0 {
            kickInterval = UInt64(seconds) * 250_000_000
        } else {
            kickInterval = 1_000_000_000
        }
    }

    deinit { if fd >= 0 { _ = Glibc.close(fd) } }

    /// Kicks the device if `kickInterval` has passed since the last kick (`now`: monotonic ns).
    public func kickIfDue(now: UInt64) throws(BoardError) {
        guard fd >= 0, lastKick == 0 || now &- lastKick >= kickInterval else { return }
        try write([0])
        lastKick = now
    }

    /// Closes the device; `clean` first writes the magic `V` (disarm). Without it the device goes on
    /// counting and resets the board unless a new runner opens and kicks it in time. Idempotent.
    public func close(clean: Bool) throws(BoardError) {
        guard fd >= 0 else { return }
        defer { _ = Glibc.close(fd); fd = -1 }
        if clean { try write([UInt8(ascii: "V")]) }
    }

    private func write(_ bytes: [UInt8]) throws(BoardError) {
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw .watchdog(path, reason: n < 0 ? String(cString: strerror(errno)) : "short write") }
    }
}
