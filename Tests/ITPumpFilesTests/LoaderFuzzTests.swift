import PropertyBased
import Testing
@testable import ITPumpFiles

/// A tiny deterministic generator for the fuzz inputs (SplitMix64).
struct FuzzBits {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}

/// Fuzzing the loader: whatever the bytes, validation returns (never crashes, never hangs) and any
/// diagnostic points at a line of the file.
@Suite("Loader fuzzing", .shrinking(false))
struct LoaderFuzzTests {
    static let corpus = [validPump, validPrescription]
    static let tokens = ["-", ":", " ", "\n", "[", "]", "{", "}", "&a", "*a", "!!int", "'", "\"", "#", "|", ">", "?", ",",
                         "0", "-1", "1e99", "99999999999999999999", "0.0000000001", "mL", "ug/day", "%", "d", "h", "μ",
                         "kind: scenario", "kind: sweep", "\t", "\u{0}", "\u{FEFF}", "~", "null", "true", ".inf", "<<: *a"]

    func check(_ text: String) {
        let d = FileKinds.validate(text: text, file: "f.yaml")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
        for x in d {
            #expect(x.line >= 0 && x.line <= lines + 1, "line \(x.line) of \(lines): \(x)")
            #expect(!x.message.isEmpty)
        }
    }

    @Test("random bytes")
    func randomBytes() async {
        await propertyCheck(count: 300, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var g = FuzzBits(state: seed)
            let n = g.below(400)
            var bytes: [UInt8] = []
            for _ in 0..<n { bytes.append(UInt8(truncatingIfNeeded: g.next())) }
            check(String(decoding: bytes, as: UTF8.self))
        }
    }

    @Test("mutated valid files: deletions, insertions, duplications and token splices")
    func mutatedFiles() async {
        await propertyCheck(count: 400, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            var g = FuzzBits(state: seed)
            var chars = Array(Self.corpus[g.below(Self.corpus.count)])
            for _ in 0...g.below(6) {
                guard !chars.isEmpty else { break }
                let i = g.below(chars.count)
                switch g.below(4) {
                case 0: chars.remove(at: i)
                case 1: chars.insert(contentsOf: Self.tokens[g.below(Self.tokens.count)], at: i)
                case 2:
                    let j = min(chars.count, i + g.below(40))
                    chars.insert(contentsOf: Array(chars[i..<j]), at: j)
                default:
                    chars[i] = Array("0123456789.-:mLu%dh ")[g.below(20)]
                }
            }
            check(String(chars))
        }
    }

    @Test("deep nesting is refused, not recursed into")
    func deepNesting() {
        let text = "kind: pump\nname: " + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "\n"
        check(text)
        #expect(!FileKinds.validate(text: text, file: "f.yaml").isEmpty)
    }
}
