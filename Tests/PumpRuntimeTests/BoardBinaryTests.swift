import Foundation
import GPIO
import Testing
@testable import PumpRig
@testable import PumpRuntime
#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket standing in for systemd's `$NOTIFY_SOCKET`.
final class NotifyListener {
    let fd: Int32
    let path: String

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = ControlSocketServer.address(path)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        try #require(fd >= 0 && rc == 0, "bind \(path): \(String(cString: strerror(errno)))")
    }

    deinit { close(fd); unlink(path) }

    /// The next datagram, or nil after `seconds`.
    func receive(seconds: Double) -> String? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(seconds * 1000)) > 0 else { return nil }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buf, buf.count, 0)
        return n > 0 ? String(decoding: buf.prefix(n), as: UTF8.self) : nil
    }
}

/// The board services through the real binary: systemd notification, the hardware watchdog (a FIFO
/// or a regular file standing in for /dev/watchdog), real-time scheduling and its refusal.
@Suite(.serialized) struct BoardBinaryTests {
    /// READY=1 once the loop runs (the socket answers by then), WATCHDOG=1 at least every half of
    /// WATCHDOG_USEC while it runs, STOPPING=1 when SIGTERM stops it; a clean exit.
    @Test func notifiesSystemdReadyWatchdogAndStopping() throws {
        let dir = try RunningBinary.temporaryDirectory("notify")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let listener = try NotifyListener(path: dir + "/notify")
        let run = try RunningBinary(dir: dir, environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "1000000"])
        defer { run.stop(SIGKILL) }
        let ready = listener.receive(seconds: 30)
        #expect(ready?.split(separator: "\n").contains("READY=1") == true, "\(ready ?? "nothing") \(run.stderr)")
        #expect(ready?.contains("MAINPID=\(run.process.processIdentifier)") == true)
        // By READY the control socket answers.
        #expect(try run.request(#"{"cmd":"status"}"#).contains("\"ok\":true"))
        var kicks: [Date] = []
        let end = Date().addingTimeInterval(3)
        while Date() < end, let m = listener.receive(seconds: 1) {
            #expect(m == "WATCHDOG=1")
            kicks.append(Date())
        }
        // Every 0.5 s (half the timeout); systemd would kill the service at a gap of 1 s.
        #expect(kicks.count >= 4, "\(kicks.count) WATCHDOG=1 in 3 s with WATCHDOG_USEC=1000000")
        let gaps = zip(kicks.dropFirst(), kicks).map { $0.timeIntervalSince($1) }
        #expect(gaps.allSatisfy { $0 < 1.0 }, "gaps \(gaps)")
        _ = kill(run.process.processIdentifier, SIGTERM)
        var stopping = false
        while let m = listener.receive(seconds: 10) {
            if m.hasPrefix("STOPPING=1") { stopping = true; #expect(m.contains("STATUS=stopping: SIGTERM")); break }
        }
        #expect(stopping)
        #expect(run.stop() == 0, "\(run.stderr)")
    }

