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

    @Argument(help: "Scenario file (kind: scenario).")
    var scenario: String
    @Option(help: "Report format: text, json or csv (the per-interval time series).")
    var format: OutputFormat = .text
    @Option(help: "Directory for report.html (self-contained), report.json, report.txt, series.csv and plot.svg.")
    var out: String?
    @Option(help: "stroke (every stroke an event, as on the rig) or fast (batched delivery in closed form).")
    var fidelity: Fidelity = .fast

    func run() throws {
        let s: Scenario
        do { s = try ScenarioFile.load(path: scenario) } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
        let keepSeries = out != nil || format == .csv
        let result: SimulationResult
        do { result = try SimulationRunner.run(s, fidelity: fidelity, keepSeries: keepSeries) } catch {
            FileHandle.standardError.write(Data("\(scenario): \(error.description)\n".utf8))
            throw ExitCode(1)
        }
        switch format {
        case .text: print(TextReport.render(result))
        case .json: print(try Self.json(result))
        case .csv: SeriesCSV.write(result) { print($0) }
        }
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try Data(TextReport.render(result).utf8).write(to: URL(fileURLWithPath: out + "/report.txt"))
            try Data(Self.json(result).utf8).write(to: URL(fileURLWithPath: out + "/report.json"))
            var csv = ""
            SeriesCSV.write(result) { csv += $0 + "\n" }
            try Data(csv.utf8).write(to: URL(fileURLWithPath: out + "/series.csv"))
            try Data(SVGPlot.render(result).utf8).write(to: URL(fileURLWithPath: out + "/plot.svg"))
            let provenance = ReportProvenance(inputs: inputDigests([scenario]), seed: s.mechanics.seed, command: commandLine())
            try Data(HTMLReport.simulation(result, provenance: provenance).utf8).write(to: URL(fileURLWithPath: out + "/report.html"))
            if format == .text { print("\nwrote \(out)/report.html, report.txt, report.json, series.csv, plot.svg") }
        }
    }

    static func json(_ r: SimulationResult) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try e.encode(SimulationReport(r)), as: UTF8.self)
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
