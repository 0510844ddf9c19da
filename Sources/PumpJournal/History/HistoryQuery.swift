import PumpCore

/// What `itpump history` asks of a journal: events from an instant on, of some kinds.
public struct HistoryQuery: Hashable, Sendable {
    /// Only events at or after this instant (nil: all).
    public var since: Instant?
    /// Event kind names (`EventKind.journalName`) after expanding groups; nil: all kinds.
    public var kinds: Set<String>?

    public init(since: Instant? = nil, kinds: Set<String>? = nil) {
        self.since = since
        self.kinds = kinds
    }

    /// Named groups a clinician asks for, each a set of event kinds.
    public static let groups: [String: Set<String>] = [
        "alarms": ["alarmRaised", "alarmCleared", "alarmAcknowledged"],
        "refills": ["reservoirFilled", "refilled", "concentrationChanged", "refillDateSet"],
        "doses": ["therapyStarted", "scheduleProgrammed", "taperStarted", "taperStep", "taperCancelled", "emergencyOverride",
                  "deliveryHalted", "deliveryResumed", "fullDoseConfirmed"],
        "boluses": ["bolusStarted", "bolusCompleted", "testDoseResponse"],
        "refusals": ["commandRefused"],
        "delivery": ["dailyDelivery"],
    ]

    /// Every event kind name.
    public static let kindNames: Set<String> = [
        "reservoirFilled", "bolusStarted", "bolusCompleted", "testDoseResponse", "therapyStarted", "scheduleProgrammed",
        "taperStarted", "taperStep", "taperCancelled", "emergencyOverride", "deliveryHalted", "deliveryResumed",
        "fullDoseConfirmed", "refilled", "concentrationChanged", "refillDateSet", "settingsChanged", "alarmRaised",
        "alarmCleared", "alarmAcknowledged", "sensor", "commandRefused", "dailyDelivery",
    ]

    /// Expands kind names and group names; throws naming the unknown ones and listing the known ones.
    public static func kinds(from names: [String]) throws(HistoryError) -> Set<String>? {
        guard !names.isEmpty else { return nil }
        var out: Set<String> = []
        for name in names {
            if let g = groups[name] { out.formUnion(g) } else if kindNames.contains(name) { out.insert(name) } else {
                throw .unknownKind(name, known: groups.keys.sorted() + kindNames.sorted())
            }
        }
        return out
    }

    /// Parses an instant on the controller's time line: nanoseconds (`90000000000`), a compact span
    /// since the origin (`36h`, `2d12h`, `90m`, `45s`) or the log form `d+hh:mm:ss` (`1d+12:00:00`).
    public static func instant(from text: String) throws(HistoryError) -> Instant {
        // Every product and sum is overflow-checked: an instant past Int64 nanoseconds (about
        // 106,751 days) is refused with the range, never a trap.
        func scaled(_ v: Int64, _ unit: Int64) throws(HistoryError) -> Int64 {
            let (r, o) = v.multipliedReportingOverflow(by: unit)
            if o { throw .instantOutOfRange(text) }
            return r
        }
        func sum(_ a: Int64, _ b: Int64) throws(HistoryError) -> Int64 {
            let (r, o) = a.addingReportingOverflow(b)
            if o { throw .instantOutOfRange(text) }
            return r
        }
        if let ns = Int64(text) {
            guard ns >= 0 else { throw .instantOutOfRange(text) }
            return Instant(nanoseconds: ns)
        }
        if text.first == "-" { throw .instantOutOfRange(text) }
        if let plus = text.firstIndex(of: "+"), text[..<plus].hasSuffix("d"), let d = Int64(text[..<plus].dropLast()) {
            let parts = text[text.index(after: plus)...].split(separator: ":").map { Int64($0) }
            if parts.count == 3, let h = parts[0], let m = parts[1], let s = parts[2], (0..<24).contains(h), (0..<60).contains(m), (0..<60).contains(s) {
                guard d >= 0 else { throw .instantOutOfRange(text) }
                let clock = ((h * 60 + m) * 60 + s) * TimeConstants.nanosecondsPerSecond
                return Instant(nanoseconds: try sum(try scaled(d, TimeConstants.nanosecondsPerDay), clock))
            }
            throw .badInstant(text)
        }
        var total: Int64 = 0
        var digits = ""
        for ch in text {
            if ch.isASCII && ch.isNumber { digits.append(ch); continue }
            guard !digits.isEmpty else { throw .badInstant(text) }
            guard let v = Int64(digits) else { throw .instantOutOfRange(text) }
            switch ch {
            case "d": total = try sum(total, try scaled(v, TimeConstants.nanosecondsPerDay))
            case "h": total = try sum(total, try scaled(v, TimeConstants.nanosecondsPerHour))
            case "m": total = try sum(total, try scaled(v, 60 * TimeConstants.nanosecondsPerSecond))
            case "s": total = try sum(total, try scaled(v, TimeConstants.nanosecondsPerSecond))
            default: throw .badInstant(text)
            }
            digits = ""
        }
        guard digits.isEmpty, !text.isEmpty else { throw .badInstant(text) }
        return Instant(nanoseconds: total)
    }
}

/// A bad `itpump history` argument.
public enum HistoryError: Error, Hashable, Sendable, CustomStringConvertible {
    case unknownKind(String, known: [String])
    case badInstant(String)
    /// Negative, or past the largest instant (Int64 nanoseconds).
    case instantOutOfRange(String)
    public var description: String {
        switch self {
        case let .unknownKind(k, known): return "unknown event kind '\(k)'; use one of: \(known.joined(separator: ", "))"
        case let .badInstant(t):
            return "cannot read '\(t)' as an instant; use nanoseconds (90000000000), a span since the origin (36h, 2d12h, 90m) or d+hh:mm:ss (1d+12:00:00)"
        case let .instantOutOfRange(t):
            return "--since '\(t)' is outside the allowed range 0 … 106751d23h47m16s (Int64 nanoseconds since the origin); give a smaller instant"
        }
    }
}
