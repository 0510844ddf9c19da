import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The control channel's listening Unix socket: owner-only (socket 0600 inside a 0700 directory),
/// non-blocking, at most `maximumClients` connections, one JSON request per line and one reply line
/// per request. Lines longer than `ControlRequest.maximumLineLength` get an error reply and are
/// discarded up to their newline. Serviced from the run loop's thread.
public final class ControlSocketServer {
    public let path: String
    private var listenFD: Int32 = -1
    private struct Client { var fd: Int32; var buffer: [UInt8] = []; var discarding = false }
    private var clients: [Client] = []
    public static let maximumClients = 8

    /// Creates the directory (0700) if needed, refuses a directory that others can enter or that
    /// another user owns, removes a stale socket (one nobody listens on), then listens.
    public init(path: String) throws(ControlSocketError) {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        guard path.utf8.count < 100 else { throw .pathTooLong(path) }
        if mkdir(dir, 0o700) != 0 && errno != EEXIST { throw .system(what: "create \(dir)", errno: errno) }
        var st = stat()
        guard lstat(dir, &st) == 0 else { throw .system(what: "stat \(dir)", errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == getuid(), st.st_mode & 0o077 == 0 else {
            throw .unsafeDirectory(dir)
        }
        if lstat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFSOCK else { throw .pathInUse(path) }
            if ControlClient.isListening(path) { throw .alreadyRunning(path) }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .system(what: "socket", errno: errno) }
        let old = umask(0o177)
        defer { umask(old) }
        var addr = Self.address(path)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard rc == 0, chmod(path, 0o600) == 0, listen(fd, 8) == 0 else {
            let e = errno
            _ = Glibc.close(fd)
            throw .system(what: "bind/listen \(path)", errno: e)
        }
        listenFD = fd
    }

    deinit { close() }

    /// Stops listening, disconnects clients and removes the socket file. Idempotent.
    public func close() {
        for c in clients { _ = Glibc.close(c.fd) }
        clients.removeAll()
        if listenFD >= 0 { _ = Glibc.close(listenFD); listenFD = -1; unlink(path) }
    }

    /// The descriptors to poll for reading.
    public var fileDescriptors: [Int32] { (listenFD >= 0 ? [listenFD] : []) + clients.map(\.fd) }

    /// Accepts, reads and answers whatever is ready; `handler` turns a request line into a reply line.
    public func service(_ handler: ([UInt8]) -> String) {
        acceptAll()
        var i = 0
        while i < clients.count {
            if readClient(&clients[i], handler) { i += 1 } else { _ = Glibc.close(clients[i].fd); clients.remove(at: i) }
        }
    }

    private func acceptAll() {
        guard listenFD >= 0 else { return }
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 { return }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            if clients.count >= Self.maximumClients {
                _ = Self.send(fd, JSONValue.object(["ok": .bool(false), "error": .string("too many control connections (\(Self.maximumClients)); close one")]).line)
                _ = Glibc.close(fd)
                continue
            }
            clients.append(Client(fd: fd))
        }
    }

    /// False when the client is gone or misbehaves beyond recovery.
    private func readClient(_ c: inout Client, _ handler: ([UInt8]) -> String) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(c.fd, &chunk, chunk.count)
            if n == 0 { return false }
            if n < 0 { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR }
            for byte in chunk.prefix(n) {
                if byte == UInt8(ascii: "\n") {
                    if c.discarding { c.discarding = false; c.buffer.removeAll(); continue }
                    var line = c.buffer
                    c.buffer.removeAll(keepingCapacity: true)
                    if line.last == UInt8(ascii: "\r") { line.removeLast() }
                    if line.isEmpty { continue }
                    guard Self.send(c.fd, handler(line)) else { return false }
                } else if !c.discarding {
                    c.buffer.append(byte)
                    if c.buffer.count > ControlRequest.maximumLineLength {
                        c.buffer.removeAll()
                        c.discarding = true
                        let reply = JSONValue.object(["ok": .bool(false), "error": .string(ControlRequestError.tooLong(bytes: ControlRequest.maximumLineLength + 1, limit: ControlRequest.maximumLineLength).description)]).line
                        guard Self.send(c.fd, reply) else { return false }
                    }
                }
            }
        }
    }

    /// Writes a reply line; false if the peer is gone or not reading (the client is then dropped).
    static func send(_ fd: Int32, _ line: String) -> Bool {
        let bytes = Array((line + "\n").utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno == EINTR { continue }; return false }
            off += n
        }
        return true
    }

    static func address(_ path: String) -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        return addr
    }

    /// The default socket path: `$XDG_RUNTIME_DIR/itpump/control.sock`, else `/tmp/itpump-UID/control.sock`.
    public static var defaultPath: String {
        if let d = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], !d.isEmpty { return d + "/itpump/control.sock" }
        return "/tmp/itpump-\(getuid())/control.sock"
    }
}

/// Why the control socket could not be opened.
public enum ControlSocketError: Error, Hashable, Sendable, CustomStringConvertible {
    case pathTooLong(String)
    case unsafeDirectory(String)
    case pathInUse(String)
    case alreadyRunning(String)
    case system(what: String, errno: Int32)
    case notRunning(String, errno: Int32)
    case noReply(String)

    public var description: String {
        switch self {
        case let .pathTooLong(p): "socket path \(p) is longer than 99 bytes; pass a shorter --socket"
        case let .unsafeDirectory(d): "\(d) must be a directory owned by this user with mode 0700 (chmod 700 \(d)) so no other user can reach the pump's control socket"
        case let .pathInUse(p): "\(p) exists and is not a socket; remove it or pass another --socket"
        case let .alreadyRunning(p): "a runner already listens on \(p); stop it first or pass another --socket"
        case let .system(what, e): "\(what) failed: \(String(cString: strerror(e)))"
        case let .notRunning(p, e): "no runner at \(p) (\(String(cString: strerror(e)))); start `itpump run` or pass its --socket"
        case let .noReply(p): "the runner at \(p) closed the connection without a reply"
        }
    }
}
