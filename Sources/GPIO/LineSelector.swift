/// A line of a chip, by offset or by the name the board (device tree, gpio-sim) gives it.
///
/// String and integer literals work: `"STEP"` is `.name("STEP")`, `5` is `.offset(5)`.
public enum LineSelector: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral,
    ExpressibleByIntegerLiteral
{
    case offset(UInt32)
    case name(String)

    /// Parses user input: all digits → offset, anything else → name.
    public init(parsing text: String) {
        if let offset = UInt32(text) { self = .offset(offset) } else { self = .name(text) }
    }

    public init(stringLiteral value: String) { self = .name(value) }
    public init(integerLiteral value: UInt32) { self = .offset(value) }

    public var description: String {
        switch self {
        case .offset(let o): "\(o)"
        case .name(let n): "'\(n)'"
        }
    }
}
