import Foundation

/// Replies collected by a client thread while the main thread picks the moment to kill the run.
final class ReplyBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(request: String, reply: String)] = []
    private var stopped = false, connected = false
    /// Tells the client thread to send nothing more (the run is about to be killed).
    func stop() { lock.lock(); stopped = true; lock.unlock() }
    var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
    /// The client connected before the kill.
    func ready() { lock.lock(); connected = true; lock.unlock() }
    var wasReady: Bool { lock.lock(); defer { lock.unlock() }; return connected }
    func append(_ request: String, _ reply: String) { lock.lock(); items.append((request, reply)); lock.unlock() }
    var all: [(request: String, reply: String)] { lock.lock(); defer { lock.unlock() }; return items }
}

/// A parsed control reply.
struct Reply {
    let object: [String: Any]
    init?(_ line: String) {
        guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
        object = o
    }
    /// The command the runner journaled and answered (accepted or refused), with the journal row its
    /// reply names, if this reply is one.
    var acknowledged: (command: String, accepted: Bool, seq: Int64?)? {
        guard let c = object["command"] as? String else { return nil }
        let seq = (object["journal_seq"] as? NSNumber)?.int64Value
        if object["accepted"] != nil { return (c, true, seq) }
        if object["refused"] != nil { return (c, false, seq) }
        return nil     // "not applied" (journal outage) or another error: nothing was journaled
    }
    var status: [String: Any]? { object["status"] as? [String: Any] }
}
