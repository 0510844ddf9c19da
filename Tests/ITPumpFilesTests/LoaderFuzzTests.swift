import FileFuzzing
import PropertyBased
import Testing
@testable import ITPumpFiles

/// Fuzzing the loader: whatever the bytes, validation returns (never crashes, never hangs) and any
/// diagnostic points at a line of the file.
@Suite("Loader fuzzing", .shrinking(false))
struct LoaderFuzzTests {
    static let inputs = TextMutation(
        corpus: [validPump, validPrescription],
        tokens: TextMutation.commonTokens + ["0.0000000001", "mL", "ug/day", "%", "d", "h", "μ", "kind: scenario", "kind: sweep"],
        substitutes: "0123456789.-:mLu%dh ")

    func check(_ text: String) {
        let d = FileKinds.validate(text: text, file: "f.yaml")
        // YAML breaks lines at CR and CR LF as well as LF (and YAML 1.1 at NEL, LS, PS): count every
        // one, so a diagnostic on a line after a bare CR is still inside the file.
        let breaks: Set<Unicode.Scalar> = ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"]
        let lines = text.unicodeScalars.filter { breaks.contains($0) }.count + 1
        for x in d {
            #expect(x.line >= 0 && x.line <= lines + 1, "line \(x.line) of \(lines): \(x)")
            #expect(!x.message.isEmpty)
        }
    }

    @Test("random bytes")
    func randomBytes() async {
        await propertyCheck(count: 300, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            check(TextMutation.randomText(seed: seed))
        }
    }

    @Test("mutated valid files: deletions, insertions, duplications and token splices")
    func mutatedFiles() async {
        await propertyCheck(count: 400, input: Gen.uint64(in: 0...UInt64.max)) { seed in
            check(Self.inputs.mutated(seed: seed))
        }
    }

    @Test("deep nesting is refused, not recursed into")
    func deepNesting() {
        let text = "kind: pump\nname: " + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "\n"
        check(text)
        #expect(!FileKinds.validate(text: text, file: "f.yaml").isEmpty)
    }
}
