import PumpCore

/// Where the drug that left a simulated pump's reservoir went, in exact femtograms.
///
/// Invariant (conservation): `outOfReservoir = toCSF + toPocket + columnChange`, and the reservoir's
/// own ledger (drug added by refills − drug withdrawn with the residuals − drug in it now) equals
/// `outOfReservoir`. Nothing is rounded, so a balance holds to the femtogram or it does not hold.
public struct DrugAccount: Hashable, Sendable, Codable {
    /// Drug that left the reservoir through the pump (each volume at the concentration it left at).
    public var outOfReservoir: Femtograms
    /// The same figure from the reservoir's side: added − withdrawn − what it holds now.
    public var reservoirLedger: Femtograms
    /// Drug that reached the CSF.
    public var toCSF: Femtograms
    /// Drug that went to the pocket (leak, disconnection).
    public var toPocket: Femtograms
    /// Drug now in the catheter column (and held behind an occlusion) minus what it held at the start.
    public var columnChange: Femtograms

    public init(outOfReservoir: Femtograms, reservoirLedger: Femtograms, toCSF: Femtograms, toPocket: Femtograms, columnChange: Femtograms) {
        self.outOfReservoir = outOfReservoir
        self.reservoirLedger = reservoirLedger
        self.toCSF = toCSF
        self.toPocket = toPocket
        self.columnChange = columnChange
    }

    /// Drug that left the reservoir and is nowhere (zero when the balance holds).
    public var unaccounted: Femtograms { outOfReservoir - toCSF - toPocket - columnChange }

    /// Both balances hold exactly.
    public var isBalanced: Bool { unaccounted == .zero && reservoirLedger == outOfReservoir }

    /// What is wrong, one line each (empty when balanced).
    public var problems: [String] {
        var out: [String] = []
        if unaccounted != .zero {
            out.append("\(outOfReservoir) left the reservoir but the CSF (\(toCSF)), the pocket (\(toPocket)) and the catheter column (change \(columnChange)) account for \(toCSF + toPocket + columnChange): \(unaccounted.value) fg unaccounted")
        }
        if reservoirLedger != outOfReservoir {
            out.append("the reservoir's ledger (added − withdrawn − held) says \(reservoirLedger) left it, the pump counted \(outOfReservoir)")
        }
        return out
    }
}
