import PropertyBased
import Testing
@testable import PumpCore

@Suite("Units: time")
struct TimeTests {
    @Test("time constants")
    func constants() {
        #expect(TimeConstants.nanosecondsPerDay == 86_400 * 1_000_000_000)
        #expect(TimeSpan.days(1) == .hours(24))
        #expect(TimeSpan.hours(1) == .minutes(60))
        #expect(TimeSpan.minutes(1) == .seconds(60))
        #expect(TimeSpan.seconds(1) == .milliseconds(1_000))
    }

    @Test("instant arithmetic saturates instead of overflowing")
    func instantArithmetic() {
        let t = at(.hours(3))
        #expect(t + .hours(1) - t == .hours(1))
        #expect(t - .hours(3) == .zero)
        #expect(Instant.distantFuture + .days(1) == .distantFuture)
        #expect(Instant(nanoseconds: .min) - .days(1) == Instant(nanoseconds: .min))
        #expect(Instant.distantFuture.description == "never")
    }

    struct DescCase: Sendable, CustomTestStringConvertible {
        var text: String; var expected: String
        var testDescription: String { expected }
    }
    @Test("descriptions", arguments: [
        DescCase(text: TimeSpan.days(14).description, expected: "14d"),
        DescCase(text: TimeSpan.hours(36).description, expected: "1d12h"),
        DescCase(text: (TimeSpan.hours(8) - ns(1)).description, expected: "7h59m59s999999999ns"),
        DescCase(text: TimeSpan.zero.description, expected: "0s"),
        DescCase(text: TimeSpan.minutes(-90).description, expected: "-1h30m"),
        DescCase(text: at(.days(2) + .hours(3) + .minutes(4) + .seconds(5)).description, expected: "2d+03:04:05"),
        DescCase(text: at(.seconds(1) + .milliseconds(7)).description, expected: "0d+00:00:01.007"),
        DescCase(text: TimeSpan.minutes(-61).clockDescription, expected: "-0d+01:01:00"),
        DescCase(text: tod(8).description, expected: "08:00"),
        DescCase(text: tod(23, 59, 59).description, expected: "23:59:59"),
    ])
    func descriptions(_ k: DescCase) {
        #expect(k.text == k.expected)
    }

    struct ToDCase: Sendable, CustomTestStringConvertible {
        var h: Int; var m: Int; var s: Int; var valid: Bool
        var testDescription: String { "\(h):\(m):\(s) \(valid ? "valid" : "invalid")" }
    }
    @Test("TimeOfDay(hour:minute:second:) bounds", arguments: [
        ToDCase(h: 0, m: 0, s: 0, valid: true), ToDCase(h: 23, m: 59, s: 59, valid: true),
        ToDCase(h: 24, m: 0, s: 0, valid: false), ToDCase(h: -1, m: 0, s: 0, valid: false),
        ToDCase(h: 0, m: 60, s: 0, valid: false), ToDCase(h: 0, m: -1, s: 0, valid: false),
        ToDCase(h: 0, m: 0, s: 60, valid: false), ToDCase(h: 0, m: 0, s: -1, valid: false),
    ])
    func timeOfDayFields(_ k: ToDCase) {
        let t = TimeOfDay(hour: k.h, minute: k.m, second: k.s)
        #expect((t != nil) == k.valid)
        if let t { #expect(t.nanosecondsAfterMidnight == Int64(k.h * 3600 + k.m * 60 + k.s) * 1_000_000_000) }
    }

    @Test("TimeOfDay(nanosecondsAfterMidnight:) is 0 ..< 24 h", arguments: [
        (Int64(-1), false), (0, true), (TimeConstants.nanosecondsPerDay - 1, true), (TimeConstants.nanosecondsPerDay, false),
    ])
    func timeOfDayNanoseconds(_ value: Int64, _ valid: Bool) {
        #expect((TimeOfDay(nanosecondsAfterMidnight: value) != nil) == valid)
    }

    @Test("ClockReference maps instants to the wall clock, wrapping at midnight")
    func clockReference() {
        let clock = ClockReference(timeOfDayAtOrigin: tod(22))
        let h = TimeConstants.nanosecondsPerHour
        // Origin is 22:00; 3 h later it is 01:00.
        #expect(clock.nanosecondsAfterMidnight(at: at(.hours(3))) == 1 * h)
        // 2 h later it is midnight exactly.
        #expect(clock.nanosecondsAfterMidnight(at: at(.hours(2))) == 0)
        #expect(clock.nanosecondsAfterMidnight(at: at(.hours(2) - ns(1))) == 24 * h - 1)
        // 1 h before the origin: 21:00; 23 h before: 23:00 the day before.
        #expect(clock.nanosecondsAfterMidnight(at: at(.hours(-1))) == 21 * h)
        #expect(clock.nanosecondsAfterMidnight(at: at(.hours(-23))) == 23 * h)
        // 10 days and 3 h later: 01:00 again.
        #expect(clock.nanosecondsAfterMidnight(at: at(.days(10) + .hours(3))) == 1 * h)
        // The last midnight at or before 3 h is at 2 h; at 2 h it is 2 h itself.
        #expect(clock.midnight(atOrBefore: at(.hours(3))) == at(.hours(2)))
        #expect(clock.midnight(atOrBefore: at(.hours(2))) == at(.hours(2)))
        #expect(clock.midnight(atOrBefore: at(.hours(1))) == at(.hours(-22)))
        #expect(ClockReference().nanosecondsAfterMidnight(at: at(.hours(5))) == 5 * h)
    }
}

/// `TimeSpan.clockDescription` writes its digits into a buffer; the string-building implementation it
/// replaced is kept here as the reference.
@Suite("Clock descriptions against the string-building reference")
struct ClockDescriptionReferenceTests {
    static func reference(_ nanoseconds: Int64) -> String {
        let neg = nanoseconds < 0
        let ns = nanoseconds.magnitude
        let totalSeconds = ns / 1_000_000_000
        let ms = (ns % 1_000_000_000) / 1_000_000
        let d = totalSeconds / 86_400, h = (totalSeconds / 3600) % 24, m = (totalSeconds / 60) % 60, s = totalSeconds % 60
        func two(_ v: UInt64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var out = "\(neg ? "-" : "")\(d)d+\(two(h)):\(two(m)):\(two(s))"
        if ms != 0 { out += "." + String(String(ms + 1000).dropFirst()) }
        return out
    }

    @Test("random and extreme spans: the same text as the reference")
    func sameAsReference() async {
        for v: Int64 in [.min, .max, 0, -1, 1, 999_999, 1_000_000, -86_400_000_000_000, 86_399_999_999_999] {
            #expect(TimeSpan(nanoseconds: v).clockDescription == Self.reference(v), "\(v)")
        }
        await propertyCheck(count: 3_000, input: Gen.uint64(in: 0...UInt64.max)) { bits in
            let v = Int64(bitPattern: bits) >> Int64(bits % 50)
            #expect(TimeSpan(nanoseconds: v).clockDescription == Self.reference(v), "\(v)")
            #expect(Instant(nanoseconds: v).description == (v == Instant.distantFuture.nanoseconds ? "never" : Self.reference(v)), "\(v)")
        }
    }
}
