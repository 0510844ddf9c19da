import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import HILKit

/// OpenHTF-style measurements in the HIL reports: every check carries its value, unit, limits and
/// outcome; the JUnit file carries them, real durations and timestamps, and parses back.
@Suite("HIL measurements and aggregated JUnit")
struct MeasurementReportTests {
    typealias Synthetic = ScenarioReportTests

    func check(_ r: ScenarioResult, _ prefix: String) throws -> Check {
        try #require(r.checks.first { $0.name.hasPrefix(prefix) }, "no check \(prefix) in \(r.checks.map(\.name))")
    }

    @Test("an accuracy run records A in % against ±E, the STEP pulse count, and step timing p50/p99/max in µs")
    func accuracyMeasurements() throws {
        let r = ScenarioReportTests().run(strokeIntervalUs: 75_000)
        let a = try check(r, "accuracy: overall error")
        let m = try #require(a.measurement)
        #expect(m.unit == "%" && m.lower == -5 && m.upper == 5)
        #expect(m.value == r.trumpet?.overallPercent)
        #expect(a.outcome == "PASS")
        #expect(a.seconds > 10.4 && a.seconds < 10.6, "the accuracy window is 140 × 75 ms")
        let pulses = try #require(try check(r, "accuracy: STEP pulses").measurement)
        #expect(pulses.value == 1120 && pulses.unit == "pulses" && pulses.lower == 8)
        let p99 = try #require(try check(r, "timing: step period error p99").measurement)
        #expect(p99.unit == "µs" && p99.value == 0 && p99.lower == nil && p99.upper == nil)
        #expect(try check(r, "timing: STEP pulse width p50").measurement?.value == 50)
        #expect(try check(r, "timing: stroke time error max").measurement?.value == 0)
    }

    @Test("an out-of-limit value fails its check: a pump 10 % slow records A ≈ −9 % outside ±5 %")
    func outOfLimit() throws {
        let r = ScenarioReportTests().run(strokeIntervalUs: 82_500)
        let a = try check(r, "accuracy: overall error")
        let v = try #require(a.measurement?.value)
        #expect(v < -5 && a.outcome == "FAIL" && !a.passed)
        #expect(!r.passed)
    }

    @Test("limits are inclusive; a missing value or one outside either limit fails")
    func limits() {
        let m = { (v: Double?) in Check.measured("x", Measurement(value: v, unit: "s", lower: 0, upper: 1), detail: "") }
        #expect(m(0).passed && m(1).passed && m(0.5).passed)
        #expect(!m(1.000001).passed && !m(-0.001).passed && !m(nil).passed && !m(.nan).passed)
        #expect(Check.measured("recorded", Measurement(value: 7, unit: "µs"), detail: "").passed)
        #expect(!Check.measured("recorded", Measurement(value: nil, unit: "µs"), detail: "").passed)
    }

    @Test("trace assertions carry their measurement; an alarm onset between command and reply records its latency")
    func traceMeasurements() throws {
        // LED_HIGH never rises; ENABLE's first write (1.0 s) is its initial value, not an edge: its first
        // rise is the second stroke's, 0.075 s after `from`; the marks span 10 strokes (0.75 s).
        let checks = """
        trace ENABLE rises_within 0.1 after from
        trace ENABLE rises_between from to min 1
        trace LED_HIGH rises_between from to min 1
        trace * sets_after end max 0
        trace ENABLE value_at end 0
        """
        let r = ScenarioReportTests().run(strokeIntervalUs: 75_000, strokes: 10, guest: "", checks: checks)
        let within = try #require(r.checks[0].measurement)
        #expect(within.unit == "s" && within.upper == 0.1 && within.value == 0.075 && r.checks[0].passed)
        let onset = try #require(r.checks.first { $0.name.hasPrefix("onset: ENABLE") })
        #expect(onset.passed && onset.measurement?.value == 0.075 && onset.measurement?.upper == 0.75)
        let noOnset = try #require(r.checks.first { $0.name.hasPrefix("onset: LED_HIGH") })
        #expect(!noOnset.passed && noOnset.measurement?.value == nil && noOnset.outcome == "FAIL")
        let count = try #require(r.checks.first { $0.name == "trace: LED_HIGH rises_between from to min 1" })
        #expect(count.measurement == Measurement(value: 0, unit: "rising edges", lower: 1, upper: nil) && !count.passed)
        #expect(r.checks.first { $0.name.hasPrefix("trace: * sets_after") }?.measurement == Measurement(value: 0, unit: "writes", upper: 0))
        #expect(r.checks.last?.measurement == Measurement(value: 0, unit: "level", lower: 0, upper: 0))
    }

    @Test("guest checks take their duration from the guest's uptime stamps")
    func guestDurations() {
        let run = ScenarioRun(meta: "scenario s\ngeneration v1\nstarted_uptime_ms 1000\n",
                              guestChecks: "PASS\tctl:0 status\tok\t1250\nFAIL\texit:0\trc=1\t3750\nPASS\told format\tno stamp\n",
                              traceChecks: "", lineMap: "", trace: "")
        let r = run.evaluate()
        #expect(r.checks.prefix(3).map(\.seconds) == [0.25, 2.5, 0])
        #expect(r.checks[1].detail == "rc=1" && !r.checks[1].passed)
    }

