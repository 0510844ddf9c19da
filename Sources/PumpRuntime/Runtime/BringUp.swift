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

    /// The bring-up of a pump recovered from its journal, continuing where the last run stopped: the
    /// stage follows from what the controller already did, so a restart never fills the same drug a
    /// second time, never gives a second priming bolus (a priming cut short is completed with the
    /// remaining `primingVolume`) and never starts therapy twice. `.done` once therapy has started.
    /// A pump that was already being screened (a test dose given) is left waiting for the clinician
    /// whatever `mode` says: its start depends on the test dose's response, not on a transfer.
    public init(prescription: RunPrescription, mode: Mode = .therapy, resuming c: PumpController) {
        self.prescription = prescription
        self.mode = c.screening.doses.isEmpty ? mode : .screening
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
            if c.primed && c.bolus == nil { stage = mode == .screening ? .screening : .start; return nextCommand(for: c) }
            // A priming cut short by a gap accounted as downtime (a late wake-up, a journal outage):
            // complete it with the remaining priming volume, never a second full priming.
            if !c.primed && c.bolus == nil { stage = .prime; return nextCommand(for: c) }
            return nil
        case .start: return .startTherapy(prescription.schedule, basis: .transfer(previousDailyDose: prescription.schedule.dailyDose))
        case .screening:
            // The clinician's `start` ends the screening, and with it the bring-up.
            if case .notStarted = c.phase { return nil }
            stage = .done
            return nil
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
