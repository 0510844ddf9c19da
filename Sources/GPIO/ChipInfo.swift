/// What the kernel says about a GPIO chip.
public struct ChipInfo: Sendable, Hashable, CustomStringConvertible {
    /// Path it was opened by, e.g. `/dev/gpiochip0`.
    public var path: String
    /// Kernel name, e.g. `gpiochip0`.
    public var name: String
    /// Driver label, e.g. `pinctrl-bcm2711` or a gpio-sim bank's label.
    public var label: String
    /// Number of lines; offsets are `0..<lineCount`.
    public var lineCount: UInt32

    /// Creates chip info (the binding fills it from the kernel).
    public init(path: String, name: String, label: String, lineCount: UInt32) {
        self.path = path
        self.name = name
        self.label = label
        self.lineCount = lineCount
    }

    /// `gpiochip0 [pinctrl-bcm2711] (58 lines)`.
    public var description: String { "\(name) [\(label)] (\(lineCount) lines)" }
}
