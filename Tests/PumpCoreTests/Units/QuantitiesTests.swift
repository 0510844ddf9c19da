import PropertyBased
import Testing
@testable import PumpCore

@Suite("Units: quantities")
struct QuantitiesTests {
    @Test("nL × μg/mL = pg, exactly")
    func picogramsAreExact() {
        // 250 nL at 500 μg/mL: 250 × 500 = 125,000 pg = 125 ng.
        #expect(c500.picograms(in: nl(250)) == 125_000)
        // 1 nL at 2000 μg/mL: 2,000 pg = 2 ng.
        #expect(c2000.picograms(in: nl(1)) == 2_000)
        // 20 mL at 2000 μg/mL: 20,000,000 nL × 2,000 = 4 × 10¹⁰ pg = 40 mg.
        #expect(c2000.picograms(in: .millilitres(20)) == 40_000_000_000)
        #expect(Concentration.none.picograms(in: .millilitres(1)) == 0)
    }

    @Test("mass in a volume rounds down to the nanogram")
    func massRoundsDown() {
        // 1 nL at 50 μg/mL = 50 pg = 0.05 ng → 0 ng; 19 nL → 950 pg → 0 ng; 20 nL → 1,000 pg → 1 ng.
        #expect(c50.massRoundingDown(in: nl(1)) == Mass(nanograms: 0))
        #expect(c50.massRoundingDown(in: nl(19)) == Mass(nanograms: 0))
        #expect(c50.massRoundingDown(in: nl(20)) == Mass(nanograms: 1))
        // 39 nL → 1,950 pg → 1 ng (down, not to nearest).
        #expect(c50.massRoundingDown(in: nl(39)) == Mass(nanograms: 1))
    }

    @Test("volume holding a mass rounds up to the nanolitre")
    func volumeRoundsUp() {
        // 1 ng = 1,000 pg at 2000 μg/mL = 0.5 nL → 1 nL.
        #expect(c2000.volumeRoundingUp(holding: Mass(nanograms: 1)) == nl(1))
        // 50 μg = 5 × 10⁷ pg at 50 μg/mL = 1,000,000 nL exactly (no rounding).
        #expect(c50.volumeRoundingUp(holding: .micrograms(50)) == .millilitres(1))
        // 1 ng at 3 μg/mL = 333.33… nL → 334 nL.
        #expect(Concentration(microgramsPerMillilitre: 3).volumeRoundingUp(holding: Mass(nanograms: 1)) == nl(334))
    }

    struct VolumeRateCase: Sendable, CustomTestStringConvertible {
        var dose: DoseRate; var c: Concentration; var expected: Int64
        var testDescription: String { "\(dose) at \(c) → \(expected) nL/day" }
    }
    @Test("DoseRate.volumeRate: ng/day × 1000 / (μg/mL), rounded to the nearest nL/day, halves up",
          arguments: [
              // 600 μg/day at 500 μg/mL = 600,000 × 1000 / 500 = 1,200,000 nL/day = 1.2 mL/day.
              VolumeRateCase(dose: ug(600), c: c500, expected: 1_200_000),
              // 1200 at 500 = 2.4 mL/day.
              VolumeRateCase(dose: ug(1200), c: c500, expected: 2_400_000),
              // 50 at 2000 = 50,000,000 / 2000 = 25,000 nL/day (0.025 mL/day).
              VolumeRateCase(dose: ug(50), c: c2000, expected: 25_000),
              // 1 ng/day at 2000: 1000 / 2000 = 0.5 → 1 (half rounds up).
              VolumeRateCase(dose: ngPerDay(1), c: c2000, expected: 1),
              // 1 ng/day at 3 μg/mL: 1000 / 3 = 333.3 → 333.
              VolumeRateCase(dose: ngPerDay(1), c: Concentration(microgramsPerMillilitre: 3), expected: 333),
              // 2 ng/day at 3 μg/mL: 2000 / 3 = 666.7 → 667.
              VolumeRateCase(dose: ngPerDay(2), c: Concentration(microgramsPerMillilitre: 3), expected: 667),
          ])
    func volumeRate(_ k: VolumeRateCase) {
        #expect(k.dose.volumeRate(at: k.c) == VolumeRate(nanolitresPerDay: k.expected))
    }

