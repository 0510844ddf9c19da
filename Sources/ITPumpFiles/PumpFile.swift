import PumpCore

/// `kind: pump` files: a pump model and its catheter (`PumpProfile`).
///
/// ```yaml
/// kind: pump
/// name: bench 20 mL
/// reservoirCapacity: 20 mL        # 20 mL or 40 mL
/// strokeVolume: 0.25 uL           # 50 nL … 10 uL
/// internalDeadVolume: 0.05 mL     # 0 … 1 mL
/// catheterLength: 110 cm          # or catheterVolume: 0.286 mL (0.0026 mL/cm)
/// bolusRate: 16667 nL/min
/// minimumPatencyRate: 0.048 mL/day
/// emptySwitch: false              # optional: true when the pump has a reservoir-empty switch
/// occlusionDetectionStrokes: 40   # optional: most strokes the occlusion sensor needs to trip (1 … 10000)
/// stallDetectionStrokes: 3        # optional: most strokes without feedback before the stall reading (1 … 1000)
/// description: free text           # optional, as in every itpump file
/// ```
public enum PumpFile {
    static let keys = ["kind", "name", "reservoirCapacity", "strokeVolume", "internalDeadVolume", "catheterVolume",
                       "catheterLength", "bolusRate", "minimumPatencyRate", "emptySwitch", "occlusionDetectionStrokes", "stallDetectionStrokes", "description"]

    /// Loads a pump file.
    public static func load(path: String) throws(DiagnosticReport) -> PumpProfile {
        try FileKinds.load(path: path, kind: "pump", read: read)
    }

    /// The built-in profiles a scenario may name instead of a file.
    public static let builtIn: [String: PumpProfile] = ["bench20": .bench20, "bench40": .bench40]

    /// Reads a pump profile from a mapping (a file's root, or inline in a scenario).
    public static func read(_ m: MappingField) -> PumpProfile? {
        typealias L = PumpProfile.Limits
        let name = m.optional("name")?.string() ?? "pump"
        _ = m.optional("description")?.string(maxLength: 2_000)
        let capacity = m.required("reservoirCapacity", allowed: "20 mL or 40 mL")?
            .volume(in: L.reservoirCapacities[0]...L.reservoirCapacities[1], rangeText: "20 mL or 40 mL")
        if let c = capacity, !L.reservoirCapacities.contains(c), let f = m.optional("reservoirCapacity") {
            f.fail("\(c) is not a reservoir size in the field", allowed: "20 mL or 40 mL")
        }
        let stroke = m.required("strokeVolume", allowed: "\(L.strokeVolume)")?.volume(in: L.strokeVolume)
        let internalDead = m.required("internalDeadVolume", allowed: "\(L.internalDeadVolume)")?.volume(in: L.internalDeadVolume)
        var catheter: Volume?
        if let f = m.optional("catheterVolume") {
            if m.has("catheterLength") { f.fail("give catheterVolume or catheterLength, not both", allowed: "one of them") }
            catheter = f.volume(in: L.catheterVolume)
        } else if let f = m.optional("catheterLength") {
            let maxCm = L.catheterVolume.upperBound.nanolitres / 2_600
            if let cm = f.quantity(QuantitySyntax.centimetres, in: 0...maxCm, rangeText: "0 cm … \(maxCm) cm") {
                catheter = PumpProfile.catheterVolume(lengthCentimetres: cm)
            }
        } else {
            m.field.reader.report(m.field.node, field: "catheterVolume", value: "missing", allowed: "catheterVolume or catheterLength",
                                  "required field is missing; add catheterVolume (mL) or catheterLength (cm)")
        }
        let bolus = m.required("bolusRate", allowed: "\(L.bolusRate)")?.flowRate(in: L.bolusRate)
        let patency = m.required("minimumPatencyRate", allowed: "\(L.minimumPatencyRate)")?.volumeRate(in: L.minimumPatencyRate)
        let emptySwitch = m.optional("emptySwitch")?.bool() ?? false
        var detection: Int64? = 40
        if let f = m.optional("occlusionDetectionStrokes") { detection = f.integer(in: L.occlusionDetectionStrokes) }
        var stallDetection: Int64? = 3
        if let f = m.optional("stallDetectionStrokes") { stallDetection = f.integer(in: L.stallDetectionStrokes) }
        m.finish(allowing: keys)
        guard let capacity, let stroke, let internalDead, let catheter, let bolus, let patency, let detection, let stallDetection,
              L.reservoirCapacities.contains(capacity) else { return nil }
        let p = PumpProfile(name: name, reservoirCapacity: capacity, strokeVolume: stroke, internalDeadVolume: internalDead,
                            catheterVolume: catheter, bolusRate: bolus, minimumPatencyRate: patency,
                            hasEmptySwitch: emptySwitch, occlusionDetectionStrokes: detection, stallDetectionStrokes: stallDetection)
        do throws(ConfigurationError) { try p.validate() } catch {
            m.field.fail(error.description, allowed: "the ranges in PumpProfile.Limits")
            return nil
        }
        return p
    }
}

extension FileKind {
    /// `kind: pump`.
    public static let pump = FileKind(name: "pump", summary: "a pump model and catheter (PumpProfile)") { m in
        _ = PumpFile.read(m)
    }
}
