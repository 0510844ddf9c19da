import Foundation
import PumpSim
import Testing
@testable import PumpCore
@testable import PumpRig
@testable import PumpRuntime

@Suite struct ControlProtocolTests {
    func parse(_ s: String) throws -> ControlRequest { try ControlRequest.parse(Array(s.utf8)) }

    @Test func wellFormedRequests() throws {
        #expect(try parse(#"{"cmd":"status","id":7}"#) == .status)
        #expect(try parse(#"{"cmd":"program","ug_per_day":550}"#) == .command(.program(.continuous(.microgramsPerDay(550)))))
        #expect(try parse(#"{"cmd":"program","steps":[{"start":"08:00","ug_per_day":700},{"start":"22:30","ug_per_day":400}]}"#)
            == .command(.program(.flex([FlexStep(start: TimeOfDay(hour: 8)!, rate: .microgramsPerDay(700)),
                                         FlexStep(start: TimeOfDay(hour: 22, minute: 30)!, rate: .microgramsPerDay(400))]))))
        #expect(try parse(#"{"cmd":"bolus","ug":50}"#) == .command(.testDose(.micrograms(50))))
        #expect(try parse(#"{"cmd":"refill","withdrawn_ul":1500,"added_ul":20000,"ug_per_ml":500}"#)
            == .command(.refill(RefillRequest(withdrawn: .microlitres(1500), added: .microlitres(20000), concentration: Concentration(microgramsPerMillilitre: 500)))))
        #expect(try parse(#"{"cmd":"acknowledge","alarm":"occlusion"}"#) == .command(.acknowledge(.occlusion)))
        #expect(try parse(#"{"cmd":"stop"}"#) == .command(.stop(taperDays: nil, override: nil)))
        #expect(try parse(#"{"cmd":"stop","taper_days":3,"override":{"reason":"intrathecal infection","clinician":"Dr A"}}"#)
            == .command(.stop(taperDays: 3, override: EmergencyOverride(reason: "intrathecal infection", clinician: "Dr A"))))
        #expect(try parse(#"{"cmd":"resume"}"#) == .command(.resume))
        #expect(try parse(#"{"cmd":"prime","confirm_nl":336000}"#) == .command(.prime(confirmVolume: Volume(nanolitres: 336_000))))
        #expect(try parse(#"{"cmd":"start","ug_per_day":600,"previous_ug_per_day":600}"#)
            == .command(.startTherapy(.continuous(.microgramsPerDay(600)), basis: .transfer(previousDailyDose: .microgramsPerDay(600)))))
        #expect(try parse(#"{"cmd":"test_dose_response","response":"no_response"}"#) == .command(.recordTestDoseResponse(.noResponse)))
        #expect(try parse(#"{"cmd":"confirm_resumption","ug_per_day":300}"#) == .command(.confirmResumption(.continuous(.microgramsPerDay(300)))))
        #expect(try parse(#"{"cmd":"set_refill_date","in_hours":null}"#) == .setRefillDate(in: nil))
    }

    @Test(arguments: [
        "", "status", "[]", "42", "null", #"{"#, #"{"cmd":1}"#, #"{"command":"status"}"#, #"{"cmd":"launch"}"#,
        #"{"cmd":"status","extra":1}"#, #"{"cmd":"program"}"#, #"{"cmd":"program","ug_per_day":"600"}"#,
        #"{"cmd":"program","ug_per_day":600.5}"#, #"{"cmd":"program","ug_per_day":-5}"#, #"{"cmd":"program","ug_per_day":1e30}"#,
        #"{"cmd":"program","ug_per_day":600,"steps":[]}"#, #"{"cmd":"program","steps":[{"start":"25:00","ug_per_day":1}]}"#,
        #"{"cmd":"program","steps":[{"start":"8:00","ug_per_day":1}]}"#, #"{"cmd":"program","steps":"08:00"}"#,
        #"{"cmd":"refill","withdrawn_ul":-1,"added_ul":20000,"ug_per_ml":500}"#, #"{"cmd":"refill","added_ul":20000,"ug_per_ml":500}"#,
        #"{"cmd":"refill","withdrawn_ul":0,"added_ul":20000,"ug_per_ml":500,"confirm_concentration_change":"yes"}"#,
        #"{"cmd":"acknowledge","alarm":"everything"}"#, #"{"cmd":"stop","override":{"reason":"x"}}"#,
        #"{"cmd":"stop","override":{"reason":"x","clinician":"y","sudo":true}}"#, #"{"cmd":"bolus","ug":true}"#,
        #"{"cmd":"test_dose_response","response":"maybe"}"#, "\u{FEFF}{\"cmd\":\"status\"}x",
    ])
    func malformedRequestsAreRefusedAndChangeNothing(line: String) throws {
        #expect(throws: ControlRequestError.self) { try parse(line) }
        let f = try RunnerFixture(bringUp: false)
        let before = f.runner.controller
        let reply = f.request(line)
        #expect(reply["ok"] as? Bool == false && reply["error"] is String, "\(reply)")
        #expect(f.runner.controller == before)
    }

    @Test func oversizedAndBinaryInputIsRefused() throws {
        let long = #"{"cmd":"status","pad":""# + String(repeating: "a", count: 5_000) + #""}"#
        #expect(throws: ControlRequestError.tooLong(bytes: long.utf8.count, limit: 4096)) { try parse(long) }
        #expect(throws: ControlRequestError.notUTF8(byte: 0)) { try ControlRequest.parse([0xFF, 0xFE, 0x00, 0x7B]) }
        #expect(throws: ControlRequestError.notUTF8(byte: 9)) { try ControlRequest.parse(Array(#"{"cmd":"s"#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)) }
        let deep = String(repeating: "[", count: 2_000) + String(repeating: "]", count: 2_000)
        #expect(throws: ControlRequestError.tooDeep(limit: 16)) { try parse(deep) }
    }

    /// Random bytes, random JSON-ish token soup and mutations of valid requests: every reply is one
    /// line of JSON, and nothing but valid requests changes the controller. Fixed seed (replayable).
    @Test func fuzzNeverCrashesAndNeverChangesTheControllerOnError() throws {
        var rng = SplitMix64(seed: 0x1DB_0FF)
        let f = try RunnerFixture(bringUp: false)
        let tokens = ["{", "}", "[", "]", ":", ",", "\"cmd\"", "\"status\"", "\"stop\"", "\"program\"", "\"ug_per_day\"", "1", "-1",
                      "1e999", "null", "true", "\"\\u0000\"", "\"\\ud800\"", " ", "\"alarm\"", "0.5", "99999999999999999999"]
        let valid = [#"{"cmd":"program","ug_per_day":600}"#, #"{"cmd":"refill","withdrawn_ul":0,"added_ul":20000,"ug_per_ml":500}"#]
        for i in 0..<3_000 {
            var bytes: [UInt8]
            switch i % 3 {
            case 0: bytes = (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            case 1: bytes = Array((0..<Int(rng.next() % 30)).map { _ in tokens[Int(rng.next() % UInt64(tokens.count))] }.joined().utf8)
            default:
                bytes = Array(valid[Int(rng.next() % 2)].utf8)
                for _ in 0..<(1 + Int(rng.next() % 3)) where !bytes.isEmpty {
                    bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
            let before = f.runner.controller
            let reply = f.runner.handle(line: bytes)
            #expect(!reply.contains("\n"))
            let obj = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any]
            #expect(obj?["ok"] is Bool, "seed 0x1DB0FF case \(i)")
            if obj?["error"] != nil { #expect(f.runner.controller == before, "case \(i) changed the controller") }
        }
    }
}

