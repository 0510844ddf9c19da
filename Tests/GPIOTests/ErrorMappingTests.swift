import Testing

@testable import GPIO

/// One row of the errno → GPIOError table.
struct MappingCase: Sendable, CustomTestStringConvertible {
    var errno: Int32
    var call: String
    var detail: String? = nil
    var context: GPIOErrorContext
    var expected: ErrorKind

    var testDescription: String { "\(call) errno \(errno) while \(context.operation.rawValue) → \(expected)" }
}

private let chip = "/dev/gpiochip0"
private let busy = LineInfo(offset: 3, name: "STEP", isUsed: true, consumer: "gpioset", direction: .output)

let mappingTable: [MappingCase] = [
    .init(errno: 2, call: "gpiod_chip_open", context: .init(.openChip, chip: chip), expected: .chipNotFound),
    .init(errno: 2, call: "itp_chip_open_by_label", context: .init(.openChipByLabel, chip: "sim"), expected: .chipNotFound),
    .init(errno: 13, call: "gpiod_chip_open", context: .init(.openChip, chip: chip), expected: .permissionDenied),
    .init(errno: 1, call: "gpiod_chip_open", context: .init(.openChip, chip: chip), expected: .permissionDenied),
    .init(errno: 13, call: "itp_chip_open_by_label", context: .init(.openChipByLabel, chip: "sim"), expected: .permissionDenied),
    .init(errno: 19, call: "gpiod_chip_open", context: .init(.openChip, chip: "/dev/null"), expected: .notAGPIOChip),
    .init(errno: 25, call: "gpiod_chip_open", context: .init(.openChip, chip: "/dev/null"), expected: .notAGPIOChip),
    .init(errno: 21, call: "gpiod_chip_open", context: .init(.openChip, chip: "/tmp"), expected: .notAGPIOChip),
    .init(errno: 2, call: "gpiod_chip_find_line", context: .init(.findLine, chip: chip, lineName: "STEP"), expected: .lineNameNotFound),
    .init(errno: 2, call: "gpiod_chip_get_line_offset_from_name", context: .init(.findLine, chip: chip, lineName: "STEP"), expected: .lineNameNotFound),
    .init(errno: 22, call: "gpiod_chip_get_line", context: .init(.requestLines, chip: chip, offsets: [2, 40], lineCount: 8), expected: .lineOffsetOutOfRange),
    .init(errno: 22, call: "gpiod_chip_get_line_info", context: .init(.lineInfo, chip: chip, offsets: [8], lineCount: 8), expected: .lineOffsetOutOfRange),
    .init(errno: 22, call: "gpiod_chip_request_lines", context: .init(.requestLines, chip: chip, offsets: [1, 2], lineCount: 8), expected: .invalidRequest),
    .init(errno: 22, call: "itp_request_set_values", detail: "line not in this request", context: .init(.setValues, chip: chip, offsets: [5], lineCount: 8), expected: .invalidRequest),
    .init(errno: 16, call: "gpiod_line_request", context: .init(.requestLines, chip: chip, offsets: [3], busyLine: busy), expected: .lineBusy),
    .init(errno: 16, call: "gpiod_chip_request_lines", context: .init(.requestLines, chip: chip, offsets: [3]), expected: .lineBusy),
    .init(errno: 95, call: "gpiod_line_request", detail: "debounce period", context: .init(.requestLines, chip: chip), expected: .unsupportedFeature),
    .init(errno: 38, call: "gpiod_chip_request_lines", context: .init(.requestLines, chip: chip), expected: .unsupportedFeature),
    .init(errno: 1, call: "gpiod_line_set_value", context: .init(.setValues, chip: chip, offsets: [4]), expected: .notAnOutput),
    .init(errno: 1, call: "gpiod_line_request_set_values_subset", context: .init(.setValues, chip: chip, offsets: [4]), expected: .notAnOutput),
    .init(errno: 9, call: "itp_request_set_values", context: .init(.setValues, chip: chip), expected: .closed),
    .init(errno: 9, call: "itp_chip_find_line", context: .init(.findLine, chip: chip), expected: .closed),
    .init(errno: 9, call: "gpiod_line_request_wait_edge_events", context: .init(.waitEdgeEvents, chip: chip), expected: .system),
    .init(errno: 5, call: "gpiod_line_get_value", context: .init(.getValues, chip: chip), expected: .system),
    .init(errno: 19, call: "gpiod_line_request_read_edge_events", context: .init(.readEdgeEvents, chip: chip), expected: .system),
    .init(errno: 2, call: "gpiod_line_update", context: .init(.lineInfo, chip: chip, offsets: [1]), expected: .system),
]

