import Foundation
import PumpCore
import Yams

/// Reads rig files (`kind: rig`, YAML). See `profiles/rigs/` for examples and `hardware/README.md` for
/// the format. Every error names the file, the line, the field, the value and what is allowed.
///
/// ```yaml
/// kind: rig
/// name: Raspberry Pi 4/5 header
/// chip: gpiochip0
/// driver: a4988
/// stepper: { stepsPerStroke: 200, pulseWidth: 10us, stepRate: 1000, dirSetup: 10us, enableSetup: 2ms }
/// outputs: { step: GPIO17, dir: GPIO27, enable: { line: GPIO22, activeLow: true }, ... }
/// inputs:  { occlusion: { line: GPIO5, activeLow: true, bias: pull-up }, ... }
/// ```
public enum RigFile {
    /// Largest rig file read (a rig file is a few dozen lines).
    public static let maximumSize = 64 * 1024

    /// Loads and validates the rig file at `path`; throws the first error (`check(path:)` lists all).
    public static func load(path: String) throws(RigFileError) -> RigDescription {
        try parse(yaml: text(ofFile: path), file: path)
    }

    /// Parses and validates rig YAML; `file` names it in errors. Throws the first error.
    public static func parse(yaml: String, file: String) throws(RigFileError) -> RigDescription {
        var r = RigReader(file: file)
        let rig = try r.read(compose(yaml, file: file))
        if let first = r.errors(of: rig).first { throw first }
        return rig
    }

    /// Every error of the rig file at `path` (empty when `load(path:)` would succeed): the same checks
    /// and messages as `load`. The reader stops at the first error of form (unreadable, syntax, an
    /// unknown, missing, repeated or mistyped field: what follows cannot be read reliably); a rig that
    /// reads has every rule it breaks listed (timing, roles, lines used twice, alarm patterns).
    public static func check(path: String) -> [RigFileError] {
        do { return try check(yaml: text(ofFile: path), file: path) } catch { return [error] }
    }

    /// Every error of rig YAML named `file` (see `check(path:)`); the size limit applies as on load.
    public static func check(yaml: String, file: String) -> [RigFileError] {
        let size = yaml.utf8.count
        guard size <= maximumSize else { return [tooLarge(size, file: file)] }
        var r = RigReader(file: file)
        let rig: RigDescription
        do { rig = try r.read(compose(yaml, file: file)) } catch { return [error] }
        // After `read`: it records the lines the errors point at.
        return r.errors(of: rig)
    }

    /// The text of `path`: readable, at most `maximumSize` bytes, UTF-8.
    static func text(ofFile path: String) throws(RigFileError) -> String {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadable(file: path, reason: (error as NSError).localizedDescription)
        }
        guard data.count <= maximumSize else { throw tooLarge(data.count, file: path) }
        guard let text = String(data: data, encoding: .utf8) else { throw .unreadable(file: path, reason: "not UTF-8 text") }
        return text
    }

    static func tooLarge(_ size: Int, file: String) -> RigFileError {
        .unreadable(file: file, reason: "\(size) bytes; a rig file is at most \(maximumSize)")
    }

    static func compose(_ yaml: String, file: String) throws(RigFileError) -> Node {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch { throw syntaxError(error, file: file) }
        guard let root else { throw .missingField(file: file, line: 1, field: "kind") }
        return root
    }

    static func syntaxError(_ error: any Error, file: String) -> RigFileError {
        if let y = error as? YamlError {
            switch y {
            case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
                return .syntax(file: file, line: mark.line, column: mark.column, problem: problem)
            case let .duplicatedKeysInMapping(duplicates, context):
                return .duplicateKey(file: file, line: context.mark.line, field: duplicates.joined(separator: ", "))
            default: break
            }
        }
        return .syntax(file: file, line: 1, column: 1, problem: "\(error)")
    }
}

/// Walks the YAML tree, remembering where each field was so validation problems point at a line.
struct RigReader {
    let file: String
    /// Line of each field path read (for validation problems).
    var lines: [String: Int] = [:]

    init(file: String) { self.file = file }

    static let topKeys = ["kind", "name", "chip", "driver", "stepper", "feedbackTimeout", "outputs", "inputs", "alarms"]
    static let stepperKeys = ["stepsPerStroke", "pulseWidth", "stepRate", "dirSetup", "enableSetup"]
    static let lineKeys = ["line", "chip", "activeLow", "bias"]

