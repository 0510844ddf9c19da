#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks a file's bytes before SQLite sees it, so a missing, empty, foreign or cut-off file gets its
/// own error instead of SQLite's generic one (an empty file would otherwise open as an empty
/// database, and a truncated one fail only when a missing page is read).
enum JournalFile {
    /// SQLite's 16-byte magic string ("SQLite format 3" and a NUL).
    static let magic: [UInt8] = Array("SQLite format 3".utf8) + [0]

    /// Throws the matching `JournalError` unless `path` is a regular file that starts with a complete,
    /// consistent SQLite header and, when no non-empty `-wal` is beside it, is at least as long as the
    /// header says.
    static func check(_ path: String) throws(JournalError) {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { throw .missingFile(path: path) }
            throw .io(path: path, detail: "stat failed: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .notAFile(path: path) }
        let size = Int64(st.st_size)
        if size == 0 { throw .emptyFile(path: path) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, detail: "open failed: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 100)
        let n = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 100) }
        guard n >= 16, Array(header[0..<16]) == magic else { throw .notSQLite(path: path) }
        guard n == 100 else { throw .truncated(path: path, bytes: size, expectedBytes: 100) }
        func be16(_ o: Int) -> Int64 { Int64(header[o]) << 8 | Int64(header[o + 1]) }
        func be32(_ o: Int) -> Int64 { be16(o) << 16 | be16(o + 2) }
        let rawPageSize = be16(16)
        let pageSize: Int64 = rawPageSize == 1 ? 65_536 : rawPageSize
        guard pageSize >= 512, pageSize & (pageSize - 1) == 0 else {
            throw .corrupt(path: path, detail: "header page size \(rawPageSize) is not a power of two from 512 to 65536")
        }
        // With a -wal beside it, the main file may be shorter than its header says: a checkpoint writes
        // page 1 (the new page count) first and the pages after it in order, so a crash mid-checkpoint
        // leaves the tail unwritten, and those pages are still whole in the WAL, which SQLite reads
        // them from. The size checks then prove nothing; a page really missing from both fails
        // `quick_check` when the journal is opened (`JournalError.corrupt`).
        var walStat = stat()
        if stat(path + "-wal", &walStat) == 0, walStat.st_size > 0 { return }
        // The in-header page count is valid when the change counter equals "version-valid-for".
        let pages = be32(28)
        if be32(24) == be32(92), pages > 0, size < pages * pageSize {
            throw .truncated(path: path, bytes: size, expectedBytes: pages * pageSize)
        }
        if size % pageSize != 0 {
            throw .truncated(path: path, bytes: size, expectedBytes: (size / pageSize + 1) * pageSize)
        }
    }

    /// True if something exists at `path`.
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Creates an empty file at `path`, owner-only (0600), refusing anything already there (a file, or
    /// a symlink planted to redirect the write).
    static func createPrivate(_ path: String) throws(JournalError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: path, detail: "cannot create it: \(String(cString: strerror(errno)))") }
        _ = fchmod(fd, 0o600)
        close(fd)
    }

    /// Removes a regular file if it exists and is empty.
    static func removeIfEmpty(_ path: String) {
        var st = stat()
        if lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size == 0 { unlink(path) }
    }

    /// Removes a file if it exists.
    static func remove(_ path: String) { unlink(path) }

    /// Renames `from` to `to` and makes the rename durable (fsync of the directory).
    static func rename(_ from: String, to: String) throws(JournalError) {
        #if canImport(Glibc)
        let rc = Glibc.rename(from, to)
        #else
        let rc = Darwin.rename(from, to)
        #endif
        guard rc == 0 else {
            throw .io(path: to, detail: "rename from \(from) failed: \(String(cString: strerror(errno)))")
        }
        let dir = to.lastIndex(of: "/").map { String(to[..<$0]) } ?? "."
        let fd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }
}
