/// An edge seen on a rig input: its role, whether the logical value rose, and the kernel's
/// `CLOCK_MONOTONIC` timestamp.
public struct RigEdge: Hashable, Sendable {
    public var role: RigRole
    public var rising: Bool
    public var monotonicNanoseconds: UInt64
    public init(role: RigRole, rising: Bool, monotonicNanoseconds: UInt64) {
        self.role = role
        self.rising = rising
        self.monotonicNanoseconds = monotonicNanoseconds
    }
}

/// The rig's lines by role, as logical values (active-low already applied). `GPIORigLines` is the
/// libgpiod implementation; tests supply their own. One thread uses it at a time.
public protocol RigLineIO: AnyObject {
    /// Drives outputs, in the order given (order DIR before STEP: libgpiod v1 writes one by one).
    func set(_ values: [(role: RigRole, active: Bool)]) throws
    /// Reads the logical value of an input (or of what an output drives).
    func read(_ role: RigRole) throws -> Bool
    /// Edges queued on the inputs since the last call, oldest first; never blocks.
    func pendingEdges() throws -> [RigEdge]
    /// Releases every line. Idempotent. Drive outputs to their safe state first.
    func release()
    /// Descriptors that poll readable (`POLLIN`) while an input edge is queued: the run loop waits on
    /// them instead of polling the inputs on a timer. Empty when the lines have none.
    var pollDescriptors: [Int32] { get }
}

extension RigLineIO {
    public var pollDescriptors: [Int32] { [] }
}
