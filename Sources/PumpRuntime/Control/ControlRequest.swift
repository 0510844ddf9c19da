import Foundation
import PumpCore
import PumpJournal

/// One request on the control channel: a JSON object on one line, `"cmd"` naming it.
///
/// | cmd | fields (integers; units in the name) |
/// |---|---|
/// | `status` | – |
/// | `program` | `ug_per_day`, or `steps: [{"start": "HH:MM", "ug_per_day": N}, …]` (flex) |
/// | `bolus` | `ug`: a screening test dose of 25, 50, 75 or 100 μg |
/// | `test_dose_response` | `response`: `effective`, `effective_over_8h`, `no_response` |
/// | `refill` | `withdrawn_ul`, `added_ul`, `ug_per_ml`, optional `confirm_concentration_change` |
/// | `prime` | `confirm_nl`: the priming volume the status shows |
/// | `start` | `ug_per_day` (or `steps`), `previous_ug_per_day` (transfer) or none (after screening) |
/// | `acknowledge` | `alarm`: an alarm name from `status` |
/// | `stop` | optional `taper_days`, optional `override: {"reason": …, "clinician": …}` |
/// | `resume` | – |
/// | `confirm_resumption` | `ug_per_day` (or `steps`) |
/// | `set_refill_date` | `at`: a duration from now in the files' syntax (`10d`, `36h`), or `null` to clear; `in_hours` (whole hours) kept for compatibility |
/// | `inject` | `fault` (`SimFaultName`), optional `for` (a duration, therapy time), `percent` (leak, calibration_bias); `--backend sim` only |
/// | `clear_fault` | `fault` |
/// | `subscribe` | optional `events`: a list of `EventCategory` names (default all); the connection becomes an event stream |
///
/// Every reply carries `"protocol": ControlProtocol.version`. README "Control protocol" documents
/// each request, its reply and errors; `schemas/protocol/` holds their JSON Schemas.
///
/// Anything else (unknown `cmd` or field, wrong type, fractions, negative volumes, oversized or
/// non-UTF-8 lines) is a `ControlRequestError`: the runner replies with it and changes nothing.
public enum ControlRequest: Hashable, Sendable {
    case status
    case command(Command)
    /// `set_refill_date` is relative to the controller's now, resolved when handled.
    case setRefillDate(in: TimeSpan?)
    /// A fault started in the simulated pump (refused on the rig).
    case inject(FaultInjection)
    /// The end of an injected fault (refused on the rig).
    case clearFault(SimFaultName)
    /// Turn the connection into an event stream of these kinds (see `EventStream`).
    case subscribe([EventCategory])

    /// Longest accepted request line, in bytes (without the newline).
    public static let maximumLineLength = 4096

    static let fields: [String: Set<String>] = [
        "status": [], "resume": [],
        "program": ["ug_per_day", "steps"], "confirm_resumption": ["ug_per_day", "steps"],
        "bolus": ["ug"], "test_dose_response": ["response"],
        "refill": ["withdrawn_ul", "added_ul", "ug_per_ml", "confirm_concentration_change"],
        "prime": ["confirm_nl"], "start": ["ug_per_day", "steps", "previous_ug_per_day"],
        "acknowledge": ["alarm"], "stop": ["taper_days", "override"], "set_refill_date": ["at", "in_hours"],
        "inject": ["fault", "for", "percent"], "clear_fault": ["fault"],
        "subscribe": ["events"],
    ]

