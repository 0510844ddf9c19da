import ArgumentParser
import Foundation
import ITPumpFiles
import PumpSim

extension Fidelity: ExpressibleByArgument {}

/// `itpump simulate SCENARIO`: runs a scenario file on the simulated pump and prints its report.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario on the simulated pump and report delivery, alarms and the withdrawal-risk window.")

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case text, json, csv }

    @Argument(help: "Scenario file (kind: scenario).", completion: .file(extensions: ["yaml", "yml"]))
    var scenario: String
    @Option(help: "Report format (json and csv carry the version, the inputs' SHA-256 and the seed).")
    var format: OutputFormat = .text
    @Option(help: "Directory for report.html (self-contained), report.json, report.txt, series.csv and plot.svg.", completion: .directory)
    var out: String?
    @Option(help: "stroke (every stroke an event, as on the rig) or fast (batched delivery in closed form).")
    var fidelity: Fidelity = .fast

    func run() throws {
        let s: Scenario
        do { s = try ScenarioFile.load(path: scenario) } catch {
            printError(error.description)
            throw ExitCode(1)
        }
        let provenance = ReportProvenance(inputs: inputDigests([scenario]), seed: s.mechanics.seed, command: commandLine())
        guard out != nil || format == .csv else {
            let result: SimulationResult
            do { result = try SimulationRunner.run(s, fidelity: fidelity) } catch {
                printError("\(scenario): \(error.description)")
                throw ExitCode(1)
            }
            try Self.report(result, format: format, out: out, provenance: provenance)
            return
        }
        // The series streams to a spool file (in --out, else the temporary directory) as the run goes
        // and the reports read it back: memory stays flat however long the run and fine its intervals.
        if let out { try makeOutputDirectory(out) }
        let stream: SeriesStream
        do { stream = try SeriesStream(spoolDirectory: out ?? FileManager.default.temporaryDirectory.path) } catch {
            throw CommandFailure(error.description)
        }
        let result: SimulationResult
        do { result = try SimulationRunner.run(s, fidelity: fidelity, streamingSeriesTo: stream) } catch {
            printError("\(scenario): \(error.description)")
            throw ExitCode(1)
        }
        try Self.report(result, series: stream, format: format, out: out, provenance: provenance)
    }

    /// `report` for a run whose series went to `series`: the CSV and the plot read it back.
    static func report(_ r: SimulationResult, series: SeriesStream, format: OutputFormat, out: String?, provenance: ReportProvenance) throws {
        switch format {
        case .text: print(TextReport.render(r))
        case .json: print(try json(r, provenance: provenance))
        case .csv: SeriesCSV.write(r, series: series, provenance: provenance) { print($0) }
        }
        guard let out else { return }
        let csv = try AtomicFile(out + "/series.csv")
        var pending: [UInt8] = []
        pending.reserveCapacity(1 << 20)
        SeriesCSV.write(r, series: series, provenance: provenance) { line in
            pending.append(contentsOf: line.utf8)
            pending.append(10)
            if pending.count >= 1 << 20 {
                csv.append(Data(pending))
                pending.removeAll(keepingCapacity: true)
            }
        }
        csv.append(Data(pending))
        try csv.commit()
        let plot = SVGPlot.render(r, series: series)
        do {
            try writeFiles([(out + "/report.txt", TextReport.render(r)),
                            (out + "/report.json", try json(r, provenance: provenance)),
                            (out + "/plot.svg", plot),
                            (out + "/report.html", HTMLReport.simulation(r, provenance: provenance, plot: plot))])
        } catch {
            // The set is one result: no series without its reports.
            unlink(out + "/series.csv")
            throw error
        }
        if format == .text { print("\nwrote \(out)/report.html, report.txt, report.json, series.csv, plot.svg") }
    }

    /// Prints `r` in `format` and, with `out`, writes every report file there (shared with
    /// `itpump sweep SWEEP --run K`, so a replayed run gets exactly `simulate`'s report).
    static func report(_ r: SimulationResult, format: OutputFormat, out: String?, provenance: ReportProvenance) throws {
        if let out { try makeOutputDirectory(out) }
        switch format {
        case .text: print(TextReport.render(r))
        case .json: print(try json(r, provenance: provenance))
        case .csv: SeriesCSV.write(r, provenance: provenance) { print($0) }
        }
        if let out {
            var csv = ""
            SeriesCSV.write(r, provenance: provenance) { csv += $0 + "\n" }
            try writeFiles([(out + "/report.txt", TextReport.render(r)),
                            (out + "/report.json", try json(r, provenance: provenance)),
                            (out + "/series.csv", csv),
                            (out + "/plot.svg", SVGPlot.render(r)),
                            (out + "/report.html", HTMLReport.simulation(r, provenance: provenance))])
            if format == .text { print("\nwrote \(out)/report.html, report.txt, report.json, series.csv, plot.svg") }
        }
    }

    static func json(_ r: SimulationResult, provenance: ReportProvenance) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try e.encode(SimulationReport(r, provenance: provenance)), as: UTF8.self)
    }
}

/// The SHA-256 of each input file, for a report's provenance (a file that cannot be read is listed
/// with "unreadable").
func inputDigests(_ paths: [String]) -> [ReportProvenance.Input] {
    paths.map { p in
        ReportProvenance.Input(path: p, sha256: FileManager.default.contents(atPath: p).map { SHA256.hex($0) } ?? "unreadable")
    }
}

/// The command line as typed (arguments with spaces quoted).
func commandLine() -> String {
    (["itpump"] + CommandLine.arguments.dropFirst()).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
}
