import Foundation
import Testing
@testable import PumpRig
@testable import PumpRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Hostile and careless clients against the real `itpump run` (sim backend): no client can lock the
/// channel, slots are counted right, a request ended by a half-close is answered, and the protocol's
/// strictness holds end to end.
@Suite(.serialized) struct ControlChannelBinaryTests {
    func start(_ name: String, extra: [String] = []) throws -> RunningBinary { try RunningBinary.started(name, extra: extra) }

    /// Eight connections that opened, asked once and then sat idle used to turn every newcomer away
    /// for as long as they stayed open. Now the one idle longest (≥ 1 s) makes room.
    @Test func eightIdleConnectionsDoNotLockOthersOut() throws {
        let run = try start("idle8")
        defer { run.stop(); try? FileManager.default.removeItem(atPath: run.dir) }
        var idle: [RawClient] = []
        for _ in 0..<ControlSocketServer.maximumClients {
            let c = try #require(RawClient(path: run.socket))
            #expect(c.send(#"{"cmd":"status"}"#))
            #expect(c.readLine()?.contains("\"ok\":true") == true)
            idle.append(c)
        }
        usleep(1_300_000)
        // Three newcomers that stay connected: each takes the slot of one idle connection.
        var newcomers: [RawClient] = []
        for _ in 0..<3 {
            let c = try #require(RawClient(path: run.socket))
            #expect(c.send(#"{"cmd":"status"}"#))
            let reply = c.readLine()
            #expect(reply?.contains("\"ok\":true") == true, "\(reply ?? "no reply")")
            newcomers.append(c)
        }
        // The evicted ones were told why, then closed; the newest idle ones keep their slot.
        let told = idle.filter { $0.readLine(seconds: 0.2)?.contains("closed to make room") == true }
        #expect(told.count == 3, "\(told.count) of the idle connections were evicted for 3 newcomers")
        #expect(run.process.isRunning)
    }

