/// How the runner moves the simulated pump.
public enum Fidelity: String, Hashable, Sendable, Codable, CaseIterable {
    /// Every stroke is an event through `SimulatedPump.perform`, as on the rig.
    case stroke
    /// Runs of basal strokes between deadlines are applied in aggregate (closed form): the
    /// controller ends bit-identical, the pump draws the batch's noise as one sum.
    case fast
}
