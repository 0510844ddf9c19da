import CGPIODShim
import Testing

@testable import GPIO

/// Real calls into libgpiod through the shim; this machine may have no GPIO chips at all.
@Suite("Opening chips")
struct ChipOpeningTests {
    static let noChips = GPIOLibrary.chipPaths().isEmpty

    @Test func missingPathIsChipNotFound() {
        let error = gpioError { try GPIOChip(path: "/dev/gpiochip-itpump-does-not-exist") }
        #expect(error?.kind == .chipNotFound)
        #expect(error?.call == "gpiod_chip_open")
        #expect(error?.errno == 2)
        #expect(error?.description.contains("/dev/gpiochip-itpump-does-not-exist") == true)
    }

    @Test(arguments: ["gpiochip977", "977", "/dev/gpiochip977"])
    func missingChipByNameNumberOrPath(_ spec: String) {
        let error = gpioError { try GPIOChip.open(spec) }
        guard case .chipNotFound(let chip, let available, _) = error else {
            Issue.record("expected chipNotFound, got \(String(describing: error))")
            return
        }
        #expect(chip == "/dev/gpiochip977")
        #expect(available == GPIOChip.availableChipDescriptions())
    }

    @Test func unknownLabelIsChipNotFound() {
        let error = gpioError { try GPIOChip.open("itpump-no-such-label") }
        #expect(error?.kind == .chipNotFound)
        #expect(error?.call == "itp_chip_open_by_label")
        #expect(error?.description.contains("labelled 'itpump-no-such-label'") == true)
    }

    @Test(.enabled(if: noChips, "this machine has GPIO chips"))
    func withNoChipsTheMessageSaysTheKernelLacksGPIO() {
        for spec in ["gpiochip0", "0", "some-label"] {
            let error = gpioError { try GPIOChip.open(spec) }
            #expect(error?.kind == .chipNotFound)
            #expect(error?.description.contains("no GPIO chips at all") == true, "\(spec)")
            #expect(error?.description.contains("CONFIG_GPIO_CDEV") == true, "\(spec)")
        }
        #expect(GPIOChip.scan().isEmpty)
    }

    @Test(arguments: ["/dev/null", "/etc/hostname", "/tmp"])
    func nonChipFileIsNotAGPIOChip(_ path: String) {
        let error = gpioError { try GPIOChip(path: path) }
        #expect(error?.kind == .notAGPIOChip)
        #expect(error?.call == "gpiod_chip_open")
        #expect(error?.description.contains("\(path) is not a GPIO chip") == true)
    }

    @Test func shimPreservesErrnoAndNamesTheCall() {
        var status = itp_status()
        let chip = itp_chip_open("/dev/gpiochip-itpump-does-not-exist", &status)
        #expect(chip == nil)
        #expect(status.err == 2)
        #expect(status.call.map { String(cString: $0) } == "gpiod_chip_open")
        #expect(status.index == -1)
    }

    @Test func chipPathsAreGPIOCharacterDevicePaths() {
        for path in GPIOLibrary.chipPaths() {
            #expect(path.hasPrefix("/dev/gpiochip"))
        }
    }
}
