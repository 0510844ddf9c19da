#if canImport(Glibc)
import Glibc
#endif

/// Write end of the self-pipe the signal handler writes the signal number to (async-signal-safe).
nonisolated(unsafe) private var signalPipeWrite: Int32 = -1

/// Turns SIGINT and SIGTERM into a readable file descriptor the run loop polls, so a signal is handled
/// on the loop's thread between two strokes, never inside a STEP pulse. SIGPIPE is ignored (a control
/// client that hangs up must not kill the pump).
public final class SignalWatcher {
    public let fileDescriptor: Int32
    private let writeFD: Int32

    /// Installs the handlers. One watcher per process.
    public init() throws(ControlSocketError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw .system(what: "pipe", errno: errno) }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        fileDescriptor = fds[0]
        writeFD = fds[1]
        signalPipeWrite = fds[1]
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { sig in
            var b = UInt8(truncatingIfNeeded: sig)
            _ = write(signalPipeWrite, &b, 1)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        signal(SIGPIPE, SIG_IGN)
        // A parent may start us with these blocked (the mask is inherited across exec: seen with a
        // test harness's spawn); blocked, a SIGTERM would stay pending and the pump never stop.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }

    /// The first signal received since the last call, if any (non-blocking).
    public func take() -> Int32? {
        var b: UInt8 = 0
        return read(fileDescriptor, &b, 1) == 1 ? Int32(b) : nil
    }

    public static func name(_ sig: Int32) -> String {
        switch sig {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(sig)"
        }
    }
}
