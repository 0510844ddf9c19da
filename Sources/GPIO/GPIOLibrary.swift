import CGPIODShim

/// Facts about the libgpiod this binary was built against and runs with.
public enum GPIOLibrary {
    /// A libgpiod API generation. The binding offers the same Swift API for both; a few settings
    /// (debounce, non-monotonic event clocks) and the event sequence numbers exist only in ``v2``.
    public enum API: Int, Sendable, Hashable, CustomStringConvertible {
        /// libgpiod 1.x (Debian bookworm's 1.6.3); kernel uAPI v1 (`CONFIG_GPIO_CDEV_V1`).
        case v1 = 1
        /// libgpiod 2.x (bookworm-backports, trixie); kernel uAPI v2 (Linux 5.10 or later).
        case v2 = 2

        public var description: String { "libgpiod API v\(rawValue)" }
    }

    /// The consumer label the binding gives the kernel for every request unless told otherwise.
    /// `gpioinfo` shows it next to each line this program holds.
    public static let defaultConsumer = "itpump"

    /// The API generation chosen at compile time from the `gpiod.h` that pkg-config found.
    public static var compiledAPI: API { itp_api_version() == 1 ? .v1 : .v2 }

    /// The version of the libgpiod shared library loaded at run time, e.g. `"1.6.3"` or `"2.1.3"`.
    public static var runtimeVersion: String { String(cString: itp_library_version()) }

    /// One line for logs and `itpump gpio info`, e.g. `"libgpiod API v1, library 1.6.3"`.
    public static var summary: String { "\(compiledAPI), library \(runtimeVersion)" }

    /// The paths of the GPIO character devices that exist now (`/dev/gpiochip*`), ordered by chip
    /// number. Empty when the kernel has no GPIO support or no GPIO controller.
    public static func chipPaths() -> [String] {
        var buffer = [CChar](repeating: 0, count: 16_384)
        var status = itp_status()
        let count = buffer.withUnsafeMutableBufferPointer { itp_list_chip_paths($0.baseAddress, $0.count, &status) }
        guard count > 0 else { return [] }
        var paths: [String] = []
        var start = 0
        for _ in 0..<Int(count) {
            guard let end = buffer[start...].firstIndex(of: 0) else { break }
            paths.append(String(decoding: buffer[start..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self))
            start = end + 1
        }
        return paths
    }
}
