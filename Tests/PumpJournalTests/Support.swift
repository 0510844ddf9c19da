import Foundation
import Testing
import PumpCore
@testable import PumpJournal

/// A fresh temporary directory for one test's real SQLite files.
func temporaryDirectory(_ name: String = #function) throws -> String {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("itpump-journal-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A fixed wall clock for tests: 2026-01-01T00:00:00Z plus `seconds`.
func wall(_ seconds: Int64 = 0) -> Int64 { 1_767_225_600 * 1_000_000_000 + seconds * 1_000_000_000 }

/// Bench profile, filled with 20 mL at 500 μg/mL at 0, primed, and on `dose` μg/day from 1 h (a
/// transfer from a previous pump at the same dose).
func runningController(dose: Int64 = 1200) throws -> PumpController {
    var c = try PumpController(profile: .bench20)
    let c500 = Concentration(microgramsPerMillilitre: 500)
    _ = c.handle(.refill(RefillRequest(withdrawn: .zero, added: .millilitres(20), concentration: c500)), at: .zero)
    _ = c.handle(.prime(confirmVolume: c.primingVolume), at: .zero)
    _ = c.advance(to: .zero + .hours(1))
    let r = c.handle(.startTherapy(.continuous(.microgramsPerDay(dose)), basis: .transfer(previousDailyDose: .microgramsPerDay(dose))),
                     at: .zero + .hours(1))
    #expect(r.isAccepted)
    return c
}

/// A driver that records every stroke it carries out: the "true" delivery. It can be told to fail
/// (as a killed process would stop) after a number of strokes.
struct RecordingDriver: PumpDriver {
    var strokes: [Stroke] = []
    var failAfter: Int?
    /// Sensor changes to report, each once, when the loop reads up to or past its instant.
    var changes: [(at: Instant, reading: SensorReading)] = []
    struct Stopped: Error {}
    mutating func perform(_ stroke: Stroke) throws {
        if let failAfter, strokes.count >= failAfter { throw Stopped() }
        strokes.append(stroke)
    }
    mutating func indicate(_ indication: AlarmIndication, at instant: Instant) throws {}
    mutating func sensorChanges(upTo instant: Instant) throws -> [(at: Instant, reading: SensorReading)] {
        let due = changes.filter { $0.at <= instant }
        changes.removeAll { $0.at <= instant }
        return due
    }
    mutating func enterSafeState() throws {}
    var volume: Volume { strokes.reduce(.zero) { $0 + $1.volume } }
}

extension Result {
    var failure: Failure? { if case let .failure(e) = self { return e } else { return nil } }
}

/// Runs `body`, expecting a `JournalError`; returns it.
func journalError(_ body: () throws -> Void) -> JournalError? {
    do { try body(); return nil } catch let e as JournalError { return e } catch {
        Issue.record("expected a JournalError, got \(error)")
        return nil
    }
}
