import Dispatch
import Synchronization

/// Runs sweep runs on `jobs` threads in blocks, handing each block's rows in run order to `emit`:
/// memory stays flat in the number of runs, and the rows never depend on `jobs`.
public enum SweepRunner {
    public static func run(_ plan: SweepPlan, range: Range<Int>, jobs: Int, fidelity: Fidelity,
                    emit: ([SweepRow]) -> Void) -> SweepSummary {
        var summary = SweepSummary()
        let jobs = max(1, jobs)
        // Large enough that the wait for a block's last runs is small against the block, small
        // enough that the rows held stay a few hundred kilobytes.
        let block = max(256, 64 * jobs)
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
            let rows = buffer.compactMap { $0 }
            buffer.deinitialize()
            buffer.deallocate()
            for r in rows { summary.add(r) }
            emit(rows)
            start += n
        }
        return summary
    }
}

/// A value handed to worker threads that each touch disjoint parts of it.
struct UnsafeSendable<T>: @unchecked Sendable { var value: T; init(_ v: T) { value = v } }
