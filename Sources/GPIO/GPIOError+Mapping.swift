// Linux errno values used by the mapping and the binding (asm-generic/errno-base.h, errno.h); fixed by the kernel ABI on every architecture
// libgpiod runs on except alpha/mips/parisc/sparc for the ones above 34, which we do not target.
enum E {
    static let EPERM: Int32 = 1, ENOENT: Int32 = 2, EBADF: Int32 = 9, EACCES: Int32 = 13,
        EBUSY: Int32 = 16, ENODEV: Int32 = 19, EINVAL: Int32 = 22, ENOTTY: Int32 = 25,
        EISDIR: Int32 = 21, ENOSYS: Int32 = 38, EOPNOTSUPP: Int32 = 95
}

extension GPIOError {
    /// Maps a failed C call to a typed error: the one table every part of the binding goes through.
    ///
    /// - `EACCES`/`EPERM` opening a chip → ``permissionDenied(chip:failure:)``; `EPERM` setting values →
    ///   ``notAnOutput(offset:chip:failure:)``
    /// - `ENOENT` opening → ``chipNotFound(chip:available:failure:)``; finding a line →
    ///   ``lineNameNotFound(name:chip:failure:)``
    /// - `ENODEV`/`ENOTTY`/`EISDIR` opening → ``notAGPIOChip(path:failure:)``
    /// - `EBUSY` requesting → ``lineBusy(offset:lineName:chip:consumer:failure:)`` (consumer from `busyLine`)
    /// - `EINVAL` with an offset ≥ `lineCount` → ``lineOffsetOutOfRange(offset:chip:lineCount:failure:)``,
    ///   otherwise when requesting or setting → ``invalidRequest(reason:chip:failure:)``
    /// - `EOPNOTSUPP`/`ENOSYS` → ``unsupportedFeature(feature:api:chip:failure:)``
    /// - `EBADF` from the binding itself → ``closed(what:failure:)``
    /// - anything else → ``system(operation:chip:failure:)``
    public init(_ failure: CCallFailure, context c: GPIOErrorContext) {
        let opening = c.operation == .openChip || c.operation == .openChipByLabel
        let blamed = c.busyLine?.offset ?? c.offsets.first
        switch failure.errno {
        case E.EACCES where opening, E.EPERM where opening:
            self = .permissionDenied(chip: c.chip, failure: failure)
        case E.EPERM where c.operation == .setValues:
            self = .notAnOutput(offset: blamed, chip: c.chip, failure: failure)
        case E.EACCES:
            self = .permissionDenied(chip: c.chip, failure: failure)
        case E.ENOENT where opening:
            self = .chipNotFound(chip: c.chip, available: c.availableChips, failure: failure)
        case E.ENOENT where c.operation == .findLine:
            self = .lineNameNotFound(name: c.lineName ?? "?", chip: c.chip, failure: failure)
        case E.ENODEV where opening, E.ENOTTY where opening, E.EISDIR where opening:
            self = .notAGPIOChip(path: c.chip, failure: failure)
        case E.EBUSY where c.operation == .requestLines:
            self = .lineBusy(
                offset: blamed ?? 0, lineName: c.busyLine?.name, chip: c.chip,
                consumer: c.busyLine?.consumer, failure: failure)
        case E.EINVAL:
            if let count = c.lineCount, let bad = c.offsets.first(where: { $0 >= count }) {
                self = .lineOffsetOutOfRange(offset: bad, chip: c.chip, lineCount: count, failure: failure)
            } else if c.operation == .requestLines || c.operation == .setValues || c.operation == .getValues
                || c.operation == .readEdgeEvents
            {
                let lines = c.offsets.map(String.init).joined(separator: ", ")
                let reason =
                    failure.detail
                    ?? (c.operation == .requestLines
                        ? "invalid line settings or offsets (\(lines))" : "line(s) \(lines) not part of this request")
                self = .invalidRequest(reason: reason, chip: c.chip, failure: failure)
            } else {
                self = .system(operation: c.operation.rawValue, chip: c.chip, failure: failure)
            }
        case E.EOPNOTSUPP, E.ENOSYS:
            self = .unsupportedFeature(
                feature: failure.detail ?? c.operation.rawValue, api: GPIOLibrary.compiledAPI, chip: c.chip,
                failure: failure)
        case E.EBADF where failure.call.hasPrefix("itp_"):
            let chipLevel: Set<GPIOErrorContext.Operation> = [.openChip, .chipInfo, .findLine, .lineInfo, .requestLines]
            let what = chipLevel.contains(c.operation) ? "GPIO chip \(c.chip)" : "line request on GPIO chip \(c.chip)"
            self = .closed(what: what, failure: failure)
        default:
            self = .system(operation: c.operation.rawValue, chip: c.chip, failure: failure)
        }
    }
}
