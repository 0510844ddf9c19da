#if canImport(Glibc)
import Glibc
#endif

/// How a run ended.
public enum RunEnd: Hashable, Sendable {
    /// A terminating signal (by name, e.g. `SIGTERM`; see `SignalWatcher.terminating`).
    case signal(String)
}

/// The runner's single thread: step the runner, then wait (poll on the control socket, its clients,
/// the rig's input-edge descriptors and the signal pipe) until the next deadline, a request, an edge
/// or a signal.
///
/// It never blocks on a stroke: a stroke's waits (the rig's ENABLE setup and each STEP period, 100 ms
/// a stroke on the Raspberry Pi rig, 1.6 s for a 16-stroke step) are handed back to the loop
/// (`RigDriver.whileWaiting`, at most every millisecond), which there answers control requests
/// (handled at the controller's instant, never advancing it), reads input edges and drives the alarm
/// outputs; signals are acted on between strokes' steps, as before.
public struct RunLoop {
    public let runner: Runner
    public let server: ControlSocketServer?
    public let signals: SignalWatcher
    /// systemd notification and the hardware watchdog, told of each pass (see `BoardServices`).
    public var board: BoardServices?

    /// Input polling when the rig's edges arrive through descriptors: the levels are re-read this
    /// often only as a safety net (edges wake the loop at once).
    public static let edgeDrivenInputPollInterval: UInt64 = 250_000_000

    public init(runner: Runner, server: ControlSocketServer?, signals: SignalWatcher) {
        self.runner = runner
        self.server = server
        self.signals = signals
        if let rig = runner.rigDriver {
            if !rig.pollDescriptors.isEmpty { runner.inputPollInterval = Self.edgeDrivenInputPollInterval }
            let server = server
            rig.whileWaiting = { try Self.serviceDuringStrokes(runner: runner, server: server) }
        }
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
            let inputs = runner.rigDriver?.pollDescriptors ?? []
            // Event streams with queued lines are polled for writing too.
            var fds = [pollfd(fd: signals.fileDescriptor, events: Int16(POLLIN), revents: 0)]
                + inputs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                + (server?.pollDescriptors ?? [])
            // poll() counts whole milliseconds: sleep the rest precisely on the clock (a stroke starts on
            // time, not up to 1 ms late).
            let n = poll(&fds, nfds_t(fds.count), Int32(min(wait / 1_000_000, 1_000)))
            if n > 0, fds.dropFirst().prefix(inputs.count).contains(where: { $0.revents != 0 }) {
                // An edge: drained now (a readable descriptor would wake every poll), sensed by the next step.
                do { try runner.rigDriver?.drainEdges() } catch { throw runner.fail("reading the input edges", error) }
            }
            if n > 0, let server, fds.dropFirst(1 + inputs.count).contains(where: { $0.revents != 0 }) {
                server.service(streaming: { runner.respond(to: $0) })
                server.publish(runner.collectEvents())
                if let failure = runner.failure { throw failure }
            } else if n == 0, wake < runner.clock.now() + 2_000_000 {
                runner.clock.sleep(until: wake)
            }
        }
    }

    /// Control requests answered in one stroke's wait (the rig calls it at most every millisecond, with
    /// at least its `serviceSlack` left before the next line change): one, so answering clients takes a
    /// bounded share of a stroke and a flood of requests cannot slow the strokes (the rest is served in
    /// later waits or between steps).
    public static let requestsPerStrokeWait = 1

    /// Within a stroke's waits: answers what the control socket has ready (without waiting), senses
    /// the inputs and services the alarm outputs (`Runner.serviceDuringStrokes`), and publishes the
    /// events. Throws the run's failure, which aborts the stroke.
    static func serviceDuringStrokes(runner: Runner, server: ControlSocketServer?) throws(RunnerError) {
        if let server {
            var fds = server.pollDescriptors
            if poll(&fds, nfds_t(fds.count), 0) > 0, fds.contains(where: { $0.revents != 0 }) {
                server.service(streaming: { runner.respond(to: $0) }, maxRequests: Self.requestsPerStrokeWait)
            }
        }
        try runner.serviceDuringStrokes()
        server?.publish(runner.collectEvents())
        if let failure = runner.failure { throw failure }
    }
}
