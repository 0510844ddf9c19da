import Foundation
import PumpCore
import Testing
@testable import PumpRig
@testable import PumpRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The control server's event streams on a clock moved by hand: bounded queues, `dropped` counts that
/// account for every event, no deadline on a stream, the slot rules. `EventStreamBinaryTests` shows
/// the same through the real process.
@Suite(.serialized) struct EventStreamServerTests {
    final class Fake: @unchecked Sendable { var now: UInt64 = 1_000_000_000_000 }

    func server(_ limits: ControlSocketServer.Limits = .init()) throws -> (ControlSocketServer, Fake, String) {
        let dir = "/tmp/itpt-ev-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let s = try ControlSocketServer(path: dir + "/c.sock", limits: limits)
        let f = Fake()
        s.clock = { f.now }
        return (s, f, dir)
    }

    /// Subscribes every line it is sent (to `categories`); `status` lines get a plain reply.
    func handler(_ categories: Set<EventCategory> = Set(EventCategory.allCases)) -> ([UInt8]) -> ControlReply {
        { line in
            String(decoding: line, as: UTF8.self).contains("subscribe")
                ? .subscribe(reply: #"{"ok":true,"subscribed":[]}"#, categories: categories, initial: [])
                : .line(#"{"ok":true}"#)
        }
    }

    func event(_ i: Int, _ category: EventCategory = .command) -> StreamEvent {
        StreamEvent(category, "command", at: Instant(nanoseconds: Int64(i)), ["n": .int(Int64(i)), "pad": .string(String(repeating: "x", count: 200))])
    }

    /// A subscriber that never reads: the queue never holds more than `maximumQueuedEvents`, `publish` keeps going,
    /// and when it reads, every event is either received or counted in one `dropped` line that comes
    /// before any newer event; `seq` runs 1, 2, 3, … with no gap.
    @Test func aSubscriberThatNeverReadsIsBoundedAndToldWhatItLost() throws {
        let (s, clock, dir) = try server()
        defer { s.close(); try? FileManager.default.removeItem(atPath: dir) }
        let hostile = try #require(RawClient(path: s.path))
        #expect(hostile.send(#"{"cmd":"subscribe"}"#))
        s.service(streaming: handler([.command]))
        #expect(s.subscriberCount == 1)
        let total = 5_000
        for i in 1...total {
            s.publish([event(i)])
            let q = try #require(s.subscriberQueues.first)
            #expect(q.queued <= ControlSocketServer.maximumQueuedEvents)
            if q.queued > ControlSocketServer.maximumQueuedEvents { break }
        }
        let q = try #require(s.subscriberQueues.first)
        #expect(q.dropped > 0, "the subscriber must really have been stalled (else this test proves nothing)")
        // Hours later it is still connected: a stream has no idle or request deadline.
        clock.now += 3_600_000_000_000
        s.closeExpired()
        #expect(s.subscriberCount == 1)

        #expect(hostile.readLine(seconds: 2) == #"{"ok":true,"subscribed":[]}"#)
        var received: [Int] = [], dropped: Int64 = 0, seq: Int64 = 0, droppedLines = 0
        // Drain: the server writes more whenever the client has read.
        while received.count + Int(dropped) < total {
            s.service(streaming: handler([.command]))
            guard let line = hostile.readLine(seconds: 0.2) else {
                s.publish([event(total + 1, .alarm)]) // an event it did not ask for: nothing is queued
                continue
            }
            let o = eventFields(line)
            seq += 1
            #expect(o["seq"] == .int(seq), "seq runs without gaps: \(line)")
            if o["event"] == .string("dropped") {
                guard case let .int(n)? = o["count"] else { Issue.record("dropped without a count: \(line)"); break }
                #expect(received.count + Int(dropped) < total, "dropped comes before newer events")
                dropped += n
                droppedLines += 1
            } else if case let .int(n)? = o["n"] {
                #expect(received.last.map { Int(n) > $0 } ?? true)
                received.append(Int(n))
            }
        }
        #expect(received.count + Int(dropped) == total, "every event received or counted as dropped")
        #expect(droppedLines == 1)
        #expect(Int64(total) - Int64(received.count) == dropped)
        // Events from before the drop (the queue and the kernel's buffer), then only what came after it.
        #expect(received.count < ControlSocketServer.maximumQueuedEvents + 1_000)
        #expect(received.first == 1)
        // Now it reads: the next event arrives as such, with no dropped line.
        s.publish([event(total + 2)])
        let next = try #require(hostile.readLine(seconds: 2))
        #expect(eventFields(next)["n"] == .int(Int64(total + 2)))
    }

    /// A stream keeps its slot; at most 6 streams, so two slots always serve requests; a stream whose queue
    /// has been full for `evictIdle` gives its slot to a newcomer, one that reads keeps it.
    @Test func streamsCountInTheEightSlotsUnderTheStatedRules() throws {
        let (s, clock, dir) = try server()
        defer { s.close(); try? FileManager.default.removeItem(atPath: dir) }
        var subs: [RawClient] = []
        for _ in 0..<ControlSocketServer.maximumSubscribers {
            let c = try #require(RawClient(path: s.path))
            #expect(c.send(#"{"cmd":"subscribe"}"#))
            s.service(streaming: handler())
            #expect(c.readLine(seconds: 1)?.contains("subscribed") == true)
            subs.append(c)
        }
        #expect(s.subscriberCount == ControlSocketServer.maximumSubscribers)
        let seventh = try #require(RawClient(path: s.path))
        #expect(seventh.send(#"{"cmd":"subscribe"}"#))
        s.service(streaming: handler())
        #expect(seventh.readLine(seconds: 1)?.contains("too many event streams (6)") == true)
        #expect(seventh.send(#"{"cmd":"status"}"#))
        s.service(streaming: handler())
        #expect(seventh.readLine(seconds: 1) == #"{"ok":true}"#, "it stays a request connection")
        let eighth = try #require(RawClient(path: s.path))
        s.service(streaming: handler())
        #expect(s.clientCount == 8)

        // Streams 1–5 read everything; stream 0 never reads: its queue fills and stays full.
        for i in 1...3_000 {
            s.publish([event(i)])
            // The readers read every 100 events (the kernel's buffer alone holds more than that).
            if i % 100 == 0 { for c in subs.dropFirst() { while c.readLine(seconds: 0.005) != nil {} } }
        }
        #expect(s.subscriberQueues.contains { $0.dropped > 0 })
        // The newcomer: the two request connections are not idle long enough, the readers never
        // stalled; the stalled stream has been full for less than evictIdle.
        clock.now += ControlSocketServer.Limits().evictIdle / 2
        #expect(seventh.send(#"{"cmd":"status"}"#) && eighth.send(#"{"cmd":"status"}"#))
        s.service(streaming: handler())
        _ = seventh.readLine(seconds: 1); _ = eighth.readLine(seconds: 1)
        let newcomer = try #require(RawClient(path: s.path))
        s.service(streaming: handler())
        #expect(newcomer.readLine(seconds: 1)?.contains("too many control connections") == true)
        clock.now += ControlSocketServer.Limits().evictIdle
        #expect(seventh.send(#"{"cmd":"status"}"#) && eighth.send(#"{"cmd":"status"}"#))
        s.service(streaming: handler())
        let again = try #require(RawClient(path: s.path))
        s.service(streaming: handler())
        #expect(s.clientCount == 8)
        #expect(s.subscriberCount == ControlSocketServer.maximumSubscribers - 1, "the stalled stream gave up its slot")
        #expect(subs[0].closedByPeer(within: 1))
        #expect(again.send(#"{"cmd":"status"}"#))
        s.service(streaming: handler())
        #expect(again.readLine(seconds: 1) == #"{"ok":true}"#)
    }

    /// The stream ends with `run_ended`, even for a subscriber whose queue was full, once it reads
    /// within the grace `close(after:)` gives.
    @Test func runEndedReachesAFullQueueThatIsThenRead() throws {
        let (s, _, dir) = try server()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        s.clock = ControlSocketServer.monotonicNow
        let c = try #require(RawClient(path: s.path))
        #expect(c.send(#"{"cmd":"subscribe"}"#))
        s.service(streaming: handler([.alarm]))
        for i in 1...3_000 { s.publish([event(i, .alarm)]) }
        #expect(s.subscriberQueues.first?.dropped ?? 0 > 0)
        // The subscriber starts reading only after the run has begun to end.
        final class Reader: @unchecked Sendable {
            let c: RawClient
            var lines: [String] = []
            let done = DispatchSemaphore(value: 0)
            init(_ c: RawClient) { self.c = c }
        }
        let reader = Reader(c)
        Thread.detachNewThread {
            usleep(200_000)
            while let line = reader.c.readLine(seconds: 3) { reader.lines.append(line) }
            reader.done.signal()
        }
        s.close(after: [.runEnded(reason: "stopped by SIGTERM", clean: true, at: .zero)], seconds: 3)
        reader.done.wait()
        let lines = reader.lines
        #expect(lines.contains { $0.contains("\"dropped\"") })
        #expect(lines.last.map(eventFields)?["event"] == .string("run_ended"))
        #expect(lines.last.map(eventFields)?["clean"] == .bool(true))
    }
}
