import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The control channel's listening Unix socket: owner-only (socket 0600 inside a 0700 directory),
/// non-blocking, at most `maximumClients` connections, one JSON request per line and one reply line
/// per request. Serviced from the run loop's thread; it never blocks it.
///
/// No client can hold the channel (see `Limits`):
/// - a request must be complete (its newline, or the end of the connection) within `Limits.request`
///   of its first byte, else it gets an error reply and the connection is closed;
/// - a connection with no request in progress for `Limits.idle` is closed (with a reply saying so);
/// - when all slots are taken, a newcomer takes the slot of the connection idle longest, if that one
///   has been idle at least `Limits.evictIdle`; only a newcomer meeting eight requests all in progress
///   is turned away (for at most `Limits.request`);
/// - connections that ended are counted out before a newcomer is counted in;
/// - a last request without its newline, followed by the client's end of the connection (half-close),
///   is answered like any other.
/// Lines longer than `ControlRequest.maximumLineLength` get an error reply and are discarded up to
/// their newline.
///
/// A connection that sent `subscribe` is an event stream (see `ControlSocketServer+Subscribers`): it
/// keeps its slot, has no idle or request deadline, and is written without ever blocking the loop.
public final class ControlSocketServer {
    /// Deadlines on the control channel (wall-clock nanoseconds, monotonic).
    public struct Limits: Hashable, Sendable {
        /// A connection without a request in progress is closed after this long (default 30 s).
        public var idle: UInt64
        /// A request's line must be complete this long after its first byte (default 2 s).
        public var request: UInt64
        /// An idle connection may be closed to make room for a newcomer after this long (default 1 s).
        public var evictIdle: UInt64
        public init(idle: UInt64 = 30_000_000_000, request: UInt64 = 2_000_000_000, evictIdle: UInt64 = 1_000_000_000) {
            self.idle = idle
            self.request = request
            self.evictIdle = evictIdle
        }
    }

    public let path: String
    public let limits: Limits
    var listenFD: Int32 = -1
    struct Client {
        var fd: Int32
        /// Set once the connection subscribed: it is then an event stream.
        var subscriber: Subscriber?
        var buffer: [UInt8] = []
        var discarding = false
        /// Last time a request completed (or the connection opened), monotonic ns.
        var idleSince: UInt64
        /// First byte of the request in progress, if any.
        var requestSince: UInt64?
    }
    var clients: [Client] = []
    public static let maximumClients = 8
    /// The monotonic clock the deadlines are measured on (ns); tests replace it.
    var clock: () -> UInt64 = ControlSocketServer.monotonicNow

