import PumpCore

/// What `itpump run --prescription` starts the controller with: its settings, the fill, and the
/// schedule taken over from a previous pump (start basis `transfer`). The CLI reads it from the shared
/// prescription format (ITPumpFiles' `PrescriptionFile`, `kind: prescription`).
public struct RunPrescription: Hashable, Sendable {
    public var concentration: Concentration
    public var schedule: Schedule
    /// Controller settings (patient group, limits, alarms, wall clock at start).
    public var settings: ControllerSettings
    /// Volume filled at bring-up; nil = the reservoir's capacity.
    public var fill: Volume?

    public init(concentration: Concentration, schedule: Schedule, settings: ControllerSettings = ControllerSettings(), fill: Volume? = nil) {
        self.concentration = concentration
        self.schedule = schedule
        self.settings = settings
        self.fill = fill
    }
}
