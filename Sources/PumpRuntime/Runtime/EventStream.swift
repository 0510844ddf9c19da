import PumpCore
import PumpJournal

/// The kinds of event a control-channel subscriber can ask for (`{"cmd":"subscribe","events":[…]}`).
public enum EventCategory: String, CaseIterable, Hashable, Sendable, Comparable {
    /// `alarm_raised`, `alarm_acknowledged`, `alarm_cleared`.
    case alarm
    /// `command`: a command committed (accepted or refused), from the control channel or the bring-up.
    case command
    /// `phase`: the therapy phase changed (priming, screening, running, taper, interrupted, …).
    case phase
    /// `dose`: the daily dose delivered (or programmed) changed.
    case dose
    /// `strokes`: strokes carried out, batched.
    case stroke
    /// `outage`: a journal outage began or ended, a late wake-up was accounted as downtime, the driver failed.
    case outage
    /// `restart`: this run resumed from its journal after a stop or a crash.
    case restart

    public static func < (a: EventCategory, b: EventCategory) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One event of the stream, before it gets its per-connection `seq`.
///
/// On the wire (one JSON line, sorted keys): `"event"` (its name), `"at"` and `"at_ns"` (the therapy
/// instant, as `status` shows `now` and `now_ns`), `"seq"` (per connection, 1 for the first event
/// after the subscribe reply, +1 per line) and the event's own fields.
public struct StreamEvent: Hashable, Sendable {
    /// Which subscription receives it; nil for the stream's own events (`dropped`, `run_ended`),
    /// which every subscriber receives.
    public let category: EventCategory?
    public let name: String
    public let at: Instant
    public let fields: [String: JSONValue]

    public init(_ category: EventCategory?, _ name: String, at: Instant, _ fields: [String: JSONValue] = [:]) {
        self.category = category
        self.name = name
        self.at = at
        self.fields = fields
    }

    /// The event's line (no newline) with its connection's sequence number.
    public func line(seq: Int64) -> String {
        var o = fields
        o["event"] = .string(name)
        o["at"] = .string(at.description)
        o["at_ns"] = .int(at.nanoseconds)
        o["seq"] = .int(seq)
        o["protocol"] = .int(ControlProtocol.version)
        return JSONValue.object(o).line
    }

    /// `{"event":"dropped","count":N}`: N events were not sent because the subscriber did not read;
    /// `at` is the instant of the newest of them.
    public static func dropped(_ count: Int64, newest: Instant) -> StreamEvent {
        StreamEvent(nil, "dropped", at: newest, ["count": .int(count)])
    }

    /// `{"event":"run_ended","reason":…,"clean":…}`: the last event; the runner closes the stream after it.
    public static func runEnded(reason: String, clean: Bool, at: Instant) -> StreamEvent {
        StreamEvent(nil, "run_ended", at: at, ["reason": .string(reason), "clean": .bool(clean)])
    }
}

/// Turns the runner's real state transitions into stream events.
///
/// After every step and every control request the run loop calls `Runner.collectEvents()`, which
/// compares the controller's alarms, phase and dose (and the runner's journal outage, late wake-ups
/// and driver failure) with what it saw last time and reports each difference; the commands come from
/// the journal commit of each command (with its `journal_seq`), and the strokes from the strokes the
/// driver actually carried out. Nothing here keeps a second copy of the therapy: it only remembers
/// the last state it compared.
///
/// Strokes are batched: one `strokes` event covers the strokes carried out since the previous one,
/// sent at most every `strokeBatchInterval` of wall time, and always before any other event, so the
/// order of the stream is the order of the run.
public final class EventStream {
    /// Wall time a stroke batch collects before it is sent (100 ms: at most 10 `strokes` lines a
    /// second, at any time scale).
    public static let strokeBatchInterval: UInt64 = 100_000_000

    struct Snapshot: Equatable {
        var alarms: AlarmBoard
        var phase: String
        var delivering: DoseRate
        var programmed: DoseRate?
        var outageSince: Instant?
        var lateWakes: Int64
        var failed: Bool
    }

    struct Batch {
        var count: Int64 = 0
        var first: Instant
        var last: Instant
        var volumeNanolitres: Int64 = 0
        var picograms: Int64 = 0
        var byPurpose: [DeliveryPurpose: Int64] = [:]
        var startedWall: UInt64
    }

    private var last: Snapshot?
    private var batch: Batch?
    private var commands: [StreamEvent] = []
    /// Instants of the core's `alarmCleared` events since the last collection (the exact instant of a clear).
    private var clearedAt: [AlarmKind: Instant] = [:]
    private var lastOutage: JournalOutage?
    /// A subscription the request just handled asked for (taken by `Runner.respond(to:)`).
    var requestedSubscription: [EventCategory]?

    public init() {}

    /// A stroke the driver carried out; `total` is the run's count after it, `wall` the monotonic ns.
    func noteStroke(_ s: Stroke, wall: UInt64) {
        if batch == nil { batch = Batch(first: s.at, last: s.at, startedWall: wall) }
        batch!.count += 1
        batch!.last = s.at
        batch!.volumeNanolitres += s.volume.nanolitres
        batch!.picograms += s.picograms
        batch!.byPurpose[s.purpose, default: 0] += 1
    }

