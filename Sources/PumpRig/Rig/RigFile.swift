import ITPumpFiles
import PumpCore
import Yams

/// Reads rig files (`kind: rig`, YAML) with ITPumpFiles' reader: the YAML stack, the duration grammar
/// (`QuantitySyntax.duration`) and the diagnostics (`Diagnostic`: file, line, field, value, allowed,
/// message) of every other itpump file. `itpump run --rig` and `itpump validate` both call it, so they
/// print the same text. See `profiles/rigs/` for examples and `profiles/README.md` for the format.
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
///
/// Every problem is reported, in file order: each field of the wrong form (unknown, missing, repeated,
/// mistyped), and, once every field reads, every rule the rig breaks (data-sheet timing, roles, lines
/// used twice, alarm patterns), each at the line of its field.
public enum RigFile {
    /// Largest rig file read (a rig file is a few dozen lines).
    public static let maximumSize = 64 * 1024

    /// Loads and validates the rig file at `path`; throws every diagnostic (file order).
    public static func load(path: String) throws(DiagnosticReport) -> RigDescription {
        switch DocumentLoader.text(ofFile: path) {
        case let .failure(d): throw DiagnosticReport([d])
        case let .success(text): return try parse(yaml: text, file: path)
        }
    }

    /// Parses and validates rig YAML; `file` names it in diagnostics. Throws every diagnostic.
    public static func parse(yaml: String, file: String) throws(DiagnosticReport) -> RigDescription {
        let size = yaml.utf8.count
        guard size <= maximumSize else { throw DiagnosticReport([tooLarge(size, file: file)]) }
        return try FileKinds.load(text: yaml, file: file, directory: ".", kind: "rig", read: read)
    }

    /// Every diagnostic of the rig file at `path` (empty when `load(path:)` would succeed).
    public static func check(path: String) -> [Diagnostic] {
        do { _ = try load(path: path); return [] } catch { return error.diagnostics }
    }

    /// Every diagnostic of rig YAML named `file` (empty when `parse` would succeed).
    public static func check(yaml: String, file: String) -> [Diagnostic] {
        do { _ = try parse(yaml: yaml, file: file); return [] } catch { return error.diagnostics }
    }

    static func tooLarge(_ size: Int, file: String) -> Diagnostic {
        Diagnostic(file: file, line: 0, field: "", value: "\(size) bytes", allowed: "at most \(maximumSize) bytes",
                   message: "the rig file is too large")
    }

    /// Reads a rig from a file's root mapping, recording every problem in its reader; nil if any.
    public static func read(_ root: MappingField) -> RigDescription? {
        // Another kind (already reported by the caller): its fields would only add noise.
        guard case let .scalar(k)? = root.optional("kind")?.node, k.string == "rig" else { return nil }
        return RigReader(root: root).read()
    }
}

/// Reads one rig document, remembering the line of each field so the rig's rule problems point at it.
final class RigReader {
    let root: MappingField
    var reader: DocumentReader { root.field.reader }
    /// Line of each field path read.
    var lines: [String: Int] = [:]

    init(root: MappingField) { self.root = root }

    static let topKeys = ["kind", "name", "description", "chip", "driver", "stepper", "feedbackTimeout", "outputs", "inputs", "alarms"]
    static let stepperKeys = ["stepsPerStroke", "pulseWidth", "stepRate", "dirSetup", "enableSetup"]
    static let lineKeys = ["line", "chip", "activeLow", "bias"]
    /// Largest line offset (libgpiod offsets are 32-bit).
    static let maximumOffset = UInt64(UInt32.max)

