/// Reads a fuzzer's bytes as small integers. Past the end it reads zeros, so every byte string decodes
/// to something (libFuzzer then learns which bytes matter).
public struct ByteReader: Sendable {
    let bytes: [UInt8]
    var index = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// True once every byte has been read.
    public var isAtEnd: Bool { index >= bytes.count }

    /// The next byte (0 past the end).
    public mutating func byte() -> UInt8 {
        defer { index += 1 }
        return index < bytes.count ? bytes[index] : 0
    }

    /// The next two bytes, little-endian.
    public mutating func uint16() -> UInt16 { UInt16(byte()) | UInt16(byte()) << 8 }

    /// A value in `range` (at most 2³² values), from one byte when the range has at most 256 values,
    /// two up to 65,536, else four.
    public mutating func int(in range: ClosedRange<Int64>) -> Int64 {
        let width = UInt64(range.upperBound - range.lowerBound) + 1
        let raw: UInt64
        if width <= 256 { raw = UInt64(byte()) }
        else if width <= 65_536 { raw = UInt64(uint16()) }
        else { raw = UInt64(uint16()) | UInt64(uint16()) << 16 }
        return range.lowerBound + Int64(raw % width)
    }

    /// One of `choices`, by one byte.
    public mutating func pick<T>(_ choices: [T]) -> T { choices[Int(byte()) % choices.count] }
}
