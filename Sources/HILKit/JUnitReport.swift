/// One JUnit test suite as CI systems read it: properties (scenario, seed, rig, …), a test case per
/// check (each with its measurement as test-case properties), the suite's real duration and start time,
/// and the guest's log as `<system-out>`. `JUnitDocument` aggregates suites into one file.
public struct JUnitReport: Sendable {
    public struct Case: Sendable {
        public var name: String
        public var className: String
        /// Duration of the check, seconds (≥ 0).
        public var seconds: Double
        /// nil when the check passed.
        public var failure: String?
        public var skipped: String?
        /// Written as `<properties>` inside the test case (the measurement: value, unit, limits, outcome).
        public var properties: [(String, String)]
        public init(name: String, className: String, seconds: Double = 0, failure: String? = nil, skipped: String? = nil,
                    properties: [(String, String)] = []) {
            self.name = name; self.className = className; self.seconds = seconds; self.failure = failure; self.skipped = skipped
            self.properties = properties
        }
    }
    public var suite: String
    public var properties: [(String, String)]
    public var cases: [Case] = []
    /// ISO 8601 start time as the caller formats it (the library reads no clock).
    public var timestamp: String?
    /// The suite's wall duration, seconds; nil: the sum of its cases' durations.
    public var seconds: Double?
    /// Written as the suite's `<system-out>` (e.g. the guest log of the scenario).
    public var systemOut: String?

    public init(suite: String, properties: [(String, String)] = [], timestamp: String? = nil) {
        self.suite = suite; self.properties = properties; self.timestamp = timestamp
    }

    public var failures: Int { cases.filter { $0.failure != nil }.count }
    public var skips: Int { cases.filter { $0.skipped != nil }.count }
    /// The suite's `time`: its wall duration when known, else the sum of its cases.
    public var totalSeconds: Double { seconds ?? cases.reduce(0) { $0 + $1.seconds } }

    /// A document holding this suite alone.
    public var xml: String { JUnitDocument(suites: [self]).xml }

    var suiteXML: String {
        var s = "  <testsuite name=\"\(xmlEscape(suite))\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"\(skips)\" time=\"\(junitSeconds(totalSeconds))\""
        if let timestamp { s += " timestamp=\"\(xmlEscape(timestamp))\"" }
        s += ">\n"
        if !properties.isEmpty {
            s += "    <properties>\n"
            for (k, v) in properties { s += "      <property name=\"\(xmlEscape(k))\" value=\"\(xmlEscape(v))\"/>\n" }
            s += "    </properties>\n"
        }
        for c in cases {
            s += "    <testcase name=\"\(xmlEscape(c.name))\" classname=\"\(xmlEscape(c.className))\" time=\"\(junitSeconds(c.seconds))\""
            if c.failure == nil && c.skipped == nil && c.properties.isEmpty { s += "/>\n"; continue }
            s += ">\n"
            if !c.properties.isEmpty {
                s += "      <properties>\n"
                for (k, v) in c.properties { s += "        <property name=\"\(xmlEscape(k))\" value=\"\(xmlEscape(v))\"/>\n" }
                s += "      </properties>\n"
            }
            if let f = c.failure {
                s += "      <failure message=\"\(xmlEscape(String(f.prefix(200))))\">\(xmlEscape(f))</failure>\n"
            } else if let k = c.skipped {
                s += "      <skipped message=\"\(xmlEscape(k))\"/>\n"
            }
            s += "    </testcase>\n"
        }
        if let out = systemOut { s += "    <system-out>\(xmlEscape(out))</system-out>\n" }
        s += "  </testsuite>\n"
        return s
    }
}

/// Several suites in one `<testsuites>` file (one per `HIL/run`: every scenario of every generation).
public struct JUnitDocument: Sendable {
    public var name: String?
    public var suites: [JUnitReport]
    public init(name: String? = nil, suites: [JUnitReport]) { self.name = name; self.suites = suites }

    public var xml: String {
        let tests = suites.reduce(0) { $0 + $1.cases.count }, failures = suites.reduce(0) { $0 + $1.failures }
        let skips = suites.reduce(0) { $0 + $1.skips }, total = suites.reduce(0) { $0 + $1.totalSeconds }
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"
        if let name { s += " name=\"\(xmlEscape(name))\"" }
        s += " tests=\"\(tests)\" failures=\"\(failures)\" errors=\"0\" skipped=\"\(skips)\" time=\"\(junitSeconds(total))\">\n"
        for suite in suites { s += suite.suiteXML }
        return s + "</testsuites>\n"
    }
}

/// Seconds with millisecond resolution, never negative or non-finite.
func junitSeconds(_ v: Double) -> String {
    guard v.isFinite, v > 0 else { return "0.000" }
    let ms = Int64((v * 1000).rounded())
    let frac = String(ms % 1000)
    return "\(ms / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
}
