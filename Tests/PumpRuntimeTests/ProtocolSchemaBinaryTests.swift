import Foundation
import Testing
import FileFuzzing
@testable import PumpRig
@testable import PumpRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The JSON Schemas of the control protocol (`schemas/protocol/`) against real replies of the real
/// `itpump run --backend sim`: every request kind, accepted, refused and malformed, validated with
/// `scripts/check-schema` (python3-jsonschema, draft 2020-12). Deliberately wrong documents must fail
/// the same schemas, so a schema that accepts anything fails the suite.
@Suite(.serialized) struct ProtocolSchemaBinaryTests {

    /// Runs `scripts/check-schema SCHEMA --lines FILE` on `lines`; its exit status and output.
    static func check(_ schema: String, lines: [String]) throws -> (Int32, String) {
        try FileSchemas.checkLines(schema: "schemas/protocol/" + schema, lines)
    }

    /// Checks every line in one run of the checker (each run starts Python and jsonschema) and expects
    /// each one to fail the schema on its own: the checker names every invalid document `FILE:LINE:`.
    static func expectEachFails(_ schema: String, _ lines: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (status, out) = try check(schema, lines: lines)
        #expect(status == 1, "\(schema) accepts all of \(lines)", sourceLocation: sourceLocation)
        for (i, line) in lines.enumerated() {
            #expect(out.contains(".jsonl:\(i + 1): "), "\(schema) accepts \(line)", sourceLocation: sourceLocation)
        }
    }

