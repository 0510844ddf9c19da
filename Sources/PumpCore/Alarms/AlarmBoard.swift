/// The set of active alarms and their audible alerts, as a pure state machine stepped by time.
///
/// Raising an active alarm changes nothing; clearing an inactive one changes nothing. Critical (high)
/// alarms re-alert every `criticalRealert` until their cause is gone, acknowledged or not; others every
/// `realert` until acknowledged, then every `acknowledgedReminder` while the cause persists.
public struct AlarmBoard: Hashable, Sendable, Codable {
    private var slots: [Alarm?] = Array(repeating: nil, count: AlarmKind.allCases.count)
    /// Bit `kind.index` set while `kind` is active (cheap test on the stroke path).
    public private(set) var activeMask: UInt32 = 0
    /// The earliest `nextAlertAt` of any active alarm.
    public private(set) var nextAlertAt: Instant = .distantFuture

    public init() {}

    /// Active alarms, highest priority first, then by raising instant.
    public var active: [Alarm] {
        slots.compactMap { $0 }.sorted { ($0.priority, $1.raisedAt) > ($1.priority, $0.raisedAt) }
    }
    /// The alarm of `kind` if active.
    public subscript(kind: AlarmKind) -> Alarm? { slots[kind.index] }
    /// True if `kind` is active.
    @inlinable public func isActive(_ kind: AlarmKind) -> Bool { activeMask & (1 << UInt32(kind.index)) != 0 }
    /// The highest priority among active alarms.
    public var highestPriority: AlarmPriority? { slots.compactMap { $0?.priority }.max() }

    mutating func raise(_ kind: AlarmKind, detail: String, at t: Instant, settings: AlarmSettings, log: inout EffectLog) {
        guard slots[kind.index] == nil else { return }
        let interval = kind.priority == .high ? settings.criticalRealert : settings.realert
        slots[kind.index] = Alarm(kind: kind, raisedAt: t, detail: detail, acknowledgedAt: nil,
                                  nextAlertAt: t + interval, alertCount: 1)
        log.event(.alarmRaised(kind, priority: kind.priority, detail: detail), at: t)
        log.alert(kind, at: t)
        updateNext()
    }

    mutating func clear(_ kind: AlarmKind, at t: Instant, log: inout EffectLog) {
        guard slots[kind.index] != nil else { return }
        slots[kind.index] = nil
        log.event(.alarmCleared(kind), at: t)
        updateNext()
    }

    /// Records an acknowledgement; returns false if `kind` is not active.
    mutating func acknowledge(_ kind: AlarmKind, at t: Instant, settings: AlarmSettings, log: inout EffectLog) -> Bool {
        guard var alarm = slots[kind.index] else { return false }
        alarm.acknowledgedAt = t
        log.event(.alarmAcknowledged(kind), at: t)
        if kind.clearsOnAcknowledge {
            slots[kind.index] = alarm
            clear(kind, at: t, log: &log)
            return true
        }
        if kind.priority != .high { alarm.nextAlertAt = t + settings.acknowledgedReminder }
        slots[kind.index] = alarm
        updateNext()
        return true
    }

    /// The interval to an alarm's next alert from its current state.
    private func interval(of a: Alarm, _ settings: AlarmSettings) -> TimeSpan {
        if a.priority == .high { return settings.criticalRealert }
        return a.acknowledgedAt == nil ? settings.realert : settings.acknowledgedReminder
    }

    /// Gives every audible alert due at or before `t`: one `Effect.alert` each, or, when `quiet`, one
    /// count per alarm computed in closed form (the resulting state is the same).
    mutating func fireAlerts(upTo t: Instant, settings: AlarmSettings, log: inout EffectLog, quiet: Bool = false) {
        if quiet {
            guard nextAlertAt <= t else { return }
            for i in slots.indices {
                guard var a = slots[i], a.nextAlertAt <= t else { continue }
                let step = interval(of: a, settings)
                let n = (t - a.nextAlertAt).nanoseconds / step.nanoseconds + 1
                let first = a.nextAlertAt
                let last = first + step * (n - 1)
                a.alertCount += Int(n)
                a.nextAlertAt = last + step
                slots[i] = a
                log.quietAlerts.append((a.kind, n, first, last))
            }
            updateNext()
            return
        }
        while nextAlertAt <= t {
            let due = nextAlertAt
            for i in slots.indices {
                guard var a = slots[i], a.nextAlertAt == due else { continue }
                a.alertCount += 1
                a.nextAlertAt = due + interval(of: a, settings)
                slots[i] = a
                log.alert(a.kind, at: due)
            }
            updateNext()
        }
    }

    private mutating func updateNext() {
        activeMask = slots.indices.reduce(0) { slots[$1] == nil ? $0 : $0 | (1 << UInt32($1)) }
        nextAlertAt = slots.reduce(Instant.distantFuture) { min($0, $1?.nextAlertAt ?? .distantFuture) }
    }
}