    /// Reads the rig's fields, throwing the first error of form; the rig's rules are `errors(of:)`.
    mutating func read(_ root: Node) throws(RigFileError) -> RigDescription {
        let top = try mapping(root, field: "(document)", allowed: Self.topKeys)
        let kind = try string(require(top, "kind", in: root), field: "kind")
        guard kind == "rig" else {
            throw .invalid(file: file, line: line(top["kind"]), RigProblem(field: "kind", value: kind, problem: "not a rig file", allowed: "rig"))
        }
        let name = try string(require(top, "name", in: root), field: "name")
        let chip = try string(require(top, "chip", in: root), field: "chip")
        let driverText = try string(require(top, "driver", in: root), field: "driver")
        guard let driver = StepperDriverChip(rawValue: driverText.lowercased()) else {
            throw .invalid(file: file, line: line(top["driver"]), RigProblem(field: "driver", value: driverText, problem: "unknown stepper driver",
                                                                            allowed: StepperDriverChip.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        let stepperNode = try require(top, "stepper", in: root)
        let st = try mapping(stepperNode, field: "stepper", allowed: Self.stepperKeys)
        let stepper = StepperTiming(
            stepsPerStroke: try int(require(st, "stepsPerStroke", in: stepperNode, parent: "stepper"), field: "stepper.stepsPerStroke"),
            pulseWidth: try duration(require(st, "pulseWidth", in: stepperNode, parent: "stepper"), field: "stepper.pulseWidth"),
            stepRate: Int64(try int(require(st, "stepRate", in: stepperNode, parent: "stepper"), field: "stepper.stepRate")),
            dirSetup: try duration(require(st, "dirSetup", in: stepperNode, parent: "stepper"), field: "stepper.dirSetup"),
            enableSetup: try duration(require(st, "enableSetup", in: stepperNode, parent: "stepper"), field: "stepper.enableSetup"))
        var feedbackTimeout = TimeSpan.milliseconds(50)
        if let n = top["feedbackTimeout"] { feedbackTimeout = try duration(n, field: "feedbackTimeout") }

        var lineMap: [RigRole: RigLine] = [:]
        for (section, isOutput) in [("outputs", true), ("inputs", false)] {
            let sectionNode = try require(top, section, in: root)
            let roles = RigRole.allCases.filter { $0.isOutput == isOutput }
            let m = try mapping(sectionNode, field: section, allowed: roles.map(\.rawValue))
            for (key, value) in m.pairs {
                guard let role = RigRole(rawValue: key) else { continue }
                lineMap[role] = try rigLine(value, field: "\(section).\(key)", defaultChip: chip)
            }
        }
        var alarms = AlarmPatterns.standard
        if let a = top["alarms"] { alarms = try alarmPatterns(a) }
        return RigDescription(name: name, driver: driver, stepper: stepper, lines: lineMap, alarms: alarms, feedbackTimeout: feedbackTimeout)
    }

    /// Every rule `rig` (as read by `read`) breaks, each at the line of its field.
    func errors(of rig: RigDescription) -> [RigFileError] {
        rig.problems().map { .invalid(file: file, line: lineOf(field: $0.field), $0) }
    }

    /// The line of `field` or of its nearest recorded parent.
    func lineOf(field: String) -> Int {
        var f = field
        while true {
            if let l = lines[f] { return l }
            guard let dot = f.lastIndex(of: ".") else { return lines["(document)"] ?? 1 }
            f = String(f[..<dot])
        }
    }

    // MARK: Pieces

    mutating func rigLine(_ node: Node, field: String, defaultChip: String) throws(RigFileError) -> RigLine {
        lines[field] = line(node)
        if case .scalar = node { return RigLine(chip: defaultChip, line: try selector(node, field: field)) }
        let m = try mapping(node, field: field, allowed: Self.lineKeys)
        let sel = try selector(require(m, "line", in: node, parent: field), field: "\(field).line")
        let chip = try m["chip"].map { n throws(RigFileError) in try string(n, field: "\(field).chip") } ?? defaultChip
        let activeLow = try m["activeLow"].map { n throws(RigFileError) in try bool(n, field: "\(field).activeLow") } ?? false
        var bias = RigBias.asIs
        if let b = m["bias"] {
            let text = try string(b, field: "\(field).bias")
            guard let v = RigBias(rawValue: text) else {
                throw .invalid(file: file, line: line(b), RigProblem(field: "\(field).bias", value: text, problem: "unknown bias",
                                                                    allowed: RigBias.allCases.map(\.rawValue).joined(separator: ", ")))
            }
            bias = v
        }
        return RigLine(chip: chip, line: sel, activeLow: activeLow, bias: bias)
    }

    mutating func selector(_ node: Node, field: String) throws(RigFileError) -> RigLineSelector {
        let text = try string(node, field: field)
        if let o = UInt32(text) { return .offset(o) }
        return .name(text)
    }

    mutating func alarmPatterns(_ node: Node) throws(RigFileError) -> AlarmPatterns {
        var out = AlarmPatterns.standard
        let m = try mapping(node, field: "alarms", allowed: AlarmPriority.allCases.map(\.description))
        for p in AlarmPriority.allCases {
            guard let pn = m[p.description] else { continue }
            let f = "alarms.\(p)"
            let pm = try mapping(pn, field: f, allowed: ["led", "buzzer"])
            if let led = pm["led"] {
                lines["\(f).led"] = line(led)
                if case let .scalar(s) = led, s.string == "steady" {
                    out.led[p] = .steady()
                } else {
                    let lm = try mapping(led, field: "\(f).led", allowed: ["on", "period"])
                    out.led[p] = LEDPattern(on: try duration(require(lm, "on", in: led, parent: "\(f).led"), field: "\(f).led.on"),
                                            period: try duration(require(lm, "period", in: led, parent: "\(f).led"), field: "\(f).led.period"))
                }
            }
            if let bz = pm["buzzer"] {
                let bm = try mapping(bz, field: "\(f).buzzer", allowed: ["beeps", "on", "off"])
                out.buzzer[p] = BuzzerPattern(
                    beeps: try int(require(bm, "beeps", in: bz, parent: "\(f).buzzer"), field: "\(f).buzzer.beeps"),
                    on: try duration(require(bm, "on", in: bz, parent: "\(f).buzzer"), field: "\(f).buzzer.on"),
                    off: try duration(require(bm, "off", in: bz, parent: "\(f).buzzer"), field: "\(f).buzzer.off"))
            }
        }
        lines["alarms.buzzer"] = line(node)
        return out
    }

    // MARK: Typed access

    func line(_ node: Node?) -> Int { node?.mark?.line ?? 1 }

    /// A mapping's pairs by key; refuses non-mappings, non-scalar keys, duplicates and unknown keys.
    mutating func mapping(_ node: Node, field: String, allowed: [String]) throws(RigFileError) -> Fields {
        guard case let .mapping(m) = node else {
            throw .wrongType(file: file, line: line(node), field: field, value: brief(node), expected: "a mapping of \(allowed.joined(separator: ", "))")
        }
        lines[field] = line(node)
        var fields = Fields()
        for (k, v) in m {
            guard case let .scalar(ks) = k else {
                throw .wrongType(file: file, line: line(k), field: field, value: brief(k), expected: "text keys")
            }
            let key = ks.string
            let path = field == "(document)" ? key : "\(field).\(key)"
            guard allowed.contains(key) else { throw .unknownField(file: file, line: line(k), field: path, allowed: allowed) }
            guard fields[key] == nil else { throw .duplicateKey(file: file, line: line(k), field: path) }
            fields.pairs.append((key, v))
            lines[path] = line(v)
        }
        return fields
    }

    func require(_ fields: Fields, _ key: String, in parent: Node, parent name: String? = nil) throws(RigFileError) -> Node {
        guard let n = fields[key] else {
            throw .missingField(file: file, line: line(parent), field: name.map { "\($0).\(key)" } ?? key)
        }
        return n
    }

    func string(_ node: Node, field: String) throws(RigFileError) -> String {
        guard case let .scalar(s) = node, !s.string.isEmpty else {
            throw .wrongType(file: file, line: line(node), field: field, value: brief(node), expected: "text")
        }
        return s.string
    }

    func int(_ node: Node, field: String) throws(RigFileError) -> Int {
        guard case let .scalar(s) = node, let v = Int(s.string) else {
            throw .wrongType(file: file, line: line(node), field: field, value: brief(node), expected: "a whole number")
        }
        return v
    }

    func bool(_ node: Node, field: String) throws(RigFileError) -> Bool {
        guard case let .scalar(s) = node, ["true", "false"].contains(s.string) else {
            throw .wrongType(file: file, line: line(node), field: field, value: brief(node), expected: "true or false")
        }
        return s.string == "true"
    }

    func duration(_ node: Node, field: String) throws(RigFileError) -> TimeSpan {
        guard case let .scalar(s) = node, let d = DurationText.parse(s.string) else {
            throw .wrongType(file: file, line: line(node), field: field, value: brief(node),
                             expected: "a duration such as 5us, 1.9us, 250ms, 2s (units ns, us, ms, s, m, h, d)")
        }
        return d
    }

    func brief(_ node: Node) -> String {
        switch node {
        case let .scalar(s): let t = s.string; return t.count > 40 ? String(t.prefix(40)) + "…" : (t.isEmpty ? "\"\"" : t)
        case .mapping: return "(a mapping)"
        case .sequence: return "(a list)"
        case .alias: return "(an alias)"
        }
    }
}

/// A mapping's key/value pairs in file order.
struct Fields {
    var pairs: [(String, Node)] = []
    subscript(key: String) -> Node? { pairs.first { $0.0 == key }?.1 }
}
