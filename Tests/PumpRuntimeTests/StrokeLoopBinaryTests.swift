import Foundation
import Testing
@testable import PumpRig
@testable import PumpRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Through the real binary on the simulated pump paced by a rig's stroke timing (`--sim-rig-timing`;
/// the Raspberry Pi rig's 2000 steps/s and 2 ms enable setup, with 20 steps a stroke, 12 ms, so
/// priming's 1,300 strokes fit a test): requests are answered while a step's strokes run. Asserts
/// what was served where (strokes still in hand), never a wall-clock bound.
@Suite(.serialized) struct StrokeLoopBinaryTests {
    static func ready(_ run: RunningBinary) throws {
        try #require(run.waitUntilListening(seconds: 120), "runner did not start: \(run.stderr)")
        let end = Date().addingTimeInterval(240)
        while Date() < end {
            if let s = try? run.request(#"{"cmd":"status"}"#), s.contains(#""primed":true"#), s.contains(#""bolus":"none""#) { return }
            usleep(100_000)
        }
        Issue.record("never primed: \(run.stderr)")
    }

    @Test("during a 400-stroke test dose in 16-stroke steps, status is answered while strokes are still in hand; an inject lights an alarm output")
    func statusIsAnsweredWhileStrokesRun() throws {
        let dir = try RunningBinary.temporaryDirectory("stroke-loop")
        let log = dir + "/lines.log"
        let rig = dir + "/rig.yaml"
        let pi = try String(contentsOfFile: RunningBinary.packageRoot + "/profiles/rigs/raspberry-pi.yaml", encoding: .utf8)
        try pi.replacingOccurrences(of: "stepsPerStroke: 200", with: "stepsPerStroke: 20").write(toFile: rig, atomically: true, encoding: .utf8)
        let run = try RunningBinary(dir: dir, timeScale: 120, extra: ["--sim-rig-timing", "--sim-line-log", log, "--bring-up", "screening", "--rig", rig])
        defer { run.stop() }
        try Self.ready(run)
        let dose = try run.request(#"{"cmd":"bolus","ug":50}"#)
        try #require(dose.contains(#""ok":true"#), "\(dose)")
        // Poll until a reply shows strokes of the step in hand (at most 40 s: the dose alone takes that).
        var midStep: String?
        var replies = 0
        let end = Date().addingTimeInterval(40)
        while midStep == nil, Date() < end {
            let s = try run.request(#"{"cmd":"status"}"#)
            replies += 1
            if s.contains(#""bolus":"testDose"#), !s.contains(#""strokes_in_progress":0"#) { midStep = s }
            usleep(20_000)
        }
        #expect(midStep != nil, "none of \(replies) status replies was served while a step's strokes ran")
        // The alarm outputs follow an injected reservoir-empty switch (on the simulated lines).
        let inj = try run.request(#"{"cmd":"inject","fault":"empty_switch"}"#)
        #expect(inj.contains(#""ok":true"#), "\(inj)")
        var lit = false
        let litEnd = Date().addingTimeInterval(20)
        while !lit, Date() < litEnd {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            lit = text.split(separator: "\n").contains { $0.hasSuffix("ledHigh 1") || $0.hasSuffix("ledMedium 1") }
            usleep(50_000)
        }
        #expect(lit, "no alarm LED was driven on the simulated lines")
        #expect(run.stop() == 0, "\(run.stderr)")
        let lines = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(lines.split(separator: "\n").filter { $0.hasSuffix("enable 1") }.count >= 16)
    }

    @Test("--sim-rig-timing is refused on the GPIO backend, and --sim-line-log without it")
    func flagsAreChecked() throws {
        let root = RunningBinary.packageRoot
        let base = ["run", "--rig", root + "/profiles/rigs/raspberry-pi.yaml", "--prescription", root + "/profiles/prescriptions/spinal-600.yaml"]
        let a = try RunningBinary.itpump(base + ["--backend", "gpiod", "--sim-rig-timing"])
        #expect(a.status != 0 && a.stderr.contains("--sim-rig-timing is for --backend sim only"), "\(a.stderr)")
        let b = try RunningBinary.itpump(base + ["--backend", "sim", "--sim-line-log", "/tmp/x.log"])
        #expect(b.status != 0 && b.stderr.contains("--sim-line-log needs --sim-rig-timing"), "\(b.stderr)")
    }
}
