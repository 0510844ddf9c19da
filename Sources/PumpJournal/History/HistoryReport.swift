import Foundation
import PumpCore

/// A clinician programmer's interrogation of a journal: the current state, then the history.
public struct HistoryReport: Sendable {
    /// Output formats of `itpump history`.
    public enum Format: String, CaseIterable, Sendable {
        case text, json, csv
    }

    public let path: String
    public let recovered: RecoveredState
    public let events: [JournalEventRecord]
    public let restarts: [JournalRestartRecord]
    /// Stops of the runner, late wake-ups, journal outages and injected sim faults (`Journal.interruptions()`).
    public let interruptions: [JournalInterruptionRecord]
    public let query: HistoryQuery

    /// Reads the report from `journal` (which should be opened read-only).
    public init(journal: Journal, query: HistoryQuery) throws(JournalError) {
        path = journal.path
        // One snapshot: a runner committing meanwhile cannot add events past the recovered state.
        (recovered, events, restarts, interruptions) = try journal.readSnapshot { () throws(JournalError) in
            (try journal.recover(), try journal.events(since: query.since, kinds: query.kinds),
             try journal.restarts().filter { query.since == nil || $0.resumedAt >= query.since! },
             try journal.interruptions().filter { query.since == nil || $0.at >= query.since! })
        }
        self.query = query
    }

    /// The report in `format`.
    public func render(_ format: Format) -> String {
        switch format {
        case .text: return text()
        case .json: return json()
        case .csv: return csv()
        }
    }

    /// An event's words, with control characters escaped (`PrintableText`): a clinician's text cannot
    /// break a report line or reach the terminal as an escape sequence.
    static func describe(_ kind: EventKind) -> String { PrintableText.escaped(EventFormatter.describe(kind)) }

    var stateLines: [(String, String)] {
        let c = recovered.controller
        var lines: [(String, String)] = [
            ("pump", c.profile.name),
            ("as of", "\(recovered.lastSeen) (last committed step)"),
            ("therapy", c.phase.description),
            ("programmed", c.schedule.map { "\($0) (\(c.programmedDose.map(\.description) ?? "—"))" } ?? "none"),
            ("delivering", c.deliveringDose.describe(at: c.reservoir.concentration)),
            ("reservoir", "\(c.reservoir.estimate) of \(c.reservoir.capacity) at \(c.reservoir.concentration) (conservative: the true volume is at most \(recovered.reservoirUpperBound), \(recovered.strokesInDoubtSinceFill) \(recovered.strokesInDoubtSinceFill == 1 ? "stroke" : "strokes") in doubt since the fill)"),
            ("filled", c.reservoir.filledAt.map(\.description) ?? "never"),
            ("projected empty", c.projectedEmpty.map(\.description) ?? "—"),
            ("primed", c.primed ? "yes" : "no"),
            ("delivered", "basal \(Mass(nanograms: c.ledger.deliveredPicograms(.basal) / 1_000)), test doses \(Mass(nanograms: c.ledger.deliveredPicograms(.testDose) / 1_000)), priming \(Mass(nanograms: c.ledger.deliveredPicograms(.priming) / 1_000)); \(recovered.strokes) strokes"),
        ]
        if let since = c.awaitingConfirmationSince {
            lines.append(("ATTENTION", "delivering \(DoseRate.floor) since the interruption at \(since) until a clinician confirms the dose"))
        }
        let active = c.alarms.active
        lines.append(("active alarms", active.isEmpty ? "none" : active.map { "\($0.kind) (\($0.priority), since \($0.raisedAt))" }.joined(separator: "; ")))
        return lines
    }