    /// An event the core produced (used for the exact instant of an alarm's clearing).
    func noteCoreEvent(_ e: Event) {
        if case let .alarmCleared(kind) = e.kind { clearedAt[kind] = e.at }
    }

    /// A command durably committed (or, without a journal, applied) with its outcome.
    func noteCommand(_ c: Command, source: String, response: CommandResponse, seq: Int64?, at: Instant) {
        var f: [String: JSONValue] = ["command": .string(c.description), "source": .string(source)]
        switch response.result {
        case let .success(a):
            f["ok"] = .bool(true)
            f["accepted"] = .string(AcceptanceText.describe(a))
        case let .failure(refusal):
            f["ok"] = .bool(false)
            f["refused"] = .string(refusal.description)
        }
        if let seq { f["journal_seq"] = .int(seq) }
        commands.append(StreamEvent(.command, "command", at: at, f))
    }

    /// The events since the last call, in order: strokes, commands, then the differences of alarms,
    /// phase, dose, outages.
    func collect(_ r: Runner, wall: UInt64) -> [StreamEvent] {
        let c = r.controller
        let now = Snapshot(alarms: c.alarms, phase: Self.phaseName(c), delivering: c.deliveringDose, programmed: c.programmedDose,
                           outageSince: r.journalOutage?.since, lateWakes: r.lateWakes, failed: r.failure != nil)
        let changed = now != last
        guard changed || !commands.isEmpty || batch != nil else { return [] }
        var out: [StreamEvent] = []
        let before = last ?? Snapshot(alarms: AlarmBoard(), phase: "not_started", delivering: .zero, programmed: nil,
                                      outageSince: nil, lateWakes: 0, failed: false)
        var others: [StreamEvent] = commands
        commands.removeAll()
        if changed { others += differences(before, now, r) }
        last = now
        clearedAt.removeAll()
        if let b = batch, !others.isEmpty || wall &- b.startedWall >= Self.strokeBatchInterval {
            out.append(Self.strokesEvent(b, total: r.strokesPerformed))
            batch = nil
        }
        return out + others
    }

    /// Everything still batched (the strokes of the last moments), for the end of the run.
    func flush(_ r: Runner) -> [StreamEvent] {
        var out = collect(r, wall: .max)
        if let b = batch { out.append(Self.strokesEvent(b, total: r.strokesPerformed)); batch = nil }
        return out
    }

    private func differences(_ a: Snapshot, _ b: Snapshot, _ r: Runner) -> [StreamEvent] {
        var out: [StreamEvent] = []
        let t = r.controller.now
        if a.alarms != b.alarms {
            for kind in AlarmKind.allCases {
                let old = a.alarms[kind], new = b.alarms[kind]
                // A clear and a new raise within one step: the raise instant differs.
                if let o = old, new == nil || new!.raisedAt != o.raisedAt {
                    out.append(StreamEvent(.alarm, "alarm_cleared", at: clearedAt[kind] ?? t,
                                           ["alarm": .string(kind.rawValue), "priority": .string(kind.priority.description)]))
                }
                if let n = new, old == nil || old!.raisedAt != n.raisedAt {
                    out.append(StreamEvent(.alarm, "alarm_raised", at: n.raisedAt,
                                           ["alarm": .string(kind.rawValue), "priority": .string(kind.priority.description), "detail": .string(n.detail.description)]))
                }
                if let n = new, let ack = n.acknowledgedAt, old?.raisedAt != n.raisedAt || old?.acknowledgedAt == nil {
                    out.append(StreamEvent(.alarm, "alarm_acknowledged", at: ack,
                                           ["alarm": .string(kind.rawValue), "priority": .string(kind.priority.description)]))
                }
            }
        }
        if a.phase != b.phase {
            out.append(StreamEvent(.phase, "phase", at: Self.phaseInstant(r.controller) ?? t,
                                   ["phase": .string(b.phase), "from": .string(a.phase), "detail": .string(Self.phaseDetail(r.controller))]))
        }
        if a.delivering != b.delivering || a.programmed != b.programmed {
            var f: [String: JSONValue] = [
                "delivering_ng_per_day": .int(b.delivering.nanogramsPerDay), "delivering": .string(b.delivering.description),
                "previous_ng_per_day": .int(a.delivering.nanogramsPerDay),
            ]
            if let p = b.programmed { f["programmed_ng_per_day"] = .int(p.nanogramsPerDay) }
            out.append(StreamEvent(.dose, "dose", at: t, f))
        }
        // A journal outage is also the runner's own high alarm (`journalOutage`, as `status` lists it).
        if a.outageSince == nil, let since = b.outageSince, let o = r.journalOutage {
            lastOutage = o
            out.append(StreamEvent(.outage, "outage", at: since, ["outage": .string("journal"), "state": .string("began"), "detail": .string(o.description)]))
            out.append(StreamEvent(.alarm, "alarm_raised", at: since, ["alarm": .string("journalOutage"), "priority": .string(AlarmPriority.high.description),
                                                                     "detail": .string(o.description)]))
        } else if a.outageSince != nil, b.outageSince == nil {
            var f: [String: JSONValue] = ["outage": .string("journal"), "state": .string("ended")]
            if let o = lastOutage { f["failed_commits"] = .int(o.failures); f["since"] = .string(o.since.description) }
            out.append(StreamEvent(.outage, "outage", at: t, f))
            out.append(StreamEvent(.alarm, "alarm_cleared", at: t, ["alarm": .string("journalOutage"), "priority": .string(AlarmPriority.high.description)]))
            lastOutage = nil
        } else if let o = r.journalOutage {
            lastOutage = o
        }
        if b.lateWakes > a.lateWakes {
            out.append(StreamEvent(.outage, "outage", at: t, ["outage": .string("late_wake"), "state": .string("accounted"),
                                                              "count": .int(b.lateWakes - a.lateWakes), "late_wakes": .int(b.lateWakes),
                                                              "detail": .string("a stroke was reached more than \(r.maxStrokeLateness / 1_000_000) ms late: the gap is downtime, missed and not caught up")]))
        }
        if b.failed, !a.failed, let f = r.failure {
            out.append(StreamEvent(.outage, "outage", at: t, ["outage": .string("driver"), "state": .string("began"), "detail": .string(f.description)]))
        }
        return out
    }

