import Foundation
import Testing
@testable import PumpRig
@testable import PumpRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The control server's deadlines and slot accounting on a clock moved by hand (no waiting): the
/// binary tests (`ControlChannelBinaryTests`) show the same through the real process.
@Suite(.serialized) struct ControlSocketDeadlineTests {
    final class Fake: @unchecked Sendable { var now: UInt64 = 1_000_000_000_000 }

    func server(_ limits: ControlSocketServer.Limits = .init()) throws -> (ControlSocketServer, Fake, String) {
        let dir = "/tmp/itpt-dl-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let s = try ControlSocketServer(path: dir + "/c.sock", limits: limits)
        let f = Fake()
        s.clock = { f.now }
        return (s, f, dir)
    }

    let echo: ([UInt8]) -> String = { JSONValue.object(["ok": .bool(true), "echo": .string(String(decoding: $0, as: UTF8.self))]).line }

    @Test func idleAndRequestDeadlinesAreExactlyTheStatedOnes() throws {
        let (s, clock, dir) = try server(.init(idle: 30_000_000_000, request: 2_000_000_000))
        defer { s.close(); try? FileManager.default.removeItem(atPath: dir) }
        let idle = try #require(RawClient(path: s.path)), partial = try #require(RawClient(path: s.path))
        s.service(echo)
        #expect(partial.write("{\"cmd\""))
        s.service(echo)
        #expect(s.clientCount == 2)
        clock.now += 1_999_999_999
        s.closeExpired()
        #expect(s.clientCount == 2, "nothing expires a nanosecond early")
        clock.now += 1
        s.closeExpired()
        #expect(s.clientCount == 1)
        #expect(partial.readLine(seconds: 1)?.contains("request not complete within 2 s") == true)
        #expect(partial.closedByPeer(within: 1))
        clock.now += 28_000_000_000 - 1
        s.closeExpired()
        #expect(s.clientCount == 1)
        clock.now += 1
        s.closeExpired()
        #expect(s.clientCount == 0)
        #expect(idle.readLine(seconds: 1)?.contains("idle for 30 s; closed") == true)
    }

    /// A completed request restarts the idle clock; a request in progress is never evicted.
    @Test func evictionTakesTheLongestIdleAndNeverARequestInProgress() throws {
        let (s, clock, dir) = try server()
        defer { s.close(); try? FileManager.default.removeItem(atPath: dir) }
        var clients: [RawClient] = []
        for i in 0..<ControlSocketServer.maximumClients {
            let c = try #require(RawClient(path: s.path))
            s.service(echo)
            clients.append(c)
            clock.now += 100_000_000     // client i connected at 100 ms × i
            _ = i
        }
        // Client 0 asks again (its idle clock restarts); client 1 has a request in progress.
        #expect(clients[0].send("a"))
        #expect(clients[1].write("{"))
        s.service(echo)
        #expect(clients[0].readLine(seconds: 1)?.contains("\"echo\":\"a\"") == true)
        clock.now += 1_000_000_000
        let newcomer = try #require(RawClient(path: s.path))
        s.service(echo)
        #expect(s.clientCount == ControlSocketServer.maximumClients)
        // Client 2 was idle longest (client 0 asked again, client 1 is mid-request).
        #expect(clients[2].readLine(seconds: 1)?.contains("closed to make room") == true)
        #expect(newcomer.send("b"))
        s.service(echo)
        #expect(newcomer.readLine(seconds: 1)?.contains("\"echo\":\"b\"") == true)
    }

    /// With every slot mid-request, a newcomer is turned away, and told when to try again.
    @Test func eightRequestsInProgressTurnANewcomerAway() throws {
        let (s, _, dir) = try server()
        defer { s.close(); try? FileManager.default.removeItem(atPath: dir) }
        var clients: [RawClient] = []
        for _ in 0..<ControlSocketServer.maximumClients {
            let c = try #require(RawClient(path: s.path))
            #expect(c.write("{"))
            s.service(echo)
            clients.append(c)
        }
        let newcomer = try #require(RawClient(path: s.path))
        s.service(echo)
        #expect(newcomer.readLine(seconds: 1)?.contains("too many control connections (8) with requests in progress; try again in 2 s") == true)
        #expect(newcomer.closedByPeer(within: 1))
        #expect(s.clientCount == ControlSocketServer.maximumClients)
    }

    /// Connections that ended are counted out before a newcomer is counted in, in the same pass.
    @Test func closedConnectionsFreeTheirSlotsBeforeNewcomersAreCounted() throws {
        let (s, _, dir) = try server()
        defer { s.close(); try? FileManager.default.removeItem(atPath: dir) }
        var clients: [RawClient] = []
        for _ in 0..<ControlSocketServer.maximumClients { clients.append(try #require(RawClient(path: s.path))) }
        s.service(echo)
        #expect(s.clientCount == 8)
        clients.removeAll()
        let newcomer = try #require(RawClient(path: s.path))
        #expect(newcomer.send("c"))
        s.service(echo)     // one pass: the eight hang-ups, then the newcomer and its request
        #expect(newcomer.readLine(seconds: 1)?.contains("\"echo\":\"c\"") == true)
        #expect(s.clientCount == 1)
    }
}
