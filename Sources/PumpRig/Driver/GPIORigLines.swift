import GPIO

/// A rig's lines held through libgpiod: one request per chip, outputs requested inactive (the safe
/// level) from the first moment, inputs with both-edge detection and the rig file's bias.
///
/// Released by `release()` or `deinit`; callers drive outputs safe before (gpio-sim and some boards
/// drop a released output to its pull).
public final class GPIORigLines: RigLineIO {
    private struct Held {
        var request: LineRequest
        var offsets: [RigRole: UInt32]
        var roles: [UInt32: RigRole]
    }
    private var held: [Held] = []
    private var where_: [RigRole: (index: Int, offset: UInt32)] = [:]
    /// The edge-event descriptors of the requests holding inputs (libgpiod's request fd).
    public private(set) var pollDescriptors: [Int32] = []

    /// Opens the rig's chips and requests every line with consumer label `consumer`. On failure
    /// nothing stays requested and the typed `GPIOError` (chip missing, line name unknown, line busy
    /// and by whom, permission denied) is thrown.
    public init(rig: RigDescription, consumer: String = GPIOLibrary.defaultConsumer) throws(GPIOError) {
        var byChip: [(chip: String, roles: [RigRole])] = []
        var lineOf: [RigRole: RigLine] = [:]
        for role in rig.roles {
            guard let line = rig.lines[role] else { continue }
            lineOf[role] = line
            if let i = byChip.firstIndex(where: { $0.chip == line.chip }) { byChip[i].roles.append(role) }
            else { byChip.append((line.chip, [role])) }
        }
        do {
            for (chipName, roles) in byChip {
                let chip = try GPIOChip.open(chipName)
                defer { chip.close() }
                let configs = roles.compactMap { role -> LineConfig? in
                    guard let l = lineOf[role] else { return nil }
                    let selector: LineSelector = switch l.line {
                    case let .offset(o): .offset(o)
                    case let .name(n): .name(n)
                    }
                    let settings: LineSettings = role.isOutput
                        ? .output(initial: .inactive, activeLow: l.activeLow)
                        : .input(bias: l.bias.gpio, edge: .both, activeLow: l.activeLow)
                    return LineConfig(selector, settings)
                }
                let request = try chip.requestLines(configs, consumer: consumer)
                var offsets: [RigRole: UInt32] = [:], roleOf: [UInt32: RigRole] = [:]
                for (role, line) in zip(roles, request.lines) {
                    offsets[role] = line.offset
                    roleOf[line.offset] = role
                    where_[role] = (held.count, line.offset)
                }
                held.append(Held(request: request, offsets: offsets, roles: roleOf))
                if roles.contains(where: { !$0.isOutput }) { pollDescriptors.append(try request.fileDescriptor()) }
            }
        } catch {
            release()
            throw error
        }
    }

    deinit { release() }

    public func set(_ values: [(role: RigRole, active: Bool)]) throws {
        for (role, active) in values {
            guard let w = where_[role] else { throw RigDriverError.roleNotWired(role) }
            try held[w.index].request.setValue(active ? .active : .inactive, of: w.offset)
        }
    }

    public func read(_ role: RigRole) throws -> Bool {
        guard let w = where_[role] else { throw RigDriverError.roleNotWired(role) }
        return try held[w.index].request.value(of: w.offset) == .active
    }

    public func pendingEdges() throws -> [RigEdge] {
        var out: [RigEdge] = []
        for h in held where h.roles.values.contains(where: { !$0.isOutput }) {
            while true {
                let events = try h.request.edgeEvents(timeout: .zero)
                for e in events {
                    guard let role = h.roles[e.offset] else { continue }
                    out.append(RigEdge(role: role, rising: e.kind == .rising, monotonicNanoseconds: e.timestampNanoseconds))
                }
                if events.count < 64 { break }
            }
        }
        return out.sorted { $0.monotonicNanoseconds < $1.monotonicNanoseconds }
    }

    public func release() {
        for h in held { h.request.close() }
        held.removeAll()
        where_.removeAll()
        pollDescriptors.removeAll()
    }
}

extension RigBias {
    var gpio: Bias {
        switch self {
        case .asIs: .asIs
        case .disabled: .disabled
        case .pullUp: .pullUp
        case .pullDown: .pullDown
        }
    }
}
