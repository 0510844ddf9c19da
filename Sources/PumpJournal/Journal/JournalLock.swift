#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one-writer lock of a journal: an exclusive `flock` on `JOURNAL.lock` beside it, held by every
/// read-write `Journal` (a runner, `JournaledPump`, `itpump journal migrate`) for as long as it is
/// open, with the holder's PID written in the file so a refused writer can name it.
///
/// Two writers on one journal would each commit on top of a state the other never recovered (the
/// reservoir estimate counted twice or not at all), so a second writer is refused at once
/// (`JournalError.locked`), never queued. Readers (`history`, `verify`, `backup`) take no lock: SQLite's
/// WAL lets them read alongside the writer. The kernel drops the lock when the holder's process ends,
/// however it ends (SIGKILL, power cut), so a stale lock file never blocks a restart. The lock is per
/// open file description, so two `Journal`s in one process exclude each other too.
final class JournalLock {
    let path: String
    private let fd: Int32

    /// The lock file of the journal at `journalPath`.
    static func path(of journalPath: String) -> String { journalPath + ".lock" }

    /// Takes the lock of the journal at `journalPath` or throws `.locked` naming the holder's PID.
    init(journal journalPath: String) throws(JournalError) {
        let path = Self.path(of: journalPath)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw .io(path: journalPath, detail: "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .io(path: journalPath, detail: "the lock file \(path) is not a regular file; remove it")
        }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let e = errno
            let holder = Self.readPID(fd)
            close(fd)
            if e == EWOULDBLOCK { throw .locked(path: journalPath, holderPID: holder) }
            throw .io(path: journalPath, detail: "cannot lock \(path): \(String(cString: strerror(e)))")
        }
        // The holder's PID, for the message a refused writer prints.
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.path = path
        self.fd = fd
    }

    /// Unlocks before closing: a child forked meanwhile (before its exec closes the descriptor) shares
    /// the open file description, and a plain close would leave the lock held until that exec.
    deinit { flock(fd, LOCK_UN); close(fd) }

    /// True if a writer holds the lock of the journal at `journalPath` now (a reader's test; takes
    /// nothing).
    static func isHeld(journal journalPath: String) -> Bool {
        let fd = open(path(of: journalPath), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 { flock(fd, LOCK_UN); return false }
        return errno == EWOULDBLOCK
    }

    /// The PID written in the lock file, if it holds one.
    private static func readPID(_ fd: Int32) -> Int32? {
        var buf = [UInt8](repeating: 0, count: 32)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 31, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: buf[0..<n], as: UTF8.self)
        return text.split(separator: "\n").first.flatMap { Int32($0) }
    }
}
