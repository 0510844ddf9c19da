import Foundation
import Testing
import PumpCore
@testable import PumpJournal

/// Text a clinician typed (an override's reason and name) reaches `itpump history` escaped: a line
/// break or an ANSI escape that got into a journal (by any path, not only the control channel, which
/// refuses them) cannot forge a report line or reach the terminal raw.
@Suite("History escaping")
struct HistoryEscapingTests {
    static let hostile = "infection\n  #999  0d+00:00:00  ALARM everything cleared\u{1B}[2J\u{1B}[32m"

    static func journal() throws -> String {
        let path = try temporaryDirectory() + "/j"
        var pump = try JournaledPump.create(at: path, controller: try runningController(dose: 600), driver: RecordingDriver(), wallNanoseconds: wall())
        try pump.run(until: .zero + .hours(2), wallNanoseconds: wall(1))
        let r = try pump.handle(.stop(taperDays: 7, override: EmergencyOverride(reason: hostile, clinician: "Dr\u{9B}31m A\u{202E}")),
                                at: .zero + .hours(2), source: "test", wallNanoseconds: wall(2))
        #expect(r.isAccepted)
        return path
    }

    @Test("text, csv and json carry no control character, and the override is still readable", arguments: HistoryReport.Format.allCases)
    func noRawControlCharacters(format: HistoryReport.Format) throws {
        let j = try Journal.open(at: try Self.journal(), access: .readOnly)
        let out = try HistoryReport(journal: j, query: HistoryQuery()).render(format)
        let allowedBreaks: Set<Unicode.Scalar> = ["\n"]
        #expect(!out.unicodeScalars.contains { PrintableText.isUnsafe($0) && !allowedBreaks.contains($0) }, "\(out.debugDescription)")
        // In JSON the escape's backslash is itself escaped.
        func shown(_ s: String) -> String { format == .json ? s.replacingOccurrences(of: "\\", with: "\\\\") : s }
        #expect(out.contains(shown(#"infection\u{A}  #999"#)), "\(out)")
        #expect(out.contains(shown(#"\u{1B}[2J\u{1B}[32m"#)) && out.contains(shown(#"Dr\u{9B}31m A\u{202E}"#)))
        // The forged row is not a row: every line that starts like an event row is a real one.
        if format == .text {
            #expect(!out.split(separator: "\n").contains { $0.hasPrefix("  #999") })
        }
    }
}
