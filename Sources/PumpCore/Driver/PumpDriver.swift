/// What the alarm outputs should show: the highest active priority (LEDs, nil when no alarm is
/// active) and, when an audible alert is due, which alarm sounds (buzzer pattern by priority).
public struct AlarmIndication: Hashable, Sendable, Codable {
    public var highestPriority: AlarmPriority?
    public var alert: AlarmKind?
    public init(highestPriority: AlarmPriority?, alert: AlarmKind? = nil) {
        self.highestPriority = highestPriority
        self.alert = alert
    }
}

/// The physical side of a pump: carries out the core's strokes, shows its alarms and reports its
/// sensors. The simulated pump (`PumpSim`) and the GPIO bench rig both conform, and the same loop
/// drives either: the core never knows which.
///
/// Time is explicit here too: every call carries the instant on the controller's time line, so a
/// simulated driver needs no clock and a real one maps instants to its monotonic clock.
public protocol PumpDriver {
    /// Moves the motor one stroke (`stroke.volume` at `stroke.at`). A driver that cannot (a dead
    /// motor driver, a released line) throws; it does not decide therapy.
    mutating func perform(_ stroke: Stroke) throws
    /// Sets the alarm outputs at `instant`.
    mutating func indicate(_ indication: AlarmIndication, at instant: Instant) throws
    /// Sensor changes observed up to and including `instant`, in time order (occlusion switch, stroke
    /// feedback missing = motor stall, reservoir-empty switch).
    mutating func sensorChanges(upTo instant: Instant) throws -> [(at: Instant, reading: SensorReading)]
    /// Puts every output in its safe state (motor disabled, step line low, buzzer off). Called on
    /// shutdown and on any driver failure.
    mutating func enterSafeState() throws
}
