import CGPIODShim

/// The C call that failed and the errno it left: carried by every ``GPIOError``.
public struct CCallFailure: Sendable, Hashable, CustomStringConvertible {
    /// Name of the C function that failed, e.g. `"gpiod_chip_open"` or `"gpiod_line_request"`.
    public var call: String
    /// The errno value the call left (Linux numbering).
    public var errno: Int32
    /// What the shim adds, e.g. the unsupported feature; `nil` if nothing.
    public var detail: String?

    /// Creates a failure record; `detail` is optional context from the shim.
    public init(call: String, errno: Int32, detail: String? = nil) {
        self.call = call
        self.errno = errno
        self.detail = detail
    }

    /// The errno's symbolic name, e.g. `"EACCES"`.
    public var errnoName: String { String(cString: itp_errno_name(errno)) }

    /// The C library's text for the errno, e.g. `"Permission denied"`.
    public var errnoDescription: String { String(cString: itp_errno_description(errno)) }

    /// `"gpiod_chip_open: EACCES (Permission denied, errno 13)"`.
    public var description: String {
        "\(call): \(errnoName) (\(errnoDescription), errno \(errno))"
    }

    /// Builds the record from the shim's status block.
    init(_ status: itp_status) {
        self.call = status.call.map { String(cString: $0) } ?? "?"
        self.errno = status.err
        self.detail = status.detail.map { String(cString: $0) }
    }
}