    @Test("FlowRate.duration rounds up to the nanosecond")
    func flowDuration() {
        let f = FlowRate(nanolitresPerMinute: 16_667)
        // 16,667 nL takes exactly one minute.
        #expect(f.duration(of: nl(16_667)) == .minutes(1))
        // 1 nL: 60 × 10⁹ / 16,667 = 3,599,928.0…(60e9 = 16,667 × 3,599,928 + 24) → 3,599,929 ns.
        #expect(f.duration(of: nl(1)) == ns(3_599_929))
        // 1 mL at 1 mL/min: one minute exactly.
        #expect(FlowRate(nanolitresPerMinute: 1_000_000).duration(of: .millilitres(1)) == .minutes(1))
        // 1 nL at 7 nL/min: 60e9 / 7 = 8,571,428,571.43 → 8,571,428,572 ns.
        #expect(FlowRate(nanolitresPerMinute: 7).duration(of: nl(1)) == ns(8_571_428_572))
    }

    @Test("DoseRate.scaled rounds up to the ng/day")
    func scaledRoundsUp() {
        // 600 μg/day × 0.8 = 480 μg/day exactly.
        #expect(ug(600).scaled(numerator: 800_000, denominator: 1_000_000) == ug(480))
        // 1 ng/day × 0.8 = 0.8 → 1 (up, so a decrease never cuts deeper than asked).
        #expect(ngPerDay(1).scaled(numerator: 8, denominator: 10) == ngPerDay(1))
        // 999 ng/day × 0.8 = 799.2 → 800.
        #expect(ngPerDay(999).scaled(numerator: 8, denominator: 10) == ngPerDay(800))
    }

    @Test("constructors and arithmetic")
    func constructors() {
        #expect(Mass.micrograms(3) == Mass(nanograms: 3_000))
        #expect(Volume.microlitres(3) == nl(3_000))
        #expect(Volume.millilitres(3) == nl(3_000_000))
        #expect(nl(250) * 4 == .microlitres(1))
        #expect(Mass.micrograms(2) - Mass.micrograms(3) == Mass(nanograms: -1_000))
        #expect(VolumeRate.microlitresPerDay(48) == VolumeRate(nanolitresPerDay: 48_000))
        #expect(Fraction.percent(20) == Fraction(partsPerMillion: 200_000))
        #expect(Fraction.permille(145) == Fraction(partsPerMillion: 145_000))
        #expect(DoseRate.floor == ug(50) && DoseRate.ceiling == ug(1200))
        #expect(DoseRate.allowedRange.contains(ug(50)) && !DoseRate.allowedRange.contains(ngPerDay(49_999)))
        #expect(DoseRate.allowedRange.contains(ug(1200)) && !DoseRate.allowedRange.contains(ngPerDay(1_200_001)))
        #expect(Concentration.therapy == [c500, c1000, c2000])
    }

    struct FormatCase: Sendable, CustomTestStringConvertible {
        var text: String; var expected: String
        var testDescription: String { expected }
    }
    @Test("formatting: units on every number, fixed decimals rounded half away from zero",
          arguments: [
              FormatCase(text: Mass.micrograms(600).description, expected: "600.000 μg"),
              FormatCase(text: Mass(nanograms: 1_500).description, expected: "1.500 μg"),
              FormatCase(text: Mass(nanograms: -1).description, expected: "-0.001 μg"),
              FormatCase(text: Volume.millilitres(20).description, expected: "20.000 mL"),
              FormatCase(text: Volume(nanolitres: 12_345_000).description, expected: "12.345 mL"),
              FormatCase(text: ug(600).description, expected: "600 μg/day"),
              FormatCase(text: ngPerDay(1_500).description, expected: "1.5 μg/day"),
              FormatCase(text: ngPerDay(95_999).description, expected: "95.999 μg/day"),
              FormatCase(text: VolumeRate(nanolitresPerDay: 1_200_000).description, expected: "1.2000 mL/day"),
              FormatCase(text: FlowRate(nanolitresPerMinute: 16_667).description, expected: "16.667 μL/min"),
              FormatCase(text: FlowRate(nanolitresPerMinute: 1_000_000).description, expected: "1000 μL/min"),
              FormatCase(text: Fraction.percent(20).description, expected: "20 %"),
              FormatCase(text: Fraction(partsPerMillion: 145_000).description, expected: "14.5 %"),
              FormatCase(text: c500.description, expected: "500 μg/mL"),
              FormatCase(text: Format.fixed(5, scale: 10, digits: 0), expected: "1"),
              FormatCase(text: Format.fixed(-5, scale: 10, digits: 0), expected: "-1"),
              FormatCase(text: Format.fixed(4, scale: 10, digits: 0), expected: "0"),
              FormatCase(text: Format.trimmed(1_000, scale: 1_000, maxDigits: 3), expected: "1"),
          ])
    func formatting(_ k: FormatCase) {
        #expect(k.text == k.expected)
    }