    static func strokesEvent(_ b: Batch, total: Int64) -> StreamEvent {
        StreamEvent(.stroke, "strokes", at: b.last, [
            "count": .int(b.count), "first": .string(b.first.description), "first_ns": .int(b.first.nanoseconds),
            "last": .string(b.last.description), "last_ns": .int(b.last.nanoseconds), "total": .int(total),
            "volume_nl": .int(b.volumeNanolitres), "picograms": .int(b.picograms),
            "by_purpose": .object(Dictionary(uniqueKeysWithValues: b.byPurpose.map { ($0.key.rawValue, JSONValue.int($0.value)) })),
        ])
    }

    /// The stream's name for where therapy stands: `not_started` (filling), `priming`, `screening`,
    /// `test_dose`, `running`, `taper`, `interrupted` (an interruption in progress: occlusion, stall,
    /// empty reservoir, downtime), `awaiting_confirmation` (at the floor until a clinician confirms),
    /// `stopped`.
    public static func phaseName(_ c: PumpController) -> String {
        switch c.phase {
        case .stopped: return "stopped"
        case .notStarted:
            if let b = c.bolus { return b.purpose == .priming ? "priming" : "test_dose" }
            return c.primed ? "screening" : "not_started"
        case .running:
            if c.haltedSince != nil || c.interruption != nil { return "interrupted" }
            if c.awaitingConfirmationSince != nil { return "awaiting_confirmation" }
            return c.taper != nil ? "taper" : "running"
        }
    }

    /// The phase in words: the controller's phase, with the taper, interruption or halt in force.
    static func phaseDetail(_ c: PumpController) -> String {
        var d = c.phase.description
        if let i = c.interruption { d += "; interrupted since \(i.since) (\(i.firstEvidence))" }
        if let h = c.haltedSince { d += "; delivery halted since \(h)" }
        if c.awaitingConfirmationSince != nil { d += "; at \(c.confirmationHold?.description ?? "the floor") until a clinician confirms the dose" }
        if let p = c.taper { d += "; taper (\(p.kind)) from \(p.fromDose)" + (p.endsAt.map { ", ends \($0)" } ?? "") }
        return d
    }

    /// The instant a phase began, when the controller records it.
    static func phaseInstant(_ c: PumpController) -> Instant? {
        switch c.phase {
        case let .stopped(at, _): return at
        case .notStarted: return c.bolus?.startedAt
        case let .running(since):
            if let h = c.haltedSince { return h }
            if let i = c.interruption { return i.since }
            if let w = c.awaitingConfirmationSince { return w }
            return c.taper == nil ? since : nil
        }
    }
}

extension ControlRequest.Fields {
    /// `events`: a non-empty list of category names, all of them when absent.
    func eventCategories() throws(ControlRequestError) -> [EventCategory] {
        let allowed = EventCategory.allCases.map(\.rawValue).joined(separator: ", ")
        guard let v = o["events"] else { return EventCategory.allCases }
        guard case let .array(items) = v, !items.isEmpty, items.count <= 32 else {
            throw .badValue(field: "events", value: String(v.shown.prefix(40)), allowed: "a list of 1 or more of \(allowed)")
        }
        var kinds: [EventCategory] = []
        for item in items {
            guard case let .string(name) = item, let k = EventCategory(rawValue: name) else {
                throw .badValue(field: "events", value: PrintableText.escaped(String(item.shown.prefix(40))), allowed: allowed)
            }
            if !kinds.contains(k) { kinds.append(k) }
        }
        return kinds
    }
}
