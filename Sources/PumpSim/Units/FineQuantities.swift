import PumpCore

/// A volume in integer picolitres (1 nL = 1,000 pL): fine enough for per-stroke noise on a 250 nL
/// stroke, and a year of strokes (about 10¹² pL) is far inside 64 bits. Totals stay exact.
public struct Picolitres: Hashable, Comparable, Sendable, Codable, CustomStringConvertible, AdditiveArithmetic {
    public var value: Int64
    @inlinable public init(_ value: Int64) { self.value = value }
    @inlinable public init(_ v: Volume) { value = v.nanolitres * 1_000 }
    public static let zero = Picolitres(0)
    @inlinable public static func < (a: Picolitres, b: Picolitres) -> Bool { a.value < b.value }
    @inlinable public static func + (a: Picolitres, b: Picolitres) -> Picolitres { Picolitres(a.value + b.value) }
    @inlinable public static func - (a: Picolitres, b: Picolitres) -> Picolitres { Picolitres(a.value - b.value) }
    /// The core's volume, rounded down to the nanolitre (a measured residual is never overstated).
    public var volumeRoundingDown: Volume { Volume(nanolitres: value / 1_000) }
    /// Drug in this volume at `c`: pL × μg/mL = fg, exact.
    @inlinable public func femtograms(at c: Concentration) -> Femtograms { Femtograms(value * c.microgramsPerMillilitre) }
    /// Millilitres for display only.
    public var millilitresForDisplay: Double { Double(value) / 1e9 }
    public var description: String { Format.exact(value, scale: 1_000_000_000, minDigits: 3, maxDigits: 6) + " mL" }
}

/// A drug mass in integer femtograms (1 ng = 10⁶ fg): the exact product of picolitres and μg/mL.
public struct Femtograms: Hashable, Comparable, Sendable, Codable, CustomStringConvertible, AdditiveArithmetic {
    public var value: Int64
    @inlinable public init(_ value: Int64) { self.value = value }
    public static let zero = Femtograms(0)
    @inlinable public static func < (a: Femtograms, b: Femtograms) -> Bool { a.value < b.value }
    @inlinable public static func + (a: Femtograms, b: Femtograms) -> Femtograms { Femtograms(a.value + b.value) }
    @inlinable public static func - (a: Femtograms, b: Femtograms) -> Femtograms { Femtograms(a.value - b.value) }
    /// The core's mass, rounded down to the nanogram.
    public var massRoundingDown: Mass { Mass(nanograms: value / 1_000_000) }
    /// Micrograms for display and reports only.
    public var microgramsForDisplay: Double { Double(value) / 1e9 }
    public var description: String { Format.fixed(value, scale: 1_000_000_000, digits: 3) + " μg" }
}