    struct ExactFormatCase: Sendable, CustomTestStringConvertible {
        var text: String; var expected: String
        var testDescription: String { expected }
    }
    /// A value one unit of the type away from a bound must not print as the bound: error messages name
    /// the value, and "0.336 mL is not the computed 0.336 mL" names nothing.
    @Test("formatting distinguishes values one unit apart",
          arguments: [
              ExactFormatCase(text: Volume(nanolitres: 250).description, expected: "0.00025 mL"),
              ExactFormatCase(text: Volume(nanolitres: 336_250).description, expected: "0.33625 mL"),
              ExactFormatCase(text: Volume(nanolitres: 1_999_999).description, expected: "1.999999 mL"),
              ExactFormatCase(text: Volume(nanolitres: -1).description, expected: "-0.000001 mL"),
              ExactFormatCase(text: VolumeRate(nanolitresPerDay: 47_999).description, expected: "0.047999 mL/day"),
              ExactFormatCase(text: VolumeRate(nanolitresPerDay: -1).description, expected: "-0.000001 mL/day"),
              ExactFormatCase(text: Fraction(partsPerMillion: 300_001).description, expected: "30.0001 %"),
          ])
    func exactFormatting(_ k: ExactFormatCase) {
        #expect(k.text == k.expected)
    }
}

@Suite("Dose rate beside its volume rate")
struct DoseRateDescribeTests {
    @Test("μg/day and mL/day side by side; no volume rate (and no stop) without drug")
    func describe() {
        // 600 μg/day ÷ 500 μg/mL = 1.2 mL/day.
        #expect(DoseRate.microgramsPerDay(600).describe(at: Concentration(microgramsPerMillilitre: 500)) == "600 μg/day = 1.2000 mL/day")
        #expect(DoseRate.microgramsPerDay(600).describe(at: .none) == "600 μg/day (reservoir not filled)")
    }
}

/// `Format` writes its digits into a buffer; the string-building implementation it replaced is kept
/// here as the reference, and both must give the same text for any value, scale and digits.
@Suite("Decimal formatting against the string-building reference")
struct FormatReferenceTests {
    static func fixed(_ value: Int64, scale: Int64, digits: Int) -> String {
        var p: Int64 = 1
        for _ in 0..<digits { p *= 10 }
        let num = Int128(value) * Int128(p)
        let den = Int128(scale)
        let q = num >= 0 ? (num + den / 2) / den : -((-num + den / 2) / den)
        let neg = q < 0
        let mag = neg ? -q : q
        let whole = mag / Int128(p)
        let frac = mag % Int128(p)
        var fracString = String(frac)
        while fracString.count < digits { fracString = "0" + fracString }
        return (neg ? "-" : "") + String(whole) + (digits > 0 ? "." + fracString : "")
    }
    static func exact(_ value: Int64, scale: Int64, minDigits: Int, maxDigits: Int) -> String {
        var s = fixed(value, scale: scale, digits: maxDigits)
        var extra = maxDigits - minDigits
        while extra > 0, s.hasSuffix("0") { s.removeLast(); extra -= 1 }
        return s
    }
    static func trimmed(_ value: Int64, scale: Int64, maxDigits: Int) -> String {
        var s = fixed(value, scale: scale, digits: maxDigits)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    @Test("random values, scales and digits (extremes included): the same text as the reference")
    func sameAsReference() async {
        await propertyCheck(count: 3_000, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var g = SplitMix64(seed: seed)
            let values: [Int64] = [.min, .max, 0, -1, 1, Int64(bitPattern: g.next()), Int64.random(in: -1_000_000_000...1_000_000_000, using: &g),
                                   Int64.random(in: -1_000...1_000, using: &g) * [1, 10, 1_000, 1_000_000].randomElement(using: &g)!]
            let scales: [Int64] = [1, 10, 1_000, 10_000, 1_000_000, 1_000_000_000, Int64.random(in: 1...Int64.max, using: &g), Int64.random(in: 1...1_000_000, using: &g)]
            let value = values.randomElement(using: &g)!
            let scale = scales.randomElement(using: &g)!
            let digits = Int.random(in: 0...18, using: &g)
            let minDigits = Int.random(in: 0...digits, using: &g)
            #expect(Format.fixed(value, scale: scale, digits: digits) == Self.fixed(value, scale: scale, digits: digits), "\(value) / \(scale), \(digits)")
            #expect(Format.exact(value, scale: scale, minDigits: minDigits, maxDigits: digits)
                    == Self.exact(value, scale: scale, minDigits: minDigits, maxDigits: digits), "\(value) / \(scale), \(minDigits)…\(digits)")
            #expect(Format.trimmed(value, scale: scale, maxDigits: digits) == Self.trimmed(value, scale: scale, maxDigits: digits), "\(value) / \(scale), \(digits)")
        }
    }
}
