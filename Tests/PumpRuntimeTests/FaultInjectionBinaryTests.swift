import Foundation
import PumpCore
import PumpJournal
import Testing
@testable import PumpRig
@testable import PumpRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Fault injection through the control channel of the real `itpump run --backend sim`: each fault
/// acts on the simulated pump's truth and the controller finds it through its sensors, as on a rig.
///
/// The prescription delivers 600 μg/day at 500 μg/mL with 250 nL strokes: one stroke every 18 s of
/// therapy time; runs are at 3600× (18 s of therapy is 5 ms of wall time).
@Suite(.serialized) struct FaultInjectionBinaryTests {
    /// Therapy ns between strokes at the dose `status` says is delivering (125 ng a stroke: 250 nL at
    /// 500 μg/mL; 18 s at 600 μg/day).
    static func strokeInterval(_ s: [String: Any]) -> Int64 { 125 * 86_400_000_000_000 / max(1, int(s, "delivering_ng_per_day")) }

    struct Run {
        let binary: RunningBinary
        func request(_ line: String) throws -> [String: Any] {
            let reply = try binary.request(line)
            return try #require(try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any], "\(reply)")
        }
        func status() throws -> [String: Any] {
            try #require(try request(#"{"cmd":"status"}"#)["status"] as? [String: Any])
        }
        /// Polls `status` until `condition` holds (nil after `seconds` of wall time).
        func wait(seconds: Double = 20, until condition: ([String: Any]) -> Bool) throws -> [String: Any]? {
            try binary.waitForStatus(seconds: seconds, condition)
        }
        func stop() { binary.stop(); try? FileManager.default.removeItem(atPath: binary.dir) }
    }

    func start(_ name: String, extra: [String] = [], timeScale: Int64 = 3_600) throws -> Run {
        let b = try RunningBinary.started(name, timeScale: timeScale, extra: extra)
        try #require(try b.waitForTherapy(), "therapy did not start: \(b.stderr)")
        return Run(binary: b)
    }

    /// Latency tests run at 600×: the runner senses a change at its next loop pass, and a loop pass
    /// late by 100 ms of wall time on a loaded machine (below the 200 ms late-wake bound) is 60 s of
    /// therapy time, the slack allowed beyond the trip strokes.
    static let latencyScale: Int64 = 600
    static let sensingSlack: Int64 = 60_000_000_000

    static func alarm(_ s: [String: Any], _ name: String) -> [String: Any]? {
        (s["alarms"] as? [[String: Any]])?.first { $0["alarm"] as? String == name }
    }
    static func faults(_ s: [String: Any]) -> [[String: Any]] { s["injected_faults"] as? [[String: Any]] ?? [] }
    static func truth(_ s: [String: Any], _ key: String) -> Int64 { ((s["sim_truth"] as? [String: Any])?[key] as? NSNumber)?.int64Value ?? -1 }
    static func int(_ o: [String: Any], _ key: String) -> Int64 { (o[key] as? NSNumber)?.int64Value ?? -1 }

