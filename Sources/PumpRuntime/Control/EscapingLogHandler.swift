import Logging
import PumpJournal

/// A log handler that writes each record as exactly one line: control characters and line-reordering
/// characters in the message and metadata (from a clinician's override reason, say) are escaped
/// (`PrintableText.escaped`) before the wrapped handler sees them, so no text reaching a log can forge
/// a record, recolour the terminal or move its cursor. `itpump run` logs through it.
public struct EscapingLogHandler: LogHandler {
    public var wrapped: any LogHandler

    public init(wrapping handler: any LogHandler) { wrapped = handler }

    /// Standard error, escaped (what `itpump run` bootstraps).
    public static func standardError(label: String) -> EscapingLogHandler {
        EscapingLogHandler(wrapping: StreamLogHandler.standardError(label: label))
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }
    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }
    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var e = event
        e.message = "\(PrintableText.escaped(event.message.description))"
        e.metadata = event.metadata.map { $0.mapValues(Self.escaped) }
        wrapped.log(event: e)
    }

    static func escaped(_ v: Logger.MetadataValue) -> Logger.MetadataValue {
        switch v {
        case let .string(s): .string(PrintableText.escaped(s))
        case let .stringConvertible(c): .string(PrintableText.escaped(c.description))
        case let .array(a): .array(a.map(escaped))
        case let .dictionary(d): .dictionary(d.mapValues(escaped))
        }
    }
}