    /// Parses one request line.
    public static func parse(_ line: some Collection<UInt8>) throws(ControlRequestError) -> ControlRequest {
        guard line.count <= maximumLineLength else { throw .tooLong(bytes: line.count, limit: maximumLineLength) }
        let value: JSONValue
        value = try JSONValue.parse(line)
        guard case let .object(o) = value else { throw .notAnObject }
        guard case let .string(cmd)? = o["cmd"] else { throw .missingField("cmd") }
        guard let allowed = fields[cmd] else { throw .unknownCommand(String(cmd.prefix(40)), known: fields.keys.sorted()) }
        for key in o.keys where key != "cmd" && key != "id" && !allowed.contains(key) {
            throw .unknownField(String(key.prefix(40)), command: cmd, allowed: allowed.sorted())
        }
        let r = Fields(o: o)
        switch cmd {
        case "status": return .status
        case "resume": return .command(.resume)
        case "program": return .command(.program(try r.schedule()))
        case "confirm_resumption": return .command(.confirmResumption(try r.schedule()))
        case "bolus": return .command(.testDose(.micrograms(try r.int("ug", 1...1_000))))
        case "test_dose_response":
            switch try r.string("response") {
            case "effective": return .command(.recordTestDoseResponse(.effective(lastedOverEightHours: false)))
            case "effective_over_8h": return .command(.recordTestDoseResponse(.effective(lastedOverEightHours: true)))
            case "no_response": return .command(.recordTestDoseResponse(.noResponse))
            case let other: throw .badValue(field: "response", value: String(other.prefix(40)), allowed: "effective, effective_over_8h, no_response")
            }
        case "refill":
            return .command(.refill(RefillRequest(
                withdrawn: .microlitres(try r.int("withdrawn_ul", 0...100_000)),
                added: .microlitres(try r.int("added_ul", 0...100_000)),
                concentration: Concentration(microgramsPerMillilitre: try r.int("ug_per_ml", 1...10_000)),
                confirmConcentrationChange: try r.bool("confirm_concentration_change") ?? false)))
        case "prime": return .command(.prime(confirmVolume: Volume(nanolitres: try r.int("confirm_nl", 0...100_000_000))))
        case "start":
            let s = try r.schedule()
            if o["previous_ug_per_day"] != nil {
                return .command(.startTherapy(s, basis: .transfer(previousDailyDose: .microgramsPerDay(try r.int("previous_ug_per_day", 1...100_000)))))
            }
            return .command(.startTherapy(s, basis: .testDose))
        case "acknowledge":
            let name = try r.string("alarm")
            guard let kind = AlarmKind(rawValue: name) else {
                throw .badValue(field: "alarm", value: String(name.prefix(40)), allowed: AlarmKind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return .command(.acknowledge(kind))
        case "stop":
            let days = o["taper_days"] == nil ? nil : Int(try r.int("taper_days", 0...365))
            var override: EmergencyOverride?
            if let ov = o["override"] {
                guard case let .object(m) = ov, Set(m.keys).isSubset(of: ["reason", "clinician"]) else {
                    throw .badValue(field: "override", value: "…", allowed: "{\"reason\": text, \"clinician\": text}")
                }
                let f = Fields(o: m)
                override = EmergencyOverride(reason: try f.string("reason"), clinician: try f.string("clinician"))
            }
            return .command(.stop(taperDays: days, override: override))
        case "set_refill_date":
            if o["at"] != nil, o["in_hours"] != nil { throw .badValue(field: "at", value: "…", allowed: "either at or in_hours, not both") }
            if case .null? = o["at"] ?? o["in_hours"] { return .setRefillDate(in: nil) }
            if o["in_hours"] != nil { return .setRefillDate(in: .hours(try r.int("in_hours", 1...24 * 365))) }
            return .setRefillDate(in: try r.duration("at", TimeSpan.minutes(1)...TimeSpan.days(365)))
        case "inject": return .inject(try FaultInjection.parse(r))
        case "clear_fault": return .clearFault(try SimFaultName.parse(r))
        case "subscribe": return .subscribe(try r.eventCategories())
        default: throw .unknownCommand(cmd, known: fields.keys.sorted())
        }
    }

    struct Fields {
        let o: [String: JSONValue]
        func int(_ k: String, _ range: ClosedRange<Int64>) throws(ControlRequestError) -> Int64 {
            guard let v = o[k] else { throw .missingField(k) }
            guard case let .int(i) = v else { throw .badValue(field: k, value: String(v.shown.prefix(40)), allowed: "a whole number \(range.lowerBound) … \(range.upperBound)") }
            guard range.contains(i) else { throw .badValue(field: k, value: "\(i)", allowed: "\(range.lowerBound) … \(range.upperBound)") }
            return i
        }
        func string(_ k: String) throws(ControlRequestError) -> String {
            guard let v = o[k] else { throw .missingField(k) }
            guard case let .string(s) = v, !s.isEmpty, s.count <= 200 else { throw .badValue(field: k, value: PrintableText.escaped(String(v.shown.prefix(40))), allowed: "text of 1 … 200 characters") }
            if let u = PrintableText.firstUnsafe(in: s) { throw .controlCharacter(field: k, scalar: "U+\(String(u.value, radix: 16, uppercase: true).leftPadded(4))") }
            return s
        }
        func bool(_ k: String) throws(ControlRequestError) -> Bool? {
            guard let v = o[k] else { return nil }
            guard case let .bool(b) = v else { throw .badValue(field: k, value: String(v.line.prefix(40)), allowed: "true or false") }
            return b
        }
        func schedule() throws(ControlRequestError) -> Schedule {
            if o["ug_per_day"] != nil, o["steps"] != nil { throw .badValue(field: "steps", value: "…", allowed: "either ug_per_day or steps, not both") }
            if o["ug_per_day"] != nil { return .continuous(.microgramsPerDay(try int("ug_per_day", 1...100_000))) }
            guard let v = o["steps"] else { throw .missingField("ug_per_day") }
            guard case let .array(items) = v, (1...Schedule.maximumSteps).contains(items.count) else {
                throw .badValue(field: "steps", value: String(v.line.prefix(40)), allowed: "a list of 1 … \(Schedule.maximumSteps) steps")
            }
            var steps: [FlexStep] = []
            for item in items {
                guard case let .object(m) = item, Set(m.keys) == ["start", "ug_per_day"] else {
                    throw .badValue(field: "steps", value: String(item.line.prefix(40)), allowed: "{\"start\": \"HH:MM\", \"ug_per_day\": N}")
                }
                let f = Fields(o: m)
                let text = try f.string("start")
                let parts = text.split(separator: ":")
                guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCIIDigit) }),
                      let h = Int(parts[0]), let mi = Int(parts[1]), let tod = TimeOfDay(hour: h, minute: mi) else {
                    throw .badValue(field: "steps.start", value: String(text.prefix(40)), allowed: "HH:MM, 00:00 … 23:59")
                }
                steps.append(FlexStep(start: tod, rate: .microgramsPerDay(try f.int("ug_per_day", 1...100_000))))
            }
            return .flex(steps)
        }
    }
}

