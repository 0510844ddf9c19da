import Foundation
import PumpCore

/// The CSF compartment and the withdrawal state, stepped one interval of constant input at a time
/// with the exact solution C(t) = C∞ + (C₀ − C∞)·e^(−kt), C∞ = R/CL. Also measures, exactly within
/// each interval, how long C stays below the withdrawal threshold.
public struct CSFModel: Hashable, Sendable {
    public let parameters: PKParameters
    /// The interval length every step uses.
    public let interval: TimeSpan
    let k: Double            // per hour
    let hours: Double        // interval in hours
    let decay: Double        // e^(−k·Δ)
    let meanFactor: Double   // (1 − e^(−kΔ)) / (kΔ): the mean of the exponential part over Δ
    let severityDecay: Double
    let clearance: Double    // mL/h

    /// Concentration now.
    public private(set) var concentration = CSFConcentration.zero
    /// Withdrawal severity, 0 (none) … 1 (complete deficit sustained for many time constants).
    public private(set) var severity = 0.0

    public init(parameters: PKParameters, interval: TimeSpan) {
        self.parameters = parameters
        self.interval = interval
        k = parameters.eliminationPerHour
        hours = Double(interval.nanoseconds) / 3.6e12
        decay = exp(-k * hours)
        meanFactor = (1 - decay) / (k * hours)
        severityDecay = exp(-Double(interval.nanoseconds) / Double(parameters.severityTimeConstant.nanoseconds))
        clearance = parameters.clearanceMillilitresPerHour
    }

    /// Sets the level (a patient transferred from another pump starts at its steady state).
    public mutating func start(at level: CSFConcentration) { concentration = level }

    /// Puts back the state a batched stepper (`Recorder.closeRun`) carried in registers.
    mutating func restore(concentration c: Double, severity s: Double) {
        concentration = CSFConcentration(nanogramsPerMillilitre: c)
        severity = s
    }

    /// What one interval did.
    public struct Step: Hashable, Sendable {
        /// Time within the interval spent below the threshold.
        public var belowThreshold: TimeSpan
        /// Offset into the interval where the level crossed the threshold (if it did).
        public var crossing: TimeSpan?
    }

    /// Advances one interval during which `delivered` reached the CSF at a constant rate; `threshold`
    /// nil means no withdrawal reference (therapy not running, or ended by a completed taper).
    public mutating func step(delivered: Femtograms, reference: CSFConcentration?) -> Step {
        let c0 = concentration.nanogramsPerMillilitre
        // R in ng/h: fg / 10⁶ over the interval.
        let rate = Double(delivered.value) / 1e6 / hours
        let css = rate / clearance
        let c1 = css + (c0 - css) * decay
        var result = Step(belowThreshold: .zero, crossing: nil)
        if let reference, reference.nanogramsPerMillilitre > 0 {
            let thr = reference.nanogramsPerMillilitre * Double(parameters.withdrawalFraction.partsPerMillion) / 1e6
            let below0 = c0 < thr, below1 = c1 < thr
            if below0 && below1 {
                result.belowThreshold = interval
            } else if below0 != below1 {
                // Monotone within the interval: one crossing at t* = ln((C₀ − C∞)/(thr − C∞)) / k.
                let ratio = (c0 - css) / (thr - css)
                let tHours = ratio > 0 ? log(ratio) / k : hours
                let ns = Int64(min(max(tHours, 0), hours) * 3.6e12)
                result.crossing = TimeSpan(nanoseconds: ns)
                result.belowThreshold = below0 ? TimeSpan(nanoseconds: ns) : TimeSpan(nanoseconds: interval.nanoseconds - ns)
            }
            // Severity follows the mean deficit over the interval with a first-order lag.
            let mean = css + (c0 - css) * meanFactor
            let deficit = min(1, max(0, 1 - mean / reference.nanogramsPerMillilitre))
            severity = deficit + (severity - deficit) * severityDecay
        } else {
            severity *= severityDecay
        }
        concentration = CSFConcentration(nanogramsPerMillilitre: c1)
        return result
    }
}
