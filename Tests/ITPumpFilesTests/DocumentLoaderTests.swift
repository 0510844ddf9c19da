import Testing
@testable import ITPumpFiles

/// Findings of the files fuzz target (scripts/fuzz files), kept as regression tests.
@Suite("Document loader")
struct DocumentLoaderTests {
    @Test("A control character is reported at its line, with its code, not as a whole-file error")
    func controlCharacterNamesItsLine() {
        // The fuzzer's reproducer: a sweep file whose third line had a byte changed to 0x17.
        let text = "kind: pump\nname: bench\n# comment with a \u{17} in it\nreservoir: 20 mL\n"
        let d = FileKinds.validate(text: text, file: "f.yaml")
        #expect(d.count == 1)
        #expect(d.first?.line == 3, "\(d)")
        #expect(d.first?.message.contains("control characters") == true)
        #expect(d.first?.message.contains("character code 23") == true)
    }

    @Test("A control character on the first line is at line 1")
    func controlCharacterOnFirstLine() {
        let d = FileKinds.validate(text: "\u{17}kind: pump\n", file: "f.yaml")
        #expect(d.map(\.line) == [1], "\(d)")
    }

    @Test("A duplicated key is reported at the line of the duplicate")
    func duplicatedKeyNamesItsLine() {
        let d = FileKinds.validate(text: "kind: pump\nname: a\nreservoir: 20 mL\nname: b\n", file: "f.yaml")
        #expect(d.map(\.line) == [4], "\(d)")
        #expect(d.first?.message.contains("duplicated keys name") == true)
    }

    @Test("A duplicated key in a nested mapping is found from the mapping's line")
    func duplicatedNestedKey() {
        let text = "kind: scenario\nname: x\nmechanics:\n  seed: 1\n  seed: 2\n"
        let d = FileKinds.validate(text: text, file: "f.yaml")
        #expect(d.map(\.line) == [5], "\(d)")
    }
}
