extension GPIOError {
    /// The udev rule that gives the `gpio` group access to the GPIO character devices.
    /// The udev rule file in the source tree (`hardware/`) that gives group `gpio` the GPIO chips.
    public static let udevRuleFile = "60-itpump-gpio.rules"
    public static let udevRule = #"SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660""#

    /// A message that says what went wrong, what to do about it, and which C call failed with which errno.
    public var description: String {
        "\(problem) [\(failure)]"
    }

    private var problem: String {
        switch self {
        case let .chipNotFound(chip, available, _):
            if available.isEmpty {
                return "GPIO chip \(chip) not found, and this machine has no GPIO chips at all (no /dev/gpiochip*): "
                    + "the kernel needs GPIO support (CONFIG_GPIOLIB with the character device, CONFIG_GPIO_CDEV) "
                    + "and a driver for the board's GPIO controller (gpio-sim for tests); in a container, pass /dev/gpiochip* through"
            }
            return "GPIO chip \(chip) not found; chips present: \(available.joined(separator: ", "))"
        case let .notAGPIOChip(path, _):
            return "\(path) is not a GPIO chip (not a GPIO character device); give /dev/gpiochipN, gpiochipN, N, or a chip label"
        case let .permissionDenied(chip, _):
            return "permission denied opening GPIO chip \(chip): add the user to the 'gpio' group "
                + "(sudo groupadd -f gpio; sudo usermod -aG gpio $USER, then log in again) and give that group the chips with the "
                + "udev rule itpump ships, hardware/\(Self.udevRuleFile): sudo install -m 644 hardware/\(Self.udevRuleFile) "
                + "/etc/udev/rules.d/ && sudo udevadm control --reload && sudo udevadm trigger (its rule: \(Self.udevRule))"
        case let .lineNameNotFound(name, chip, _):
            return "no line named '\(name)' on GPIO chip \(chip); `itpump gpio info --chip \(chip)` lists the line names"
        case let .lineOffsetOutOfRange(offset, chip, lineCount, _):
            return "line offset \(offset) is out of range on GPIO chip \(chip), which has \(lineCount) lines (0...\(max(Int(lineCount) - 1, 0)))"
        case let .lineBusy(offset, lineName, chip, consumer, _):
            let line = lineName.map { "line \(offset) ('\($0)')" } ?? "line \(offset)"
            let holder = consumer.map { "by consumer '\($0)'" } ?? "by another user (the kernel gives no consumer name)"
            return "\(line) of GPIO chip \(chip) is busy: already requested \(holder); stop that program or release the line "
                + "(a kernel driver or device-tree overlay may hold it too)"
        case let .unsupportedFeature(feature, api, chip, _):
            return "\(feature) (GPIO chip \(chip)) is not supported by the compiled \(api); build against libgpiod 2 (scripts/build-gpiod-v2) or drop the setting"
        case let .notAnOutput(offset, chip, _):
            let line = offset.map { "line \($0)" } ?? "a line"
            return "cannot set \(line) of GPIO chip \(chip): it is not requested as an output"
        case let .invalidRequest(reason, chip, _):
            return "GPIO chip \(chip) refused the request: \(reason)"
        case let .closed(what, _):
            return "\(what) was used after it was closed"
        case let .system(operation, chip, failure):
            return "\(operation) on GPIO chip \(chip) failed" + (failure.detail.map { ": \($0)" } ?? "")
        }
    }
}
