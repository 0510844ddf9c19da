/// Why a GPIO operation failed, with what a bench engineer needs to fix it.
///
/// Every case carries the ``CCallFailure`` (C call name and errno). Build values from a failed call with
/// ``GPIOError/init(_:context:)``, the single mapping the binding uses.
public enum GPIOError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No chip at the path / with the label `chip`. `available` lists the chips that do exist
    /// (path and label), empty if the machine has none.
    case chipNotFound(chip: String, available: [String], failure: CCallFailure)
    /// `path` exists but is not a GPIO character device (e.g. `/dev/null`, a regular file).
    case notAGPIOChip(path: String, failure: CCallFailure)
    /// The process may not open `chip` (EACCES/EPERM).
    case permissionDenied(chip: String, failure: CCallFailure)
    /// No line called `name` on `chip`.
    case lineNameNotFound(name: String, chip: String, failure: CCallFailure)
    /// `offset` is not below the chip's `lineCount`.
    case lineOffsetOutOfRange(offset: UInt32, chip: String, lineCount: UInt32, failure: CCallFailure)
    /// The line is already requested, by `consumer` when the kernel names one (`nil` otherwise).
    case lineBusy(offset: UInt32, lineName: String?, chip: String, consumer: String?, failure: CCallFailure)
    /// A setting the compiled libgpiod API cannot express (e.g. debounce under API v1).
    case unsupportedFeature(feature: String, api: GPIOLibrary.API, chip: String, failure: CCallFailure)
    /// A value was written to a line that is not requested as an output (EPERM from the kernel).
    case notAnOutput(offset: UInt32?, chip: String, failure: CCallFailure)
    /// The kernel or the shim refused the request as given (EINVAL): `reason` says what.
    case invalidRequest(reason: String, chip: String, failure: CCallFailure)
    /// The chip or request was used after ``GPIOChip/close()`` / ``LineRequest/close()``.
    case closed(what: String, failure: CCallFailure)
    /// Any other failure of `operation` on `chip`.
    case system(operation: String, chip: String, failure: CCallFailure)

    /// The failed C call and its errno.
    public var failure: CCallFailure {
        switch self {
        case .chipNotFound(_, _, let f), .notAGPIOChip(_, let f), .permissionDenied(_, let f),
            .lineNameNotFound(_, _, let f), .lineOffsetOutOfRange(_, _, _, let f),
            .lineBusy(_, _, _, _, let f), .unsupportedFeature(_, _, _, let f), .notAnOutput(_, _, let f),
            .invalidRequest(_, _, let f), .closed(_, let f), .system(_, _, let f):
            return f
        }
    }

    /// The errno the failed C call left.
    public var errno: Int32 { failure.errno }

    /// The name of the C call that failed.
    public var call: String { failure.call }
}
