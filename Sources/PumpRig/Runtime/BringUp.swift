import PumpCore

/// Starts therapy on a fresh controller from a prescription, as a clinician would at implant of a
/// replacement pump: fill the reservoir, prime the catheter, and once priming has finished start the
/// schedule with the `transfer` basis (the prescription's dose as the previous pump's). Every step
/// goes through the interlock; a refusal stops the bring-up and is reported.
public struct BringUp: Sendable {
    public enum Stage: String, Sendable { case fill, prime, priming, start, done, failed }
    public private(set) var stage: Stage = .fill
    public let prescription: RunPrescription
    /// The refusal that stopped the bring-up, if one did.
    public private(set) var refusal: String?

    public init(prescription: RunPrescription) { self.prescription = prescription }

    /// The bring-up of a pump recovered from its journal, continuing where the last run stopped: the
    /// stage follows from what the controller already did, so a restart never fills the same drug a
    /// second time, never gives a second priming bolus (a priming cut short is completed with the
    /// remaining `primingVolume`) and never starts therapy twice. `.done` once therapy has started.
    public init(prescription: RunPrescription, resuming c: PumpController) {
        self.prescription = prescription
        guard case .notStarted = c.phase else { stage = .done; return }
        if c.reservoir.filledAt == nil { stage = .fill } else if c.primed || c.bolus != nil { stage = .priming } else { stage = .prime }
    }

    /// The next command due given the controller's state, or nil when waiting or finished.
    public mutating func nextCommand(for c: PumpController) -> Command? {
        switch stage {
        case .fill:
            return .refill(RefillRequest(withdrawn: .zero, added: prescription.fill ?? c.profile.reservoirCapacity,
                                         concentration: prescription.concentration))
        case .prime: return .prime(confirmVolume: c.primingVolume)
        case .priming:
            if c.primed && c.bolus == nil { stage = .start; return nextCommand(for: c) }
            return nil
        case .start: return .startTherapy(prescription.schedule, basis: .transfer(previousDailyDose: prescription.schedule.dailyDose))
        case .done, .failed: return nil
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
