import PumpCore

/// What the control channel does with a request line: answer it, or answer it and turn the
/// connection into an event stream.
public enum ControlReply: Sendable {
    /// One reply line (no newline).
    case line(String)
    /// The subscribe reply, then the connection receives the events of `categories`, starting with
    /// `initial` (the `restart` event of a run that resumed from its journal).
    case subscribe(reply: String, categories: Set<EventCategory>, initial: [StreamEvent])
}

extension Runner {
    /// Handles one control-channel line (`handle(line:)`) and says whether it subscribed the connection.
    public func respond(to line: some Collection<UInt8>) -> ControlReply {
        eventStream.requestedSubscription = nil
        let reply = handle(line: line)
        guard let kinds = eventStream.requestedSubscription else { return .line(reply) }
        eventStream.requestedSubscription = nil
        let categories = Set(kinds)
        var initial: [StreamEvent] = []
        if categories.contains(.restart), let r = restartEvent { initial.append(r) }
        return .subscribe(reply: reply, categories: categories, initial: initial)
    }

    /// The reply to `subscribe` (`{"ok":true,"protocol":1,"subscribed":[…]}`, built like every other
    /// reply); the connection is turned into a stream by `respond(to:)`.
    func subscribeReply(_ kinds: [EventCategory]) -> String {
        eventStream.requestedSubscription = kinds
        return ControlProtocol.reply(["ok": .bool(true), "subscribed": .array(Set(kinds).sorted().map { .string($0.rawValue) })])
    }

    /// The events since the last call (see `EventStream`); the run loop publishes them after every
    /// step and every batch of requests.
    public func collectEvents() -> [StreamEvent] { eventStream.collect(self, wall: clock.now()) }

    /// The last events of the run: whatever is still batched, then `run_ended`.
    public func endEvents(reason: String, clean: Bool) -> [StreamEvent] {
        eventStream.flush(self) + [.runEnded(reason: reason, clean: clean, at: controller.now)]
    }

    /// `restart`: this run came up again from its journal; the downtime as accounted at the start.
    var restartEvent: StreamEvent? {
        guard let r = restart else { return nil }
        var f: [String: JSONValue] = [
            "last_seen": .string(r.lastSeen.description), "last_seen_ns": .int(r.lastSeen.nanoseconds),
            "duration_known": .bool(r.durationKnown), "missed_ng": .int(r.missedPicograms / 1_000),
            "requires_confirmation": .bool(r.requiresConfirmation),
        ]
        if r.durationKnown { f["gap"] = .string(r.gap.roundedDescription); f["gap_ns"] = .int(r.gap.nanoseconds) }
        if let b = r.interruptedBolus { f["interrupted_bolus"] = .string("\(b.purpose.rawValue): \(b.given) of \(b.strokes) strokes given") }
        return StreamEvent(.restart, "restart", at: r.resumedAt, f)
    }
}
