import PumpCore
import PumpSim
import PumpRig

/// The simulated pump moved at a rig's pace (`itpump run --backend sim --sim-rig-timing`): each
/// stroke runs the rig file's ENABLE/DIR setup and STEP pulse train through `RigDriver` on
/// `SimulatedLines` (so it takes as long as on the bench rig, 100 ms on the Raspberry Pi rig), and
/// the simulated pump (`pump`) records what it delivers, models the injected faults and reports the
/// sensors. The alarm outputs are driven on the lines as on the rig (LED and buzzer patterns).
///
/// Only the pump's sensors reach the core: the simulated lines' inputs never change, and their
/// stroke feedback always answers (a stall is the simulated pump's `motor_stall` fault).
public final class SimulatedRig: PumpDriver {
    /// The STEP/DIR/ENABLE timing and alarm outputs, on simulated lines.
    public let rig: RigDriver
    /// The pump's truth: delivery, faults, sensors.
    public var pump: SimulatedPump

    public init(rig: RigDriver, pump: SimulatedPump) {
        self.rig = rig
        self.pump = pump
    }

    public func perform(_ stroke: Stroke) throws {
        try rig.perform(stroke)
        try pump.perform(stroke)
    }

    public func indicate(_ indication: AlarmIndication, at instant: Instant) throws {
        try rig.indicate(indication, at: instant)
        try pump.indicate(indication, at: instant)
    }

    public func sensorChanges(upTo instant: Instant) throws -> [(at: Instant, reading: SensorReading)] {
        // The rig's own readings (edges drained, feedback seen) are not the truth here: dropped.
        _ = try rig.sensorChanges(upTo: instant)
        return try pump.sensorChanges(upTo: instant)
    }

    public func enterSafeState() throws {
        try rig.enterSafeState()
        try pump.enterSafeState()
    }
}
