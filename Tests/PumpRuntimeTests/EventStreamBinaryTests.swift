import Foundation
import Testing
import FileFuzzing
@testable import PumpRig
@testable import PumpRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The event stream through the real `itpump run --backend sim`: what a subscriber sees when commands
/// are given, alarms raised and acknowledged, therapy stopped; strokes batched and accounted exactly;
/// a subscriber that never reads costs the pump nothing; `itpump ctl watch`.
@Suite(.serialized) struct EventStreamBinaryTests {
    /// Reads a stream on its own thread, every line, until the connection ends.
    final class StreamReader: @unchecked Sendable {
        let client: RawClient
        private let lock = NSLock()
        private var storage: [String] = []
        private let done = DispatchSemaphore(value: 0)
        init(_ client: RawClient) {
            self.client = client
            Thread.detachNewThread { [self] in
                while let line = self.client.readLine(seconds: 120) { lock.lock(); storage.append(line); lock.unlock() }
                done.signal()
            }
        }
        var lines: [String] { lock.lock(); defer { lock.unlock() }; return storage }
        /// Waits until a line satisfies `p` (true) or `seconds` pass (false).
        func wait(seconds: Double = 20, until p: ([String: JSONValue]) -> Bool) -> Bool {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if lines.contains(where: { p(eventFields($0)) }) { return true }
                usleep(10_000)
            }
            return false
        }
        /// Waits for the end of the connection; false after `seconds`.
        func waitForEnd(seconds: Double = 20) -> Bool { done.wait(timeout: .now() + seconds) == .success }
    }

    static func start(_ name: String, extra: [String] = [], timeScale: Int64 = 60) throws -> RunningBinary {
        try RunningBinary.started(name, timeScale: timeScale, extra: extra)
    }

    static func status(_ run: RunningBinary) throws -> [String: JSONValue] {
        guard case let .object(s)? = eventFields(try run.request(#"{"cmd":"status"}"#))["status"] else { return [:] }
        return s
    }

    static func waitForRunning(_ run: RunningBinary, seconds: Double = 60) throws -> Bool {
        try run.waitUntil(seconds: seconds) { ($0["phase"] as? String)?.hasPrefix("running") == true }
    }

    static func subscribe(_ run: RunningBinary, _ events: String? = nil) throws -> (RawClient, String) {
        let c = try #require(RawClient(path: run.socket))
        #expect(c.send(#"{"cmd":"subscribe""# + (events.map { #","events":"# + $0 } ?? "") + "}"))
        return (c, c.readLine(seconds: 10) ?? "no reply")
    }

    static func int(_ v: JSONValue?) -> Int64? { if case let .int(i)? = v { i } else { nil } }

    /// Subscribed to everything, a clinician's session: set the refill date an hour ahead (the
    /// refill-due alarm is raised then, 1.2 s later at 3000×), acknowledge it, a refused acknowledgement,
    /// a decrease, a stop (a taper), then SIGTERM. Each command arrives with its outcome and the same
    /// `journal_seq` as its reply; alarms, phase and dose follow from the state; strokes come in
    /// batches whose counts add up exactly to the strokes the simulated pump performed.
    @Test func aSubscriberSeesCommandsAlarmsPhaseDoseAndEveryStrokeInBatches() throws {
        let dir = try RunningBinary.temporaryDirectory("ev-session")
        let run = try RunningBinary(dir: dir, timeScale: 3_000, extra: ["--journal", dir + "/j.db", "--create-journal", "--sim-stroke-log", dir + "/strokes.log"])
        defer { run.stop(); try? FileManager.default.removeItem(atPath: dir) }
        try #require(run.waitUntilListening(), "the runner did not start: \(run.stderr)")
        try #require(try Self.waitForRunning(run))
        let (c, reply) = try Self.subscribe(run)
        #expect(reply == #"{"ok":true,"protocol":1,"subscribed":["alarm","command","phase","dose","stroke","outage","restart"]}"#)
        let replyCheck = try FileSchemas.checkLines(schema: "schemas/protocol/reply.schema.json", [reply])
        #expect(replyCheck.status == 0, "the subscribe reply against reply.schema.json: \(replyCheck.output)")
        let stream = StreamReader(c)
        var replies: [(cmd: String, reply: [String: JSONValue])] = []
        for cmd in [#"{"cmd":"set_refill_date","in_hours":1}"#, #"{"cmd":"acknowledge","alarm":"refillDue"}"#,
                    #"{"cmd":"acknowledge","alarm":"occlusion"}"#, #"{"cmd":"set_refill_date","in_hours":48}"#,
                    #"{"cmd":"program","ug_per_day":540}"#,
                    #"{"cmd":"stop","taper_days":14}"#] {
            replies.append((cmd, eventFields(try run.request(cmd))))
            if replies.count == 1 {
                #expect(stream.wait { $0["event"] == .string("alarm_raised") && $0["alarm"] == .string("refillDue") })
            }
            usleep(200_000)
        }
        #expect(replies.map { $0.reply["ok"] } == [.bool(true), .bool(true), .bool(false), .bool(true), .bool(true), .bool(true)], "\(replies)")
        #expect(stream.wait { $0["event"] == .string("phase") && $0["phase"] == .string("taper") })
        usleep(500_000)
        #expect(run.stop() == 0)
        #expect(stream.waitForEnd())
        let events = stream.lines.map(eventFields)
        try #require(!events.isEmpty)

        // seq: 1, 2, 3, … on this connection; the last event says the run ended cleanly.
        #expect(events.map { Self.int($0["seq"]) } == (1...Int64(events.count)).map { $0 })
        #expect(events.last?["event"] == .string("run_ended") && events.last?["clean"] == .bool(true), "\(events.last ?? [:])")
        #expect(events.allSatisfy { $0["at"] != nil && $0["at_ns"] != nil && $0["event"] != nil })

        // Commands: in order, each with its reply's outcome and journal_seq.
        let commands = events.filter { $0["event"] == .string("command") && $0["source"] == .string("control") }
        try #require(commands.count == replies.count, "\(commands)")
        for (e, r) in zip(commands, replies) {
            #expect(e["journal_seq"] != nil && e["journal_seq"] == r.reply["journal_seq"], "\(e) vs \(r)")
            #expect(e["ok"] == r.reply["ok"] && e["command"] == r.reply["command"])
            #expect(e["accepted"] == r.reply["accepted"] && e["refused"] == r.reply["refused"])
        }
        func index(_ p: ([String: JSONValue]) -> Bool) -> Int? { events.firstIndex(where: p) }
        func commandIndex(_ i: Int) -> Int? { index { $0 == commands[i] } }
        let raised = index { $0["event"] == .string("alarm_raised") && $0["alarm"] == .string("refillDue") }
        let acked = index { $0["event"] == .string("alarm_acknowledged") && $0["alarm"] == .string("refillDue") }
        let cleared = index { $0["event"] == .string("alarm_cleared") && $0["alarm"] == .string("refillDue") }
        let dose = index { $0["event"] == .string("dose") && $0["delivering_ng_per_day"] == .int(540_000) }
        let taper = index { $0["event"] == .string("phase") && $0["phase"] == .string("taper") && $0["from"] == .string("running") }
        #expect(raised.map { $0 > commandIndex(0)! && $0 < commandIndex(1)! } == true, "refill-due raised after set_refill_date")
        #expect(acked.map { $0 > commandIndex(1)! && $0 < commandIndex(2)! } == true, "acknowledged after acknowledge")
        #expect(cleared.map { $0 > commandIndex(3)! && $0 < commandIndex(4)! } == true, "a new refill date clears refill-due")
        #expect(dose.map { $0 > commandIndex(4)! } == true && events[dose!]["previous_ng_per_day"] == .int(600_000))
        #expect(taper.map { $0 > commandIndex(5)! } == true)
        #expect(commands[2]["refused"] != nil && index { $0["event"] == .string("alarm_acknowledged") && $0["alarm"] == .string("occlusion") } == nil)

        // Strokes: batched, contiguous, and the last total is what the pump performed.
        let batches = events.filter { $0["event"] == .string("strokes") }
        try #require(batches.count >= 2)
        var previous: Int64?
        for b in batches {
            let count = try #require(Self.int(b["count"])), total = try #require(Self.int(b["total"]))
            #expect(count >= 1 && Self.int(b["first_ns"])! <= Self.int(b["last_ns"])! && b["at_ns"] == b["last_ns"])
            if let previous { #expect(total == previous + count, "batches cover every stroke once") }
            previous = total
        }
        let performed = RunningBinary.strokeInstants(dir + "/strokes.log").count
        #expect(previous == Int64(performed), "the last batch's total is the stroke log's count")
        let streamed = batches.reduce(Int64(0)) { $0 + Self.int($1["count"])! }
        #expect(streamed > 100, "at 3000× the stream saw \(streamed) strokes")
        #expect(batches.count * 4 < Int(streamed), "\(batches.count) lines for \(streamed) strokes: batched, not one line each")

        // Every line is valid against the stream's schema (and a line that is not would fail it).
        let (ok, report) = try Self.checkSchema(stream.lines)
        #expect(ok, "\(report)")
        let (bad, _) = try Self.checkSchema([stream.lines[0].replacingOccurrences(of: #""seq":1"#, with: #""seq":0"#)])
        #expect(!bad, "the schema check must be able to fail")
    }

    /// `scripts/check-schema schemas/protocol/events.schema.json --lines` on `lines`: valid, and its output.
    static func checkSchema(_ lines: [String]) throws -> (Bool, String) {
        let (status, output) = try FileSchemas.checkLines(schema: "schemas/protocol/events.schema.json", lines)
        return (status == 0, output)
    }

    /// A subscriber that never reads while the pump runs at 100,000× and another client sends 2,000
    /// (refused) commands, one every 0.5 ms at most (a reader that keeps up must be able to). A
    /// runner that waited for the stalled subscriber would stop for good; the lateness bound is 5 s
    /// so that a loaded test machine's scheduling is not mistaken for that: the pump keeps its schedule (no late wake-up; strokes as the rate says),
    /// a reading subscriber gets every event, and when the stalled one reads it gets a bounded backlog,
    /// one `dropped` line, then newer events — and backlog + dropped is exactly what it missed.
    @Test func aSubscriberThatNeverReadsCostsThePumpNothing() throws {
        let run = try Self.start("ev-stall", extra: ["--max-stroke-lateness", "5000"], timeScale: 100_000)
        defer { run.stop(); try? FileManager.default.removeItem(atPath: run.dir) }
        try #require(try Self.waitForRunning(run))
        let (g, goodReply) = try Self.subscribe(run)
        let good = StreamReader(g)
        let (hostile, hostileReply) = try Self.subscribe(run)
        #expect(goodReply.contains("\"ok\":true") && hostileReply.contains("\"ok\":true"))
        let s1 = try Self.status(run)
        let load = try #require(RawClient(path: run.socket))
        for i in 0..<2_000 {
            usleep(500)
            #expect(load.send(#"{"cmd":"program","ug_per_day":\#(5_000 + i)}"#))
            let r = load.readLine(seconds: 10)
            if r?.contains("\"refused\"") != true { Issue.record("not refused: \(r ?? "no reply")"); break }
        }
        usleep(500_000)
        let s2 = try Self.status(run)
        #expect(Self.int(s2["late_wakes"]) == Self.int(s1["late_wakes"]) && Self.int(s2["late_commits"]) == Self.int(s1["late_commits"]),
                "the pump kept its schedule: \(s2)")
        // Strokes as the rate says over the window (125 ng a stroke: 500 μg/mL × 250 nL).
        let days = Double(Self.int(s2["now_ns"])! - Self.int(s1["now_ns"])!) / 86_400e9
        let expected = days * Double(Self.int(s1["delivering_ng_per_day"])!) / 125
        let given = Double(Self.int(s2["strokes"])! - Self.int(s1["strokes"])!)
        #expect(expected > 1_000 && abs(given - expected) <= expected * 0.01 + 2, "given \(given) strokes, the rate says \(expected)")

        // The stalled subscriber reads now.
        var backlog: [String] = [], dropped: Int64 = 0, after: [String] = []
        while let line = hostile.readLine(seconds: 2) {
            let o = eventFields(line)
            if o["event"] == .string("dropped") { dropped += Self.int(o["count"]) ?? 0; continue }
            if dropped == 0 { backlog.append(line) } else { after.append(line) }
            if after.count >= 3 { break }
        }
        #expect(dropped > 0, "the subscriber must have been stalled for the test to mean anything")
        #expect(backlog.count <= ControlSocketServer.maximumQueuedEvents + Int(ControlSocketServer.streamSendBuffer) * 2 / 100,
                "\(backlog.count) events held for a subscriber that did not read")
        #expect(run.stop() == 0)
        #expect(good.waitForEnd())
        // The reading subscriber missed nothing: seq without gaps, no dropped line.
        let goodLines = good.lines
        #expect(goodLines.map { Self.int(eventFields($0)["seq"]) } == (1...Int64(goodLines.count)).map { $0 })
        #expect(!goodLines.contains { $0.contains(#""event":"dropped""#) })
        // backlog + dropped is exactly the events from the stalled one's first to its first after the drop.
        func identity(_ l: String) -> [String: JSONValue] { var o = eventFields(l); o["seq"] = nil; return o }
        let goodIDs = goodLines.map(identity)
        let first = try #require(backlog.first.flatMap { b in goodIDs.firstIndex(of: identity(b)) })
        let resumed = try #require(after.first.flatMap { a in goodIDs[first...].firstIndex(of: identity(a)) })
        #expect(resumed - first == backlog.count + Int(dropped), "backlog \(backlog.count) + dropped \(dropped) vs \(resumed - first) events")
        #expect(Array(goodIDs[first..<(first + backlog.count)]) == backlog.map(identity))
    }

    /// `itpump ctl watch` prints each event as it comes and exits 0 when the runner stops; 1 when the
    /// runner is killed (the connection lost, no `run_ended`). Unknown kinds are refused, naming the
    /// allowed ones.
    @Test func ctlWatchPrintsTheStreamAndExitsByHowTheRunEnded() throws {
        for (signal, status) in [(SIGTERM, Int32(0)), (SIGKILL, Int32(1))] {
            let run = try Self.start("ev-watch-\(signal)", timeScale: 3_600)
            defer { run.stop(); try? FileManager.default.removeItem(atPath: run.dir) }
            try #require(try Self.waitForRunning(run))
            let watch = Process()
            watch.executableURL = URL(fileURLWithPath: RunningBinary.itpump)
            watch.arguments = ["ctl", "watch", "--socket", run.socket, "--events", "alarm,command"]
            let out = run.dir + "/watch.out"
            FileManager.default.createFile(atPath: out, contents: nil)
            watch.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            watch.standardError = FileHandle.nullDevice
            try watch.run()
            func printed() -> [[String: JSONValue]] {
                ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").map { eventFields(String($0)) }
            }
            // Only events are printed (not the subscribe reply): the refill date is set until the watcher
            // shows the command, which proves it had subscribed; the alarm follows an hour later (1 s).
            let end = Date().addingTimeInterval(15)
            while !printed().contains(where: { $0["event"] == .string("command") }) && Date() < end {
                _ = try run.request(#"{"cmd":"set_refill_date","in_hours":1}"#)
                usleep(300_000)
            }
            // Each line is flushed as it comes (the watcher is still running).
            let seen = Date().addingTimeInterval(10)
            while !printed().contains(where: { $0["event"] == .string("alarm_raised") && $0["alarm"] == .string("refillDue") }) && Date() < seen { usleep(20_000) }
            #expect(printed().contains { $0["event"] == .string("command") && $0["ok"] == .bool(true) })
            #expect(printed().contains { $0["event"] == .string("alarm_raised") && $0["alarm"] == .string("refillDue") },
                    "\((try? String(contentsOfFile: out, encoding: .utf8)) ?? "")")
            #expect(!printed().contains { $0["event"] == .string("strokes") }, "only the kinds asked for")
            #expect(watch.isRunning)
            run.stop(signal)
            let deadline = Date().addingTimeInterval(10)
            while watch.isRunning && Date() < deadline { usleep(20_000) }
            if watch.isRunning { watch.terminate() }
            watch.waitUntilExit()
            #expect(watch.terminationStatus == status, "ctl watch after \(signal)")
            #expect((printed().last?["event"] == .string("run_ended")) == (signal == SIGTERM))
        }
        let run = try Self.start("ev-watch-bad")
        defer { run.stop(); try? FileManager.default.removeItem(atPath: run.dir) }
        let (_, reply) = try Self.subscribe(run, #"["alarm","alarms"]"#)
        #expect(reply.contains("\"ok\":false") && reply.contains("alarm, command, phase, dose, stroke, outage, restart"), "\(reply)")
    }

    /// Outages on the stream: journal writes failing (a file-size limit of 0) begin a journal outage
    /// (and the runner's `journalOutage` alarm), which ends when writes succeed again with the
    /// downtime's therapy-interruption alarm; a process stopped for 1.5 s wakes late: the gap is
    /// accounted as downtime, `late_wake`.
    @Test func outagesAndLateWakesAreOnTheStream() throws {
        let dir = try RunningBinary.temporaryDirectory("ev-outage")
        let run = try RunningBinary(dir: dir, timeScale: 2_000, extra: ["--journal", dir + "/j.db", "--create-journal"])
        defer { run.stop(); try? FileManager.default.removeItem(atPath: dir) }
        try #require(run.waitUntilListening(), "\(run.stderr)")
        try #require(try Self.waitForRunning(run))
        let (c, reply) = try Self.subscribe(run, #"["outage","alarm"]"#)
        #expect(reply == #"{"ok":true,"protocol":1,"subscribed":["alarm","outage"]}"#)
        let stream = StreamReader(c)
        let pid = run.process.processIdentifier
        func fsize(_ limit: String) throws -> Int32 { try setFileSizeLimit(pid: pid, limit) }
        try #require(try fsize("0:unlimited") == 0)
        #expect(stream.wait { $0["event"] == .string("outage") && $0["outage"] == .string("journal") && $0["state"] == .string("began") })
        #expect(stream.wait { $0["event"] == .string("alarm_raised") && $0["alarm"] == .string("journalOutage") && $0["priority"] == .string("high") })
        #expect(try fsize("unlimited:unlimited") == 0)
        #expect(stream.wait { $0["event"] == .string("outage") && $0["state"] == .string("ended") && Self.int($0["failed_commits"]).map { $0 >= 1 } == true })
        #expect(stream.wait { $0["event"] == .string("alarm_cleared") && $0["alarm"] == .string("journalOutage") })
        #expect(stream.wait { $0["event"] == .string("alarm_raised") && $0["alarm"] == .string("therapyInterruption") })
        #expect(!stream.lines.contains { eventFields($0)["outage"] == .string("late_wake") }, "no late wake before the stop")
        kill(pid, SIGSTOP)
        usleep(1_500_000)
        kill(pid, SIGCONT)
        #expect(stream.wait { $0["event"] == .string("outage") && $0["outage"] == .string("late_wake") && $0["state"] == .string("accounted") && $0["count"] == .int(1) },
                "\(stream.lines)")
        #expect(run.stop() == 0)
        #expect(stream.waitForEnd())
        let (ok, report) = try Self.checkSchema(stream.lines)
        #expect(ok, "\(report)")
    }

    /// A run that came up again from its journal tells each subscriber so, first.
    @Test func aRestartedRunSaysSoFirst() throws {
        let dir = try RunningBinary.temporaryDirectory("ev-restart")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try RunningBinary(dir: dir, timeScale: 600, extra: ["--journal", dir + "/j.db", "--create-journal"])
        try #require(first.waitUntilListening(), "\(first.stderr)")
        try #require(try Self.waitForRunning(first))
        let (c0, _) = try Self.subscribe(first, #"["restart"]"#)
        #expect(first.stop() == 0)
        #expect(c0.readLine(seconds: 5).map(eventFields)?["event"] == .string("run_ended"), "no restart event for a new pump")
        let second = try RunningBinary(dir: dir, timeScale: 600, extra: ["--journal", dir + "/j.db"])
        defer { second.stop() }
        try #require(second.waitUntilListening(), "\(second.stderr)")
        let (c, reply) = try Self.subscribe(second, #"["restart","alarm"]"#)
        #expect(reply == #"{"ok":true,"protocol":1,"subscribed":["alarm","restart"]}"#)
        let restart = try #require(c.readLine(seconds: 5).map(eventFields))
        #expect(restart["event"] == .string("restart") && restart["seq"] == .int(1), "\(restart)")
        #expect(restart["duration_known"] == .bool(true) && Self.int(restart["gap_ns"]).map { $0 > 0 } == true)
        #expect(Self.int(restart["missed_ng"]).map { $0 > 0 } == true, "therapy was running: drug was missed")
    }
}

/// The fields of one JSON line (empty if it is not an object).
func eventFields(_ line: String) -> [String: JSONValue] {
    guard case let .object(o)? = try? JSONValue.parse(Array(line.utf8)) else { return [:] }
    return o
}
