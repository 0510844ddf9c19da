import Dispatch
import Synchronization

/// Runs sweep runs on `jobs` threads in blocks, handing each block's rows in run order to `emit`:
/// memory stays flat in the number of runs, and the rows never depend on `jobs`.
public enum SweepRunner {
    /// `emit` is called once per block, in run order, never twice at once. With more than one job it
    /// runs on a thread of its own while the workers go on with the next block (its work, the rows'
    /// text and summary, would otherwise leave every worker idle once per block); it has finished
    /// when this returns. At most two blocks of rows are held.
    public static func run(_ plan: SweepPlan, range: Range<Int>, jobs: Int, fidelity: Fidelity,
                           emit: ([SweepRow]) -> Void) -> SweepSummary {
        let summary = UnsafeMutablePointer<SweepSummary>.allocate(capacity: 1)
        summary.initialize(to: SweepSummary())
        defer { summary.deallocate() }
        let jobs = max(1, jobs)
        // Large enough that the wait for a block's last runs is small against the block, small
        // enough that the rows held stay a few hundred kilobytes.
        let block = max(256, 64 * jobs)
        withoutActuallyEscaping(emit) { emit in
            let emitter = DispatchQueue(label: "itpump.sweep.emit")
            let emitting = DispatchGroup()
            let sink = UnsafeSendable((emit: emit, summary: summary))
            var start = range.lowerBound
            while start < range.upperBound {
                let n = min(block, range.upperBound - start)
                let buffer = UnsafeMutableBufferPointer<SweepRow?>.allocate(capacity: n)
                buffer.initialize(repeating: nil)
                let base = start
                let box = UnsafeSendable(buffer)
                // Each worker takes the next run not yet taken (runs differ in length; a fixed stride
                // would leave workers idle at the end of a block).
                let next = Atomic<Int>(0)
                DispatchQueue.concurrentPerform(iterations: min(jobs, n)) { _ in
                    while true {
                        let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard i < n else { break }
                        box.value[i] = plan.run(base + i, fidelity: fidelity)
                    }
                }
                let rows = UnsafeSendable(buffer.compactMap { $0 })
                buffer.deinitialize()
                buffer.deallocate()
                // The previous block's rows are out: this one's go while the next is computed.
                emitting.wait()
                let deliver: @Sendable () -> Void = {
                    for r in rows.value { sink.value.summary.pointee.add(r) }
                    sink.value.emit(rows.value)
                }
                if jobs == 1 { deliver() } else { emitter.async(group: emitting, execute: deliver) }
                start += n
            }
            emitting.wait()
        }
        return summary.move()
    }
}

/// A value handed to worker threads that each touch disjoint parts of it.
struct UnsafeSendable<T>: @unchecked Sendable { var value: T; init(_ v: T) { value = v } }