    /// Eight requests in progress (a first byte, no newline) do hold the slots, but only for the
    /// stated request deadline (2 s): then each is told and closed, and the next client is served.
    @Test func partialRequestsHoldSlotsOnlyUntilTheRequestDeadline() throws {
        let run = try start("part8")
        defer { run.stop(); try? FileManager.default.removeItem(atPath: run.dir) }
        let began = Date()
        var partial: [RawClient] = []
        for _ in 0..<ControlSocketServer.maximumClients {
            let c = try #require(RawClient(path: run.socket))
            #expect(c.write(#"{"cmd":"sta"#))
            partial.append(c)
        }
        usleep(300_000)
        let refused = try run.request(#"{"cmd":"status"}"#)
        #expect(refused.contains("too many control connections"), "\(refused)")
        for c in partial {
            let line = c.readLine(seconds: 5)
            #expect(line?.contains("request not complete within 2 s") == true, "\(line ?? "nothing")")
            #expect(c.closedByPeer(within: 2))
        }
        let waited = Date().timeIntervalSince(began)
        #expect(waited >= 1.9 && waited < 4.5, "closed after \(waited) s")
        #expect(try run.request(#"{"cmd":"status"}"#).contains("\"ok\":true"))
    }

    /// Eight clients that just closed are counted out before a newcomer is counted in.
    @Test func aClientArrivingJustAfterEightCloseIsServed() throws {
        let run = try start("close8")
        defer { run.stop(); try? FileManager.default.removeItem(atPath: run.dir) }
        for round in 0..<5 {
            var clients: [RawClient] = []
            for _ in 0..<ControlSocketServer.maximumClients {
                let c = try #require(RawClient(path: run.socket))
                #expect(c.send(#"{"cmd":"status"}"#))
                #expect(c.readLine()?.contains("\"ok\":true") == true)
                clients.append(c)
            }
            clients.removeAll()      // closes all eight
            let reply = try run.request(#"{"cmd":"status"}"#)
            #expect(reply.contains("\"ok\":true"), "round \(round): \(reply)")
        }
    }

    /// A last request without its newline, then the client's end of the connection: answered.
    @Test func aRequestEndedByAHalfCloseIsAnswered() throws {
        let run = try start("halfclose")
        defer { run.stop(); try? FileManager.default.removeItem(atPath: run.dir) }
        let c = try #require(RawClient(path: run.socket))
        #expect(c.write("{\"cmd\":\"status\"}\n{\"cmd\":\"status\",\"id\":2}"))
        c.shutdownWrite()
        #expect(c.readLine()?.contains("\"ok\":true") == true)
        let last = c.readLine()
        #expect(last?.contains("\"ok\":true") == true, "\(last ?? "no reply to the last request")")
        #expect(c.closedByPeer(within: 2))
    }

    /// `--control-idle-timeout 1`: a connection with nothing in progress is told and closed after 1 s.
    @Test func anIdleConnectionIsClosedAfterTheStatedTimeout() throws {
        let run = try start("idleto", extra: ["--control-idle-timeout", "1"])
        defer { run.stop(); try? FileManager.default.removeItem(atPath: run.dir) }
        let c = try #require(RawClient(path: run.socket))
        #expect(c.send(#"{"cmd":"status"}"#))
        #expect(c.readLine()?.contains("\"ok\":true") == true)
        let began = Date()
        let line = c.readLine(seconds: 5)
        #expect(line?.contains("idle for 1 s; closed") == true, "\(line ?? "nothing")")
        #expect(c.closedByPeer(within: 1))
        let waited = Date().timeIntervalSince(began)
        #expect(waited >= 0.9 && waited < 3, "closed after \(waited) s")
    }

    /// Duplicate keys, inexact numbers, out-of-range numbers and control characters are refused
    /// through the binary with a reply that says what is wrong, and change nothing; the run's log
    /// carries no raw control character.
    @Test func strictRequestsThroughTheBinary() throws {
        let run = try start("strict")
        defer { run.stop(); try? FileManager.default.removeItem(atPath: run.dir) }
        let cases: [(String, String)] = [
            (#"{"cmd":"program","ug_per_day":5,"ug_per_day":600}"#, "key ug_per_day appears twice"),
            (#"{"cmd":"program","ug_per_day":600.00000000000000001}"#, "ug_per_day = 600.00000000000000001: allowed a whole number 1 … 100000"),
            (#"{"cmd":"program","ug_per_day":1e400}"#, "ug_per_day = 1e400: allowed a whole number 1 … 100000"),
            (#"{"cmd":"program","ug_per_day":600"#, "not valid JSON at byte 33: expected ',' or '}'"),
            (#"{"cmd":"stop","taper_days":1,"override":{"reason":"infection\n2026-01-01 NOTICE forged","clinician":"Dr A"}}"#,
             "reason contains the control character U+000A"),
            (#"{"cmd":"stop","taper_days":1,"override":{"reason":"infection","clinician":"\u001b[2J\u001b[31mDr A"}}"#,
             "clinician contains the control character U+001B"),
        ]
        for (line, expected) in cases {
            let reply = try run.request(line)
            #expect(reply.contains("\"ok\":false") && reply.contains(expected), "\(line) → \(reply)")
        }
        // Nothing reached the controller: no command was applied (each would be logged "control: …").
        #expect(try run.request(#"{"cmd":"status"}"#).contains("\"ok\":true"))
        #expect(!run.stderr.contains("control: "), "\(run.stderr)")
        #expect(!run.stderr.unicodeScalars.contains { $0 != "\n" && PrintableText.isUnsafe($0) }, "raw control character in the log")
        #expect(!run.stderr.contains("forged"))
    }
}

import Logging
import PumpJournal

/// Every record the run logs is one line without raw control characters, whatever text reaches it.
@Suite struct EscapingLogHandlerTests {
    final class Capture: @unchecked Sendable {
        let lock = NSLock()
        var lines: [String] = []
        func append(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
    }
    struct CaptureHandler: LogHandler {
        let capture: Capture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        var metadataProvider: Logger.MetadataProvider?
        subscript(metadataKey key: String) -> Logger.Metadata.Value? { get { metadata[key] } set { metadata[key] = newValue } }
        func log(event: LogEvent) {
            capture.append("\(event.level) \(event.message)" + (event.metadata.map { " \($0)" } ?? ""))
        }
    }

    @Test func messagesAndMetadataAreEscaped() {
        let capture = Capture()
        let logger = Logger(label: "t") { _ in EscapingLogHandler(wrapping: CaptureHandler(capture: capture)) }
        logger.notice("control: stop accepted: EMERGENCY OVERRIDE by Dr A: infection\n2026-01-01T00:00:00 notice itpump.run: forged \u{1B}[31mred",
                      metadata: ["who": "Dr\u{9B}B"])
        #expect(capture.lines.count == 1)
        let line = capture.lines[0]
        #expect(line.contains(#"infection\u{A}2026-01-01T00:00:00"#) && line.contains(#"\u{1B}[31mred"#) && line.contains(#"Dr\u{9B}B"#), "\(line)")
        #expect(!line.unicodeScalars.contains(where: PrintableText.isUnsafe))
    }
}