    /// Abstract socket names (`@name`) are addressed as systemd does (a leading NUL).
    @Test func notifiesAnAbstractSocket() throws {
        let name = "itpump-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in name.utf8.enumerated() { raw[i + 1] = b } }
        let len = socklen_t(MemoryLayout<sa_family_t>.size + 1 + name.utf8.count)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        try #require(rc == 0)
        let n = try SystemdNotifier(socketPath: "@" + name, watchdogTimeout: nil)
        try n.send("READY=1")
        var buf = [UInt8](repeating: 0, count: 64)
        let got = recv(fd, &buf, buf.count, Int32(MSG_DONTWAIT))
        #expect(got > 0 && String(decoding: buf.prefix(got), as: UTF8.self) == "READY=1")
        #expect(try SystemdNotifier(environment: [:]) == nil)
        #expect(try SystemdNotifier(environment: ["NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "5000000", "WATCHDOG_PID": "1"])?.watchdogTimeout == nil,
                "a watchdog meant for another process")
        #expect(try SystemdNotifier(environment: ["NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "5000000"])?.watchdogTimeout == 5_000_000_000)
    }

    /// `--watchdog FIFO`: kicked (NUL bytes) about every second while the loop runs, and closed with
    /// the magic `V` on a clean stop.
    @Test func hardwareWatchdogIsKickedAndDisarmedOnACleanStop() throws {
        let dir = try RunningBinary.temporaryDirectory("wdfifo")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fifo = dir + "/watchdog"
        try #require(mkfifo(fifo, 0o600) == 0)
        let reader = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        try #require(reader >= 0)
        defer { close(reader) }
        let run = try RunningBinary(dir: dir, extra: ["--watchdog", fifo])
        defer { run.stop(SIGKILL) }
        try #require(run.waitUntilListening(), "\(run.stderr)")
        func drain() -> [UInt8] {
            var all: [UInt8] = [], buf = [UInt8](repeating: 0, count: 256)
            while true { let n = read(reader, &buf, buf.count); if n <= 0 { return all }; all += buf.prefix(n) }
        }
        usleep(2_600_000)
        let kicks = drain()
        #expect(kicks.count >= 2 && kicks.allSatisfy { $0 == 0 }, "\(kicks)")
        #expect(run.stop() == 0, "\(run.stderr)")
        let rest = drain()
        #expect(rest.last == UInt8(ascii: "V"), "\(rest)")
    }

    /// A killed runner does not disarm the watchdog (the board would reset unless it is restarted):
    /// the file standing in for the device has kicks and no `V`.
    @Test func aKilledRunnerLeavesTheWatchdogArmed() throws {
        let dir = try RunningBinary.temporaryDirectory("wdkill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/watchdog"
        FileManager.default.createFile(atPath: file, contents: nil)
        let run = try RunningBinary(dir: dir, extra: ["--watchdog", file])
        try #require(run.waitUntilListening(), "\(run.stderr)")
        usleep(300_000)
        run.stop(SIGKILL)
        let bytes = try #require(FileManager.default.contents(atPath: file))
        #expect(!bytes.isEmpty && !bytes.contains(UInt8(ascii: "V")), "\(Array(bytes))")
    }

    @Test func aWatchdogThatCannotBeOpenedRefusesTheStart() throws {
        let dir = try RunningBinary.temporaryDirectory("wdmissing")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try RunningBinary(dir: dir, extra: ["--watchdog", dir + "/no-such-watchdog"])
        #expect(run.waitForExit() == 1)
        #expect(run.stderr.contains("cannot use the watchdog \(dir)/no-such-watchdog: No such file or directory"), "\(run.stderr)")
    }

    static var isRoot: Bool { geteuid() == 0 }
    /// SCHED_FIFO is granted here (root, and a container that leaves CAP_SYS_NICE): probed with chrt.
    static var fifoAllowed: Bool {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chrt") else { return false }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/chrt")
        p.arguments = ["-f", "1", "/bin/true"]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }
    static var canDropSysNice: Bool {
        isRoot && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") && FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit")
    }

    /// The loop's thread runs under SCHED_FIFO at the given priority (50 for a bare `--realtime`), its
    /// memory locked.
    @Test(.enabled(if: fifoAllowed, "SCHED_FIFO needs CAP_SYS_NICE"), arguments: [(["--realtime=10"], 10), (["--realtime"], 50), (["--realtime", "20"], 20)])
    func realtimeRunsTheLoopUnderSCHED_FIFO(flag: [String], priority: Int) throws {
        let dir = try RunningBinary.temporaryDirectory("rt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try RunningBinary(dir: dir, extra: flag)
        defer { run.stop() }
        try #require(run.waitUntilListening(), "\(run.stderr)")
        let stat = try String(contentsOfFile: "/proc/\(run.process.processIdentifier)/stat", encoding: .utf8)
        let fields = stat[stat.range(of: ")", options: .backwards)!.upperBound...].split(separator: " ")
        // Fields 40 (rt_priority) and 41 (policy) of proc(5); field 3 is fields[0].
        #expect(Int(fields[37]) == priority && Int(fields[38]) == Int(SCHED_FIFO), "\(fields[37]) \(fields[38])")
        let status = try String(contentsOfFile: "/proc/\(run.process.processIdentifier)/status", encoding: .utf8)
        let locked = status.split(separator: "\n").first { $0.hasPrefix("VmLck:") }.map { $0.split(separator: " ")[1] }.flatMap { Int($0) } ?? 0
        #expect(locked > 1_000, "VmLck \(locked) kB")
        #expect(run.stderr.contains("real-time: SCHED_FIFO priority \(priority), memory locked"))
    }

    /// Without CAP_SYS_NICE and with RLIMIT_RTPRIO 0 the start is refused, naming both, before the
    /// journal is created.
    @Test(.enabled(if: canDropSysNice, "needs root, setpriv and prlimit to take the privilege away"))
    func realtimeRefusedNamesTheMissingPrivilege() throws {
        let dir = try RunningBinary.temporaryDirectory("rtno")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let journal = dir + "/pump.journal"
        let run = try RunningBinary(dir: dir, extra: ["--realtime=30", "--journal", journal, "--create-journal"],
                                    launcher: ["/usr/bin/prlimit", "--rtprio=0", "/usr/bin/setpriv", "--bounding-set=-sys_nice", "--inh-caps=-sys_nice"])
        #expect(run.waitForExit() == 1)
        let err = run.stderr
        #expect(err.contains("SCHED_FIFO priority 30 refused (Operation not permitted)") && err.contains("CAP_SYS_NICE")
                && err.contains("RLIMIT_RTPRIO of at least 30 (now 0)"), "\(err)")
        #expect(!FileManager.default.fileExists(atPath: journal))
    }

    @Test(arguments: ["0", "100", "-5"])
    func realtimePriorityOutsideTheRangeIsRefused(priority: String) throws {
        let dir = try RunningBinary.temporaryDirectory("rtrange")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try RunningBinary(dir: dir, extra: ["--realtime=\(priority)"])
        #expect(run.waitForExit() == 1)
        #expect(run.stderr.contains("the SCHED_FIFO priority must be 1 … 99"), "\(run.stderr)")
    }

    @Test func bareRealtimeIsNormalisedBeforeParsing() {
        #expect(RunCommandArguments.normalized(["run", "--realtime", "--backend", "sim"]) == ["run", "--realtime=50", "--backend", "sim"])
        #expect(RunCommandArguments.normalized(["run", "--realtime"]) == ["run", "--realtime=50"])
        #expect(RunCommandArguments.normalized(["run", "--realtime", "70"]) == ["run", "--realtime", "70"])
        #expect(RunCommandArguments.normalized(["run", "--realtime=70"]) == ["run", "--realtime=70"])
    }
}

