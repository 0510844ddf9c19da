/// One motor stroke the driver must carry out.
public struct Stroke: Hashable, Sendable, Codable {
    public let at: Instant
    public let purpose: DeliveryPurpose
    /// Volume moved out of the reservoir.
    public let volume: Volume
    /// Drug leaving the catheter tip, exact picograms (nL × μg/mL).
    public let picograms: Int64
}

/// A run of basal strokes given at once by a batching advance: `count` strokes of `volume` each
/// delivering `picogramsEach`, the first at `first` and the last at `last`, evenly as the stroke clock
/// spaced them (the individual instants follow from the rate; they are not listed).
public struct StrokeBatch: Hashable, Sendable, Codable {
    public let first: Instant
    public let last: Instant
    public let count: Int64
    public let volume: Volume
    public let picogramsEach: Int64
    /// Drug of the whole batch, exact picograms.
    public var picograms: Int64 { count * picogramsEach }
}

/// Consecutive bolus strokes that deliver no drug (each pushes only the saline a priming left at the
/// catheter's tip): `count` strokes of `volume` for `purpose`, at the bolus schedule's instants from
/// `first` to `last`. A sequence of the `Stroke`s it stands for, in order (`picograms` 0 each), so a
/// sink that needs each stroke gets exactly those; one that does not (a simulation) takes the run in
/// O(1). The core logs a priming pass as one run instead of 1,344 strokes.
public struct StrokeRun: Sequence, Hashable, Sendable {
    /// The bolus schedule at the first stroke.
    let schedule: BolusState.Schedule
    public let count: Int64
    public var first: Instant { schedule.nextAt }
    public let last: Instant
    public let purpose: DeliveryPurpose
    public let volume: Volume

    public struct Iterator: IteratorProtocol {
        var schedule: BolusState.Schedule
        var left: Int64
        let purpose: DeliveryPurpose
        let volume: Volume
        public mutating func next() -> Stroke? {
            guard left > 0 else { return nil }
            left -= 1
            let s = Stroke(at: schedule.nextAt, purpose: purpose, volume: volume, picograms: 0)
            schedule.advance()
            return s
        }
    }

    public func makeIterator() -> Iterator { Iterator(schedule: schedule, left: count, purpose: purpose, volume: volume) }
    public var underestimatedCount: Int { Int(count) }
}

/// What the core asks its driver (simulator or rig) to do, in time order.
public enum Effect: Hashable, Sendable {
    /// Move the motor one stroke.
    case stroke(Stroke)
    /// Log (and persist) an event.
    case event(Event)
    /// Sound an audible alert for `kind` (priority sets the tone pattern).
    case alert(AlarmKind, AlarmPriority, at: Instant)

    public var instant: Instant {
        switch self {
        case let .stroke(s): return s.at
        case let .event(e): return e.at
        case let .alert(_, _, t): return t
        }
    }
}

/// Receives effects as the core produces them. The simulator and the runner implement it; a year of
/// strokes need not be stored.
public protocol EffectSink {
    mutating func receive(_ effect: Effect)
    /// A basal stroke. The default forwards `.stroke(stroke)` to `receive`; a sink on the hot path
    /// (a year of strokes) implements it directly to skip building an `Effect`.
    mutating func receiveStroke(_ stroke: Stroke)
    /// True if the sink takes runs of basal strokes as one `StrokeBatch` (a closed-form simulation);
    /// the controller's state after a batching advance is identical to a stroke-by-stroke one.
    /// Default false: every stroke arrives on its own, as a driver of a real motor needs.
    var acceptsStrokeBatches: Bool { get }
    /// A run of basal strokes; called only when `acceptsStrokeBatches` is true.
    mutating func receiveStrokes(_ batch: StrokeBatch)
    /// Consecutive strokes of any purpose (a bolus pass), in time order, with no other effect between
    /// them. The default gives each to `receive` as `.stroke`, in order; a sink may take them without
    /// building an `Effect` for each, provided it treats each exactly as `receive(.stroke(_:))` would.
    mutating func receiveHeldStrokes(_ strokes: [Stroke])
    /// A run of bolus strokes that deliver no drug, in the same place among the effects as its strokes.
    /// The default gives them to `receiveHeldStrokes` as an array; a sink may take the run as a whole,
    /// provided it treats it exactly as those strokes in turn.
    mutating func receiveStrokeRun(_ run: StrokeRun)
    /// False if the sink only needs to know how many re-alerts sounded (a simulation): the core then
    /// does not wake for each re-alert of a standing alarm (every 10 min for a critical one) and
    /// reports them with `receiveAlerts` at its next deadline; the alarm state is identical either
    /// way. Default true: a real buzzer needs every alert on time. An alarm's first alert at raising
    /// always arrives as `Effect.alert`.
    var wantsEachAlert: Bool { get }
    /// `count` re-alerts of `kind`, the first at `first` and the last at `last`; called only when
    /// `wantsEachAlert` is false.
    mutating func receiveAlerts(_ kind: AlarmKind, count: Int64, first: Instant, last: Instant)
    /// False if the sink keeps its own daily figures (a simulation's recorder splits every stroke batch
    /// between days itself): the core then logs no `dailyDelivery` event at a day's end during
    /// `advance`. Its day bookkeeping (therapy day, the day's first basal stroke and drug) is the same
    /// either way. Default true: the journal and the rig's status record each day.
    var wantsDailyDelivery: Bool { get }
}

