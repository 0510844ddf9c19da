import PumpCore

/// Starts therapy on a fresh controller from a prescription, as a clinician would at implant of a
/// replacement pump: fill the reservoir, prime the catheter, and once priming has finished start the
/// schedule with the `transfer` basis (the prescription's dose as the previous pump's). Every step
/// goes through the interlock; a refusal stops the bring-up and is reported.
///
/// In `screening` mode the bring-up stops after priming (stage `screening`): no schedule is started,
/// the clinician screens with test doses over the control channel (`bolus`, `test_dose_response`) under
/// the core's rules and starts therapy with `start` once a dose was effective.
public struct BringUp: Sendable {
    public enum Stage: String, Sendable { case fill, prime, priming, start, done, failed, screening }
    /// How far the bring-up goes: `therapy` (fill, prime, start the schedule; the default) or
    /// `screening` (fill and prime, then wait for the clinician's test doses).
    public enum Mode: String, Sendable, CaseIterable { case therapy, screening }
    public let mode: Mode
    public private(set) var stage: Stage = .fill
    public let prescription: RunPrescription
    /// The refusal that stopped the bring-up, if one did.
    public private(set) var refusal: String?

    public init(prescription: RunPrescription, mode: Mode = .therapy) {
        self.prescription = prescription
        self.mode = mode
    }

    /// The next command due given the controller's state, or nil when waiting or finished.
    public mutating func nextCommand(for c: PumpController) -> Command? {
        switch stage {
        case .fill:
            return .refill(RefillRequest(withdrawn: .zero, added: prescription.fill ?? c.profile.reservoirCapacity,
                                         concentration: prescription.concentration))
        case .prime: return .prime(confirmVolume: c.primingVolume)
        case .priming:
            if c.primed && c.bolus == nil { stage = mode == .screening ? .screening : .start; return nextCommand(for: c) }
            return nil
        case .start: return .startTherapy(prescription.schedule, basis: .transfer(previousDailyDose: prescription.schedule.dailyDose))
        case .done, .failed, .screening: return nil
        }
    }

    /// Records the controller's answer to the command `nextCommand` gave.
    public mutating func record(_ response: CommandResponse) {
        if let r = response.refusal { refusal = r.description; stage = .failed; return }
        switch stage {
        case .fill: stage = .prime
        case .prime: stage = .priming
        case .start: stage = .done
        default: break
        }
    }
}