    func read() -> RigDescription? {
        lines["(document)"] = line(root.field.node)
        let name = mark(root.required("name", allowed: "text"))?.string()
        _ = root.optional("description")?.string(maxLength: 2_000)
        let chip = mark(root.required("chip", allowed: "a path, gpiochipN, a number or a label"))?.string()
        let driverNames = StepperDriverChip.allCases.map(\.rawValue).joined(separator: ", ")
        var driver: StepperDriverChip?
        if let f = mark(root.required("driver", allowed: driverNames)), let text = f.scalar(expecting: driverNames) {
            driver = StepperDriverChip(rawValue: text.lowercased())
            if driver == nil { f.fail("unknown stepper driver", allowed: driverNames) }
        }
        let stepper = readStepper()
        var feedbackTimeout: TimeSpan? = .milliseconds(50)
        if let f = mark(root.optional("feedbackTimeout")) { feedbackTimeout = f.duration(in: nil) }

        var lineMap: [RigRole: RigLine] = [:]
        var linesOK = true
        for (section, isOutput) in [("outputs", true), ("inputs", false)] {
            let roles = RigRole.allCases.filter { $0.isOutput == isOutput }
            guard let sf = mark(root.required(section, allowed: "a mapping of \(roles.map(\.rawValue).joined(separator: ", "))")),
                  let m = sf.mapping(allowedKeys: roles.map(\.rawValue)) else { linesOK = false; continue }
            for role in roles {
                guard let f = mark(m.optional(role.rawValue)) else {
                    if role.isRequired {
                        reader.report(sf.node, field: "\(section).\(role)", value: "(missing)", allowed: "a line name or offset",
                                      "every rig needs this role")
                        linesOK = false
                    }
                    continue
                }
                if let l = rigLine(f, defaultChip: chip ?? "") { lineMap[role] = l } else { linesOK = false }
            }
            let before = reader.diagnostics.count
            m.finish()
            if reader.diagnostics.count != before { linesOK = false }
        }
        let alarms = mark(root.optional("alarms")).map(alarmPatterns) ?? AlarmPatterns.standard
        root.finish(allowing: Self.topKeys)
        guard let name, let chip, let driver, let stepper, let feedbackTimeout, linesOK, let alarms, !reader.hasErrors else { return nil }
        let rig = RigDescription(name: name, driver: driver, stepper: stepper,
                                 lines: lineMap.mapValues { $0.chip.isEmpty ? RigLine(chip: chip, line: $0.line, activeLow: $0.activeLow, bias: $0.bias) : $0 },
                                 alarms: alarms, feedbackTimeout: feedbackTimeout)
        let problems = rig.problems()
        reader.absorb(problems.map {
            Diagnostic(file: reader.file, line: lineOf(field: $0.field), field: $0.field, value: $0.value, allowed: $0.allowed, message: $0.problem)
        })
        return problems.isEmpty ? rig : nil
    }

    func readStepper() -> StepperTiming? {
        guard let sf = mark(root.required("stepper", allowed: "a mapping of \(Self.stepperKeys.joined(separator: ", "))")),
              let st = sf.mapping(allowedKeys: Self.stepperKeys) else { return nil }
        defer { st.finish() }
        let steps = mark(st.required("stepsPerStroke", allowed: "a whole number"))?.wholeNumber()
        let pulse = mark(st.required("pulseWidth", allowed: QuantitySyntax.durationSyntax))?.duration(in: nil)
        let rate = mark(st.required("stepRate", allowed: "a whole number"))?.wholeNumber()
        let dir = mark(st.required("dirSetup", allowed: QuantitySyntax.durationSyntax))?.duration(in: nil)
        let enable = mark(st.required("enableSetup", allowed: QuantitySyntax.durationSyntax))?.duration(in: nil)
        guard let steps, let pulse, let rate, let dir, let enable, let s = Int(exactly: steps) else { return nil }
        return StepperTiming(stepsPerStroke: s, pulseWidth: pulse, stepRate: rate, dirSetup: dir, enableSetup: enable)
    }

    /// A line: a name or offset (the rig's chip), or `{line, chip, activeLow, bias}`. An empty chip
    /// stands for the rig's chip until `read` fills it in.
    func rigLine(_ f: Field, defaultChip: String) -> RigLine? {
        if case .scalar = f.node { return selector(f).map { RigLine(chip: "", line: $0) } }
        guard let m = f.mapping(allowedKeys: Self.lineKeys) else { return nil }
        defer { m.finish() }
        let sel = mark(m.required("line", allowed: "a line name or offset"))?.pipe(selector)
        var chipOK = true
        var chip = ""
        if let c = mark(m.optional("chip")) { if let s = c.string() { chip = s } else { chipOK = false } }
        let activeLow = mark(m.optional("activeLow")).map { $0.bool() } ?? false
        var bias: RigBias? = .asIs
        if let b = mark(m.optional("bias")) {
            bias = b.choice(RigBias.self)
        }
        guard let sel, chipOK, let activeLow, let bias else { return nil }
        return RigLine(chip: chip, line: sel, activeLow: activeLow, bias: bias)
    }

