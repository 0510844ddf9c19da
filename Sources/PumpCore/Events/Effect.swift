/// One motor stroke the driver must carry out.
public struct Stroke: Hashable, Sendable, Codable {
    public let at: Instant
    public let purpose: DeliveryPurpose
    /// Volume moved out of the reservoir.
    public let volume: Volume
    /// Drug leaving the catheter tip, exact picograms (nL × μg/mL).
    public let picograms: Int64
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
}

extension EffectSink {
    @inlinable public mutating func receiveStroke(_ stroke: Stroke) { receive(.stroke(stroke)) }
}

/// Collects every effect in an array.
public struct EffectCollector: EffectSink {
    public var effects: [Effect] = []
    public init() {}
    public mutating func receive(_ effect: Effect) { effects.append(effect) }
}

/// Buffer for the non-stroke effects of one step of the controller.
struct EffectLog {
    var effects: [Effect] = []
    mutating func event(_ kind: EventKind, at t: Instant) { effects.append(.event(Event(at: t, kind: kind))) }
    mutating func alert(_ kind: AlarmKind, at t: Instant) { effects.append(.alert(kind, kind.priority, at: t)) }
    mutating func flush<S: EffectSink>(into sink: inout S) {
        for e in effects { sink.receive(e) }
        effects.removeAll(keepingCapacity: true)
    }
}
