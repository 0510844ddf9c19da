import Foundation
import Testing
@testable import ITPumpFiles
@testable import PumpCore
@testable import PumpSim

/// `profiles/scenarios/under-infusion-switch.yaml`: every figure derived by hand in the file's comment.
@Suite("Empty switch governs an under-infusing pump (shipped scenario)")
struct EmptySwitchGoldenTests {
    static let calculatedEmpty: Int64 = 3_600 + 1_415_808   // 78,656 strokes × 18 s after 1 h
    static let switchCloses: Int64 = 3_600 + 1_651_608      // 91,756 strokes × 18 s after 1 h

    @Test("the calculated empty alone does not stop delivery: the switch does, 2d17h30m later, with 99.875 uL left", arguments: Fidelity.allCases)
    func switchGoverns(fidelity: Fidelity) throws {
        let s = try ScenarioFile.load(path: "\(FastPathTests.scenariosDir)/under-infusion-switch.yaml")
        #expect(s.profile.hasEmptySwitch)
        let r = try SimulationRunner.run(s, fidelity: fidelity)
        let raised = { (k: AlarmKind) in r.recorder.alarms.filter { $0.kind == k }.map { $0.raisedAt.nanoseconds / 1_000_000_000 } }
        #expect(raised(.calculatedEmptySensorDisagrees) == [Self.calculatedEmpty])
        #expect(raised(.reservoirEmpty) == [Self.switchCloses])
        #expect(r.recorder.alarms.first { $0.kind == .calculatedEmptySensorDisagrees }?.clearedAt == .zero + .seconds(Self.switchCloses))
        #expect(r.recorder.emptyOnsets == [.zero + .seconds(Self.switchCloses)])
        #expect(r.pump.reservoir == Picolitres(99_875_000))
        #expect(r.controller.ledger.basalPicograms == 91_756 * 125_000)
        #expect(r.pump.toPatient == Femtograms(19_564_125 * 500_000))
        #expect(r.recorder.zeroDelivery == .seconds(25 * 86_400 - Self.switchCloses))
    }
}