extension EffectSink {
    @inlinable public mutating func receiveStroke(_ stroke: Stroke) { receive(.stroke(stroke)) }
    @inlinable public var acceptsStrokeBatches: Bool { false }
    @inlinable public mutating func receiveStrokes(_ batch: StrokeBatch) {}
    @inlinable public mutating func receiveHeldStrokes(_ strokes: [Stroke]) { for s in strokes { receive(.stroke(s)) } }
    public mutating func receiveStrokeRun(_ run: StrokeRun) { receiveHeldStrokes(Array(run)) }
    @inlinable public var wantsEachAlert: Bool { true }
    @inlinable public var wantsDailyDelivery: Bool { true }
    @inlinable public mutating func receiveAlerts(_ kind: AlarmKind, count: Int64, first: Instant, last: Instant) {}
}

/// Collects every effect in an array.
public struct EffectCollector: EffectSink {
    public var effects: [Effect] = []
    public init() {}
    public mutating func receive(_ effect: Effect) { effects.append(effect) }
}

/// Buffer for the effects of one step of the controller other than basal strokes.
///
/// A run of consecutive strokes (a bolus pass) is held apart as plain `Stroke` values and given to
/// the sink as `Effect.stroke` at its place in the order when flushed: the same effects in the same
/// order, without an array of `Effect`s (each as large as an event) to grow, copy and destroy.
struct EffectLog {
    var effects: [Effect] = []
    /// Consecutive strokes, due between `effects[..<strokesAt]` and `effects[strokesAt...]`: `run`
    /// (if any), then `strokes`.
    var run: StrokeRun?
    var strokes: [Stroke] = []
    var strokesAt = 0
    var holdsStrokes: Bool { run != nil || !strokes.isEmpty }
    /// Re-alerts counted in closed form for a sink that does not want each one.
    var quietAlerts = QuietAlertList()
    mutating func event(_ kind: EventKind, at t: Instant) { effects.append(.event(Event(at: t, kind: kind))) }
    mutating func alert(_ kind: AlarmKind, at t: Instant) { effects.append(.alert(kind, kind.priority, at: t)) }
    mutating func stroke(_ s: Stroke) {
        // Another effect came after the held strokes: put them in their place first.
        if holdsStrokes && strokesAt != effects.count { placeHeldStrokes() }
        if !holdsStrokes { strokesAt = effects.count }
        strokes.append(s)
    }
    /// A run of strokes that deliver no drug: held as a run when nothing else is held, else stroke by
    /// stroke after what is.
    mutating func strokeRun(_ r: StrokeRun) {
        if holdsStrokes {
            for s in r { stroke(s) }
            return
        }
        strokesAt = effects.count
        run = r
    }
    /// The held strokes as effects at their place.
    mutating func placeHeldStrokes() {
        var held: [Effect] = []
        if let r = run { held.append(contentsOf: r.map { .stroke($0) }) }
        held.append(contentsOf: strokes.map { .stroke($0) })
        effects.insert(contentsOf: held, at: strokesAt)
        run = nil
        strokes.removeAll(keepingCapacity: true)
    }
    mutating func flush<S: EffectSink>(into sink: inout S) {
        // Most flushes find nothing (a step that only gave strokes): emptying empty arrays is not free.
        if !quietAlerts.isEmpty {
            quietAlerts.forEach { a in sink.receiveAlerts(a.kind, count: a.count, first: a.first, last: a.last) }
            quietAlerts.removeAll()
        }
        if !holdsStrokes {
            if effects.isEmpty { return }
            for e in effects { sink.receive(e) }
        } else {
            for e in effects[..<strokesAt] { sink.receive(e) }
            if let r = run { sink.receiveStrokeRun(r); run = nil }
            if !strokes.isEmpty { sink.receiveHeldStrokes(strokes) }
            for e in effects[strokesAt...] { sink.receive(e) }
            strokes.removeAll(keepingCapacity: true)
        }
        effects.removeAll(keepingCapacity: true)
    }
}

/// The re-alerts of one step counted in closed form, in order. A step reports each standing alarm at
/// most once, so the first four are held inline: a deadline where an alarm re-alerts allocates nothing
/// (an array here was allocated and freed at every such deadline of a simulation).
struct QuietAlertList {
    typealias Entry = (kind: AlarmKind, count: Int64, first: Instant, last: Instant)
    private static let none: Entry = (.lowReservoir, 0, .zero, .zero)
    private(set) var count = 0
    private var e0 = Self.none, e1 = Self.none, e2 = Self.none, e3 = Self.none
    private var more: [Entry] = []

    var isEmpty: Bool { count == 0 }

    mutating func append(_ e: Entry) {
        switch count {
        case 0: e0 = e
        case 1: e1 = e
        case 2: e2 = e
        case 3: e3 = e
        default: more.append(e)
        }
        count += 1
    }

    /// Each entry in the order appended.
    func forEach(_ body: (Entry) -> Void) {
        if count > 0 { body(e0) }
        if count > 1 { body(e1) }
        if count > 2 { body(e2) }
        if count > 3 { body(e3) }
        for e in more { body(e) }
    }

    mutating func removeAll() {
        count = 0
        if !more.isEmpty { more.removeAll(keepingCapacity: true) }
    }
}
