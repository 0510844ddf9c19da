import Foundation
import PumpCore
import Yams

/// What `itpump run --prescription` starts the rig with: the fill, and the schedule taken over from a
/// previous pump (start basis `transfer`).
///
/// A minimal reader of its own until the shared prescription format (ITPumpFiles, branch `sim`) lands:
/// ```yaml
/// kind: prescription
/// concentration: 500        # μg/mL: 500, 1000 or 2000
/// dailyDose: 600            # μg/day (continuous); or
/// # steps: [{ start: "08:00", dose: 700 }, { start: "22:00", dose: 400 }]
/// fill: 20000               # μL put in the reservoir (default: its capacity)
/// ```
public struct RunPrescription: Hashable, Sendable {
    public var concentration: Concentration
    public var schedule: Schedule
    /// Volume filled at bring-up; nil = the reservoir's capacity.
    public var fill: Volume?

    public init(concentration: Concentration, schedule: Schedule, fill: Volume? = nil) {
        self.concentration = concentration
        self.schedule = schedule
        self.fill = fill
    }

    /// Reads the file; the error names the file and the field.
    public static func load(path: String) throws(RigFileError) -> RunPrescription {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch { throw .unreadable(file: path, reason: "\(error.localizedDescription)") }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw RigFile.syntaxError(error, file: path) }
        guard let node else { throw .missingField(file: path, line: 1, field: "kind") }
        var r = RigReader(file: path)
        let top = try r.mapping(node, field: "(document)", allowed: ["kind", "concentration", "dailyDose", "steps", "fill"])
        let kind = try r.string(r.require(top, "kind", in: node), field: "kind")
        guard kind == "prescription" else {
            throw .invalid(file: path, line: r.line(top["kind"]), RigProblem(field: "kind", value: kind, problem: "not a prescription", allowed: "prescription"))
        }
        let c = Int64(try r.int(r.require(top, "concentration", in: node), field: "concentration"))
        guard Concentration.therapy.map(\.microgramsPerMillilitre).contains(c) else {
            throw .invalid(file: path, line: r.line(top["concentration"]), RigProblem(field: "concentration", value: "\(c)", problem: "not a therapy concentration", allowed: "500, 1000, 2000 μg/mL"))
        }
        let schedule: Schedule
        if let d = top["dailyDose"] {
            schedule = .continuous(.microgramsPerDay(Int64(try r.int(d, field: "dailyDose"))))
        } else if let s = top["steps"], case let .sequence(items) = s {
            var steps: [FlexStep] = []
            for item in items {
                let m = try r.mapping(item, field: "steps", allowed: ["start", "dose"])
                let start = try r.string(r.require(m, "start", in: item, parent: "steps"), field: "steps.start")
                let p = start.split(separator: ":")
                guard p.count == 2, let h = Int(p[0]), let mi = Int(p[1]), let tod = TimeOfDay(hour: h, minute: mi) else {
                    throw .wrongType(file: path, line: r.line(m["start"]), field: "steps.start", value: start, expected: "HH:MM")
                }
                steps.append(FlexStep(start: tod, rate: .microgramsPerDay(Int64(try r.int(r.require(m, "dose", in: item, parent: "steps"), field: "steps.dose")))))
            }
            schedule = .flex(steps)
        } else {
            throw .missingField(file: path, line: 1, field: "dailyDose")
        }
        var fill: Volume?
        if let f = top["fill"] { fill = .microlitres(Int64(try r.int(f, field: "fill"))) }
        return RunPrescription(concentration: Concentration(microgramsPerMillilitre: c), schedule: schedule, fill: fill)
    }
}
