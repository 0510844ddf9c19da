/// An amount of drug, in integer nanograms.
///
/// Totals are exact: a year of delivery adds integers, never floating-point. Display helpers convert to
/// μg or mg with rounding that is said in their name.
public struct Mass: Hashable, Comparable, Sendable, Codable, CustomStringConvertible, AdditiveArithmetic {
    /// Nanograms (1 μg = 1,000 ng).
    public var nanograms: Int64
    @inlinable public init(nanograms: Int64) { self.nanograms = nanograms }
    @inlinable public static func micrograms(_ ug: Int64) -> Mass { Mass(nanograms: ug * 1_000) }

    public static let zero = Mass(nanograms: 0)
    @inlinable public static func < (a: Mass, b: Mass) -> Bool { a.nanograms < b.nanograms }
    @inlinable public static func + (a: Mass, b: Mass) -> Mass { Mass(nanograms: a.nanograms + b.nanograms) }
    @inlinable public static func - (a: Mass, b: Mass) -> Mass { Mass(nanograms: a.nanograms - b.nanograms) }

    /// Micrograms as a `Double`, for display only.
    public var microgramsForDisplay: Double { Double(nanograms) / 1_000 }
    /// `123.456 μg`.
    public var description: String { Format.fixed(nanograms, scale: 1_000, digits: 3) + " μg" }
}

/// A volume of drug solution, in integer nanolitres.
public struct Volume: Hashable, Comparable, Sendable, Codable, CustomStringConvertible, AdditiveArithmetic {
    /// Nanolitres (1 μL = 1,000 nL; 1 mL = 1,000,000 nL).
    public var nanolitres: Int64
    @inlinable public init(nanolitres: Int64) { self.nanolitres = nanolitres }
    @inlinable public static func microlitres(_ ul: Int64) -> Volume { Volume(nanolitres: ul * 1_000) }
    @inlinable public static func millilitres(_ ml: Int64) -> Volume { Volume(nanolitres: ml * 1_000_000) }

    public static let zero = Volume(nanolitres: 0)
    @inlinable public static func < (a: Volume, b: Volume) -> Bool { a.nanolitres < b.nanolitres }
    @inlinable public static func + (a: Volume, b: Volume) -> Volume { Volume(nanolitres: a.nanolitres + b.nanolitres) }
    @inlinable public static func - (a: Volume, b: Volume) -> Volume { Volume(nanolitres: a.nanolitres - b.nanolitres) }
    @inlinable public static func * (a: Volume, k: Int64) -> Volume { Volume(nanolitres: a.nanolitres * k) }

    /// Millilitres as a `Double`, for display only.
    public var millilitresForDisplay: Double { Double(nanolitres) / 1_000_000 }
    /// `12.345 mL`; exact to the nanolitre (`0.00025 mL`, `1.999999 mL`) when not a whole μL, so a
    /// value one nL from a bound never prints as the bound and a stroke never prints as `0.000 mL`.
    public var description: String { Format.exact(nanolitres, scale: 1_000_000, minDigits: 3, maxDigits: 6) + " mL" }
}

/// A drug concentration in whole μg/mL, as printed on the vial.
///
/// 1 nL at `c` μg/mL holds exactly `c` picograms, so `mass(in:)` of an integer nanolitre volume is exact
/// in picograms; the nanogram result rounds down and says so.
public struct Concentration: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// μg of baclofen per mL of solution.
    public var microgramsPerMillilitre: Int64
    @inlinable public init(microgramsPerMillilitre: Int64) { self.microgramsPerMillilitre = microgramsPerMillilitre }
    public static func < (a: Concentration, b: Concentration) -> Bool { a.microgramsPerMillilitre < b.microgramsPerMillilitre }

    /// No drug (saline, CSF): what an unprimed catheter holds.
    public static let none = Concentration(microgramsPerMillilitre: 0)
    /// 50 μg/mL: screening (test dose) only.
    public static let screening = Concentration(microgramsPerMillilitre: 50)
    /// The concentrations a pump may be refilled with for therapy: 500, 1000 or 2000 μg/mL.
    public static let therapy: [Concentration] = [500, 1000, 2000].map { Concentration(microgramsPerMillilitre: $0) }

    /// Picograms of drug in `volume` (exact: nL × μg/mL = pg).
    @inlinable public func picograms(in volume: Volume) -> Int64 { volume.nanolitres * microgramsPerMillilitre }
    /// Nanograms of drug in `volume`, rounded down to the nanogram.
    @inlinable public func massRoundingDown(in volume: Volume) -> Mass { Mass(nanograms: picograms(in: volume) / 1_000) }
    /// The volume that holds `mass`, rounded up to the nanolitre (so at least `mass` is delivered).
    /// Requires a non-zero concentration.
    @inlinable public func volumeRoundingUp(holding mass: Mass) -> Volume {
        let pg = mass.nanograms * 1_000
        return Volume(nanolitres: (pg + microgramsPerMillilitre - 1) / microgramsPerMillilitre)
    }

    public var description: String { "\(microgramsPerMillilitre) μg/mL" }
}

