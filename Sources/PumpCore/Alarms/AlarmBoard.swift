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
    public var highestPriority: AlarmPriority? {
        var p: AlarmPriority?
        for kind in AlarmKind.allCases where isActive(kind) { p = max(p ?? kind.priority, kind.priority) }
        return p
    }

    /// Raises `kind` unless it is active. `detail` is formatted only when the alarm is raised (a
    /// standing alarm's cause is re-checked often; its words are needed once).
    mutating func raise(_ kind: AlarmKind, detail: @autoclosure () -> AlarmDetail, at t: Instant, settings: AlarmSettings, log: inout EffectLog) {
        guard slots[kind.index] == nil else { return }
        let interval = kind.priority == .high ? settings.criticalRealert : settings.realert
        let detail = detail()
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

    /// Gives every audible alert due at or before `t`: one `Effect.alert` each, or, when `quiet`, one
    /// count per alarm computed in closed form (the resulting state is the same).
    mutating func fireAlerts(upTo t: Instant, settings: AlarmSettings, log: inout EffectLog, quiet: Bool = false) {
        // Only the active slots, read in place (an alarm holds its detail string: a copy of one
        // retains and releases it, and this runs at every deadline while an alarm stands).
        guard nextAlertAt <= t else { return }
        if quiet {
            var m = activeMask
            while m != 0 {
                let i = m.trailingZeroBitCount
                m &= m - 1
                guard let first = alertAt(i), first <= t else { continue }
                let step = interval(ofSlot: i, settings)
                let n = (t - first).nanoseconds / step.nanoseconds + 1
                let last = first + step * (n - 1)
                slots[i]!.alertCount += Int(n)
                slots[i]!.nextAlertAt = last + step
                log.quietAlerts.append((kindAt(i)!, n, first, last))
            }
            updateNext()
            return
        }
        while nextAlertAt <= t {
            let due = nextAlertAt
            var m = activeMask
            while m != 0 {
                let i = m.trailingZeroBitCount
                m &= m - 1
                guard alertAt(i) == due else { continue }
                slots[i]!.alertCount += 1
                slots[i]!.nextAlertAt = due + interval(ofSlot: i, settings)
                log.alert(kindAt(i)!, at: due)
            }
            updateNext()
        }
    }

    // Fields of the alarm in slot `i` (nil when the slot is empty), read in place.
    @inline(__always) private func alertAt(_ i: Int) -> Instant? { slots.withUnsafeBufferPointer { $0[i]?.nextAlertAt } }
    @inline(__always) private func kindAt(_ i: Int) -> AlarmKind? { slots.withUnsafeBufferPointer { $0[i]?.kind } }
    @inline(__always) private func isAcknowledged(_ i: Int) -> Bool { slots.withUnsafeBufferPointer { $0[i]?.acknowledgedAt != nil } }

    /// The interval to the next alert of the alarm in slot `i` from its current state.
    private func interval(ofSlot i: Int, _ settings: AlarmSettings) -> TimeSpan {
        guard let kind = kindAt(i) else { return settings.realert }
        if kind.priority == .high { return settings.criticalRealert }
        return isAcknowledged(i) ? settings.acknowledgedReminder : settings.realert
    }

    private mutating func updateNext() {
        var mask: UInt32 = 0
        var next = Instant.distantFuture
        for i in slots.indices {
            guard let at = alertAt(i) else { continue }
            mask |= 1 << UInt32(i)
            next = min(next, at)
        }
        activeMask = mask
        nextAlertAt = next
    }
}
