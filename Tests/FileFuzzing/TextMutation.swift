import PumpSim

/// Seeded fuzz inputs for the project's YAML files (profiles, prescriptions, scenarios, rigs), shared by
/// the loader and the rig-validation fuzz tests: a seed decodes to one input, so a failing case is
/// replayed from the seed the property test prints.
public struct TextMutation: Sendable {
    /// Valid files the mutations start from.
    public let corpus: [String]
    /// Fragments spliced in: YAML syntax, extreme numbers, units, keywords of the file kind.
    public let tokens: [String]
    /// Characters a single-character substitution draws from.
    public let substitutes: [Character]

    public init(corpus: [String], tokens: [String], substitutes: String) {
        precondition(!corpus.isEmpty && !tokens.isEmpty && !substitutes.isEmpty)
        self.corpus = corpus
        self.tokens = tokens
        self.substitutes = Array(substitutes)
    }

    /// YAML syntax and values that stress any of the project's files; a suite adds its own words.
    public static let commonTokens = ["-", ":", " ", "\n", "[", "]", "{", "}", "&a", "*a", "!!int", "'", "\"", "#", "|", ">",
                                      "?", ",", "0", "-1", "1e99", "99999999999999999999", "\t", "\u{0}", "\u{FEFF}", "~",
                                      "null", "true", ".inf", "<<: *a"]

    /// A file of the corpus with one to six edits: a deletion, a token inserted, a span of up to 40
    /// characters duplicated, or a character substituted.
    public func mutated(seed: UInt64) -> String {
        var g = SplitMix64(seed: seed)
        var chars = Array(corpus[g.index(corpus.count)])
        for _ in 0...g.index(6) {
            guard !chars.isEmpty else { break }
            let i = g.index(chars.count)
            switch g.index(4) {
            case 0: chars.remove(at: i)
            case 1: chars.insert(contentsOf: tokens[g.index(tokens.count)], at: i)
            case 2:
                let j = min(chars.count, i + g.index(40))
                chars.insert(contentsOf: Array(chars[i..<j]), at: j)
            default: chars[i] = substitutes[g.index(substitutes.count)]
            }
        }
        return String(chars)
    }

    /// Up to `maxBytes` random bytes (decoded as UTF-8 with repair), after one of `prefixes` chosen
    /// at random (e.g. `["", "kind: rig\n"]`, so some inputs get past the kind check).
    public static func randomText(seed: UInt64, maxBytes: Int = 400, prefixes: [String] = [""]) -> String {
        var g = SplitMix64(seed: seed)
        var bytes = Array(prefixes[g.index(prefixes.count)].utf8)
        for _ in 0..<g.index(maxBytes) { bytes.append(UInt8(truncatingIfNeeded: g.next())) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension SplitMix64 {
    /// A uniform index in `0..<count` (count > 0).
    mutating func index(_ count: Int) -> Int { Int(below(UInt64(count))) }
}
