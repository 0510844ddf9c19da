import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The client side of the control channel (`itpump ctl`): connect, send request lines, read replies.
public final class ControlClient {
    private let fd: Int32
    public let path: String
    private var buffer: [UInt8] = []

    /// Connects to the runner's socket at `path`. A reply that takes longer than `timeoutSeconds`
    /// (default 10 s; a runner mid-stroke answers within milliseconds) is `noReply`.
    public init(path: String, timeoutSeconds: Int = 10) throws(ControlSocketError) {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(what: "socket", errno: errno) }
        var addr = ControlSocketServer.address(path)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard rc == 0 else { let e = errno; close(fd); throw .notRunning(path, errno: e) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
    }

    deinit { close(fd) }

    /// How long `readLine` waits for a line: `seconds`, or forever when 0 (an event stream).
    public func setReceiveTimeout(seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends one line (a newline is added) and returns the reply line without its newline.
    ///
    /// A runner that turns the connection away (too many clients) writes its refusal and closes at
    /// once, possibly before the request is sent: the send then fails with `EPIPE`, but the refusal
    /// is still there to read, and it is what the caller is given, not the broken pipe.
    public func request(_ line: String) throws(ControlSocketError) -> String {
        guard ControlSocketServer.send(fd, line) else {
            let sendErrno = errno
            if let refusal = try? readLine() { return refusal }
            throw .system(what: "send", errno: sendErrno)
        }
        return try readLine()
    }

    /// Reads one reply line.
    public func readLine() throws(ControlSocketError) -> String {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { throw .noReply(path) }
            buffer.append(contentsOf: chunk.prefix(n))
        }
    }

    /// True if something accepts connections at `path`.
    public static func isListening(_ path: String) -> Bool { (try? ControlClient(path: path)) != nil }
}