    func text() -> String {
        var out = ["itpump history — \(path)", String(repeating: "=", count: 64), "current state:"]
        for (k, v) in stateLines { out.append("  \(k.padding(toLength: 16, withPad: " ", startingAt: 0)) \(v)") }
        func section(_ title: String, _ group: String) {
            let kinds = HistoryQuery.groups[group] ?? []
            let rows = events.filter { kinds.contains($0.kindName) }
            out.append("")
            out.append("\(title) (\(rows.count)):")
            if rows.isEmpty { out.append("  none") }
            for r in rows { out.append("  \(r.event.at)  \(Self.describe(r.event.kind))") }
        }
        section("alarm history", "alarms")
        section("refills", "refills")
        section("dose changes", "doses")
        out.append("")
        out.append("controller restarts (\(restarts.count)):")
        if restarts.isEmpty { out.append("  none") }
        for r in restarts {
            let gap = r.durationKnown ? (r.resumedAt - r.lastSeen).roundedDescription : "unknown (wall clock went back)"
            out.append("  \(r.resumedAt)  down \(gap) from \(r.lastSeen), missed \(Mass(nanograms: r.missedPicograms / 1_000)), strokes in doubt \(r.strokesInDoubt)\(r.requiresConfirmation ? ", NEEDS CONFIRMATION" : "")")
        }
        out.append("")
        out.append("controller stops, late wake-ups, journal outages and injected sim faults (\(interruptions.count)):")
        if interruptions.isEmpty { out.append("  none") }
        for r in interruptions { out.append("  \(r.at)  !! \(r.reason)") }
        out.append("")
        out.append("events (\(events.count)\(query.kinds == nil && query.since == nil ? "" : ", filtered")):")
        for r in events { out.append("  #\(r.seq)  \(r.event.at)  \(r.event.kind.isCritical ? "!! " : "")\(Self.describe(r.event.kind))") }
        return out.joined(separator: "\n")
    }

    struct JSONEvent: Encodable {
        var seq: Int64, atNanoseconds: Int64, at: String, kind: String, critical: Bool, text: String, commandSeq: Int64?
    }
    struct JSONRestart: Encodable {
        var lastSeenNanoseconds: Int64, resumedNanoseconds: Int64, durationKnown: Bool, missedPicograms: Int64, strokesInDoubt: Int64, requiresConfirmation: Bool
    }
    struct JSONInterruption: Encodable {
        var atNanoseconds: Int64, at: String, wallNanoseconds: Int64, reason: String
    }
    struct JSONReport: Encodable {
        var journal: String
        var state: [String: String]
        var reservoirNanolitres: Int64
        var reservoirUpperBoundNanolitres: Int64
        var strokes: Int64
        var events: [JSONEvent]
        var restarts: [JSONRestart]
        var interruptions: [JSONInterruption]
    }

    func json() -> String {
        let c = recovered.controller
        let report = JSONReport(
            journal: path, state: Dictionary(stateLines, uniquingKeysWith: { a, _ in a }),
            reservoirNanolitres: c.reservoir.estimate.nanolitres,
            reservoirUpperBoundNanolitres: recovered.reservoirUpperBound.nanolitres,
            strokes: recovered.strokes,
            events: events.map { JSONEvent(seq: $0.seq, atNanoseconds: $0.event.at.nanoseconds, at: $0.event.at.description, kind: $0.kindName,
                                           critical: $0.event.kind.isCritical, text: Self.describe($0.event.kind), commandSeq: $0.commandSeq) },
            restarts: restarts.map { JSONRestart(lastSeenNanoseconds: $0.lastSeen.nanoseconds, resumedNanoseconds: $0.resumedAt.nanoseconds,
                                                 durationKnown: $0.durationKnown, missedPicograms: $0.missedPicograms,
                                                 strokesInDoubt: $0.strokesInDoubt, requiresConfirmation: $0.requiresConfirmation) },
            interruptions: interruptions.map { JSONInterruption(atNanoseconds: $0.at.nanoseconds, at: $0.at.description,
                                                                wallNanoseconds: $0.wallNanoseconds, reason: $0.reason) })
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return (try? String(decoding: e.encode(report), as: UTF8.self)) ?? "{}"
    }

    /// One row per event (RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled).
    func csv() -> String {
        func field(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var out = ["seq,at_ns,at,kind,critical,command_seq,text"]
        for r in events {
            out.append([String(r.seq), String(r.event.at.nanoseconds), r.event.at.description, r.kindName, r.event.kind.isCritical ? "1" : "0",
                        r.commandSeq.map(String.init) ?? "", field(Self.describe(r.event.kind))].joined(separator: ","))
        }
        return out.joined(separator: "\n")
    }
}
