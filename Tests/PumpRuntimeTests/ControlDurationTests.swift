import Testing
@testable import PumpCore
@testable import PumpRig
@testable import PumpRuntime
import PumpSim

/// Durations on the control channel use the files' grammar (`QuantitySyntax.duration`).
@Suite struct ControlDurationTests {
    func parse(_ line: String) -> Result<ControlRequest, ControlRequestError> {
        Result { () throws(ControlRequestError) in try ControlRequest.parse(Array(line.utf8)) }
    }

    @Test func setRefillDateTakesADurationFromNow() {
        #expect(parse(#"{"cmd":"set_refill_date","at":"10d"}"#) == .success(.setRefillDate(in: .days(10))))
        #expect(parse(#"{"cmd":"set_refill_date","at":"2d12h"}"#) == .success(.setRefillDate(in: .hours(60))))
        #expect(parse(#"{"cmd":"set_refill_date","at":null}"#) == .success(.setRefillDate(in: nil)))
        // Kept for compatibility.
        #expect(parse(#"{"cmd":"set_refill_date","in_hours":48}"#) == .success(.setRefillDate(in: .hours(48))))
        #expect(parse(#"{"cmd":"set_refill_date","in_hours":null}"#) == .success(.setRefillDate(in: nil)))
    }

    @Test func badDurationsNameTheFieldAndTheSyntax() {
        for (line, words) in [
            (#"{"cmd":"set_refill_date","at":"10 days"}"#, ["at = \"10 days\"", "10d"]),
            (#"{"cmd":"set_refill_date","at":"30s"}"#, ["at = \"30s\"", "1m … 365d"]),
            (#"{"cmd":"set_refill_date","at":240}"#, ["at = 240"]),
            (#"{"cmd":"set_refill_date","at":"10d","in_hours":3}"#, ["either at or in_hours"]),
            (#"{"cmd":"set_refill_date"}"#, ["missing field at"]),
            (#"{"cmd":"inject","fault":"leak","for":"1h30"}"#, ["for = \"1h30\""]),
        ] {
            guard case let .failure(e) = parse(line) else { Issue.record("accepted \(line)"); continue }
            for w in words { #expect(e.description.contains(w), "\(line) → \(e)") }
        }
    }

    @Test func injectReadsItsFieldsIntoTheSimulatorsFaults() throws {
        let leak = try ControlRequest.parse(Array(#"{"cmd":"inject","fault":"leak","percent":40,"for":"90m"}"#.utf8))
        #expect(leak == .inject(FaultInjection(fault: .leak, duration: .minutes(90), percent: 40)))
        if case let .inject(f) = leak { #expect(f.kind == .leak(fraction: .percent(40))) }
        #expect(FaultInjection(fault: .leak).kind == .disconnection)
        #expect(FaultInjection(fault: .calibrationBias, percent: -20).kind == .calibrationBias(.percent(-20)))
        #expect(try ControlRequest.parse(Array(#"{"cmd":"clear_fault","fault":"motor_stall"}"#.utf8)) == .clearFault(.motorStall))
    }
}
