import PumpCore
import PumpJournal
import PumpSim

extension Runner {
    /// Why `inject`/`clear_fault` is refused on the rig: its faults are physical.
    static let rigFaultRefusal = "faults on the rig come from the rig: inject and clear_fault act on --backend sim only; nothing was changed"

    /// `inject`: starts `f` in the simulated pump at the controller's instant (the pump's truth: what
    /// it delivers and what its sensors report), to end `f.duration` later in therapy time or at
    /// `clear_fault`. The controller is not told: it finds the fault as on a rig, through the sensors
    /// (alarms raised by the core) or not at all (a leak). Journaled as a `sim fault` checkpoint
    /// before it acts; refused, changing nothing, on the rig, in a journal outage, or while a fault of
    /// the same family is injected.
    func inject(_ f: FaultInjection) -> String {
        guard var sim = simulatedPump else { return refusal("inject", Self.rigFaultRefusal) }
        let at = controller.now
        let until = f.duration.map { at + $0 }
        if let existing = sim.injected.first(where: { $0.kind.family == f.kind.family && ($0.until.map { $0 > at } ?? true) }) {
            return refusal("inject", "\(existing.kind) is already injected\(existing.until.map { " until \($0)" } ?? ""); clear_fault \(f.fault.rawValue) first; nothing was changed")
        }
        do throws(FaultPlan.Problem) { try sim.inject(f.kind, at: at, until: until) } catch {
            return refusal("inject", "\(error); nothing was changed")
        }
        let text = "inject \(f.kind)" + (until.map { " until \($0)" } ?? " until cleared")
        guard journalSimFault(text) else { return refusal("inject", "not applied: the journal cannot be written") }
        simulatedPump = sim
        logger.warning("sim fault: \(text)")
        var reply: [String: JSONValue] = ["ok": .bool(true), "fault": .string(f.fault.rawValue), "injected": .string(f.kind.description),
                                          "at": .string(at.description), "at_ns": .int(at.nanoseconds)]
        if let until { reply["until"] = .string(until.description); reply["until_ns"] = .int(until.nanoseconds) }
        if let p = f.percent { reply["percent"] = .int(p) }
        return ControlProtocol.reply(reply)
    }

    /// `clear_fault`: ends the injected fault of `name` at the controller's instant (an occlusion
    /// releases its held volume to the patient). Journaled; refused on the rig, or when none is injected.
    func clearFault(_ name: SimFaultName) -> String {
        guard var sim = simulatedPump else { return refusal("clear_fault", Self.rigFaultRefusal) }
        let at = controller.now
        let kind = FaultInjection(fault: name, percent: name == .calibrationBias ? 1 : nil).kind
        guard let active = sim.injected.first(where: { $0.kind.family == kind.family && ($0.until.map { $0 > at } ?? true) }) else {
            return refusal("clear_fault", "no \(name.rawValue) fault is injected; nothing was changed")
        }
        let text = "clear \(active.kind)"
        guard journalSimFault(text) else { return refusal("clear_fault", "not applied: the journal cannot be written") }
        sim.clearInjected(kind, at: at)
        simulatedPump = sim
        logger.warning("sim fault: \(text) at \(at)")
        return ControlProtocol.reply(["ok": .bool(true), "fault": .string(name.rawValue), "cleared": .string(active.kind.description),
                                      "at": .string(at.description), "at_ns": .int(at.nanoseconds)])
    }

    private func refusal(_ cmd: String, _ why: String) -> String {
        ControlProtocol.reply(["ok": .bool(false), "error": .string("\(cmd): \(why)")])
    }

    /// Journals a fault change (a `sim fault` checkpoint of the unchanged state); false when it
    /// cannot be written (nothing may act). True without a journal.
    private func journalSimFault(_ text: String) -> Bool {
        guard let journal else { return true }
        guard journalOutage == nil else { return false }
        do throws(JournalError) {
            try journal.recordInterruption("sim fault", detail: "\(text) at \(controller.now)", state: controller,
                                           inDoubt: strokesNotCarriedOut, wallNanoseconds: wallClock())
            return true
        } catch {
            journalFailed(error)
            return false
        }
    }

    /// `status` on the simulated pump: the injected faults in force and the pump's truth (what the
    /// controller only estimates). Nil on the rig.
    func simStatus() -> (faults: JSONValue, truth: JSONValue)? {
        guard let sim = simulatedPump else { return nil }
        let now = controller.now
        let faults: [JSONValue] = sim.injected.filter { $0.until.map { $0 > now } ?? true }.map { f in
            var o: [String: JSONValue] = ["fault": .string(SimFaultName(f.kind).rawValue), "detail": .string(f.kind.description),
                                          "since": .string(f.from.description), "since_ns": .int(f.from.nanoseconds)]
            if let u = f.until { o["until"] = .string(u.description); o["until_ns"] = .int(u.nanoseconds) }
            switch f.kind {
            case let .leak(fr): o["percent"] = .int(fr.partsPerMillion / 10_000)
            case .disconnection: o["percent"] = .int(100)
            case let .calibrationBias(b): o["percent"] = .int(b.partsPerMillion / 10_000)
            default: break
            }
            return .object(o)
        }
        let truth: JSONValue = .object([
            "reservoir_pl": .int(sim.reservoir.value), "pumped_pl": .int(sim.pumped.value),
            "to_patient_fg": .int(sim.toPatient.value), "to_pocket_fg": .int(sim.toPocket.value),
            "held_pl": .int(sim.pressurised.value), "stroke_mean_pl": .int(sim.strokeMean.value),
            "strokes_commanded": .int(sim.strokesCommanded), "strokes_moved": .int(sim.strokesMoved),
            "occlusion_sensor": .bool(sim.occlusionSensor), "stall_sensor": .bool(sim.stallSensor),
            "empty_sensor": .bool(sim.emptySensor),
        ])
        return (.array(faults), truth)
    }
}

extension SimFaultName {
    /// The wire name of a simulator fault.
    init(_ kind: FaultKind) {
        switch kind {
        case .occlusion: self = .occlusion
        case .motorStall: self = .motorStall
        case .emptySwitch: self = .emptySwitch
        case .leak, .disconnection: self = .leak
        case .calibrationBias: self = .calibrationBias
        }
    }
}
