import Dispatch

/// Runs sweep runs on `jobs` threads in blocks, handing each block's rows in run order to `emit`:
/// memory stays flat in the number of runs, and the rows never depend on `jobs`.
public enum SweepRunner {
    public static func run(_ plan: SweepPlan, range: Range<Int>, jobs: Int, fidelity: Fidelity,
                    emit: ([SweepRow]) -> Void) -> SweepSummary {
        var summary = SweepSummary()
        let block = max(64, 16 * jobs)
        var start = range.lowerBound
        while start < range.upperBound {
            let n = min(block, range.upperBound - start)
            let buffer = UnsafeMutableBufferPointer<SweepRow?>.allocate(capacity: n)
            buffer.initialize(repeating: nil)
            let base = start
            let box = UnsafeSendable(buffer)
            DispatchQueue.concurrentPerform(iterations: min(jobs, n)) { worker in
                var i = worker
                while i < n {
                    box.value[i] = plan.run(base + i, fidelity: fidelity)
                    i += min(jobs, n)
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

