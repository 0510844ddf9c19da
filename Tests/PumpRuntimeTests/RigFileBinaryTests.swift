import Foundation
import ITPumpFiles
import Testing
@testable import PumpRig
@testable import PumpRuntime
import RigTestSupport

/// A bad rig file through the real binary: `itpump run` lists every problem exactly as `itpump
/// validate` does (file:line, field, value, allowed range), and stops before it touches a GPIO line,
/// the journal or the control socket.
@Suite("Rig files in itpump run and itpump validate (real binary)", .serialized)
struct RigFileBinaryTests {
    /// Rigs with several problems: errors of form (a mistyped number, an unknown driver and bias, a
    /// quoted numeric line name, a duration finer than 1 ns), and broken rules (data-sheet timing, a
    /// line used twice, a missing role).
    static let badRigs: [(name: String, yaml: String, count: Int)] = {
        var form = rig(replacing: "stepRate: 1000", with: "stepRate: fast")
        form = form.replacingOccurrences(of: "driver: a4988", with: "driver: l298n")
        form = form.replacingOccurrences(of: "bias: pull-up", with: "bias: sideways")
        form = form.replacingOccurrences(of: "buzzer: BUZZER", with: "buzzer: \"18\"")
        form = form.replacingOccurrences(of: "dirSetup: 10us", with: "dirSetup: 0.5ns")
        var rules = rig(replacing: "pulseWidth: 10us", with: "pulseWidth: 500ns")
        rules = rules.replacingOccurrences(of: "dirSetup: 10us", with: "dirSetup: 100ns")
        rules = rules.replacingOccurrences(of: "ledLow: LED_LOW", with: "ledLow: STEP")
        return [("form", form, 5), ("rules", rules, 3)]
    }()

    @Test("run prints every rig problem exactly as validate does, then refuses before any line, journal or socket",
          arguments: [0, 1])
    func runReportsLikeValidate(index: Int) throws {
        let (name, yaml, count) = Self.badRigs[index]
        let dir = try RunningBinary.temporaryDirectory("rigbin")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rigPath = dir + "/\(name).yaml"
        try yaml.write(toFile: rigPath, atomically: true, encoding: .utf8)

        let validate = try RunningBinary.itpump(["validate", rigPath])
        #expect(validate.status == 1)
        let diagnostics = Array(validate.stderrLines.dropLast())
        #expect(validate.stderrLines.last == "1 of 1 file invalid", "\(validate.stderr)")
        // The loader's diagnostics, printed one a line, in file order.
        let expected = RigFile.check(path: rigPath)
        #expect(expected.count == count, "\(expected)")
        #expect(diagnostics == expected.map(\.description), "\(validate.stderr)")
        for d in expected {
            #expect(d.line > 0 && !d.field.isEmpty && !d.allowed.isEmpty, "\(d)")
            #expect(d.description.hasPrefix("\(rigPath):\(d.line): \(d.field): "))
        }

        let journal = dir + "/pump.journal", socket = dir + "/c.sock"
        let run = try RunningBinary.itpump(["run", "--backend", "gpiod", "--rig", rigPath,
                                   "--prescription", RunningBinary.packageRoot + "/profiles/prescriptions/spinal-600.yaml",
                                   "--journal", journal, "--create-journal", "--socket", socket, "--state", dir + "/state.json"])
        #expect(run.status == 1, "\(run.stderr)")
        let runLines = run.stderrLines
        #expect(Array(runLines.dropLast()) == diagnostics, "run:\n\(run.stderr)\nvalidate:\n\(validate.stderr)")
        #expect(runLines.last == "itpump run: refused to start: \(count) problems above (as `itpump validate` lists them); no GPIO line, journal or socket was touched")
        // Nothing was touched: no journal (it would have been created), no socket, no state, and no
        // attempt at the GPIO chip (with --backend gpiod that would have been the next step's error).
        for path in [journal, journal + "-wal", socket, dir + "/state.json"] {
            #expect(!FileManager.default.fileExists(atPath: path), "\(path) exists")
        }
        #expect(!run.stderr.contains("cannot take the rig's lines") && !run.stderr.contains("gpiochip"), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test("a bad prescription is listed with the rig's problems, the same way")
    func prescriptionProblemsToo() throws {
        let dir = try RunningBinary.temporaryDirectory("rigbin")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rigPath = dir + "/rig.yaml", rxPath = dir + "/rx.yaml"
        try rig(replacing: "stepRate: 1000", with: "stepRate: fast").write(toFile: rigPath, atomically: true, encoding: .utf8)
        try "kind: prescription\nconcentration: 700 ug/mL\nschedule: {continuous: 600 ug/day}\n".write(toFile: rxPath, atomically: true, encoding: .utf8)
        let validate = try RunningBinary.itpump(["validate", rigPath, rxPath])
        let run = try RunningBinary.itpump(["run", "--backend", "sim", "--rig", rigPath, "--prescription", rxPath, "--socket", dir + "/c.sock"])
        #expect(validate.status == 1 && run.status == 1)
        #expect(Array(validate.stderrLines.dropLast()) == Array(run.stderrLines.dropLast()), "run:\n\(run.stderr)\nvalidate:\n\(validate.stderr)")
        #expect(run.stderrLines.count == 3, "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/c.sock"))
    }
}
