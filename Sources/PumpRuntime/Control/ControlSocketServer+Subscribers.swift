import PumpCore
#if canImport(Glibc)
import Glibc
#endif

/// Event streams on the control channel.
///
/// Rules (README "Event stream"):
/// - a subscribed connection keeps its slot among the `maximumClients` (8); at most
///   `maximumSubscribers` (6) connections are streams at once, so two slots always serve requests;
/// - it has no idle or request deadline (it is a stream); what it sends after `subscribe` is read and
///   ignored, and its end (or a write error) ends the stream;
/// - it is written non-blocking, from its own queue: `publish` never waits for a subscriber. The
///   queue holds at most `maximumQueuedEvents` (512) event lines (a line is typically 200–400
///   bytes: some 200 KiB a stream), and the kernel's send buffer for a stream is set to `streamSendBuffer` (32 KiB);
///   beyond that events are dropped and counted, and once the subscriber has read enough for the
///   queue to have room, `{"event":"dropped","count":N}` is queued before any newer event;
/// - a stream whose queue has been full for `Limits.evictIdle` (it does not read) may be closed to
///   make room for a newcomer, like a connection idle that long.
extension ControlSocketServer {
    /// Most event lines queued for one subscriber (beyond the kernel's send buffer).
    public static let maximumQueuedEvents = 512
    /// Most connections that are event streams at once.
    public static let maximumSubscribers = 6
    /// The kernel send buffer asked for an event stream's socket (bytes).
    public static let streamSendBuffer: Int32 = 32 * 1024

    struct Subscriber {
        var categories: Set<EventCategory>
        /// Lines (with their newline) not written yet; `written` bytes of the first are out.
        var queue: [[UInt8]] = []
        var head = 0
        var written = 0
        var seq: Int64 = 0
        var dropped: Int64 = 0
        var newestDropped = Instant.zero
        /// Since when the queue has been full without draining (monotonic ns).
        var fullSince: UInt64?
        var queued: Int { queue.count - head }
    }

    /// Streams now.
    public var subscriberCount: Int { clients.count { $0.subscriber != nil } }

    /// Events queued and dropped (not yet reported) per stream, for tests and diagnostics.
    public var subscriberQueues: [(queued: Int, dropped: Int64)] {
        clients.compactMap { $0.subscriber.map { ($0.queued, $0.dropped) } }
    }

    /// The descriptors to poll: every connection for reading, streams with queued lines also for writing.
    public var pollDescriptors: [pollfd] {
        (listenFD >= 0 ? [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)] : [])
            + clients.map { c in
                let out = (c.subscriber?.queued ?? 0) > 0 ? Int16(POLLOUT) : 0
                return pollfd(fd: c.fd, events: Int16(POLLIN) | out, revents: 0)
            }
    }

    /// Makes `c` a stream (`streams`: how many there are already; `c` is not in `clients` meanwhile).
    func subscribe(_ c: inout Client, streams: Int, reply: String, categories: Set<EventCategory>, initial: [StreamEvent]) {
        guard streams < Self.maximumSubscribers else {
            _ = Self.send(c.fd, Self.errorLine("too many event streams (\(Self.maximumSubscribers)); close one, or use requests (status) instead"))
            return
        }
        var size = Self.streamSendBuffer
        setsockopt(c.fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var s = Subscriber(categories: categories)
        s.queue.append(Array((reply + "\n").utf8))
        for e in initial { Self.enqueue(e, into: &s, now: clock()) }
        c.subscriber = s
        c.buffer.removeAll()
        c.requestSince = nil
    }

    func evictable(_ c: Client, now: UInt64) -> Bool {
        if let s = c.subscriber { return s.fullSince.map { now &- $0 >= limits.evictIdle } ?? false }
        return c.requestSince == nil && now &- c.idleSince >= limits.evictIdle
    }

    /// Queues `events` for every stream that asked for them and writes what each can take now.
    /// Never blocks; a stream that does not read loses events (counted), never the loop's time.
    public func publish(_ events: [StreamEvent]) {
        guard !events.isEmpty else { return }
        let now = clock()
        for i in clients.indices where clients[i].subscriber != nil {
            for e in events where e.category.map({ clients[i].subscriber!.categories.contains($0) }) ?? true {
                Self.enqueue(e, into: &clients[i].subscriber!, now: now)
            }
        }
        flushSubscribers()
    }

    /// Queues the last events (`run_ended`), gives the streams up to `seconds` to take them, then closes
    /// every connection and the socket.
    public func close(after events: [StreamEvent], seconds: Double = 0.5) {
        publish(events)
        let end = clock() &+ UInt64(seconds * 1e9)
        while clients.contains(where: { ($0.subscriber?.queued ?? 0) > 0 }), clock() < end {
            var fds = clients.filter { ($0.subscriber?.queued ?? 0) > 0 }.map { pollfd(fd: $0.fd, events: Int16(POLLOUT), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), 20)
            flushSubscribers()
        }
        close()
    }

    static func enqueue(_ e: StreamEvent, into s: inout Subscriber, now: UInt64) {
        // The end of the run is always queued, so a reader learns why the stream ends.
        let last = e.name == "run_ended"
        if s.dropped > 0, s.queued + 2 <= maximumQueuedEvents || last {
            s.seq += 1
            s.queue.append(Array((StreamEvent.dropped(s.dropped, newest: s.newestDropped).line(seq: s.seq) + "\n").utf8))
            s.dropped = 0
        }
        guard s.queued < maximumQueuedEvents || last else {
            s.dropped += 1
            s.newestDropped = e.at
            if s.fullSince == nil { s.fullSince = now }
            return
        }
        s.seq += 1
        s.queue.append(Array((e.line(seq: s.seq) + "\n").utf8))
    }

    /// Writes what each stream's socket takes now (non-blocking); closes streams whose peer is gone.
    func flushSubscribers() {
        var i = 0
        while i < clients.count {
            guard clients[i].subscriber != nil, Self.flush(clients[i].fd, &clients[i].subscriber!) else {
                if clients[i].subscriber != nil { _ = Glibc.close(clients[i].fd); clients.remove(at: i) } else { i += 1 }
                continue
            }
            i += 1
        }
    }

    /// False when the peer is gone.
    static func flush(_ fd: Int32, _ s: inout Subscriber) -> Bool {
        while s.head < s.queue.count {
            let line = s.queue[s.head]
            let n = line[s.written...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
            if n < 0 {
                if errno == EINTR { continue }
                // The lines written are let go, so the queue's storage stays bounded.
                if s.head >= 64 { s.queue.removeFirst(s.head); s.head = 0 }
                return errno == EAGAIN || errno == EWOULDBLOCK
            }
            s.written += n
            if s.written == line.count { s.head += 1; s.written = 0 }
        }
        s.queue.removeAll(keepingCapacity: s.queue.capacity <= 2 * maximumQueuedEvents)
        s.head = 0
        s.fullSince = nil
        // Drained: say how much was lost before anything newer.
        if s.dropped > 0 {
            s.seq += 1
            s.queue.append(Array((StreamEvent.dropped(s.dropped, newest: s.newestDropped).line(seq: s.seq) + "\n").utf8))
            s.dropped = 0
            return flush(fd, &s)
        }
        return true
    }
}
