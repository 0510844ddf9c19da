/// A JUnit XML report as CI systems read it: one suite with properties (scenario, seed, rig, …) and a
/// test case per check.
public struct JUnitReport: Sendable {
    public struct Case: Sendable {
        public var name: String
        public var className: String
        public var seconds: Double
        /// nil when the check passed.
        public var failure: String?
        public var skipped: String?
        public init(name: String, className: String, seconds: Double = 0, failure: String? = nil, skipped: String? = nil) {
            self.name = name; self.className = className; self.seconds = seconds; self.failure = failure; self.skipped = skipped
        }
    }
    public var suite: String
    public var properties: [(String, String)]
    public var cases: [Case] = []
    /// ISO 8601 start time as the caller formats it (the library reads no clock).
    public var timestamp: String?

    public init(suite: String, properties: [(String, String)] = [], timestamp: String? = nil) {
        self.suite = suite; self.properties = properties; self.timestamp = timestamp
    }

    public var failures: Int { cases.filter { $0.failure != nil }.count }

    public var xml: String {
        let total = cases.reduce(0) { $0 + $1.seconds }
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        s += "<testsuites tests=\"\(cases.count)\" failures=\"\(failures)\" time=\"\(total)\">\n"
        s += "  <testsuite name=\"\(xmlEscape(suite))\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"\(cases.filter { $0.skipped != nil }.count)\" time=\"\(total)\""
        if let timestamp { s += " timestamp=\"\(xmlEscape(timestamp))\"" }
        s += ">\n"
        if !properties.isEmpty {
            s += "    <properties>\n"
            for (k, v) in properties { s += "      <property name=\"\(xmlEscape(k))\" value=\"\(xmlEscape(v))\"/>\n" }
            s += "    </properties>\n"
        }
        for c in cases {
            s += "    <testcase name=\"\(xmlEscape(c.name))\" classname=\"\(xmlEscape(c.className))\" time=\"\(c.seconds)\""
            if let f = c.failure {
                s += ">\n      <failure message=\"\(xmlEscape(String(f.prefix(200))))\">\(xmlEscape(f))</failure>\n    </testcase>\n"
            } else if let k = c.skipped {
                s += ">\n      <skipped message=\"\(xmlEscape(k))\"/>\n    </testcase>\n"
            } else {
                s += "/>\n"
            }
        }
        s += "  </testsuite>\n</testsuites>\n"
        return s
    }
}
