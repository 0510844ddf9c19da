import CGPIODShim

/// An open GPIO chip (`/dev/gpiochipN`): line lookup, line info, and line requests.
///
/// ```swift
/// try GPIOChip.withChip("gpiochip0") { chip in
///     let dir = try chip.lineOffset(named: "DIR")
///     print(try chip.lineInfo(.offset(dir)))
/// }
/// ```
///
/// The chip's file descriptor is closed by ``close()``, at the end of ``withChip(_:_:)``, or when the
/// last reference goes (`deinit`). Requests made from it stay valid after the chip is closed.
/// Not `Sendable`: use a chip from one task or thread at a time (libgpiod is not thread-safe).
public final class GPIOChip {
    private var handle: OpaquePointer?
    /// What the kernel said about the chip when it was opened (path, name, label, line count).
    public let info: ChipInfo

    /// The path the chip was opened by, e.g. `/dev/gpiochip0`.
    public var path: String { info.path }

    /// Opens the chip at `path` (e.g. `/dev/gpiochip0`).
    public convenience init(path: String) throws(GPIOError) {
        var status = itp_status()
        guard let handle = itp_chip_open(path, &status) else {
            throw Self.openError(status, chip: path, operation: .openChip)
        }
        try self.init(adopting: handle, path: path, displayName: path)
    }

    /// Opens the first chip (in `/dev/gpiochip*` order) whose driver label is `label`.
    public convenience init(label: String) throws(GPIOError) {
        var status = itp_status()
        guard let handle = itp_chip_open_by_label(label, &status) else {
            throw Self.openError(status, chip: "labelled '\(label)'", operation: .openChipByLabel)
        }
        try self.init(adopting: handle, path: nil, displayName: label)
    }

    private init(adopting handle: OpaquePointer, path: String?, displayName: String) throws(GPIOError) {
        var c = itp_chip_info()
        var status = itp_status()
        guard itp_chip_get_info(handle, &c, &status) == 0 else {
            itp_chip_close(handle)
            throw GPIOError(CCallFailure(status), context: .init(.chipInfo, chip: displayName))
        }
        let name = string(fromFixed: c.name) ?? "?"
        self.handle = handle
        self.info = ChipInfo(
            path: path ?? "/dev/\(name)", name: name, label: string(fromFixed: c.label) ?? "",
            lineCount: c.num_lines)
    }

    /// Opens a chip named the way a bench engineer would: a path (`/dev/gpiochip0`), a kernel name
    /// (`gpiochip0`), a number (`0`), or otherwise a driver label (e.g. `pinctrl-bcm2711`, `hil-gpio-sim`).
    public static func open(_ chip: String) throws(GPIOError) -> GPIOChip {
        if chip.contains("/") { return try GPIOChip(path: chip) }
        if let n = UInt32(chip) { return try GPIOChip(path: "/dev/gpiochip\(n)") }
        if chip.hasPrefix("gpiochip"), UInt32(chip.dropFirst("gpiochip".count)) != nil {
            return try GPIOChip(path: "/dev/\(chip)")
        }
        return try GPIOChip(label: chip)
    }

    /// Opens `chip` (see ``open(_:)``), runs `body`, and closes the chip whatever happens.
    public static func withChip<R>(_ chip: String, _ body: (GPIOChip) throws -> R) throws -> R {
        let opened = try open(chip)
        defer { opened.close() }
        return try body(opened)
    }

    /// Closes the chip's file descriptor. Idempotent; later calls on the chip throw ``GPIOError/closed(what:failure:)``.
    public func close() {
        if let handle {
            itp_chip_close(handle)
            self.handle = nil
        }
    }

    deinit { close() }

    /// The open handle, or the ``GPIOError/closed(what:failure:)`` error.
    func live(_ operation: GPIOErrorContext.Operation, call: String) throws(GPIOError) -> OpaquePointer {
        guard let handle else {
            throw GPIOError(CCallFailure(call: call, errno: E.EBADF), context: context(operation))
        }
        return handle
    }

    /// The error context for an operation on this chip.
    func context(_ operation: GPIOErrorContext.Operation, offsets: [UInt32] = []) -> GPIOErrorContext {
        GPIOErrorContext(operation, chip: info.path, offsets: offsets, lineCount: info.lineCount)
    }

    private static func openError(
        _ status: itp_status, chip: String, operation: GPIOErrorContext.Operation
    ) -> GPIOError {
        let failure = CCallFailure(status)
        let available = failure.errno == E.ENOENT ? GPIOChip.availableChipDescriptions() : []
        return GPIOError(failure, context: .init(operation, chip: chip, availableChips: available))
    }
}

@available(*, unavailable, message: "a GPIOChip belongs to one task or thread; libgpiod is not thread-safe")
extension GPIOChip: Sendable {}