@Suite("errno → GPIOError mapping")
struct ErrorMappingTests {
    @Test(arguments: mappingTable)
    func mapsToTheExpectedCase(_ row: MappingCase) {
        let error = GPIOError(CCallFailure(call: row.call, errno: row.errno, detail: row.detail), context: row.context)
        #expect(error.kind == row.expected)
        #expect(error.errno == row.errno)
        #expect(error.call == row.call)
    }

    @Test(arguments: mappingTable)
    func everyMessageNamesTheCallAndTheErrno(_ row: MappingCase) {
        let text = GPIOError(CCallFailure(call: row.call, errno: row.errno), context: row.context).description
        #expect(text.contains(row.call))
        #expect(text.contains("errno \(row.errno)"))
        #expect(text.contains(row.context.chip))
    }

    @Test func permissionDeniedGivesTheGroupAndUdevFix() {
        let error = GPIOError(CCallFailure(call: "gpiod_chip_open", errno: 13), context: .init(.openChip, chip: chip))
        let text = error.description
        #expect(text.contains("'gpio' group"))
        #expect(text.contains("usermod -aG gpio"))
        #expect(text.contains(#"SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660""#))
        #expect(text.contains("gpiod_chip_open: EACCES (Permission denied, errno 13)"))
    }

    @Test func busyNamesTheLineAndTheConsumerFromLineInfo() {
        let error = GPIOError(
            CCallFailure(call: "gpiod_chip_request_lines", errno: 16),
            context: .init(.requestLines, chip: chip, offsets: [1, 3], busyLine: busy))
        #expect(error == .lineBusy(offset: 3, lineName: "STEP", chip: chip, consumer: "gpioset",
                                   failure: CCallFailure(call: "gpiod_chip_request_lines", errno: 16)))
        #expect(error.description.contains("line 3 ('STEP') of GPIO chip /dev/gpiochip0 is busy"))
        #expect(error.description.contains("by consumer 'gpioset'"))
        #expect(error.description.contains("EBUSY"))
    }

    @Test func busyWithoutAConsumerSaysSo() {
        let error = GPIOError(
            CCallFailure(call: "gpiod_line_request", errno: 16), context: .init(.requestLines, chip: chip, offsets: [7]))
        #expect(error.description.contains("line 7 of GPIO chip"))
        #expect(error.description.contains("the kernel gives no consumer name"))
    }

    @Test func outOfRangeBlamesTheFirstOffsetBeyondTheChip() {
        let error = GPIOError(
            CCallFailure(call: "gpiod_chip_get_line", errno: 22),
            context: .init(.requestLines, chip: chip, offsets: [2, 40, 50], lineCount: 8))
        #expect(error == .lineOffsetOutOfRange(offset: 40, chip: chip, lineCount: 8,
                                               failure: CCallFailure(call: "gpiod_chip_get_line", errno: 22)))
        #expect(error.description.contains("has 8 lines (0...7)"))
    }

    @Test func chipNotFoundListsTheChipsPresent() {
        let error = GPIOError(
            CCallFailure(call: "gpiod_chip_open", errno: 2),
            context: .init(.openChip, chip: "/dev/gpiochip9", availableChips: ["/dev/gpiochip0 [pinctrl-bcm2711]", "/dev/gpiochip1 [raspberrypi-exp-gpio]"]))
        #expect(error.description.contains("chips present: /dev/gpiochip0 [pinctrl-bcm2711], /dev/gpiochip1 [raspberrypi-exp-gpio]"))
        #expect(!error.description.contains("CONFIG_GPIO"))
    }

    @Test func chipNotFoundWithNoChipsPointsAtTheKernel() {
        let error = GPIOError(CCallFailure(call: "gpiod_chip_open", errno: 2), context: .init(.openChip, chip: "/dev/gpiochip0"))
        #expect(error.description.contains("no GPIO chips at all"))
        #expect(error.description.contains("CONFIG_GPIO_CDEV"))
    }

    @Test func unsupportedFeatureNamesFeatureAndAPI() {
        let error = GPIOError(
            CCallFailure(call: "gpiod_line_request", errno: 95, detail: "debounce period"),
            context: .init(.requestLines, chip: chip))
        #expect(error.description.contains("debounce period"))
        #expect(error.description.contains("compiled \(GPIOLibrary.compiledAPI)"))
        #expect(error.description.contains("EOPNOTSUPP"))
    }

    @Test func lineNameNotFoundSaysWhichChipAndHowToList() {
        let error = GPIOError(
            CCallFailure(call: "gpiod_chip_find_line", errno: 2), context: .init(.findLine, chip: chip, lineName: "STEPP"))
        #expect(error.description.contains("no line named 'STEPP' on GPIO chip /dev/gpiochip0"))
        #expect(error.description.contains("itpump gpio info --chip /dev/gpiochip0"))
    }
}