    /// Creates the directory (0700) if needed, refuses a directory that others can enter or that
    /// another user owns, removes a stale socket (one nobody listens on), then listens.
    public init(path: String, limits: Limits = Limits()) throws(ControlSocketError) {
        self.path = path
        self.limits = limits
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
        guard rc == 0, chmod(path, 0o600) == 0, listen(fd, 16) == 0 else {
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

    /// True while `service` runs (its handler may run strokes whose waits hand time back to the loop:
    /// a nested `service` then returns at once, and the requests wait for the outer one).
    public private(set) var isServicing = false

    /// Connections open now.
    public var clientCount: Int { clients.count }

    /// Reads and answers whatever is ready, closes connections past a deadline, then accepts
    /// newcomers; `handler` turns a request line into a reply line.
    public func service(_ handler: ([UInt8]) -> String) {
        service(streaming: { .line(handler($0)) })
    }

    /// As `service(_:)`, with a handler that may turn a connection into an event stream; then writes
    /// what the event streams have queued.
    ///
    /// `maxRequests`, when given, bounds the work (the run loop's service inside a stroke's wait, which
    /// must end before the next STEP edge): at most that many requests are read and answered, one line at
    /// a time, a connection's further requests staying in its socket (which polls readable) for the next
    /// service; a connection served goes to the back of the line, so a flood on one cannot starve the
    /// others. Without it, everything ready is served.
    public func service(streaming handler: ([UInt8]) -> ControlReply, maxRequests: Int? = nil) {
        guard !isServicing else { return }
        isServicing = true
        defer { isServicing = false }
        var budget = maxRequests
        readClients(from: 0, handler, &budget)
        closeExpired()
        let known = clients.count
        acceptAll()
        // A newcomer's request may already be waiting.
        readClients(from: min(known, clients.count), handler, &budget)
        flushSubscribers()
    }

    private func readClients(from start: Int, _ handler: ([UInt8]) -> ControlReply, _ budget: inout Int?) {
        var i = start
        var served: [Client] = []
        while i < clients.count {
            let streams = subscriberCount
            let before = budget
            if readClient(&clients[i], streams: streams, handler, &budget) {
                if let b = budget, let was = before, b < was { served.append(clients.remove(at: i)) } else { i += 1 }
            } else { _ = Glibc.close(clients[i].fd); clients.remove(at: i) }
        }
        clients += served
    }

    /// Closes the connections past their idle or request deadline, each with a reply saying why. The
    /// run loop calls it every pass (it costs no system call when nothing expired).
    public func closeExpired() {
        let now = clock()
        clients.removeAll { c in
            let why: String
            if c.subscriber != nil { return false }
            if let since = c.requestSince, now &- since >= limits.request {
                why = "request not complete within \(Self.seconds(limits.request)) (no newline); closed"
            } else if c.requestSince == nil, now &- c.idleSince >= limits.idle {
                why = "idle for \(Self.seconds(limits.idle)); closed"
            } else { return false }
            _ = Self.send(c.fd, Self.errorLine(why))
            _ = Glibc.close(c.fd)
            return true
        }
    }

    private func acceptAll() {
        guard listenFD >= 0 else { return }
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 { return }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            let now = clock()
            if clients.count >= Self.maximumClients {
                // The connection idle longest gives up its slot, if it has been idle long enough.
                let idle = clients.indices.filter { evictable(clients[$0], now: now) }
                if let victim = idle.min(by: { clients[$0].idleSince < clients[$1].idleSince }) {
                    _ = Self.send(clients[victim].fd, Self.errorLine("closed to make room for another client (idle for \(Self.seconds(now &- clients[victim].idleSince)))"))
                    _ = Glibc.close(clients[victim].fd)
                    clients.remove(at: victim)
                } else {
                    _ = Self.send(fd, Self.errorLine("too many control connections (\(Self.maximumClients)) with requests in progress; try again in \(Self.seconds(limits.request))"))
                    _ = Glibc.close(fd)
                    continue
                }
            }
            clients.append(Client(fd: fd, idleSince: now))
        }
    }

    /// False when the client is gone (after answering a last request it ended without a newline) or
    /// misbehaves beyond recovery.
    private func readClient(_ c: inout Client, streams: Int, _ handler: ([UInt8]) -> ControlReply, _ budget: inout Int?) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            var want = chunk.count
            if let left = budget, c.subscriber == nil {
                // No request left in this service: the rest stays in the socket for the next one.
                guard left > 0 else { return true }
                // One request at a time: read through the first newline only.
                let peeked = recv(c.fd, &chunk, chunk.count, Int32(MSG_PEEK))
                if peeked > 0, let nl = chunk.prefix(peeked).firstIndex(of: UInt8(ascii: "\n")) { want = nl + 1 }
            }
            let n = read(c.fd, &chunk, want)
            // An event stream's input is read and ignored; its end ends the stream.
            if c.subscriber != nil { if n > 0 { continue }; return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) }
            if n == 0 {
                // End of the connection: a last request without its newline still gets its reply.
                if !c.discarding, !c.buffer.isEmpty {
                    var line = c.buffer
                    if line.last == UInt8(ascii: "\r") { line.removeLast() }
                    if !line.isEmpty, case let .line(reply) = handler(line) { _ = Self.send(c.fd, reply) }
                }
                return false
            }
            if n < 0 { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR }
            for byte in chunk.prefix(n) {
                if byte == UInt8(ascii: "\n") {
                    c.requestSince = nil
                    c.idleSince = clock()
                    if c.discarding { c.discarding = false; c.buffer.removeAll(); continue }
                    var line = c.buffer
                    c.buffer.removeAll(keepingCapacity: true)
                    if line.last == UInt8(ascii: "\r") { line.removeLast() }
                    if line.isEmpty { continue }
                    if let left = budget { budget = left - 1 }
                    switch handler(line) {
                    case let .line(reply):
                        guard Self.send(c.fd, reply) else { return false }
                    case let .subscribe(reply, categories, initial):
                        // The rest of what it sent is ignored: the connection is a stream from here on.
                        subscribe(&c, streams: streams, reply: reply, categories: categories, initial: initial)
                        return true
                    }
                    c.idleSince = clock()
                } else {
                    if c.requestSince == nil { c.requestSince = clock() }
                    guard !c.discarding else { continue }
                    c.buffer.append(byte)
                    if c.buffer.count > ControlRequest.maximumLineLength {
                        c.buffer.removeAll()
                        c.discarding = true
                        let reply = Self.errorLine(ControlRequestError.tooLong(bytes: ControlRequest.maximumLineLength + 1, limit: ControlRequest.maximumLineLength).description)
                        guard Self.send(c.fd, reply) else { return false }
                    }
                }
            }
        }
    }

    static func errorLine(_ text: String) -> String { ControlProtocol.reply(["ok": .bool(false), "error": .string(text)]) }

    static func seconds(_ ns: UInt64) -> String {
        ns % 1_000_000_000 == 0 ? "\(ns / 1_000_000_000) s" : "\(ns / 1_000_000) ms"
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    public static func monotonicNow() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
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
