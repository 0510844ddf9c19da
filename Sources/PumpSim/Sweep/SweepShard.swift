/// One deterministic slice I/N of a sweep's runs (1-based): runs ⌊(I−1)·R/N⌋ ..< ⌊I·R/N⌋. Shards
/// 1…N cover every run exactly once, whatever R and N.
public struct SweepShard: Hashable, Sendable {
    public var index: Int
    public var count: Int

    /// `index` within 1…`count`, `count` ≥ 1.
    public init?(index: Int, count: Int) {
        guard count >= 1, (1...count).contains(index) else { return nil }
        self.index = index
        self.count = count
    }

    /// Parses `I/N`.
    public init?(_ text: String) {
        let p = text.split(separator: "/", omittingEmptySubsequences: false)
        guard p.count == 2, let i = Int(p[0]), let n = Int(p[1]) else { return nil }
        self.init(index: i, count: n)
    }

    public func range(runs: Int) -> Range<Int> { SweepCSVHeader.range(shard: index, of: count, runs: runs) }

    /// Why `--shard auto` cannot tell which shard this process is.
    public struct AutoError: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// The shard of this task of an array job, from its environment (`--shard auto`, or `auto/N`
    /// with `count` = N):
    /// - Slurm (`sbatch --array=A-B`, step 1): index `SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN + 1`
    ///   of `SLURM_ARRAY_TASK_COUNT` (which a given N must equal); the array may start at 0 or 1.
    /// - Kubernetes Indexed Job: index `JOB_COMPLETION_INDEX + 1` of N (the Job's `completions`),
    ///   which must be given, since the Job does not export it.
    public static func fromEnvironment(_ env: [String: String], count given: Int?) throws(AutoError) -> SweepShard {
        func int(_ k: String) throws(AutoError) -> Int? {
            guard let v = env[k], !v.isEmpty else { return nil }
            guard let n = Int(v) else { throw AutoError(description: "\(k)=`\(v)` is not a whole number") }
            return n
        }
        if let id = try int("SLURM_ARRAY_TASK_ID") {
            guard let count = try int("SLURM_ARRAY_TASK_COUNT"), let lo = try int("SLURM_ARRAY_TASK_MIN"), let hi = try int("SLURM_ARRAY_TASK_MAX") else {
                throw AutoError(description: "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT, _MIN or _MAX is not; run under `sbatch --array=1-N`")
            }
            if let step = try int("SLURM_ARRAY_TASK_STEP"), step != 1 {
                throw AutoError(description: "SLURM_ARRAY_TASK_STEP is \(step); use a contiguous array (`--array=1-N`, no `:step`)")
            }
            guard hi - lo + 1 == count, (lo...hi).contains(id) else {
                throw AutoError(description: "the Slurm array \(lo)-\(hi) has \(count) tasks; use a contiguous array (`--array=1-N`) so each task is one shard")
            }
            if let given, given != count {
                throw AutoError(description: "--shard auto/\(given) but the Slurm array has \(count) tasks (SLURM_ARRAY_TASK_COUNT); give `auto` alone or the same count")
            }
            return SweepShard(index: id - lo + 1, count: count)!
        }
        if let k = try int("JOB_COMPLETION_INDEX") {
            guard let n = given else {
                throw AutoError(description: "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but not the count; use --shard auto/N with N the Job's completions")
            }
            guard let s = SweepShard(index: k + 1, count: n) else {
                throw AutoError(description: "JOB_COMPLETION_INDEX=\(k) is outside 0…\(n - 1) for --shard auto/\(n); N must equal the Job's completions")
            }
            return s
        }
        throw AutoError(description: "--shard auto needs SLURM_ARRAY_TASK_ID (a Slurm array job) or JOB_COMPLETION_INDEX (a Kubernetes Indexed Job); outside an array job give --shard I/N")
    }
}
