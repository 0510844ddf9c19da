#if canImport(Glibc)
import Glibc
#endif

/// How a run ended.
public enum RunEnd: Hashable, Sendable {
    /// A terminating signal (by name, e.g. `SIGTERM`; see `SignalWatcher.terminating`).
    case signal(String)
}

/// The runner's single thread: step the runner, then wait (poll on the control socket, its clients
/// and the signal pipe) until the next deadline, a request or a signal.
public struct RunLoop {
    public let runner: Runner
    public let server: ControlSocketServer?
    public let signals: SignalWatcher
    /// systemd notification and the hardware watchdog, told of each pass (see `BoardServices`).
    public var board: BoardServices?

    public init(runner: Runner, server: ControlSocketServer?, signals: SignalWatcher) {
        self.runner = runner
        self.server = server
        self.signals = signals
    }

    /// Runs until a signal; a driver failure on any path (a step, or a control request: after its reply
    /// is sent) throws (`RunnerError`) after the safe state is set.
    public func run() throws(RunnerError) -> RunEnd {
        while true {
            if let sig = signals.take() { return .signal(SignalWatcher.name(sig)) }
            try runner.step()
            server?.publish(runner.collectEvents())
            board?.loopPassed(status: "delivering; \(runner.strokesPerformed) strokes")
            server?.closeExpired()
            let wake = runner.nextWakeup
            let now = runner.clock.now()
            let wait = wake > now ? wake - now : 0
            // Event streams with queued lines are polled for writing too.
            var fds = [pollfd(fd: signals.fileDescriptor, events: Int16(POLLIN), revents: 0)] + (server?.pollDescriptors ?? [])
            // poll() counts whole milliseconds: sleep the rest precisely on the clock (a stroke starts on
            // time, not up to 1 ms late).
            let n = poll(&fds, nfds_t(fds.count), Int32(min(wait / 1_000_000, 1_000)))
            if n > 0, let server, fds.dropFirst().contains(where: { $0.revents != 0 }) {
                server.service(streaming: { runner.respond(to: $0) })
                server.publish(runner.collectEvents())
                if let failure = runner.failure { throw failure }
            } else if n == 0, wake < runner.clock.now() + 2_000_000 {
                runner.clock.sleep(until: wake)
            }
        }
    }
}