    static let log = "[v1/acc] PASS status:x — ok <done> & \"quoted\"\n"

    /// Two synthetic scenario runs, one passing, one 10 % slow, as one aggregated document.
    func document() -> (JUnitDocument, [ScenarioResult]) {
        var suites: [JUnitReport] = [], results: [ScenarioResult] = []
        for (gen, interval) in [("v1", Int64(75_000)), ("v2", 82_500)] {
            let end = 1_000_000 + 140 * interval
            let t = Synthetic.trace(strokes: 140, intervalUs: interval, marks: [("running", 999_500), ("from", 1_000_000), ("to", end), ("end", end + 10)])
            let run = ScenarioRun(meta: "scenario acc\ngeneration \(gen)\nscale 240\nseed 7\naccel tcg\nstarted_uptime_ms 100\nstarted_utc 2026-11-28T09:40:0\(gen.last!)Z\nwall_ms 12345\n",
                                  guestChecks: "PASS\tstatus:x\tok\t600\n", traceChecks: Synthetic.accuracy, lineMap: Synthetic.lines, trace: t)
            let r = run.evaluate()
            results.append(r)
            suites.append(r.junit(run: run, timestamp: "2000-01-01T00:00:00Z", systemOut: Self.log))
        }
        return (JUnitDocument(name: "hil", suites: suites), results)
    }

    @Test("one aggregated junit.xml parses back: a suite per run with timestamps, wall times, case durations, measurements and the guest log")
    func aggregatedJUnit() throws {
        let (doc, results) = document()
        let parsed = try ParsedJUnit(doc.xml)
        let root = try #require(parsed.elements.first)
        #expect(root.name == "testsuites")
        let total = results.reduce(0) { $0 + $1.checks.count }
        #expect(root.attributes["tests"] == "\(total)")
        #expect(root.attributes["failures"] == "\(results[1].checks.filter { !$0.passed }.count)" && results[1].checks.contains { !$0.passed })
        let suites = parsed.elements.filter { $0.name == "testsuite" }
        #expect(suites.map { $0.attributes["name"] } == ["hil.v1.acc", "hil.v2.acc"])
        #expect(suites.map { $0.attributes["timestamp"] } == ["2026-11-28T09:40:01Z", "2026-11-28T09:40:02Z"])
        #expect(suites.allSatisfy { $0.attributes["time"] == "12.345" })
        let cases = parsed.elements.filter { $0.name == "testcase" }
        #expect(cases.count == total)
        for c in cases { #expect(Double(c.attributes["time"] ?? "") != nil, "\(c.attributes)") }
        let accuracyCase = try #require(cases.first { $0.attributes["name"]?.hasPrefix("accuracy: overall error") == true })
        #expect(Double(accuracyCase.attributes["time"]!)! > 10, "the case lasts its accuracy window")
        let guestCase = try #require(cases.first { $0.attributes["name"] == "guest: status:x" })
        #expect(guestCase.attributes["time"] == "0.500")
        // Measurement properties, in document order: the first A record is the passing v1 run's.
        let props = parsed.elements.filter { $0.name == "property" }.map { ($0.attributes["name"] ?? "", $0.attributes["value"] ?? "") }
        #expect(props.contains { $0 == ("unit", "%") } && props.contains { $0 == ("lower", "-5.0") } && props.contains { $0 == ("upper", "5.0") })
        #expect(props.contains { $0 == ("outcome", "FAIL") } && props.contains { $0 == ("libgpiod", "v2") })
        #expect(props.contains { $0 == ("accel", "tcg") }, "the suite says which qemu accelerator ran the guest")
        #expect(parsed.text["system-out"] == Self.log + Self.log, "the guest log round-trips through the XML escaping")
        #expect(parsed.elements.filter { $0.name == "failure" }.count == results[1].checks.filter { !$0.passed }.count)
    }

    @Test("summary.json carries name, value, unit, limits, outcome and duration for every check")
    func summaryJSON() throws {
        let (_, results) = document()
        let json = results[1].json(meta: [("scenario", "acc")])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.count == results[1].checks.count)
        for c in checks {
            for key in ["name", "outcome", "passed", "value", "unit", "lower", "upper", "seconds", "detail"] { #expect(c[key] != nil, "\(key) in \(c)") }
        }
        let a = try #require(checks.first { ($0["name"] as? String)?.hasPrefix("accuracy: overall error") == true })
        #expect(a["outcome"] as? String == "FAIL" && a["unit"] as? String == "%" && a["lower"] as? Double == -5 && a["upper"] as? Double == 5)
        #expect((a["value"] as? Double).map { $0 < -5 } == true)
    }
}

/// The elements of an XML document in order, with their attributes, and the text of each element name.
final class ParsedJUnit: NSObject, XMLParserDelegate {
    struct Element { let name: String; let attributes: [String: String] }
    var elements: [Element] = []
    var text: [String: String] = [:]
    private var open: [String] = []

    init(_ xml: String) throws {
        super.init()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = self
        guard parser.parse() else { throw parser.parserError ?? CocoaError(.fileReadCorruptFile) }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        elements.append(Element(name: name, attributes: attributes)); open.append(name)
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { open.removeLast() }
    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let top = open.last, top == "system-out" || top == "failure" { text[top, default: ""] += string }
    }
}
