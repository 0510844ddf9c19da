import ArgumentParser
import GPIO

/// `itpump gpio …`: look at and drive the bench rig's GPIO lines through the same binding the runner uses.
///
/// Failures are ``GPIOError``s: ArgumentParser prints their message (`Error: …`) and exits with 1.
struct GPIOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpio",
        abstract: "Inspect and drive GPIO lines through libgpiod (the binding the rig runner uses).",
        discussion: """
            CHIP is a path (/dev/gpiochip0), a kernel name (gpiochip0), a number (0) or a driver label.
            LINE is an offset (5) or a line name the board gives (STEP). Values are logical: with
            --active-low, 1 drives the pin low. Requests carry the consumer label "itpump".
            """,
        subcommands: [Info.self, Get.self, Set.self, Monitor.self, Version.self]
    )
}

extension GPIOCommand {
    struct Version: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the libgpiod API generation compiled in and the library version loaded.")

        func run() {
            print(GPIOLibrary.summary)
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List GPIO chips and their lines (name, direction, consumer), and the libgpiod in use.")

        @Option(help: "Only this chip (path, name, number or label).")
        var chip: String?

        func run() throws {
            print(GPIOLibrary.summary)
            if let chip {
                let opened = try GPIOChip.open(chip)
                defer { opened.close() }
                try printChip(opened)
                return
            }
            let found = GPIOChip.scan()
            if found.isEmpty {
                print("no GPIO chips: /dev/gpiochip* does not exist; the kernel needs GPIO support "
                    + "(CONFIG_GPIOLIB, CONFIG_GPIO_CDEV) and a GPIO controller driver (gpio-sim for tests)")
            }
            for (path, result) in found {
                switch result {
                case .success:
                    let opened = try GPIOChip(path: path)
                    defer { opened.close() }
                    try printChip(opened)
                case .failure(let error):
                    print("\(path): \(error)")
                }
            }
        }

        private func printChip(_ chip: GPIOChip) throws(GPIOError) {
            print("\(chip.info) \(chip.path)")
            for line in try chip.lineInfos() {
                var text = "  line \(String(line.offset).leftPad(3)): "
                text += (line.name.map { "\"\($0)\"" } ?? "unnamed").rightPad(16)
                text += " \(line.direction)".rightPad(8)
                text += line.isUsed ? " used by \(line.consumer.map { "\"\($0)\"" } ?? "the kernel")" : " unused"
                if line.isActiveLow { text += " active-low" }
                if let bias = line.bias, bias != .asIs { text += " bias=\(bias)" }
                if line.drive != .pushPull { text += " drive=\(line.drive)" }
                if let edge = line.edge, edge != .none { text += " edge=\(edge)" }
                if line.debouncePeriodMicroseconds > 0 { text += " debounce=\(line.debouncePeriodMicroseconds)us" }
                print(text)
            }
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Request lines as inputs and print their logical values (LINE=VALUE).")

        @Argument(help: "Chip (path, name, number or label).") var chip: String
        @Argument(help: "Lines, by offset or name.") var lines: [String]
        @Option(help: "Bias: as-is, disabled, pull-up, pull-down.") var bias: BiasOption = .asIs
        @Flag(help: "Treat the lines as active-low.") var activeLow = false

        func run() throws {
            let opened = try GPIOChip.open(chip)
            defer { opened.close() }
            let settings = LineSettings.input(bias: bias.value, activeLow: activeLow)
            let request = try opened.requestLines(lines.map { LineConfig(LineSelector(parsing: $0), settings) })
            defer { request.close() }
            let values = try request.values(of: request.offsets)
            for (line, value) in zip(lines, values) { print("\(line)=\(value)") }
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Request lines as outputs driving the given logical values, hold, then release.")

        @Argument(help: "Chip (path, name, number or label).") var chip: String
        @Argument(help: "LINE=VALUE pairs; VALUE is 0/1, active/inactive, on/off.") var assignments: [Assignment]
        @Option(name: .customLong("hold-ms"), help: "Keep the lines driven this long before releasing.")
        var holdMilliseconds: Int = 0
        @Flag(help: "Treat the lines as active-low.") var activeLow = false
        @Option(help: "Drive: push-pull, open-drain, open-source.") var drive: DriveOption = .pushPull

        func validate() throws {
            guard holdMilliseconds >= 0 else { throw ValidationError("--hold-ms must be 0 or more") }
        }

        func run() throws {
            let opened = try GPIOChip.open(chip)
            defer { opened.close() }
            let request = try opened.requestLines(assignments.map {
                LineConfig($0.line, .output(initial: $0.value, activeLow: activeLow, drive: drive.value))
            })
            defer { request.close() }
            try request.hold(for: .milliseconds(holdMilliseconds))
        }
    }

