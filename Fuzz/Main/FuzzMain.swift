import Foundation
import FuzzTargets
import TherapyOracle

/// `itpump-fuzz TARGET [--skip INVARIANTS] FILE…` replays inputs (a reproducer, a corpus) through a
/// fuzz target and prints what each breaks; exit 1 if any input breaks something.
/// Built by `scripts/fuzz` (with `-sanitize=fuzzer` and `FUZZING`), `itpump-fuzz TARGET [--skip …]
/// --fuzz [libFuzzer flags and corpus directories]` runs libFuzzer on the target instead.
@main
struct FuzzMain {
    nonisolated(unsafe) static var target = FuzzTarget.core
    nonisolated(unsafe) static var disabled = Set<Invariant>()

    static func usage() -> Never {
        let targets = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
        FileHandle.standardError.write(Data("usage: itpump-fuzz \(targets) [--skip INVARIANT,…] FILE…\n       itpump-fuzz \(targets) [--skip INVARIANT,…] --fuzz [libFuzzer arguments]\n".utf8))
        exit(2)
    }

    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        guard let first = args.first, let t = FuzzTarget(rawValue: first) else { usage() }
        target = t
        args.removeFirst()
        if args.first == "--skip", args.count >= 2 {
            do { disabled = try Invariant.parseList(args[1]) } catch {
                FileHandle.standardError.write(Data("itpump-fuzz: \(error)\n".utf8)); exit(2)
            }
            args.removeFirst(2)
        }
        if args.first == "--fuzz" {
            fuzz(Array(args.dropFirst()))
        }
        guard !args.isEmpty else { usage() }
        var failed = 0
        for path in args {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("itpump-fuzz: cannot read \(path)\n".utf8)); exit(2)
            }
            let problems = target.run(Array(data), disabled: disabled)
            if problems.isEmpty { print("\(path): ok") } else {
                failed += 1
                print("\(path): FINDING\n" + problems.joined(separator: "\n"))
            }
        }
        exit(failed == 0 ? 0 : 1)
    }

    /// The libFuzzer callback: a finding prints what broke and aborts, so libFuzzer saves the input.
    static let callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { data, size in
        let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
        let problems = FuzzMain.target.run(bytes, disabled: FuzzMain.disabled)
        if !problems.isEmpty {
            FileHandle.standardError.write(Data(("FINDING (\(FuzzMain.target.rawValue)):\n" + problems.joined(separator: "\n") + "\n").utf8))
            abort()
        }
        return 0
    }

    static func fuzz(_ libFuzzerArgs: [String]) -> Never {
        #if FUZZING
        var argv: [UnsafeMutablePointer<CChar>?] = ([CommandLine.arguments[0]] + libFuzzerArgs).map { strdup($0) } + [nil]
        var argc = CInt(libFuzzerArgs.count + 1)
        let code = argv.withUnsafeMutableBufferPointer { buffer -> CInt in
            var p: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
            return LLVMFuzzerRunDriver(&argc, &p, callback)
        }
        exit(code)
        #else
        FileHandle.standardError.write(Data("itpump-fuzz: this build has no libFuzzer; build it with scripts/fuzz\n".utf8))
        exit(2)
        #endif
    }
}

#if FUZZING
/// libFuzzer's entry point for a program with its own `main` (libclang_rt.fuzzer_no_main).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
#endif
