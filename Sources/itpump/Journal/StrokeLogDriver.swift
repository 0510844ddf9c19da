#if canImport(Glibc)
import Glibc
#endif
import PumpCore

/// A stand-in pump for the journal's kill test: each stroke is carried out by appending its instant
/// (8 bytes, little-endian ns) to a file with one `write(2)`. The file outlives the process, as a
/// physical pump's delivered drug outlives its controller, so it is the true delivery after a SIGKILL.
struct StrokeLogDriver: PumpDriver {
    let fd: Int32

    init(path: String) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DriverError(message: "cannot open stroke log \(path): \(String(cString: strerror(errno)))") }
    }

    struct DriverError: Error, CustomStringConvertible { var message: String; var description: String { message } }

    mutating func perform(_ stroke: Stroke) throws {
        var ns = stroke.at.nanoseconds.littleEndian
        let n = withUnsafeBytes(of: &ns) { write(fd, $0.baseAddress, 8) }
        guard n == 8 else { throw DriverError(message: "stroke log write failed: \(String(cString: strerror(errno)))") }
    }
    mutating func indicate(_ indication: AlarmIndication, at instant: Instant) throws {}
    mutating func sensorChanges(upTo instant: Instant) throws -> [(at: Instant, reading: SensorReading)] { [] }
    mutating func enterSafeState() throws {}
}
