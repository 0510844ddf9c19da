/// An alarm's reason in words, written as a string interpolation and formatted when first read.
///
/// The values interpolated (volumes, instants, doses, spans) are kept as they are and turned into
/// text only when someone reads `description`: the person at the device, the journal, a report. A
/// simulation that raises thousands of alarms and reads none of their words never formats them (it
/// was a tenth of a sweep's time). The words are the same either way: the values are copies taken at
/// raising, so formatting later gives exactly the text formatting then would have.
///
/// Two details are equal when their words are; a detail encodes as its words (a plain string, as
/// before this type existed), so journals and snapshots read back unchanged.
public struct AlarmDetail: Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringInterpolation {
    enum Piece: Sendable {
        case text(String)
        case value(any CustomStringConvertible & Sendable)
    }
    private var pieces: [Piece]

    /// Words already written.
    public init(_ text: String) { pieces = [.text(text)] }
    public init(stringLiteral text: String) { pieces = [.text(text)] }
    public init(stringInterpolation words: Words) { pieces = words.pieces }
    private init(pieces: [Piece]) { self.pieces = pieces }

    /// The pieces of an interpolated detail, in order: literal text and the values between.
    public struct Words: StringInterpolationProtocol {
        var pieces: [Piece] = []
        public init(literalCapacity: Int, interpolationCount: Int) { pieces.reserveCapacity(2 * interpolationCount + 1) }
        public mutating func appendLiteral(_ text: String) { if !text.isEmpty { pieces.append(.text(text)) } }
        public mutating func appendInterpolation(_ text: String) { pieces.append(.text(text)) }
        public mutating func appendInterpolation<T: CustomStringConvertible & Sendable>(_ value: T) { pieces.append(.value(value)) }
    }

    /// `items` written one after another, separated by ", ".
    public static func list<T: CustomStringConvertible & Sendable>(_ items: [T]) -> AlarmDetail {
        var pieces: [Piece] = []
        for (k, item) in items.enumerated() {
            if k > 0 { pieces.append(.text(", ")) }
            pieces.append(.value(item))
        }
        return AlarmDetail(pieces: pieces)
    }

    /// Adds `more` after these words.
    public mutating func append(_ more: AlarmDetail) { pieces += more.pieces }

    /// The words.
    public var description: String {
        var s = ""
        for p in pieces {
            switch p {
            case let .text(t): s += t
            case let .value(v): s += v.description
            }
        }
        return s
    }

    /// True if the words contain `text`.
    public func contains(_ text: some StringProtocol) -> Bool { description.contains(text) }

    public static func == (a: AlarmDetail, b: AlarmDetail) -> Bool { a.description == b.description }
    public func hash(into h: inout Hasher) { h.combine(description) }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