    /// Well-formed requests of every kind (some refused by the core: that is a reply, not a protocol error).
    static let wellFormed = [
        #"{"cmd":"status","id":7}"#,
        #"{"cmd":"program","ug_per_day":550}"#,
        #"{"cmd":"program","steps":[{"start":"08:00","ug_per_day":600},{"start":"20:00","ug_per_day":500}]}"#,
        #"{"cmd":"program","ug_per_day":100000}"#,
        #"{"cmd":"bolus","ug":50}"#,
        #"{"cmd":"test_dose_response","response":"effective"}"#,
        #"{"cmd":"prime","confirm_nl":0}"#,
        #"{"cmd":"start","ug_per_day":600,"previous_ug_per_day":600}"#,
        #"{"cmd":"acknowledge","alarm":"refillDue"}"#,
        #"{"cmd":"set_refill_date","at":"10d"}"#,
        #"{"cmd":"set_refill_date","at":null}"#,
        #"{"cmd":"set_refill_date","in_hours":48}"#,
        #"{"cmd":"inject","fault":"leak","percent":30,"for":"2h"}"#,
        #"{"cmd":"clear_fault","fault":"leak"}"#,
        #"{"cmd":"inject","fault":"calibration_bias","percent":-10}"#,
        #"{"cmd":"clear_fault","fault":"calibration_bias"}"#,
        #"{"cmd":"clear_fault","fault":"occlusion"}"#,
        #"{"cmd":"refill","withdrawn_ul":0,"added_ul":1000,"ug_per_ml":500}"#,
        #"{"cmd":"stop","taper_days":0,"override":{"reason":"test","clinician":"Dr Who"}}"#,
        #"{"cmd":"resume"}"#,
        #"{"cmd":"confirm_resumption","ug_per_day":600}"#,
        #"{"cmd":"status"}"#,
    ]
    /// Requests the runner refuses before the core sees them; each must fail the request schema too.
    static let malformed = [
        #"{"cmd":"program","ug_per_day":1.5}"#,
        #"{"cmd":"program","ug_per_day":550,"steps":[]}"#,
        #"{"cmd":"bolus"}"#,
        #"{"cmd":"launch"}"#,
        #"{"cmd":"status","extra":1}"#,
        #"{"cmd":"test_dose_response","response":"maybe"}"#,
        #"{"cmd":"acknowledge","alarm":"fire"}"#,
        #"{"cmd":"set_refill_date","at":"ten days"}"#,
        #"{"cmd":"set_refill_date","at":"10d","in_hours":2}"#,
        #"{"cmd":"inject","fault":"flood"}"#,
        #"{"cmd":"inject","fault":"occlusion","for":"2 weeks"}"#,
        #"{"cmd":"inject","fault":"calibration_bias","percent":90}"#,
        #"{"cmd":"stop","override":{"reason":"a\u001b[31m","clinician":"x"}}"#,
        #"["status"]"#,
    ]
    /// Not JSON objects at all (replies only).
    static let notJSON = [#"{"cmd":"status""#, "status", #"{"cmd":"status","cmd":"status"}"#]

    @Test func realRepliesToEveryRequestKindMatchTheReplySchema() throws {
        let dir = try RunningBinary.temporaryDirectory("schema-run")
        let b = try RunningBinary(dir: dir, timeScale: 3_600, extra: ["--journal", dir + "/j.sqlite", "--create-journal"])
        defer { b.stop(); try? FileManager.default.removeItem(atPath: b.dir) }
        try #require(b.waitUntilListening(), "the runner did not start: \(b.stderr)")
        var replies: [String] = []
        var refused = 0, errors = 0, accepted = 0
        for line in Self.wellFormed + Self.malformed + Self.notJSON {
            let r = try b.request(line)
            replies.append(r)
            if r.contains("\"refused\"") { refused += 1 } else if r.contains("\"error\"") { errors += 1 } else { accepted += 1 }
            #expect(r.contains("\"protocol\":1"), "\(line) → \(r)")
        }
        // A request not completed within the request deadline: the socket server's own error line.
        let c = try #require(RawClient(path: b.socket))
        #expect(c.write(#"{"cmd":"sta"#))
        let late = try #require(c.readLine(seconds: 5))
        replies.append(late)
        #expect(late.contains("request not complete"), "\(late)")
        // Not vacuous: the collection holds accepted, refused and erroneous replies and status objects.
        #expect(accepted >= 5 && refused >= 2 && errors >= Self.malformed.count, "accepted \(accepted), refused \(refused), errors \(errors)")
        let (status, out) = try Self.check("reply.schema.json", lines: replies)
        #expect(status == 0, "\(out)")
    }

    @Test func requestsTheRunnerParsesMatchTheRequestSchemaAndMalformedOnesDoNot() throws {
        let (ok, out) = try Self.check("request.schema.json", lines: Self.wellFormed)
        #expect(ok == 0, "\(out)")
        for line in Self.malformed {
            #expect(ControlRequest.parseOrNil(line) == nil, "the runner accepts \(line)")
        }
        try Self.expectEachFails("request.schema.json", Self.malformed)
        for line in Self.wellFormed { #expect(ControlRequest.parseOrNil(line) != nil, "the runner refuses \(line)") }
    }

    /// Anti-vacuity: deliberately wrong documents fail each schema.
    @Test func wrongDocumentsFailTheSchemas() throws {
        let good = #"{"ok":true,"protocol":1,"fault":"occlusion","injected":"occlusion","at":"0d 08:00:00","at_ns":5}"#
        #expect(try Self.check("reply.schema.json", lines: [good]).0 == 0)
        try Self.expectEachFails("reply.schema.json", [
            #"{"ok":true,"protocol":2}"#,                                  // another version
            #"{"protocol":1,"error":"x"}"#,                                // no ok
            #"{"ok":false,"protocol":1}"#,                                 // refused without saying why
            #"{"ok":true,"protocol":1,"surprise":1}"#,                     // an undocumented key
            #"{"ok":true,"protocol":1,"injected":"occlusion"}"#,           // an injection without its fault and instant
            #"{"ok":true,"protocol":1,"status":{"now":"x"}}"#,             // a status missing its keys
        ])
        let dropped = #"{"at":"0d+00:00:05","at_ns":5000000000,"count":3,"event":"dropped","protocol":1,"seq":4}"#
        #expect(try Self.check("events.schema.json", lines: [dropped]).0 == 0)
        try Self.expectEachFails("events.schema.json", [
            #"{"at":"0d+00:00:05","at_ns":5000000000,"count":3,"protocol":1,"seq":4}"#,                  // no event
            #"{"at":"0d+00:00:05","at_ns":5000000000,"count":3,"event":"dropped","seq":4}"#,             // no protocol
            #"{"at":"0d+00:00:05","at_ns":5000000000,"count":3,"event":"dropped","protocol":"1","seq":4}"#,
            #"{"at":"0d+00:00:05","at_ns":5000000000,"count":3,"event":"x","protocol":1,"seq":4}"#,      // unknown event
        ])
        #expect(try Self.check("request.schema.json", lines: [#"{"cmd":"subscribe","events":["alarm","stroke"]}"#]).0 == 0)
        #expect(try Self.check("request.schema.json", lines: [#"{"cmd":"subscribe","events":["weather"]}"#]).0 == 1)
    }
}

extension ControlRequest {
    static func parseOrNil(_ line: String) -> ControlRequest? { try? parse(Array(line.utf8)) }
}
