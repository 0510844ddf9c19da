import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import HILKit

struct HILCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hil",
        abstract: "Hardware-in-the-loop analysis tools (see HIL/README.md).",
        subcommands: [HILTrace.self])
}

/// Reads a kernel GPIO trace dumped by the HIL guest and reports one line's edges, STEP strokes and
/// timing. Reading a trace from a real board works the same (tracefs, `events/gpio`).
struct HILTrace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Count a line's edges and strokes in a kernel GPIO trace and summarise step timing.")

    @Argument(help: "The trace file (a copy of /sys/kernel/tracing/trace).")
    var file: String
    @Option(help: "Global GPIO number of the line (chip base + offset).")
    var gpio: Int
    @Option(help: "Steps per stroke, to group STEP pulses into strokes.")
    var stepsPerStroke: Int = 1
    @Option(help: "Nominal step period in μs, to report step-interval errors.")
    var stepPeriodUs: Int64?

    func run() throws {
        guard stepsPerStroke > 0 else { throw ValidationError("--steps-per-stroke must be positive, got \(stepsPerStroke)") }
        let text: String
        do { text = try readWholeFile(file) } catch { throw ValidationError("cannot read \(file): \(error)") }
        let trace = GPIOTrace(text: text)
        let sets = trace.sets(of: gpio)
        let edges = trace.edges(of: gpio)
        let steps = StepAnalysis(edges: edges, stepsPerStroke: stepsPerStroke)
        print("line \(gpio): \(sets.count) writes, \(edges.count) edges, \(steps.rises.count) rising, \(steps.strokes.count) strokes of \(stepsPerStroke) steps (+\(steps.incompleteSteps) steps incomplete)")
        if !trace.malformed.isEmpty { print("warning: \(trace.malformed.count) malformed GPIO trace lines (truncated dump?)") }
        if let w = TimingSummary(absoluteErrors: steps.pulseWidths) { print("pulse width: \(w)") }
        if let period = stepPeriodUs,
           let s = TimingSummary(absoluteErrors: TimingSummary.stepErrors(rises: steps.rises, stepsPerStroke: stepsPerStroke, periodMicroseconds: period)) {
            print("step interval error vs \(period) μs: \(s)")
        }
    }
}

/// Reads a whole file as UTF-8 (lossy) without Foundation.
func readWholeFile(_ path: String) throws -> String {
    guard let f = fopen(path, "rb") else { throw FileReadError(path: path, errno: errno) }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = fread(&buffer, 1, buffer.count, f)
        if n > 0 { bytes.append(contentsOf: buffer[0..<n]) }
        if n < buffer.count { break }
    }
    return String(decoding: bytes, as: UTF8.self)
}

struct FileReadError: Error, CustomStringConvertible {
    let path: String
    let errno: Int32
    var description: String { "\(path): errno \(errno)" }
}