/// A delivery rate of drug mass, in integer nanograms per 24 hours (shown as μg/day).
public struct DoseRate: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Nanograms per day (1 μg/day = 1,000 ng/day).
    public var nanogramsPerDay: Int64
    @inlinable public init(nanogramsPerDay: Int64) { self.nanogramsPerDay = nanogramsPerDay }
    @inlinable public static func microgramsPerDay(_ ug: Int64) -> DoseRate { DoseRate(nanogramsPerDay: ug * 1_000) }
    public static let zero = DoseRate(nanogramsPerDay: 0)

    /// The hard therapeutic floor: 50 μg/day. No override exists.
    public static let floor = DoseRate.microgramsPerDay(50)
    /// The hard therapeutic ceiling: 1200 μg/day. No override exists.
    public static let ceiling = DoseRate.microgramsPerDay(1200)
    /// `floor ... ceiling`.
    public static let allowedRange = floor...ceiling

    @inlinable public static func < (a: DoseRate, b: DoseRate) -> Bool { a.nanogramsPerDay < b.nanogramsPerDay }

    /// The volume rate that delivers this dose at `concentration` (exact in nL/day as a fraction;
    /// rounded to the nearest nL/day for display and projection only).
    public func volumeRate(at concentration: Concentration) -> VolumeRate {
        let c = concentration.microgramsPerMillilitre
        precondition(c > 0, "volume rate at zero concentration")
        let num = nanogramsPerDay * 1_000
        return VolumeRate(nanolitresPerDay: (num + c / 2) / c)
    }

    /// The dose and its volume rate side by side (`600 μg/day = 1.2000 mL/day`), as a programmer shows
    /// them; total: with no drug in the reservoir (concentration 0) there is no volume rate, and it says so
    /// (`600 μg/day (reservoir not filled)`) instead of stopping on `volumeRate(at:)`'s precondition.
    public func describe(at concentration: Concentration) -> String {
        concentration.microgramsPerMillilitre > 0
            ? "\(self) = \(volumeRate(at: concentration))" : "\(self) (reservoir not filled)"
    }

    /// This rate in picograms per day (1 ng = 1,000 pg), the unit of the stroke clock's credit.
    @inlinable public var picogramsPerDay: Int64 { nanogramsPerDay * 1_000 }

    /// `μg/day` as a `Double`, for display only.
    public var microgramsPerDayForDisplay: Double { Double(nanogramsPerDay) / 1_000 }
    /// `600 μg/day` (with decimals when not whole).
    public var description: String { Format.trimmed(nanogramsPerDay, scale: 1_000, maxDigits: 3) + " μg/day" }

    /// Scales by `numerator/denominator`, rounding up to the ng/day (so a decrease never cuts deeper
    /// than the requested ratio).
    public func scaled(numerator: Int64, denominator: Int64) -> DoseRate {
        let p = Int128(nanogramsPerDay) * Int128(numerator)
        let d = Int128(denominator)
        return DoseRate(nanogramsPerDay: Int64((p + d - 1) / d))
    }
}

/// A volume delivery rate, in integer nanolitres per day (shown as mL/day).
public struct VolumeRate: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var nanolitresPerDay: Int64
    @inlinable public init(nanolitresPerDay: Int64) { self.nanolitresPerDay = nanolitresPerDay }
    @inlinable public static func microlitresPerDay(_ ul: Int64) -> VolumeRate { VolumeRate(nanolitresPerDay: ul * 1_000) }
    public static func < (a: VolumeRate, b: VolumeRate) -> Bool { a.nanolitresPerDay < b.nanolitresPerDay }
    public var millilitresPerDayForDisplay: Double { Double(nanolitresPerDay) / 1_000_000 }
    /// `0.4800 mL/day`; exact to the nL/day (`0.047999 mL/day`) when finer than 0.1 μL/day.
    public var description: String { Format.exact(nanolitresPerDay, scale: 1_000_000, minDigits: 4, maxDigits: 6) + " mL/day" }
}