/// The files a board installs: the systemd unit and the udev rule the GPIO permission error names.
@Suite struct BoardFilesTests {
    static var hardware: String { RunningBinary.packageRoot + "/hardware/" }

    func settings(_ text: String) -> [String: [String]] {
        var out: [String: [String]] = [:]
        var pending = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = pending + raw.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\\") { pending = String(line.dropLast()) + " "; continue }
            pending = ""
            guard !line.hasPrefix("#"), !line.hasPrefix("["), let eq = line.firstIndex(of: "=") else { continue }
            out[String(line[..<eq]), default: []].append(String(line[line.index(after: eq)...]))
        }
        return out
    }

    @Test func theServiceIsANotifyServiceWithAWatchdogAndAPrivateRuntimeDirectory() throws {
        let s = settings(try String(contentsOfFile: Self.hardware + "itpump.service", encoding: .utf8))
        #expect(s["Type"] == ["notify"])
        #expect(s["NotifyAccess"] == ["main"])
        #expect(s["Restart"] == ["on-failure"])
        #expect(s["RuntimeDirectory"] == ["itpump"] && s["RuntimeDirectoryMode"] == ["0700"])
        let watchdog = try #require(s["WatchdogSec"]?.first)
        #expect(watchdog.hasSuffix("s") && (Int(watchdog.dropLast()) ?? 0) >= 5)
        let exec = try #require(s["ExecStart"]?.first)
        #expect(exec.contains("run ") && exec.contains("--socket /run/itpump/control.sock") && exec.contains("--journal "))
        #expect(s["LimitRTPRIO"] != nil && s["LimitMEMLOCK"] == ["infinity"], "--realtime without root")
    }

    /// systemd itself accepts the unit (every directive known, every value well-formed), with the
    /// built binary standing in for /usr/local/bin/itpump.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "needs systemd-analyze"))
    func systemdAcceptsTheUnit() throws {
        let dir = try RunningBinary.temporaryDirectory("unit")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let unit = try String(contentsOfFile: Self.hardware + "itpump.service", encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/itpump", with: RunningBinary.itpump)
        try unit.write(toFile: dir + "/itpump.service", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
        p.arguments = ["verify", dir + "/itpump.service"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0 && !text.contains("itpump.service"), "\(text)")
    }

    /// The udev rule file holds the rule the permission error quotes, and the error names the file.
    @Test func theGPIOPermissionErrorNamesTheShippedUdevRule() throws {
        let rules = try String(contentsOfFile: Self.hardware + GPIOError.udevRuleFile, encoding: .utf8)
        #expect(rules.split(separator: "\n").contains { $0 == GPIOError.udevRule })
        let e = GPIOError.permissionDenied(chip: "/dev/gpiochip0", failure: CCallFailure(call: "open", errno: EACCES))
        #expect(e.description.contains("hardware/\(GPIOError.udevRuleFile)"), "\(e)")
    }
}
