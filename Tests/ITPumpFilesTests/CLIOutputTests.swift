import Foundation
import Testing

/// The `itpump` binary's text output as a user reads it: durations people say, nouns in the right
/// number, and the files `--out` writes.
@Suite("itpump output (binary)")
struct CLIOutputTests {
    static var itpump: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("itpump").path
    }
    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    static func run(_ args: [String]) throws -> (status: Int32, out: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: itpump)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: root)
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("demo prints the course length as days, hours and minutes, and '1 day' in the singular")
    func demoDurations() throws {
        let r = try Self.run(["demo", "--late-days", "1"])
        #expect(r.status == 0)
        let course = r.out.split(separator: "\n").first { $0.hasPrefix("course: ") }.map(String.init) ?? ""
        #expect(course.contains(" days ") && course.contains(" h ") && course.contains(" min simulated"), "\(course)")
        #expect(course.contains("last refill 1 day after"), "\(course)")
        #expect(try Regex(#"\d+ns\b|\d+s\d+"#).firstMatch(in: r.out) == nil, "no nanosecond-precision durations")
    }

    @Test("simulate --out writes report.html, and sweep --out summary.json and report.html; '1 job' in the singular")
    func outFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("itpump-cli-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = try Self.run(["simulate", "profiles/scenarios/occlusion.yaml", "--out", dir + "/sim"])
        #expect(s.status == 0)
        #expect(s.out.contains("wrote \(dir)/sim/report.html"))
        #expect(s.out.contains("raised ") && s.out.contains("lead before empty"))
        for f in ["report.html", "report.txt", "report.json", "series.csv", "plot.svg"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/sim/" + f), "\(f)")
        }
        let w = try Self.run(["sweep", "profiles/sweeps/late-refills-small.yaml", "--runs", "12", "--jobs", "1", "--out", dir + "/sweep"])
        #expect(w.status == 0)
        #expect(w.out.contains(", 1 job, "))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/sweep/summary.json"))) as? [String: Any]
        #expect(json?["runsInSweep"] as? Int == 12 && json?["endRun"] as? Int == 12 && json?["name"] as? String == "late refills")
        #expect((json?["zeroDeliveryHoursByPolicy"] as? [Any])?.isEmpty == false)
        let html = try String(contentsOfFile: dir + "/sweep/report.html", encoding: .utf8)
        #expect(html.components(separatedBy: "<svg ").count - 1 == 4)
    }

    @Test("simulate --out streams the series: series.csv is --format csv's output, the plot is in the report, no spool file is left")
    func streamedSeries() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("itpump-cli-stream-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = try Self.run(["simulate", "profiles/scenarios/refill-late-3d.yaml", "--out", dir])
        #expect(s.status == 0)
        let c = try Self.run(["simulate", "profiles/scenarios/refill-late-3d.yaml", "--format", "csv"])
        #expect(c.status == 0)
        let file = try String(contentsOfFile: dir + "/series.csv", encoding: .utf8)
        // The same lines but the command line in the provenance.
        let body = { (t: String) in t.split(separator: "\n").filter { !$0.hasPrefix("# command") } }
        #expect(body(file) == body(c.out))
        #expect(body(file).count > 1_000)
        let svg = try String(contentsOfFile: dir + "/plot.svg", encoding: .utf8)
        let html = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        #expect(svg.contains("<polyline") && html.contains(svg.trimmingCharacters(in: .whitespacesAndNewlines)))
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }
        #expect(left.isEmpty, "\(left)")
    }
}