/// A flow rate used for boluses, in integer nanolitres per minute (shown as μL/min).
public struct FlowRate: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var nanolitresPerMinute: Int64
    @inlinable public init(nanolitresPerMinute: Int64) { self.nanolitresPerMinute = nanolitresPerMinute }
    public static func < (a: FlowRate, b: FlowRate) -> Bool { a.nanolitresPerMinute < b.nanolitresPerMinute }
    /// The time `volume` takes at this rate, rounded up to the nanosecond.
    public func duration(of volume: Volume) -> TimeSpan {
        let num = Int128(volume.nanolitres) * Int128(TimeConstants.nanosecondsPerMinute)
        let d = Int128(nanolitresPerMinute)
        return TimeSpan(nanoseconds: Int64((num + d - 1) / d))
    }
    public var description: String { Format.trimmed(nanolitresPerMinute, scale: 1_000, maxDigits: 3) + " μL/min" }
}

/// A ratio in parts per million (1 % = 10,000 ppm), for limits such as "at most 20 % per 24 h".
public struct Fraction: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var partsPerMillion: Int64
    public init(partsPerMillion: Int64) { self.partsPerMillion = partsPerMillion }
    public static func percent(_ p: Int64) -> Fraction { Fraction(partsPerMillion: p * 10_000) }
    public static func permille(_ p: Int64) -> Fraction { Fraction(partsPerMillion: p * 1_000) }
    public static func < (a: Fraction, b: Fraction) -> Bool { a.partsPerMillion < b.partsPerMillion }
    /// `20 %`, `14.5 %`; exact to the ppm (`30.0001 %`).
    public var description: String { Format.trimmed(partsPerMillion, scale: 10_000, maxDigits: 4) + " %" }
}

/// Decimal formatting of fixed-point integers without Foundation.
public enum Format {
    /// `value / scale` with exactly `digits` decimals (rounded half away from zero).
    public static func fixed(_ value: Int64, scale: Int64, digits: Int) -> String {
        decimal(value, scale: scale, digits: digits, keep: digits, dropPoint: false)
    }
    /// `value / scale` with `maxDigits` decimals (exact when `scale` divides `10^maxDigits`), trailing
    /// zeros dropped down to `minDigits` decimals.
    public static func exact(_ value: Int64, scale: Int64, minDigits: Int, maxDigits: Int) -> String {
        decimal(value, scale: scale, digits: maxDigits, keep: minDigits, dropPoint: false)
    }
    /// Like `fixed` but drops trailing zeros (and the point when whole).
    public static func trimmed(_ value: Int64, scale: Int64, maxDigits: Int) -> String {
        decimal(value, scale: scale, digits: maxDigits, keep: 0, dropPoint: true)
    }

    /// `value / scale` rounded half away from zero to `digits` decimals, its trailing zeros dropped
    /// down to `keep` decimals, and the point too when none is left and `dropPoint`. Written digit by
    /// digit into a buffer on the stack (no string is built and trimmed): these texts are formatted
    /// on hot paths (an alarm's detail, a sweep's rows).
    static func decimal(_ value: Int64, scale: Int64, digits: Int, keep: Int, dropPoint: Bool) -> String {
        var p: Int64 = 1
        for _ in 0..<digits { p *= 10 }
        let neg: Bool
        var whole: UInt64, frac: UInt64
        let (num, overflow) = value.multipliedReportingOverflow(by: p)
        if !overflow, scale > 0, num != .min, num.magnitude <= UInt64(Int64.max - scale / 2) {
            let q = (Int64(num.magnitude) + scale / 2) / scale
            neg = num < 0 && q != 0
            whole = UInt64(q / p)
            frac = UInt64(q % p)
        } else {
            let n = Int128(value) * Int128(p), den = Int128(scale)
            let q = n >= 0 ? (n + den / 2) / den : -((-n + den / 2) / den)
            neg = q < 0
            let mag = neg ? -q : q
            whole = UInt64(mag / Int128(p))
            frac = UInt64(mag % Int128(p))
        }
        // Trailing zeros of the `digits` decimals, and how many of them go.
        var zeros = 0
        if frac == 0 {
            zeros = digits
        } else {
            var f = frac
            while f % 10 == 0 { f /= 10; zeros += 1 }
        }
        let drop = min(zeros, max(0, digits - keep))
        for _ in 0..<drop { frac /= 10 }
        let shown = digits - drop
        let capacity = 48   // sign, 20 digits, point, 18 decimals at most (10^digits fits in Int64)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buf in
            var i = capacity
            for _ in 0..<shown {
                i -= 1
                buf[i] = 48 + UInt8(frac % 10)
                frac /= 10
            }
            if digits > 0 && (shown > 0 || !dropPoint) {
                i -= 1
                buf[i] = 46
            }
            repeat {
                i -= 1
                buf[i] = 48 + UInt8(whole % 10)
                whole /= 10
            } while whole > 0
            if neg {
                i -= 1
                buf[i] = 45
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buf[i..<capacity]), as: UTF8.self)
        }
    }
}
