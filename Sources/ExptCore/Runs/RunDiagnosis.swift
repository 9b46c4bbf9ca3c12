import Foundation
import ExptModel
import GitKit
import ExptDiagnosis
#if canImport(Glibc)
import Glibc
#endif

/// A run's diagnosis together with the run it is about.
public struct RunDiagnosis {
    public var run: RunRecord
    /// For an array: the diagnosis of the dominant failure among its tasks.
    public var diagnosis: Diagnosis
    /// For an array: the health of the batch, and the tasks that failed.
    public var batch: BatchHealthReport?
    public var failedTasks: [Int] = []
}

extension RunService {
    /// Diagnoses a run (default: the branch's latest) from its logs, the scheduler's facts, its
    /// checkpoints and its config, and records the category in the ledger unless `persist` is
    /// false (dry runs change nothing).
    public func diagnose(branch: String, run: String?, persist: Bool = true) throws -> RunDiagnosis {
        try refresh(branches: [branch])
        let record = try findRun(branch: branch, run: run)
        if record.wasCancelledByRequest {
            throw ExptError(.conflict, "\(record.id) was cancelled by request: it did not fail, so there is nothing to diagnose",
                            hint: "`expt launch \(branch)` runs it again")
        }
        var result = try diagnoseRun(record)
        if persist { try ledger().setDiagnosis(runID: record.id, category: result.diagnosis.category.rawValue, at: now()) }
        result.run.diagnosis = result.diagnosis.category.rawValue
        return result
    }

    /// A single job, or an array task by task: each failed task is diagnosed from its own
    /// output; the dominant category names the run; the batch gets a health verdict.
    public func diagnoseRun(_ record: RunRecord) throws -> RunDiagnosis {
        guard !record.tasks.isEmpty else { return RunDiagnosis(run: record, diagnosis: try diagnose(record)) }
        // Inputs are gathered in order (reads go through the backend), then diagnosed on
        // every core: the engine is pure.
        let failedTasks = record.tasks.filter { ![.succeeded, .pending, .running, .submitting].contains($0.state) }
        let inputs = try failedTasks.map { try diagnosisInput(record, task: $0) }
        var perTask: [Int: Diagnosis] = [:]
        for (task, result) in zip(failedTasks, try diagnoser().diagnoseAll(inputs)) { perTask[task.index] = try result.get() }
        let categories: [FailureCategory?] = record.tasks.map { task in
            switch task.state {
            case .succeeded: return .success
            case .pending, .running, .submitting: return nil
            default: return perTask[task.index]?.category
            }
        }
        let failed = record.tasks.filter { perTask[$0.index] != nil }.map(\.index)
        let counts = Dictionary(grouping: failed, by: { perTask[$0]!.category })
        let dominant = counts.max { a, b in a.value.count != b.value.count ? a.value.count < b.value.count : a.key.rawValue > b.key.rawValue }
        let config = try rootConfig()
        var batch = BatchHealth.verdict(for: categories, bands: HealthBands(watch: config.health.watch,
                                                                             degraded: config.health.degraded,
                                                                             systemic: config.health.systemic))
        // The verdict counts positions in `categories`; a user knows the tasks by their index.
        batch.byCategory = batch.byCategory.map { f in
            var g = f; g.tasks = f.tasks.compactMap { $0 < record.tasks.count ? record.tasks[$0].index : nil }; return g
        }
        let main = try dominant.flatMap { perTask[$0.value[0]] } ?? diagnose(record)
        return RunDiagnosis(run: record, diagnosis: main, batch: batch, failedTasks: failed)
    }

    /// Views of runs for status/runs/watch: progress read from the logs, and for arrays with
    /// failed tasks the batch health.
    public func views(_ records: [RunRecord]) -> [RunView] {
        let tracked = tracking(records)
        for n in tracked.notices where !trackerNotices.contains(n) { trackerNotices.append(n) }
        return records.map { r in
            let detail = tracked.progress[r.id]
            var v = RunView(r, now: now(), progress: r.tasks.isEmpty ? detail?.text : nil)
            v.progressDetail = detail
            v.wandb = tracked.trackers[r.id]
            v.discrepancies = tracked.discrepancies[r.id] ?? []
            if r.tasks.contains(where: { $0.state.isFailure }) { v.batch = batchHealth(r) }
            return v
        }
    }

