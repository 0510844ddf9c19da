import Foundation
import Testing
import PumpCore
@testable import PumpRig
@testable import PumpRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The `--state` export: never written through a planted symlink, never over a device or FIFO, and
/// not written at all unless asked for.
@Suite("State file", .serialized)
struct StateFileTests {
    static func state() throws -> RunState {
        RunState(controller: try PumpController(profile: .bench20),
                 interruption: TherapyInterruption(at: .zero, reason: "test", deliveringNanogramsPerDay: 0), strokes: 0, timing: [:])
    }

    static func mode(_ path: String) -> mode_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode : nil
    }

    @Test("a symlink planted at STATE.tmp is not followed: its target is untouched, STATE is a new 0600 regular file")
    func plantedTemporarySymlink() throws {
        let dir = try RunningBinary.temporaryDirectory("st")
        let victim = dir + "/victim"
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/state.json.tmp", withDestinationPath: victim)
        try StateFile.save(try Self.state(), to: dir + "/state.json")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
        #expect(Self.mode(dir + "/state.json").map { $0 & S_IFMT } == S_IFREG)
        #expect(Self.mode(dir + "/state.json").map { $0 & 0o777 } == 0o600)
        #expect(try StateFile.load(from: dir + "/state.json").interruption.reason == "test")
        // Only the planted link and the two files: no temporary left behind.
        #expect(try Set(FileManager.default.contentsOfDirectory(atPath: dir)) == ["victim", "state.json.tmp", "state.json"])
    }

    @Test("a target that is not a regular file (FIFO, symlink, directory) is refused and left as it was")
    func nonRegularTargetRefused() throws {
        let dir = try RunningBinary.temporaryDirectory("st")
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/elsewhere")
        try FileManager.default.createDirectory(atPath: dir + "/d", withIntermediateDirectories: false)
        for (name, kind) in [("fifo", S_IFIFO), ("link", S_IFLNK), ("d", S_IFDIR)] {
            #expect(throws: StateFileError.self) { try StateFile.save(try Self.state(), to: dir + "/" + name) }
            #expect(Self.mode(dir + "/" + name).map { $0 & S_IFMT } == kind, "\(name)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/elsewhere"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).count == 3)
    }

    /// `itpump run` with `--state` as given (nil: none), in `cwd`, stopped by SIGTERM once it answers.
    static func runAndStop(dir: String, cwd: String, state: String?) throws -> (status: Int32, log: String) {
        let run = try RunningBinary(dir: dir, timeScale: 1_000, stateFile: state, cwd: cwd)
        _ = run.connect(within: 30)
        return (run.stop(), run.stderr)
    }

    @Test("itpump run: a planted STATE.tmp symlink is not followed, a FIFO --state is refused, and no state file is written unless asked")
    func throughTheBinary() throws {
        try #require(FileManager.default.isExecutableFile(atPath: RunningBinary.itpump), "build itpump first: swift build --build-tests")
        let dir = try RunningBinary.temporaryDirectory("stb")
        let victim = dir + "/victim"
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/state.json.tmp", withDestinationPath: victim)
        let planted = try Self.runAndStop(dir: dir, cwd: dir, state: dir + "/state.json")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious", "\(planted.log)")
        #expect(Self.mode(dir + "/state.json").map { $0 & 0o777 } == 0o600, "\(planted.log)")
        #expect(try StateFile.load(from: dir + "/state.json").interruption.reason == "SIGTERM")

        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        let fifo = try Self.runAndStop(dir: dir, cwd: dir, state: dir + "/fifo")
        #expect(fifo.log.contains("not a regular file"), "\(fifo.log)")
        #expect(Self.mode(dir + "/fifo").map { $0 & S_IFMT } == S_IFIFO)

        let cwd = try RunningBinary.temporaryDirectory("stc")
        let none = try Self.runAndStop(dir: dir, cwd: cwd, state: nil)
        #expect(none.log.contains("outputs in safe state"), "\(none.log)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cwd).isEmpty)
    }
}
