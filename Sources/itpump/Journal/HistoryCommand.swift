import ArgumentParser
import PumpJournal

/// `itpump history`: a clinician programmer's interrogation of the journal.
struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the therapy journal: current state, alarm history, refills, dose changes, restarts.")

    @Option(help: "The journal file.", completion: .file())
    var journal: String = "itpump.journal"
    @Option(help: "Only events at or after this instant: nanoseconds, a span since the origin (36h, 2d12h) or d+hh:mm:ss.")
    var since: String?
    @Option(help: "Only these event kinds or groups (alarms, refills, doses, boluses, refusals, delivery); repeatable.")
    var kind: [String] = []
    @Option(help: "Output format (csv lists the events).")
    var format: HistoryReport.Format = .text

    func run() throws {
        let f = format
        // A --since or --kind that cannot be read is a usage error (exit 64), found before the journal is opened.
        let query: HistoryQuery
        do {
            query = HistoryQuery(since: try since.map { s throws(HistoryError) in try HistoryQuery.instant(from: s) },
                                 kinds: try HistoryQuery.kinds(from: kind))
        } catch { throw usageError(error.description, command: "history") }
        let j = try Journal.open(at: journal, access: .readOnly)
        print(try HistoryReport(journal: j, query: query).render(f))
    }
}

extension HistoryReport.Format: ExpressibleByArgument {}