    /// The batch health of an array run, kept in its run directory while its tasks do not
    /// change: every `status` would otherwise read each failed task's output again (one remote
    /// read per failed item on a cluster).
    func batchHealth(_ r: RunRecord) -> BatchHealthReport? {
        if let file = r.logDir.map({ $0 + "/batch-health.json" }), let data = FileManager.default.contents(atPath: file),
           let cached = try? JSONDecoder().decode(CachedBatch.self, from: data), cached.tasks == r.tasks {
            return cached.batch
        }
        guard let batch = try? diagnoseRun(r).batch else { return nil }
        saveBatch(r, batch)
        return batch
    }

    private struct CachedBatch: Codable { var tasks: [TaskStatus]; var batch: BatchHealthReport }

    private func saveBatch(_ r: RunRecord, _ batch: BatchHealthReport) {
        guard let dir = r.logDir, let data = try? JSONEncoder().encode(CachedBatch(tasks: r.tasks, batch: batch)) else { return }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? data.write(to: URL(fileURLWithPath: dir + "/batch-health.json"), options: .atomic)
    }

    /// Diagnoses failed runs that have no category yet, so status and watch can show one.
    public func diagnoseNewFailures(_ records: [RunRecord]) -> [RunRecord] {
        records.map { r in
            guard r.state.isFailure, !r.wasCancelledByRequest, r.diagnosis == nil, let result = try? diagnoseRun(r) else { return r }
            let d = result.diagnosis
            if let batch = result.batch { saveBatch(r, batch) }
            try? ledger().setDiagnosis(runID: r.id, category: d.category.rawValue, at: now())
            var u = r; u.diagnosis = d.category.rawValue
            return u
        }
    }

    func diagnose(_ record: RunRecord, task: TaskStatus? = nil) throws -> Diagnosis {
        try diagnoser().diagnose(diagnosisInput(record, task: task))
    }

    /// What the engine reads for a run or one of its tasks: its logs (through its backend),
    /// scheduler facts, checkpoints, the W&B directory and the run facts of its config.
    func diagnosisInput(_ record: RunRecord, task: TaskStatus? = nil) throws -> DiagnosisInput {
        let worktree: String?? = existingWorktree(record.branch)
        let config = try self.config(worktree: worktree ?? nil)
        let logs = try diagnosisInputs(record, task: task?.index)
        // A lost run's raw state is the backend's own word (SUPERVISOR_GONE, UNKNOWN); the
        // rules know expt's unified `lost`, and the two local states that say why it is lost.
        let why: Set<String> = ["STATUS_UNREADABLE", "DISK_FULL"]
        let state = record.state == .lost && !why.contains(record.rawState ?? "") ? "lost" : (record.rawState ?? record.state.rawValue)
        var facts = SchedulerFacts(state: state, exitCode: record.exitCode, signal: record.signal)
        if let task { facts = SchedulerFacts(state: task.rawState, exitCode: task.exitCode) }
        if let s = record.startedAt, let e = record.endedAt { facts.elapsedSeconds = Int(e.timeIntervalSince(s)) }
        facts.timeLimitSeconds = record.resources.timeLimitSeconds
        facts.maxRSSMB = record.maxRSSMB
        facts.requestedMemoryMB = record.resources.memoryMB
        facts.pendingReason = record.state == .pending ? record.reason : nil
        var checkpoints: [String] = []
        if let wt = worktree ?? nil, let pattern = config.checkpointGlob { checkpoints = Self.glob(wt, pattern) }
        let wandb = (worktree ?? nil).flatMap { wt in config.wandbDir.map { wt + "/" + $0 } }
        let run = RunFacts(batchSize: config.run.batchSize, gradAccumulation: config.run.gradAccumulation,
                           expectedSteps: config.run.expectedSteps, expectedEpochs: config.run.expectedEpochs,
                           memoryMB: record.resources.memoryMB, timeLimitSeconds: record.resources.timeLimitSeconds,
                           memoryCapMB: config.retry.memoryCapMB, profiles: config.profiles.keys.sorted(),
                           memoryFactor: config.retry.memoryFactor, timeFactor: config.retry.timeFactor)
        return DiagnosisInput(logs: logs, wandbDir: wandb, scheduler: facts, checkpoints: checkpoints, run: run)
    }

    /// Files matching `pattern` under `dir`, oldest first by modification time (newest last).
    static func glob(_ dir: String, _ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(dir + "/" + pattern, 0, nil, &g) == 0 else { return [] }
        var paths: [String] = []
        for i in 0..<Int(g.gl_pathc) { if let p = g.gl_pathv[i] { paths.append(String(cString: p)) } }
        func mtime(_ p: String) -> Date {
            ((try? FileManager.default.attributesOfItem(atPath: p))?[.modificationDate] as? Date) ?? .distantPast
        }
        return paths.sorted { mtime($0) < mtime($1) }
    }
}
