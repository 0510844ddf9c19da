import PumpCore
@testable import PumpSim

/// Scenarios built in code for the tests; their outcomes are derived by hand in each test.
enum TestScenarios {
    /// bench20, 600 μg/day at 500 μg/mL (1.2 mL/day), filled with 20 mL at 0, therapy from 1 h.
    static func basic(days: Int64, timeline: [ScenarioEvent] = [], faults: [Fault] = [], mechanics: PumpMechanics = PumpMechanics(),
                      dose: Int64 = 600, policy: ReservoirPolicy = .alarmOnly) -> Scenario {
        var settings = ControllerSettings()
        settings.reservoirPolicy = policy
        return Scenario(name: "test", profile: .bench20, mechanics: mechanics, settings: settings,
                        concentration: Concentration(microgramsPerMillilitre: 500), schedule: .continuous(.microgramsPerDay(dose)),
                        duration: .days(days), timeline: timeline, faults: FaultPlan(faults))
    }
}
