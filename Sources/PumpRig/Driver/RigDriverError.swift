/// Why the rig driver could not act. The runner answers every one by putting the rig in its safe
/// state; the message says what to check on the bench.
public enum RigDriverError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The rig file maps no line to a role the driver needed.
    case roleNotWired(RigRole)
    /// The lines were released (after `enterSafeState` at shutdown, or a failure): re-create the driver.
    case released

    public var description: String {
        switch self {
        case let .roleNotWired(r): "the rig maps no line to \(r): add it to the rig file"
        case .released: "the rig's lines were released; restart the runner to request them again"
        }
    }
}
