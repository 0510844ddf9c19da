import Foundation
import Testing
import PumpCore
@testable import PumpJournal

@Suite("History")
struct HistoryTests {
    /// A journal with a dose change, a refusal, a therapy-day total and a restart.
    static func journal() throws -> String {
        let path = try temporaryDirectory() + "/j"
        var pump = try JournaledPump.create(at: path, controller: try runningController(dose: 600), driver: RecordingDriver(), wallNanoseconds: wall())
        try pump.run(until: .zero + .hours(26), wallNanoseconds: wall(1))
        _ = try pump.handle(.program(.continuous(.microgramsPerDay(700))), at: .zero + .hours(26), source: "test", wallNanoseconds: wall(2))
        _ = try pump.handle(.program(.continuous(.microgramsPerDay(100))), at: .zero + .hours(26), source: "test", wallNanoseconds: wall(3))
        pump.journal.abandon()
        _ = try JournaledPump.resume(at: path, driver: RecordingDriver(), wallNanoseconds: wall(3 + 3600))
        return path
    }

    @Test("text: current state, alarm history, dose changes and restarts")
    func text() throws {
        let j = try Journal.open(at: try Self.journal(), access: .readOnly)
        let out = try HistoryReport(journal: j, query: HistoryQuery()).render(.text)
        #expect(out.contains("therapy          running since 0d+01:00:00"))
        #expect(out.contains("programmed continuous 700 μg/day: 600 μg/day → 700 μg/day"))
        #expect(out.contains("ALARM therapyInterruption (high) raised: controller was down for 1h"))
        #expect(out.contains("controller restarts (1):"))
        #expect(out.contains("REFUSED program(continuous 100 μg/day)"))
    }

    @Test("json is valid and carries the events and the reservoir bounds in nL")
    func json() throws {
        let j = try Journal.open(at: try Self.journal(), access: .readOnly)
        let out = try HistoryReport(journal: j, query: HistoryQuery(kinds: try HistoryQuery.kinds(from: ["doses"]))).render(.json)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let events = try #require(object["events"] as? [[String: Any]])
        #expect(events.map { $0["kind"] as? String } == ["scheduleProgrammed", "deliveryResumed"])
        let low = try #require(object["reservoirNanolitres"] as? Int64), high = try #require(object["reservoirUpperBoundNanolitres"] as? Int64)
        #expect(low <= high)
    }

    @Test("csv: a header, one row per event, fields with commas quoted")
    func csv() throws {
        let j = try Journal.open(at: try Self.journal(), access: .readOnly)
        let out = try HistoryReport(journal: j, query: HistoryQuery(since: .zero + .hours(26))).render(.csv)
        let lines = out.split(separator: "\n")
        #expect(lines.first == "seq,at_ns,at,kind,critical,command_seq,text")
        // Six plain fields, then the text (quoted when it holds a comma or a quote).
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",", maxSplits: 6, omittingEmptySubsequences: false)
            #expect(fields.count == 7)
            if let text = fields.last, text.contains(",") { #expect(text.hasPrefix("\"") && text.hasSuffix("\"")) }
        }
        #expect(lines.contains { $0.hasSuffix(",scheduleProgrammed,0,1,programmed continuous 700 μg/day: 600 μg/day → 700 μg/day (1.4000 mL/day)") })
        #expect(!lines.contains { $0.contains("dailyDelivery") }, "--since 26h leaves out the day-1 total at 25 h")
    }

    static let instants: [(String, Int64)] = [
        ("90000000000", 90_000_000_000), ("36h", 36 * 3_600_000_000_000), ("2d12h", 60 * 3_600_000_000_000),
        ("1d+12:30:00", (36 * 60 + 30) * 60_000_000_000), ("45s", 45_000_000_000),
    ]

    @Test("instants parse", arguments: instants)
    func parse(text: String, expected: Int64) throws {
        #expect(try HistoryQuery.instant(from: text) == Instant(nanoseconds: expected))
    }

    @Test("bad instants say what to write", arguments: ["", "12x", "h", "1d+25:00:00"])
    func badInstant(text: String) {
        #expect(throws: HistoryError.badInstant(text)) { try HistoryQuery.instant(from: text) }
    }

    @Test("kind groups expand; an unknown kind is refused with the list")
    func kinds() throws {
        #expect(try HistoryQuery.kinds(from: ["alarms", "refilled"]) == ["alarmRaised", "alarmCleared", "alarmAcknowledged", "refilled"])
        #expect(try HistoryQuery.kinds(from: []) == nil)
        #expect(throws: HistoryError.self) { try HistoryQuery.kinds(from: ["alarm"]) }
    }
}

/// A journal created before the first fill has no concentration: the interrogation must still render
/// (it used to stop on the volume-rate precondition).
@Suite("History of an unfilled pump")
struct HistoryUnfilledTests {
    @Test("every format renders for a journal whose reservoir was never filled")
    func unfilled() throws {
        let path = try temporaryDirectory() + "/unfilled"
        let controller = try PumpController(profile: .bench20)
        #expect(controller.reservoir.concentration == .none)
        _ = try Journal.create(at: path, controller: controller, wallNanoseconds: 0)
        let j = try Journal.open(at: path, access: .readOnly)
        for format in HistoryReport.Format.allCases {
            let out = try HistoryReport(journal: j, query: HistoryQuery()).render(format)
            #expect(!out.isEmpty)
        }
        let text = try HistoryReport(journal: j, query: HistoryQuery()).render(.text)
        #expect(text.contains("reservoir not filled"))
    }
}

@Suite("History --since range")
struct HistorySinceRangeTests {
    @Test("an instant past Int64 nanoseconds, or negative, is refused with the range, never a trap",
          arguments: ["106752d", "9223372037s", "2562048h", "106751d+23:59:59", "99999999999999999999d", "-5", "-1d", "106751d23h47m17s"])
    func outOfRange(text: String) {
        #expect(throws: HistoryError.instantOutOfRange(text)) { try HistoryQuery.instant(from: text) }
        #expect(HistoryError.instantOutOfRange(text).description.contains("0 … 106751d23h47m16s"))
    }

    @Test("the largest instant is accepted exactly")
    func largest() throws {
        #expect(try HistoryQuery.instant(from: "106751d23h47m16s") == Instant(nanoseconds: 106_751 * 86_400_000_000_000 + ((23 * 60 + 47) * 60 + 16) * 1_000_000_000))
        #expect(try HistoryQuery.instant(from: "9223372036854775807") == Instant(nanoseconds: .max))
    }
}
