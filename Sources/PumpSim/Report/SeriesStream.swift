import Foundation
import PumpCore

/// A run's time series streamed instead of kept: each interval's row is spooled in binary (fixed-size
/// records) to a temporary file the moment the recorder closes it; the CSV and the plot read it back
/// (`forEachRow`, a block at a time). Memory stays flat in the run's length (a ten-year run at
/// one-minute intervals is 5.3 million rows: half a gigabyte held in `Recorder.series`, a few hundred
/// kilobytes here).
///
/// Single-threaded: one run writes it, then the reports read it.
public final class SeriesStream: @unchecked Sendable {
    /// The spool of rows for `forEachRow`.
    var spool: UnsafeMutablePointer<FILE>?
    var buffer: [UInt64] = []
    static let words = 9
    static let bufferRows = 8_192
    /// Rows written, and the drug they hold (for the conservation check).
    public private(set) var count = 0
    public private(set) var deliveredTotal = Femtograms.zero

    /// `directory`: where the rows are spooled. The file (`.series-PID-RANDOM.bin`, created 0600 and
    /// exclusively, never through a link) is unlinked as soon as it is open, so it has no name while
    /// the run goes on: a run that is killed leaves nothing behind, and its space goes with the stream.
    public init(spoolDirectory dir: String) throws(SeriesStreamError) {
        let path = dir + "/.series-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16)).bin"
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotSpool(path, errno: errno) }
        unlink(path)
        guard let f = fdopen(fd, "w+b") else {
            let e = errno
            close(fd)
            throw .cannotSpool(path, errno: e)
        }
        spool = f
        buffer.reserveCapacity(Self.words * Self.bufferRows)
    }

    deinit {
        if let spool { fclose(spool) }
    }

    /// The next interval's row.
    func add(_ row: SeriesRow) {
        count += 1
        deliveredTotal = deliveredTotal + row.delivered
        buffer.append(UInt64(bitPattern: row.start.nanoseconds))
        buffer.append(UInt64(bitPattern: row.delivered.value))
        buffer.append(UInt64(bitPattern: row.released.value))
        buffer.append(UInt64(bitPattern: row.trueReservoir.value))
        buffer.append(UInt64(bitPattern: row.estimatedReservoir.nanolitres))
        buffer.append(row.concentration.nanogramsPerMillilitre.bitPattern)
        buffer.append(row.threshold == nil ? 0 : 1)
        buffer.append((row.threshold?.nanogramsPerMillilitre ?? 0).bitPattern)
        buffer.append(row.severity.bitPattern)
        if buffer.count >= Self.words * Self.bufferRows { writeBuffer() }
    }

    func writeBuffer() {
        guard let spool, !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { _ = fwrite($0.baseAddress, 1, $0.count, spool) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Every row spooled so far, in order (read back a block at a time).
    public func forEachRow(_ body: (SeriesRow) -> Void) {
        guard let spool else { return }
        writeBuffer()
        fflush(spool)
        rewind(spool)
        var block = [UInt64](repeating: 0, count: Self.words * Self.bufferRows)
        while true {
            let n = block.withUnsafeMutableBytes { fread($0.baseAddress, 8 * Self.words, Self.bufferRows, spool) }
            if n == 0 { break }
            for i in 0..<n {
                let w = i * Self.words
                body(SeriesRow(start: Instant(nanoseconds: Int64(bitPattern: block[w])),
                               delivered: Femtograms(Int64(bitPattern: block[w + 1])),
                               released: Femtograms(Int64(bitPattern: block[w + 2])),
                               trueReservoir: Picolitres(Int64(bitPattern: block[w + 3])),
                               estimatedReservoir: Volume(nanolitres: Int64(bitPattern: block[w + 4])),
                               concentration: CSFConcentration(nanogramsPerMillilitre: Double(bitPattern: block[w + 5])),
                               threshold: block[w + 6] == 0 ? nil : CSFConcentration(nanogramsPerMillilitre: Double(bitPattern: block[w + 7])),
                               severity: Double(bitPattern: block[w + 8])))
            }
        }
        fseek(spool, 0, SEEK_END)
    }
}

/// Why a series could not be streamed.
public enum SeriesStreamError: Error, CustomStringConvertible {
    case cannotSpool(String, errno: Int32)
    public var description: String {
        switch self {
        case let .cannotSpool(p, e): return "cannot create the series spool file \(p): \(String(cString: strerror(e))); check that the output directory is writable"
        }
    }
}
