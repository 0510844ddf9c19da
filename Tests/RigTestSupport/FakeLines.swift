import PumpCore
import PumpRig

/// Test-only rig lines: records every output write with the manual clock's time, lets a test set
/// inputs (queuing an edge), and can answer each stroke with a stroke-feedback pulse.
public final class FakeLines: RigLineIO {
    public let clock: ManualClock
    public var levels: [RigRole: Bool] = [:]
    public var writes: [(at: UInt64, role: RigRole, active: Bool)] = []
    public var edges: [RigEdge] = []
    public var feedbackWorks = true
    public var released = false
    /// Throw on the n-th STEP write (1-based), to test failure handling.
    public var failOnStepWrite: Int?
    private var stepWrites = 0

    public init(clock: ManualClock) { self.clock = clock }

    /// Makes the next STEP write throw.
    public func failNextStepWrite() { failOnStepWrite = stepWrites + 1 }
    /// Makes the next write of this line throw (once).
    public var failNextWriteOf: RigRole?

    public struct Broken: Error, CustomStringConvertible { public var description: String { "EIO on STEP (test)" } }

    public func set(_ values: [(role: RigRole, active: Bool)]) throws {
        precondition(!released, "write after release")
        for (role, active) in values {
            if role == failNextWriteOf { failNextWriteOf = nil; throw Broken() }
            if role == .step {
                stepWrites += 1
                if stepWrites == failOnStepWrite { throw Broken() }
            }
            levels[role] = active
            writes.append((clock.now(), role, active))
            if role == .enable, !active, feedbackWorks, writes.contains(where: { $0.role == .step }) {
                edges.append(RigEdge(role: .strokeFeedback, rising: true, monotonicNanoseconds: clock.now()))
            }
        }
    }
    public func read(_ role: RigRole) throws -> Bool { levels[role] ?? false }
    public func pendingEdges() throws -> [RigEdge] { defer { edges.removeAll() }; return edges }
    public func release() { released = true }

    /// Sets an input now, with its edge.
    public func input(_ role: RigRole, _ active: Bool) {
        levels[role] = active
        edges.append(RigEdge(role: role, rising: active, monotonicNanoseconds: clock.now()))
    }
    public func risingEdges(_ role: RigRole) -> Int {
        var last = false, n = 0
        for w in writes where w.role == role { if w.active && !last { n += 1 }; last = w.active }
        return n
    }
}

/// A fast rig for tests: TMC2209, 8 steps at 100 kHz (80 µs a stroke), 2 µs pulses.
public func fastRig() -> RigDescription {
    var lines: [RigRole: RigLine] = [:]
    for role in RigRole.allCases { lines[role] = RigLine(chip: "test", line: .name(role.rawValue)) }
    lines[.enable]?.activeLow = true
    return RigDescription(name: "test", driver: .tmc2209,
                          stepper: StepperTiming(stepsPerStroke: 8, pulseWidth: TimeSpan(nanoseconds: 2_000), stepRate: 100_000,
                                                 dirSetup: TimeSpan(nanoseconds: 10_000), enableSetup: TimeSpan(nanoseconds: 10_000)),
                          lines: lines, feedbackTimeout: .milliseconds(5))
}
