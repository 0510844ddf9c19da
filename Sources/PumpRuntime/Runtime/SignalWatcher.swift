#if canImport(Glibc)
import Glibc
#endif

/// Write end of the self-pipe the signal handler writes the signal number to (async-signal-safe).
nonisolated(unsafe) private var signalPipeWrite: Int32 = -1

/// Turns every catchable signal whose default action would end the process (SIGHUP, SIGINT, SIGQUIT,
/// SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGPWR, SIGSTKFLT, SIGIO and the
/// real-time signals) into a readable file descriptor the run loop polls, so a signal is handled on
/// the loop's thread between two strokes, never inside a STEP pulse, and ends the run the one clean
/// way: safe state, a journaled stop, the socket removed. Ignored: SIGPIPE (a control client that
/// hangs up must not kill the pump) and SIGXFSZ (a file-size limit makes the write fail instead: a
/// journal outage or a driver failure, both handled). SIGKILL and SIGSTOP cannot be caught; the
/// synchronous faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS) are crashes, which
/// the journal's recovery accounts at the next start.
public final class SignalWatcher {
    public let fileDescriptor: Int32
    private let writeFD: Int32

    /// The signals that end the run cleanly.
    public static var terminating: [Int32] {
        [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGPWR, SIGSTKFLT, SIGIO]
            + Array(__libc_current_sigrtmin()...__libc_current_sigrtmax())
    }

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
            let saved = errno
            var b = UInt8(truncatingIfNeeded: sig)
            _ = write(signalPipeWrite, &b, 1)
            errno = saved
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        // A parent may start us with these blocked (the mask is inherited across exec: seen with a
        // test harness's spawn); blocked, a SIGTERM would stay pending and the pump never stop.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for sig in Self.terminating {
            sigaction(sig, &action, nil)
            sigaddset(&unblock, sig)
        }
        signal(SIGPIPE, SIG_IGN)
        signal(SIGXFSZ, SIG_IGN)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }

    /// The first signal received since the last call, if any (non-blocking).
    public func take() -> Int32? {
        var b: UInt8 = 0
        return read(fileDescriptor, &b, 1) == 1 ? Int32(b) : nil
    }

    public static func name(_ sig: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGTERM: "SIGTERM", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2",
            SIGALRM: "SIGALRM", SIGVTALRM: "SIGVTALRM", SIGPROF: "SIGPROF", SIGXCPU: "SIGXCPU", SIGPWR: "SIGPWR",
            SIGSTKFLT: "SIGSTKFLT", SIGIO: "SIGIO",
        ]
        if let n = names[sig] { return n }
        if sig >= __libc_current_sigrtmin() && sig <= __libc_current_sigrtmax() { return "SIGRTMIN+\(sig - __libc_current_sigrtmin())" }
        return "signal \(sig)"
    }
}
