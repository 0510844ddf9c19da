import PumpCore

extension SimulationRunner {
    /// Fills the reservoir and primes the catheter at the start of the run: a scenario's set-up.
    mutating func fillAndPrime() throws(ScenarioError) {
        let s = scenario
        sink.pump.refill(added: s.initialFill, concentration: s.concentration, at: .zero)
        try setup("fill", .refill(RefillRequest(withdrawn: .zero, added: s.initialFill, concentration: s.concentration,
                                                confirmConcentrationChange: true)), at: .zero)
        try setup("prime", .prime(confirmVolume: controller.primingVolume), at: .zero)
    }

    /// When `scenario`'s priming bolus ends (nil if it has none): therapy must start after it. Runs the
    /// scenario's set-up (fill, prime) exactly as `run` does, so loaders refuse what `run` would.
    public static func primingEnd(of scenario: Scenario) throws(ScenarioError) -> Instant? {
        var r = try SimulationRunner(scenario: scenario, fidelity: .fast, keepSeries: false)
        try r.fillAndPrime()
        return r.controller.bolus?.endsAt
    }
}
