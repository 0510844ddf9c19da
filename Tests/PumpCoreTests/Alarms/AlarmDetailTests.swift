import Foundation
import Testing
@testable import PumpCore

/// An alarm's detail is formatted when read, from the values taken at raising: the words must be
/// exactly those formatting at raising gives, and it must travel as plain text.
@Suite struct AlarmDetailTests {
    let volume = Volume(nanolitres: 3_999_500)
    let at = Instant.zero + .days(3) + .minutes(7)
    let span = TimeSpan.hours(26) + .seconds(1) + .milliseconds(600)

    @Test func wordsAreThoseOfTheSameInterpolationIntoAString() {
        let eager = "reservoir estimate \(volume) ≤ \(Volume.millilitres(4)) at \(at), for \(span.roundedDescription)"
        let lazy: AlarmDetail = "reservoir estimate \(volume) ≤ \(Volume.millilitres(4)) at \(at), for \(span.rounded)"
        #expect(lazy.description == eager)
        #expect(lazy == AlarmDetail(eager))
        #expect(lazy.hashValue == AlarmDetail(eager).hashValue)
        #expect(lazy.contains("≤ 4.000 mL"))
        #expect(!lazy.contains("occlusion"))
    }

    @Test func valuesAreCopiesTakenWhenWritten() {
        var v = volume
        let d: AlarmDetail = "estimate \(v)"
        let words = "estimate \(v)"
        v = Volume(nanolitres: 1)
        #expect(d.description == words)
    }

    @Test func appendingAndListsKeepTheOrder() {
        var d: AlarmDetail = "refill due: estimate \(volume)"
        d.append(", projected empty at \(at)")
        #expect(d.description == "refill due: estimate \(volume), projected empty at \(at)")
        let causes = AlarmDetail.list([StoppageEvidence.occlusion, .motorStall])
        #expect(causes.description == [StoppageEvidence.occlusion, .motorStall].map(\.description).joined(separator: ", "))
        #expect(AlarmDetail.list([Int]()).description == "")
        var ab = AlarmDetail("a")
        ab.append(AlarmDetail("b"))
        #expect(ab.description == "ab")
    }

    /// Encoded as its words, a plain JSON string, as when the detail was a `String`: journals and
    /// snapshots written before and after read back equal.
    @Test func codesAsPlainText() throws {
        let d: AlarmDetail = "estimate \(volume) at \(at)"
        let data = try JSONEncoder().encode(d)
        #expect(String(decoding: data, as: UTF8.self) == (try String(decoding: JSONEncoder().encode(d.description), as: UTF8.self)))
        #expect(try JSONDecoder().decode(AlarmDetail.self, from: data) == d)
        let alarm = Alarm(kind: .lowReservoir, raisedAt: at, detail: d, acknowledgedAt: nil, nextAlertAt: at + .hours(1), alertCount: 1)
        let back = try JSONDecoder().decode(Alarm.self, from: JSONEncoder().encode(alarm))
        #expect(back == alarm)
        #expect(back.detail.description == d.description)
    }
}