    struct Monitor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Request lines as inputs with edge detection and print edge events with kernel timestamps.",
            discussion: "Exits 0 after --count events, 1 if --timeout-ms passes first.")

        @Argument(help: "Chip (path, name, number or label).") var chip: String
        @Argument(help: "Lines, by offset or name.") var lines: [String]
        @Option(help: "Stop after this many events.") var count: Int?
        @Option(name: .customLong("timeout-ms"), help: "Give up after this many milliseconds in all.")
        var timeoutMilliseconds: Int?
        @Option(help: "Edges: rising, falling, both.") var edge: EdgeOption = .both
        @Option(help: "Bias: as-is, disabled, pull-up, pull-down.") var bias: BiasOption = .asIs
        @Flag(help: "Treat the lines as active-low.") var activeLow = false

        func run() throws {
            let opened = try GPIOChip.open(chip)
            defer { opened.close() }
            let settings = LineSettings.input(bias: bias.value, edge: edge.value, activeLow: activeLow)
            let request = try opened.requestLines(lines.map { LineConfig(LineSelector(parsing: $0), settings) })
            defer { request.close() }
            let names = Dictionary(zip(request.offsets, lines), uniquingKeysWith: { a, _ in a })
            let clock = ContinuousClock()
            let deadline = timeoutMilliseconds.map { clock.now + .milliseconds($0) }
            var seen = 0
            while count.map({ seen < $0 }) ?? true {
                let left = deadline.map { max($0 - clock.now, .zero) }
                let events = try request.edgeEvents(timeout: left, maxCount: count.map { $0 - seen } ?? 64)
                if events.isEmpty, left == .zero {
                    throw MonitorTimeout(milliseconds: timeoutMilliseconds ?? 0, seen: seen, wanted: count)
                }
                for event in events {
                    print("\(names[event.offset] ?? String(event.offset)): \(event)")
                }
                seen += events.count
            }
        }
    }
}

struct MonitorTimeout: Error, CustomStringConvertible {
    var milliseconds: Int, seen: Int, wanted: Int?
    var description: String {
        "timed out after \(milliseconds) ms with \(seen)" + (wanted.map { " of \($0)" } ?? "") + " edge events"
    }
}

/// `LINE=VALUE` on the command line.
struct Assignment: ExpressibleByArgument {
    var line: LineSelector
    var value: LineValue

    init?(argument: String) {
        let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else { return nil }
        switch parts[1].lowercased() {
        case "1", "active", "on", "true": value = .active
        case "0", "inactive", "off", "false": value = .inactive
        default: return nil
        }
        line = LineSelector(parsing: parts[0])
    }
}

enum BiasOption: String, ExpressibleByArgument, CaseIterable {
    case asIs = "as-is", disabled, pullUp = "pull-up", pullDown = "pull-down"
    var value: Bias {
        switch self {
        case .asIs: .asIs
        case .disabled: .disabled
        case .pullUp: .pullUp
        case .pullDown: .pullDown
        }
    }
}

enum DriveOption: String, ExpressibleByArgument, CaseIterable {
    case pushPull = "push-pull", openDrain = "open-drain", openSource = "open-source"
    var value: Drive {
        switch self {
        case .pushPull: .pushPull
        case .openDrain: .openDrain
        case .openSource: .openSource
        }
    }
}

enum EdgeOption: String, ExpressibleByArgument, CaseIterable {
    case rising, falling, both
    var value: Edge {
        switch self {
        case .rising: .rising
        case .falling: .falling
        case .both: .both
        }
    }
}

extension String {
    fileprivate func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
    fileprivate func rightPad(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
