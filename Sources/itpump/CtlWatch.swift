import ArgumentParser
import Foundation
import PumpRig
import PumpRuntime

/// `itpump ctl watch [--events alarm,command,…]`: subscribes to the runner's event stream and prints
/// each event as it arrives (one JSON line each, flushed), until the runner stops or the connection is
/// lost.
enum CtlWatch {
    /// The exit status: 0 when the runner ended its run cleanly (`run_ended` with `clean: true`), 1 when
    /// the connection was lost, the run ended on a failure, or the runner refused the subscription.
    static func run(socket: String, events: String?) throws -> Int32 {
        var request: [String: JSONValue] = ["cmd": .string("subscribe")]
        if let events {
            let names = events.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let allowed = EventCategory.allCases.map(\.rawValue)
            for n in names where !allowed.contains(n) {
                throw usageError("--events: unknown event kind `\(n)`; allowed: \(allowed.joined(separator: ", "))", command: "ctl")
            }
            request["events"] = .array(names.map(JSONValue.string))
        }
        let client = try ControlClient(path: socket)
        let reply = try client.request(JSONValue.object(request).line)
        guard case let .object(o)? = try? JSONValue.parse(Array(reply.utf8)), o["ok"] == .bool(true) else {
            printError("itpump ctl watch: the runner refused the subscription: \(reply)")
            return 1
        }
        // A stream may be quiet for long (a stroke every few minutes at 1×): wait without a timeout.
        client.setReceiveTimeout(seconds: 0)
        var ended: Bool?
        while true {
            let line: String
            do { line = try client.readLine() } catch {
                if let ended { return ended ? 0 : 1 }
                printError("itpump ctl watch: the connection to the runner at \(socket) was lost")
                return 1
            }
            // Written at once (unbuffered), so a pipe sees each event as it comes.
            do { try FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8)) } catch {
                printError("itpump ctl watch: standard output cannot be written (\(error)); stopped watching")
                return 1
            }
            if case let .object(e)? = try? JSONValue.parse(Array(line.utf8)), e["event"] == .string("run_ended") {
                ended = e["clean"] == .bool(true)
            }
        }
    }
}
