import ArgumentParser
import Foundation

/// A failure of the data or the environment, not of the command line: ArgumentParser prints
/// `Error: <description>` on stderr and exits 1, without the usage text (which is only for usage
/// errors, exit 64).
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Creates the directory `path` for an `--out` option (and its parents); a plain message when a file
/// (not a directory) is in the way or the directory cannot be made.
func makeOutputDirectory(_ path: String, option: String = "--out") throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else {
            throw CommandFailure("\(option) \(path): a file of that name exists; give a directory (it is created if absent)")
        }
        return
    }
    do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
        throw CommandFailure("\(option) \(path): cannot create the directory (a parent is a file or not writable)")
    }
}

/// Writes `text` to `path` whole or not at all (see `AtomicFile`), with a plain message when it cannot.
func writeFile(_ path: String, _ text: String) throws {
    let f = try AtomicFile(path)
    f.append(Data(text.utf8))
    try f.commit()
}

/// Writes `files` (path, text) in order, each whole or not at all; if one cannot be written, the
/// ones already written by this call are removed, so a failed command never leaves part of its
/// output set behind looking like a finished run.
func writeFiles(_ files: [(path: String, text: String)]) throws {
    var written: [String] = []
    for f in files {
        do { try writeFile(f.path, f.text) } catch {
            for p in written { unlink(p) }
            throw error
        }
        written.append(f.path)
    }
}

/// A file written under a temporary name beside `path` (`.NAME.partial-PID`), fsynced and renamed
/// onto `path` only when every byte is on disk. A failed write (disk full, file size limit, I/O
/// error) is remembered, the temporary file removed, and `commit()` throws a message naming the
/// file: never a trap, never a truncated file under the final name.
final class AtomicFile {
    let path: String
    let temporary: String
    private var fd: Int32
    private var failure: Int32 = 0

    init(_ path: String) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())").path
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
            throw CommandFailure("\(path): cannot be written: a directory of that name is in the way; remove it or choose another --out")
        }
        fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw Self.failure(path, errno) }
    }

    /// Appends `data`; after the first failure, further data is dropped (the failure is kept).
    func append(_ data: Data) {
        guard failure == 0, fd >= 0 else { return }
        data.withUnsafeBytes { (b: UnsafeRawBufferPointer) in
            var done = 0
            while done < b.count {
                let n = Foundation.write(fd, b.baseAddress! + done, b.count - done)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                done += n
            }
        }
    }

    /// Makes the file durable under its final name, or removes it and throws.
    func commit() throws {
        if failure == 0, fsync(fd) != 0 { failure = errno }
        if close(fd) != 0, failure == 0 { failure = errno }
        fd = -1
        if failure == 0, rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw Self.failure(path, failure)
        }
    }

    /// Removes the temporary file (a run that failed before its output was complete).
    func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temporary)
    }

    static func failure(_ path: String, _ code: Int32) -> CommandFailure {
        let reason: String
        switch code {
        case ENOSPC: reason = "the disk is full"
        case EFBIG: reason = "the file size limit was reached"
        case EROFS: reason = "the file system is read-only"
        case EACCES, EPERM: reason = "permission denied"
        case ENOENT, ENOTDIR: reason = "its directory does not exist"
        case EISDIR: reason = "a directory of that name is in the way"
        default: reason = String(cString: strerror(code))
        }
        return CommandFailure("\(path): cannot be written: \(reason); nothing was written there")
    }
}

/// Writes a line to standard error (diagnostics never go to standard output). A standard error that
/// cannot be written (closed, or a full disk) is ignored: it must not turn a diagnostic into a trap.
func printError(_ line: String) {
    try? FileHandle.standardError.write(contentsOf: Data((line + "\n").utf8))
}

/// A usage error found after parsing (a value out of range, options that do not go together): prints
/// `Error: <message>` and where to read the command's help on stderr, and exits 64 — without the root
/// command's usage text, which ArgumentParser would print for a `ValidationError` thrown from `run()`.
func usageError(_ message: String, command: String) -> ExitCode {
    printError("Error: \(message)\nSee 'itpump \(command) --help'.")
    return ExitCode.validationFailure
}
