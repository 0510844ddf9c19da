#if canImport(Glibc)
import Glibc
#endif
import PumpCore

/// A durable record of the strokes the simulated pump really performed (`itpump run --backend sim
/// --sim-stroke-log PATH`): each stroke appends its instant (8 bytes, little-endian ns) with one
/// `write(2)` to a file opened `O_APPEND`. The file outlives the process as delivered drug outlives a
/// crashed controller, so after a SIGKILL it is the true delivery (the runner's kill test reads it).
public final class StrokeLog {
    public let path: String
    private let fd: Int32

    /// Opens (creating if needed) the log at `path` for appending.
    public init(path: String) throws(StrokeLogError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StrokeLogError(path: path, reason: String(cString: strerror(errno))) }
    }

    deinit { close(fd) }

    /// Appends one stroke (its instant on the therapy time line).
    public func append(_ stroke: Stroke) throws(StrokeLogError) {
        try append(raw: stroke.at.nanoseconds)
    }

    /// Appends one 8-byte little-endian value (the stroke-times log: the monotonic ns a stroke started).
    public func append(raw value: Int64) throws(StrokeLogError) {
        var ns = value.littleEndian
        let n = withUnsafeBytes(of: &ns) { write(fd, $0.baseAddress, 8) }
        guard n == 8 else { throw StrokeLogError(path: path, reason: String(cString: strerror(errno))) }
    }
}

/// The stroke log could not be opened or written.
public struct StrokeLogError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "stroke log \(path): \(reason); check the directory exists, is writable and has space" }
}