    /// An occlusion fills the line's compliance and trips the pressure sensor after the mechanics'
    /// 40 occluded strokes: the core raises the occlusion alarm 40 strokes (12 min) after the
    /// injection. `clear_fault` ends it: the held volume reaches the patient and the sensor reopens.
    @Test func occlusionRaisesTheOcclusionAlarmAfterItsTripStrokesAndClearFaultEndsIt() throws {
        let run = try start("inj-occl", timeScale: Self.latencyScale)
        defer { run.stop() }
        let interval = Self.strokeInterval(try run.status())
        let reply = try run.request(#"{"cmd":"inject","fault":"occlusion"}"#)
        #expect(reply["ok"] as? Bool == true, "\(reply)")
        #expect(reply["fault"] as? String == "occlusion")
        #expect(reply["until"] == nil, "no end without for=")
        let at = Self.int(reply, "at_ns")
        let s = try #require(try run.wait { Self.alarm($0, "occlusion") != nil }, "no occlusion alarm")
        let latency = Self.int(Self.alarm(s, "occlusion")!, "raised_ns") - at
        // The 40th occluded stroke: 39 … 40 stroke intervals after the injection (later only if a late
        // wake-up of a loaded machine skipped strokes as downtime).
        #expect(latency >= 39 * interval, "occlusion alarm \(Double(latency) / 6e10) min after the injection")
        if Self.int(s, "late_wakes") == 0 {
            #expect(latency <= 40 * interval + Self.sensingSlack, "occlusion alarm \(Double(latency) / 6e10) min after the injection")
        }
        #expect(Self.faults(s).map { $0["fault"] as? String } == ["occlusion"])
        #expect(Self.truth(s, "held_pl") > 0, "strokes are held behind the occlusion")
        #expect((s["sensors"] as? [String: Any])?["occlusion"] as? Bool == true)

        let heldBefore = Self.truth(s, "to_patient_fg")
        let cleared = try run.request(#"{"cmd":"clear_fault","fault":"occlusion"}"#)
        #expect(cleared["ok"] as? Bool == true, "\(cleared)")
        let after = try #require(try run.wait { ($0["sensors"] as? [String: Any])?["occlusion"] as? Bool == false }, "the sensor did not reopen")
        #expect(Self.faults(after).isEmpty)
        #expect(Self.truth(after, "held_pl") == 0)
        #expect(Self.truth(after, "to_patient_fg") > heldBefore, "the held volume reached the patient")
    }

    /// `for=1h` ends the occlusion one hour of therapy time after it began, without a request.
    @Test func occlusionForADurationEndsByItself() throws {
        let run = try start("inj-for")
        defer { run.stop() }
        let reply = try run.request(#"{"cmd":"inject","fault":"occlusion","for":"1h"}"#)
        #expect(reply["ok"] as? Bool == true, "\(reply)")
        let at = Self.int(reply, "at_ns"), until = Self.int(reply, "until_ns")
        #expect(until - at == 3_600_000_000_000)
        #expect(try run.wait { Self.alarm($0, "occlusion") != nil } != nil, "no occlusion alarm")
        let s = try #require(try run.wait { ($0["sensors"] as? [String: Any])?["occlusion"] as? Bool == false }, "the occlusion did not end")
        #expect(Self.int(s, "now_ns") >= until, "ended before its end instant")
        #expect(Self.faults(s).isEmpty)
        #expect(Self.truth(s, "held_pl") == 0)
    }

    /// A stalled motor moves nothing; the stall sensor trips after 3 commanded strokes.
    @Test func motorStallRaisesTheStallAlarm() throws {
        let run = try start("inj-stall", timeScale: Self.latencyScale)
        defer { run.stop() }
        let interval = Self.strokeInterval(try run.status())
        let reply = try run.request(#"{"cmd":"inject","fault":"motor_stall","for":"2h"}"#)
        #expect(reply["ok"] as? Bool == true, "\(reply)")
        let at = Self.int(reply, "at_ns")
        let s = try #require(try run.wait { Self.alarm($0, "motorStall") != nil }, "no stall alarm")
        let latency = Self.int(Self.alarm(s, "motorStall")!, "raised_ns") - at
        #expect(latency >= 2 * interval, "stall alarm \(latency / 1_000_000_000) s after the injection")
        if Self.int(s, "late_wakes") == 0 {
            #expect(latency <= 3 * interval + Self.sensingSlack, "stall alarm \(latency / 1_000_000_000) s after the injection")
        }
        #expect(Self.truth(s, "strokes_commanded") > Self.truth(s, "strokes_moved"))
    }

    /// The empty switch stuck closed: the core raises reservoirEmpty though the true reservoir is full.
    @Test func emptySwitchRaisesReservoirEmptyWithDrugInTheReservoir() throws {
        let run = try start("inj-empty")
        defer { run.stop() }
        let reply = try run.request(#"{"cmd":"inject","fault":"empty_switch"}"#)
        #expect(reply["ok"] as? Bool == true, "\(reply)")
        let s = try #require(try run.wait { Self.alarm($0, "reservoirEmpty") != nil }, "no reservoirEmpty alarm")
        #expect(Self.truth(s, "reservoir_pl") > 10_000_000_000, "the true reservoir holds more than 10 mL")
        #expect(Self.truth(s, "empty_sensor") == 1, "the switch reads closed")
        let cleared = try run.request(#"{"cmd":"clear_fault","fault":"empty_switch"}"#)
        #expect(cleared["ok"] as? Bool == true, "\(cleared)")
        #expect(try run.wait { Self.alarm($0, "reservoirEmpty") == nil } != nil, "the switch opening should clear the alarm (the estimate has drug)")
    }

    /// A 40 % leak sends 40 % of the drug leaving the catheter to the pocket; no sensor sees it.
    @Test func leakSendsDrugToThePocketUnseen() throws {
        let run = try start("inj-leak")
        defer { run.stop() }
        let before = try run.status()
        let reply = try run.request(#"{"cmd":"inject","fault":"leak","percent":40}"#)
        #expect(reply["ok"] as? Bool == true, "\(reply)")
        let start = Self.truth(before, "strokes_moved")
        let s = try #require(try run.wait { Self.truth($0, "strokes_moved") >= start + 200 }, "no delivery")
        let pocket = Self.truth(s, "to_pocket_fg") - Self.truth(before, "to_pocket_fg")
        let patient = Self.truth(s, "to_patient_fg") - Self.truth(before, "to_patient_fg")
        let share = Double(pocket) / Double(pocket + patient)
        #expect(share > 0.38 && share < 0.41, "\(share) of the drug went to the pocket")
        #expect(Self.faults(s).first?["percent"] as? Int == 40)
        let alarms = (s["alarms"] as? [[String: Any]] ?? []).compactMap { $0["alarm"] as? String }
        #expect(!alarms.contains("occlusion") && !alarms.contains("motorStall"), "\(alarms)")
    }

    /// A −30 % calibration bias: the truth pumps 70 % of what the controller estimates.
    @Test func calibrationBiasMakesTheTruthDifferFromTheEstimate() throws {
        let run = try start("inj-bias")
        defer { run.stop() }
        let before = try run.status()
        let reply = try run.request(#"{"cmd":"inject","fault":"calibration_bias","percent":-30}"#)
        #expect(reply["ok"] as? Bool == true, "\(reply)")
        let s0 = try run.status()
        #expect(Self.truth(s0, "stroke_mean_pl") == 175_000)
        let s = try #require(try run.wait { Self.truth($0, "strokes_moved") >= Self.truth(s0, "strokes_moved") + 100 }, "no delivery")
        let truth = Self.truth(s0, "reservoir_pl") - Self.truth(s, "reservoir_pl")
        let estimate = (Self.int(s0, "reservoir_nl") - Self.int(s, "reservoir_nl")) * 1_000
        #expect(truth * 10 == estimate * 7, "truth \(truth) pL vs estimate \(estimate) pL")
        #expect(Self.truth(before, "stroke_mean_pl") == 250_000)
        #expect(try run.request(#"{"cmd":"clear_fault","fault":"calibration_bias"}"#)["ok"] as? Bool == true)
        #expect(Self.truth(try run.status(), "stroke_mean_pl") == 250_000)
    }

    /// Bad names, durations and parameters are refused naming the field and what is allowed; a
    /// second fault of an injected family, or clearing one not injected, is refused; nothing changes.
    @Test func badFaultRequestsAreRefusedNamingTheFieldAndChangeNothing() throws {
        let run = try start("inj-bad")
        defer { run.stop() }
        let cases: [(String, [String])] = [
            (#"{"cmd":"inject","fault":"flood"}"#, ["fault = flood", "occlusion, motor_stall, empty_switch, leak, calibration_bias"]),
            (#"{"cmd":"inject"}"#, ["missing field fault"]),
            (#"{"cmd":"inject","fault":"occlusion","for":"2 weeks"}"#, ["for = \"2 weeks\"", "90s, 15m, 2h, 10d"]),
            (#"{"cmd":"inject","fault":"occlusion","for":"0"}"#, ["for = \"0\"", "a duration 1ms"]),
            (#"{"cmd":"inject","fault":"occlusion","for":7200}"#, ["for = 7200"]),
            (#"{"cmd":"inject","fault":"occlusion","for":"400d"}"#, ["for = \"400d\""]),
            (#"{"cmd":"inject","fault":"occlusion","percent":5}"#, ["percent = 5", "only with fault leak or calibration_bias"]),
            (#"{"cmd":"inject","fault":"calibration_bias"}"#, ["missing field percent"]),
            (#"{"cmd":"inject","fault":"calibration_bias","percent":80}"#, ["percent = 80", "-50 … 50"]),
            (#"{"cmd":"inject","fault":"calibration_bias","percent":0}"#, ["percent = 0"]),
            (#"{"cmd":"inject","fault":"leak","percent":0}"#, ["percent = 0", "1 … 100"]),
            (#"{"cmd":"inject","fault":"leak","ratio":5}"#, ["inject has no field ratio"]),
            (#"{"cmd":"clear_fault","fault":"occlusion"}"#, ["no occlusion fault is injected"]),
            (#"{"cmd":"clear_fault","fault":"flood"}"#, ["fault = flood"]),
        ]
        let before = try run.status()
        for (line, words) in cases {
            let r = try run.request(line)
            #expect(r["ok"] as? Bool == false, "\(line) → \(r)")
            let error = r["error"] as? String ?? ""
            for w in words { #expect(error.contains(w), "\(line) → \(error)") }
        }
        let after = try run.status()
        #expect(Self.faults(after).isEmpty)
        #expect(Self.truth(after, "stroke_mean_pl") == Self.truth(before, "stroke_mean_pl"))
        // A second occlusion while one is injected.
        #expect(try run.request(#"{"cmd":"inject","fault":"occlusion","for":"2h"}"#)["ok"] as? Bool == true)
        let again = try run.request(#"{"cmd":"inject","fault":"occlusion"}"#)
        #expect(again["ok"] as? Bool == false)
        #expect((again["error"] as? String)?.contains("already injected") == true, "\(again)")
        let one = Self.faults(try run.status())
        #expect(one.count == 1 && one.first?["until_ns"] != nil, "the first injection stands: \(one)")
    }

    /// `itpump ctl --socket SOCKET words…`: its exit status and its output (stdout then stderr).
    static func ctl(_ socket: String, _ words: [String]) throws -> (Int32, String) {
        let o = try RunningBinary.itpump(["ctl", "--socket", socket] + words)
        return (o.status, o.stdout + o.stderr)
    }

    /// `ctl inject occlusion for=2h` names the fault bare; `ctl clear_fault occlusion` ends it;
    /// `ctl set_refill_date at=10d` takes the files' duration syntax.
    @Test func ctlInjectsAndClearsWithABareFaultName() throws {
        let run = try start("inj-ctl")
        defer { run.stop() }
        let (p1, out1) = try Self.ctl(run.binary.socket, ["inject", "occlusion", "for=2h"])
        #expect(p1 == 0, "\(out1)")
        #expect(out1.contains("\"fault\":\"occlusion\"") && out1.contains("\"until_ns\""), "\(out1)")
        let (p2, out2) = try Self.ctl(run.binary.socket, ["clear_fault", "occlusion"])
        #expect(p2 == 0, "\(out2)")
        let (p3, out3) = try Self.ctl(run.binary.socket, ["inject", "occlusion", "for=soon"])
        #expect(p3 == 1, "\(out3)")
        #expect(out3.contains("for = \\\"soon\\\""), "\(out3)")
        // Durations in the files' syntax: a refill date ten days from now.
        let (p4, out4) = try Self.ctl(run.binary.socket, ["set_refill_date", "at=10d"])
        #expect(p4 == 0 && out4.contains("\"accepted\""), "\(out4)")
    }

    /// With `--journal`, every injection and clearing is a `sim fault` checkpoint: the run's history
    /// shows when its faults acted.
    @Test func injectionsAreJournaled() throws {
        let dir = try RunningBinary.temporaryDirectory("inj-journal")
        let path = dir + "/j.sqlite"
        let b = try RunningBinary(dir: dir, timeScale: 3_600, extra: ["--journal", path, "--create-journal"])
        let run = Run(binary: b)
        defer { run.stop() }
        try #require(b.waitUntilListening(), "the runner did not start: \(b.stderr)")
        try #require(try b.waitForTherapy(), "therapy did not start: \(b.stderr)")
        #expect(try run.request(#"{"cmd":"inject","fault":"motor_stall","for":"30m"}"#)["ok"] as? Bool == true)
        #expect(try run.request(#"{"cmd":"clear_fault","fault":"motor_stall"}"#)["ok"] as? Bool == true)
        b.stop()
        let journal = try Journal.open(at: path, access: .readOnly)
        let reasons = try journal.interruptions().map(\.reason).filter { $0.hasPrefix("sim fault:") }
        #expect(reasons.count == 2, "\(reasons)")
        #expect(reasons.first?.contains("inject motor stall until") == true, "\(reasons)")
        #expect(reasons.last?.contains("clear motor stall") == true, "\(reasons)")
    }
}

/// Fault injection on the rig backend (fake lines: no hardware needed) is refused and changes nothing.
@Suite struct FaultInjectionRigTests {
    @Test func injectAndClearFaultAreRefusedOnTheRig() throws {
        let f = try RunnerFixture()
        try f.run(until: Instant.zero + TimeSpan.hours(1))
        let before = f.runner.controller
        for line in [#"{"cmd":"inject","fault":"occlusion","for":"2h"}"#, #"{"cmd":"clear_fault","fault":"occlusion"}"#] {
            let r = f.request(line)
            #expect(r["ok"] as? Bool == false)
            #expect((r["error"] as? String)?.contains("faults on the rig come from the rig") == true, "\(r)")
            #expect(r["protocol"] as? Int == 1)
        }
        #expect(f.runner.controller == before)
        let status = try #require(f.request(#"{"cmd":"status"}"#)["status"] as? [String: Any])
        #expect((status["injected_faults"] as? [Any])?.isEmpty == true)
        #expect(status["sim_truth"] == nil)
    }
}
