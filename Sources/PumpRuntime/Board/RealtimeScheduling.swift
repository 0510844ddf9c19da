#if canImport(Glibc)
import Glibc
#endif

/// `itpump run --realtime[=PRIORITY]`: the runner's thread under SCHED_FIFO at `priority` (1 … 99), so
/// no ordinary process delays a stroke, and its memory locked (`mlockall(MCL_CURRENT | MCL_FUTURE)`),
/// so no page fault does. Both need privileges; a refusal names them (`BoardError`).
public enum RealtimeScheduling {
    /// The priority `--realtime` takes without a value.
    public static let defaultPriority: Int32 = 50

    /// Switches the calling thread to SCHED_FIFO at `priority` and locks the process's memory.
    /// Threads it creates afterwards inherit the policy. Nothing is changed when this throws.
    public static func enable(priority: Int32) throws(BoardError) {
        guard (1...99).contains(priority) else { throw .priorityOutOfRange(priority) }
        var old = sched_param()
        let oldPolicy = sched_getscheduler(0)
        _ = sched_getparam(0, &old)
        var p = sched_param()
        p.sched_priority = priority
        if sched_setscheduler(0, SCHED_FIFO, &p) != 0 {
            let e = errno
            throw .realtimePriority(priority, reason: "\(String(cString: strerror(e)))", limit: rtprioLimit())
        }
        if mlockall(MCL_CURRENT | MCL_FUTURE) != 0 {
            let e = errno
            _ = sched_setscheduler(0, oldPolicy, &old)
            throw .memoryLock(reason: String(cString: strerror(e)))
        }
    }

    /// The current policy of the calling thread, by name (for the start log line and tests).
    public static var currentPolicy: (name: String, priority: Int32) {
        var p = sched_param()
        _ = sched_getparam(0, &p)
        let name = switch sched_getscheduler(0) {
        case SCHED_FIFO: "SCHED_FIFO"
        case SCHED_RR: "SCHED_RR"
        case SCHED_OTHER: "SCHED_OTHER"
        default: "other"
        }
        return (name, p.sched_priority)
    }

    static func rtprioLimit() -> String {
        var r = rlimit()
        guard getrlimit(__rlimit_resource_t(__RLIMIT_RTPRIO.rawValue), &r) == 0 else { return "unknown" }
        return r.rlim_cur == rlim_t.max ? "unlimited" : "\(r.rlim_cur)"
    }
}

/// The command line as `itpump` parses it.
public enum RunCommandArguments {
    /// `--realtime` without a value means `--realtime=50` (ArgumentParser's options always take one): a
    /// bare `--realtime` not followed by a number is rewritten before parsing.
    public static func normalized(_ arguments: [String]) -> [String] {
        var out: [String] = []
        for (i, a) in arguments.enumerated() {
            if a == "--realtime", i + 1 >= arguments.count || Int32(arguments[i + 1]) == nil {
                out.append("--realtime=\(RealtimeScheduling.defaultPriority)")
            } else { out.append(a) }
        }
        return out
    }
}
