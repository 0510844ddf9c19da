import Testing

@testable import GPIO

/// The case of a GPIOError without its payload, for tables.
enum ErrorKind: String, Sendable {
    case chipNotFound, notAGPIOChip, permissionDenied, lineNameNotFound, lineOffsetOutOfRange, lineBusy,
        unsupportedFeature, notAnOutput, invalidRequest, closed, system
}

extension GPIOError {
    var kind: ErrorKind {
        switch self {
        case .chipNotFound: .chipNotFound
        case .notAGPIOChip: .notAGPIOChip
        case .permissionDenied: .permissionDenied
        case .lineNameNotFound: .lineNameNotFound
        case .lineOffsetOutOfRange: .lineOffsetOutOfRange
        case .lineBusy: .lineBusy
        case .unsupportedFeature: .unsupportedFeature
        case .notAnOutput: .notAnOutput
        case .invalidRequest: .invalidRequest
        case .closed: .closed
        case .system: .system
        }
    }
}

/// Runs `body` and returns the GPIOError it throws (nil if it succeeds; any other error fails the test).
func gpioError<T>(_ body: () throws -> T) -> GPIOError? {
    do {
        _ = try body()
        return nil
    } catch let error as GPIOError {
        return error
    } catch {
        Issue.record("not a GPIOError: \(error)")
        return nil
    }
}
