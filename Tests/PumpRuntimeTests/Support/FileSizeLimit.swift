import Foundation

/// Sets a running process's RLIMIT_FSIZE with util-linux prlimit(1) (Essential in Debian): the way the
/// binary tests make every journal write fail (`"0:unlimited"`) and succeed again (`"unlimited:unlimited"`).
/// Returns prlimit's exit status (0 on success).
func setFileSizeLimit(pid: Int32, _ limit: String) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
    p.arguments = ["--pid", String(pid), "--fsize=\(limit)"]
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus
}