/// Why a control request was not understood. Nothing was changed.
public enum ControlRequestError: Error, Hashable, Sendable, CustomStringConvertible {
    case tooLong(bytes: Int, limit: Int)
    /// Not JSON: at byte offset `byte`, `expected` was expected.
    case notJSON(byte: Int, expected: String)
    /// Bytes that are not UTF-8, from offset `byte`.
    case notUTF8(byte: Int)
    /// A key given twice in one object (which would count is ambiguous).
    case duplicateKey(String)
    /// Arrays and objects nested deeper than `limit`.
    case tooDeep(limit: Int)
    /// A text field holding a control character (a line break, an escape, …) or a bidirectional
    /// override, which could forge log lines or reports.
    case controlCharacter(field: String, scalar: String)
    case notAnObject
    case missingField(String)
    case unknownCommand(String, known: [String])
    case unknownField(String, command: String, allowed: [String])
    case badValue(field: String, value: String, allowed: String)

    public var description: String {
        switch self {
        case let .tooLong(b, l): "request of \(b) bytes is longer than \(l); send one JSON object per line"
        case let .notJSON(b, expected): "not valid JSON at byte \(b): expected \(expected); send one JSON object per line"
        case let .notUTF8(b): "not valid UTF-8 at byte \(b); send one JSON object per line, in UTF-8"
        case let .duplicateKey(k): "key \(k) appears twice in one object; give each field once"
        case let .tooDeep(l): "arrays and objects nested deeper than \(l); a request needs 3 levels at most"
        case let .controlCharacter(f, u): "\(f) contains the control character \(u); text fields take printable text on one line"
        case .notAnObject: "a request is a JSON object such as {\"cmd\":\"status\"}"
        case let .missingField(f): "missing field \(f)"
        case let .unknownCommand(c, known): "unknown cmd \(c); known: \(known.joined(separator: ", "))"
        case let .unknownField(f, c, allowed): "\(c) has no field \(f); allowed: \(allowed.isEmpty ? "none" : allowed.joined(separator: ", "))"
        case let .badValue(f, v, allowed): "\(f) = \(v): allowed \(allowed)"
        }
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
