import PumpCore

extension EventKind {
    /// The stable name the journal stores in `events.kind` and `--kind` filters on (the case name).
    public var journalName: String {
        switch self {
        case .reservoirFilled: "reservoirFilled"
        case .bolusStarted: "bolusStarted"
        case .bolusCompleted: "bolusCompleted"
        case .testDoseResponse: "testDoseResponse"
        case .therapyStarted: "therapyStarted"
        case .scheduleProgrammed: "scheduleProgrammed"
        case .taperStarted: "taperStarted"
        case .taperStep: "taperStep"
        case .taperCancelled: "taperCancelled"
        case .emergencyOverride: "emergencyOverride"
        case .deliveryHalted: "deliveryHalted"
        case .deliveryResumed: "deliveryResumed"
        case .fullDoseConfirmed: "fullDoseConfirmed"
        case .refilled: "refilled"
        case .concentrationChanged: "concentrationChanged"
        case .refillDateSet: "refillDateSet"
        case .settingsChanged: "settingsChanged"
        case .alarmRaised: "alarmRaised"
        case .alarmCleared: "alarmCleared"
        case .alarmAcknowledged: "alarmAcknowledged"
        case .sensor: "sensor"
        case .commandRefused: "commandRefused"
        case .dailyDelivery: "dailyDelivery"
        }
    }
}

extension PumpController {
    /// Every stroke the controller has commanded (basal, test dose, priming) since it was created.
    public var totalStrokes: Int64 {
        DeliveryPurpose.allCases.reduce(0) { $0 + ledger.strokeCount($1, strokeVolume: profile.strokeVolume) }
    }
}