    /// A line's selector. Written as a plain number (`17`) it is the line's offset on its chip; any
    /// other text is the line's name (`GPIO17`). A quoted number (`"17"`) is refused: libgpiod names
    /// and offsets are different things and a name of digits alone cannot be told from an offset.
    func selector(_ f: Field) -> RigLineSelector? {
        let allowed = "a line offset written as a plain number 0 … \(Self.maximumOffset) (17), or the line's name (GPIO17)"
        guard case let .scalar(s) = f.node else { f.fail("expected a line name or offset", allowed: allowed); return nil }
        let text = s.string
        let digits = !text.isEmpty && text.allSatisfy { $0.isASCII && $0.isNumber }
        if digits {
            guard s.style == .plain else {
                f.fail("a quoted line name made only of digits cannot be told from an offset; write the offset unquoted or the line's name",
                       allowed: allowed)
                return nil
            }
            guard text.count <= 10, let o = UInt64(text), o <= Self.maximumOffset else {
                f.fail("line offset out of range", allowed: allowed)
                return nil
            }
            return .offset(UInt32(o))
        }
        if s.style == .plain, text.count > 1, text.first == "-" || text.first == "+", text.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }) {
            f.fail("a line offset cannot be signed", allowed: allowed)
            return nil
        }
        guard !text.isEmpty, text.count <= 31 else {
            f.fail("not a usable line name", allowed: "1 … 31 characters, or an offset")
            return nil
        }
        return .name(text)
    }

    func alarmPatterns(_ f: Field) -> AlarmPatterns? {
        var out = AlarmPatterns.standard
        var ok = true
        guard let m = f.mapping(allowedKeys: AlarmPriority.allCases.map(\.description)) else { return nil }
        lines["alarms.buzzer"] = line(f.node)
        defer { m.finish() }
        for p in AlarmPriority.allCases {
            guard let pf = mark(m.optional(p.description)), let pm = pf.mapping(allowedKeys: ["led", "buzzer"]) else { continue }
            defer { pm.finish() }
            if let led = mark(pm.optional("led")) {
                if case let .scalar(s) = led.node, s.string == "steady" {
                    out.led[p] = .steady()
                } else if let lm = led.mapping(allowedKeys: ["on", "period"]) {
                    let on = mark(lm.required("on", allowed: QuantitySyntax.durationSyntax))?.duration(in: nil)
                    let period = mark(lm.required("period", allowed: QuantitySyntax.durationSyntax))?.duration(in: nil)
                    lm.finish()
                    if let on, let period { out.led[p] = LEDPattern(on: on, period: period) } else { ok = false }
                } else { ok = false }
            }
            if let bz = mark(pm.optional("buzzer")) {
                guard let bm = bz.mapping(allowedKeys: ["beeps", "on", "off"]) else { ok = false; continue }
                let beeps = mark(bm.required("beeps", allowed: "a whole number"))?.wholeNumber()
                let on = mark(bm.required("on", allowed: QuantitySyntax.durationSyntax))?.duration(in: nil)
                let off = mark(bm.required("off", allowed: QuantitySyntax.durationSyntax))?.duration(in: nil)
                bm.finish()
                if let beeps, let b = Int(exactly: beeps), let on, let off { out.buzzer[p] = BuzzerPattern(beeps: b, on: on, off: off) } else { ok = false }
            }
        }
        return ok ? out : nil
    }

    // MARK: Lines

    func line(_ node: Node) -> Int { node.mark?.line ?? 1 }

    /// Records where `f` is (for the rule problems) and passes it on.
    func mark(_ f: Field?) -> Field? {
        if let f { lines[f.path] = line(f.node) }
        return f
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
}

extension Field {
    /// A whole number (any size a 64-bit integer holds); the rig's rules check its range.
    func wholeNumber() -> Int64? {
        guard let text = scalar(expecting: "a whole number") else { return nil }
        guard let v = Int64(text) else { fail("not a whole number", allowed: "a whole number"); return nil }
        return v
    }

    func pipe<T>(_ f: (Field) -> T?) -> T? { f(self) }
}
