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

/// Writes `text` to `path`, with a plain message when it cannot.
func writeFile(_ path: String, _ text: String) throws {
    do { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) } catch {
        throw CommandFailure("\(path): cannot be written (is it a directory, or the disk full or read-only?)")
    }
}

/// Writes a line to standard error (diagnostics never go to standard output).
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// A usage error found after parsing (a value out of range, options that do not go together): prints
/// `Error: <message>` and where to read the command's help on stderr, and exits 64 — without the root
/// command's usage text, which ArgumentParser would print for a `ValidationError` thrown from `run()`.
func usageError(_ message: String, command: String) -> ExitCode {
    printError("Error: \(message)\nSee 'itpump \(command) --help'.")
    return ExitCode.validationFailure
}
