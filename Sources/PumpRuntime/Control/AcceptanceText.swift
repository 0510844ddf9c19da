import PumpCore

/// Words for what an accepted command did (units on every number).
public enum AcceptanceText {
    public static func describe(_ a: Acceptance) -> String {
        switch a {
        case let .refilled(r): return "refilled: \(r.added) at \(r.concentration) (withdrew \(r.withdrawn), estimate was \(r.estimated))\(r.discrepancy ? " — DISCREPANCY alarm" : "")"
        case let .bolusStarted(p, target, v, endsAt): return "\(p) bolus started: \(target), \(v), ends \(endsAt)"
        case let .responseRecorded(offer): return "response recorded" + (offer.map { "; offered starting dose \($0)" } ?? "")
        case let .programmed(s): return "programmed \(s.schedule): \(s.dailyDose) = \(s.volumeRate) at \(s.concentration)"
        case let .taper(p): return "\(p.kind) taper from \(p.fromDose)" + (p.endsAt.map { ", delivery ends \($0)" } ?? "")
        case let .resumed(d): return "taper cancelled, holding \(d)"
        case .done: return "done"
        }
    }
}
